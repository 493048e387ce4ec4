package apigate

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/internal/hop"
	"github.com/apigate-go/apigate/internal/rewrite"
	"github.com/apigate-go/apigate/observe"
	"github.com/apigate-go/apigate/policy"
	"github.com/julienschmidt/httprouter"
)

// serve is the route's httprouter handle.
func (rt *route) serve(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	if rt.gw.obs != nil {
		rt.gw.emit(r, rt, observe.Event{Kind: observe.RequestStarted, Backend: -1})
	}
	if rt.pipe == nil {
		rt.forward(w, r, ps, nil)
		return
	}
	rt.pipe.run(w, r, ps)
}

// upstreamPath is the escaped path sent upstream, before the backend's
// base path: the filled To template, or the request path without the
// service prefix.
func (rt *route) upstreamPath(r *http.Request, ps httprouter.Params) string {
	if rt.tmpl != nil {
		return rt.tmpl.Fill(ps)
	}
	p := routePath(r)[rt.strip:]
	if p == "" {
		return "/"
	}
	return p
}

// forward sends the request to a backend and streams the response back.
// c carries what hooks and maps changed; nil for passthrough routes.
func (rt *route) forward(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c *Ctx) {
	g := rt.gw
	up := rt.upstreamPath(r, ps)
	if err := rewrite.Check(up); err != nil {
		g.fail(w, r, rt, &Error{Status: http.StatusBadRequest, Code: CodeInvalidPath, Message: "invalid path", Err: err})
		return
	}

	// With apigate's own client, what the outbound request needs is
	// pooled: that client is done with all of it once the response body
	// is closed, before forward returns.
	var fs *fwdState
	if g.h1 != nil {
		fs = g.fwdPool.Get().(*fwdState)
		defer g.putFwd(fs)
	}
	var h http.Header
	var upType string
	if c != nil {
		h, upType = c.header, c.upgrade
	} else if fs != nil {
		h, upType = g.outHeader(r, &fs.hbuf)
	} else {
		h, upType = g.outHeader(r, nil)
	}
	// The route's timeout bounds the exchange: apigate's HTTP/1.1 client
	// takes it as a deadline, at no cost; others through the context.
	ctx := r.Context()
	var deadline time.Time
	if rt.timeout > 0 && upType == "" {
		if g.h1 != nil {
			deadline = time.Now().Add(rt.timeout)
		} else {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, rt.timeout)
			defer cancel()
		}
	}
	var out *http.Request
	if fs != nil {
		fs.req = *r.WithContext(ctx) // inlined: the copy stays on the stack
		out = &fs.req
	} else {
		out = r.WithContext(ctx)
	}
	out.Header = h

	// The strategy sees the outbound headers, so a hook can set the
	// affinity key.
	cands, key := rt.svc.all, ""
	if rt.strategy != nil {
		cands, key = rt.strategy.Select(policy.Request{HTTP: out, Service: rt.svc.name, Route: rt.pattern, Params: ps, Backends: rt.svc.all})
	}
	cands = rt.svc.health.filter(cands)

	// The path, decoded and escaped, without the backend's base path.
	decoded, raw := up, ""
	if strings.IndexByte(up, '%') >= 0 {
		p, err := url.PathUnescape(up)
		if err != nil {
			g.fail(w, r, rt, &Error{Status: http.StatusBadRequest, Code: CodeInvalidPath, Message: "invalid path", Err: err})
			return
		}
		decoded, raw = p, up
	}
	out.RequestURI = ""
	out.Close = false
	if !g.preserveHost {
		out.Host = ""
	}
	if r.ContentLength == 0 {
		out.Body = nil
	}
	rawQuery := r.URL.RawQuery
	if c != nil {
		if c.hasQuery {
			rawQuery = c.rawQuery
		}
		if c.hasBody {
			out.Body = newBytesBody(c.body)
			out.ContentLength = int64(len(c.body))
			out.TransferEncoding = nil
			out.GetBody = nil
			delete(h, "Content-Length")
			if c.contentType != "" {
				h["Content-Type"] = []string{c.contentType}
			}
		}
	}
	// A streamed body is watched: if reading it from the client fails, the
	// failure is the client's (400), not the backend's.
	var inBody *clientBody
	if out.Body != nil && out.Body != http.NoBody && (c == nil || !c.hasBody) {
		inBody = &clientBody{ReadCloser: out.Body}
		out.Body = inBody
	}

	for attempt := 0; ; attempt++ {
		i := rt.bal.Pick(cands, key)
		if i < 0 || i >= len(cands) {
			g.fail(w, r, rt, &Error{Status: http.StatusServiceUnavailable, Code: CodeNoBackend, Message: "no backend available"})
			return
		}
		b := cands[i]
		be := &rt.svc.backends[b.Index]
		var u *url.URL
		if fs != nil {
			u = &fs.url
		} else {
			u = new(url.URL)
		}
		*u = url.URL{Scheme: be.scheme, Host: be.host, Path: rewrite.Join(be.basePath, decoded), RawQuery: rawQuery}
		if raw != "" || be.base != be.basePath {
			u.RawPath = rewrite.Join(be.base, up)
		}
		out.URL = u

		if g.obs != nil {
			g.emit(r, rt, observe.Event{Kind: observe.BackendSelected, Backend: b.Index, Addr: b.Addr})
		}
		var start time.Time
		if rt.tracker != nil || g.obs != nil {
			start = time.Now()
		}
		if rt.tracker != nil {
			rt.tracker.Start(b.Index)
		}
		var res *http.Response
		var err error
		if g.h1 != nil {
			res, err = g.h1.RoundTripDeadline(out, deadline)
		} else {
			res, err = g.transport.RoundTrip(out)
		}
		var lat time.Duration
		if !start.IsZero() {
			lat = time.Since(start)
		}
		if err != nil {
			if rt.tracker != nil {
				rt.tracker.Done(b.Index, balancer.Result{Latency: lat, Err: err})
			}
			clientGone := r.Context().Err() != nil
			var e *Error
			if inBody != nil && inBody.failed.Load() && !clientGone {
				// The client's body broke, not the backend.
				e = &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: "could not read the request body", Err: err}
			} else {
				if !clientGone {
					rt.svc.health.failure(b.Index)
				}
				if attempt == 0 && !clientGone && len(cands) > 1 && canRetry(out, c, err) {
					// Nothing reached the upstream: try once more elsewhere.
					cands = without(cands, b.Index)
					if c != nil && c.hasBody {
						out.Body = newBytesBody(c.body)
					}
					continue
				}
				e = upstreamError(r, ctx, err)
			}
			if g.obs != nil {
				g.emit(r, rt, observe.Event{Kind: observe.UpstreamFailed, Backend: b.Index, Addr: b.Addr, Status: e.Status, Code: e.Code, Latency: lat, Err: err})
			}
			if e.Status != StatusClientClosedRequest {
				g.renderer(w, r, e)
			}
			return
		}
		rt.svc.health.success(b.Index)
		if rt.tracker != nil {
			defer rt.tracker.Done(b.Index, balancer.Result{Status: res.StatusCode, Latency: lat})
		}
		if g.obs != nil {
			g.emit(r, rt, observe.Event{Kind: observe.UpstreamSucceeded, Backend: b.Index, Addr: b.Addr, Status: res.StatusCode, Latency: lat})
		}
		if res.StatusCode == http.StatusSwitchingProtocols {
			g.switchProtocols(w, r, upType, res)
			return
		}
		if rt.cors != nil {
			rt.cors.fromUpstream(w.Header(), res.Header)
		}
		g.respond(w, r, res)
		return
	}
}

// bytesBody is a request body held in memory, with one allocation.
type bytesBody struct{ bytes.Reader }

func newBytesBody(b []byte) *bytesBody {
	bb := new(bytesBody)
	bb.Reset(b)
	return bb
}

// Close does nothing.
func (*bytesBody) Close() error { return nil }

// clientBody records whether reading the client's body failed.
type clientBody struct {
	io.ReadCloser
	failed atomic.Bool
}

func (b *clientBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.failed.Store(true)
	}
	return n, err
}

// canRetry reports whether a failed exchange may be sent to another
// backend: the method is idempotent, the body (if any) can be sent again,
// and the connection was never established, so the upstream saw nothing.
func canRetry(out *http.Request, c *Ctx, err error) bool {
	switch out.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
	default:
		return false
	}
	if out.Body != nil && (c == nil || !c.hasBody) {
		return false
	}
	return isDialError(err)
}

// isDialError reports whether err is a failure to connect, so the
// upstream received nothing.
func isDialError(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// respond streams an upstream response to the client.
func (g *Gateway) respond(w http.ResponseWriter, r *http.Request, res *http.Response) {
	defer res.Body.Close()
	hop.Remove(res.Header)
	dst := w.Header()
	for k, vv := range res.Header {
		if old, ok := dst[k]; ok {
			dst[k] = append(old, vv...)
		} else {
			dst[k] = vv
		}
	}
	announced := len(res.Trailer)
	if n := announced; n > 0 {
		keys := make([]string, 0, n)
		for k := range res.Trailer {
			keys = append(keys, k)
		}
		dst["Trailer"] = []string{strings.Join(keys, ", ")}
	}
	w.WriteHeader(res.StatusCode)

	var rc *http.ResponseController
	if res.ContentLength == -1 || isEventStream(res.Header) {
		rc = http.NewResponseController(w)
		rc.Flush()
	}
	if readErr := g.copyBody(w, res.Body, rc); readErr != nil && r.Context().Err() == nil {
		// The upstream broke mid-body: abort the client connection so it
		// sees a cut stream, not a clean end.
		panic(http.ErrAbortHandler)
	}
	// Trailers announced before the body are set as they are; any that
	// arrived unannounced go out with the TrailerPrefix.
	if len(res.Trailer) == announced {
		for k, vv := range res.Trailer {
			dst[k] = vv
		}
		return
	}
	for k, vv := range res.Trailer {
		dst[http.TrailerPrefix+k] = vv
	}
}

// copyBody copies src to w with a pooled buffer, flushing after each write
// when rc is set. It returns the read error, if any; a failed write means
// the client is gone and ends the copy quietly.
func (g *Gateway) copyBody(w io.Writer, src io.Reader, rc *http.ResponseController) error {
	bp := g.bufPool.Get().(*[]byte)
	defer g.bufPool.Put(bp)
	buf := *bp
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil
			}
			if rc != nil {
				if rc.Flush() != nil {
					return nil
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func isEventStream(h http.Header) bool {
	ct := h.Get("Content-Type")
	return len(ct) >= 17 && strings.EqualFold(ct[:17], "text/event-stream")
}

// upstreamError maps a transport failure to the client-facing error.
func upstreamError(r *http.Request, ctx context.Context, err error) *Error {
	if r.Context().Err() != nil {
		return &Error{Status: StatusClientClosedRequest, Code: CodeClientClosed, Message: "client closed request", Err: err}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || errors.As(err, &ne) && ne.Timeout() {
		return &Error{Status: http.StatusGatewayTimeout, Code: CodeUpstreamTimeout, Message: "upstream timed out", Err: err}
	}
	if isDialError(err) {
		return &Error{Status: http.StatusBadGateway, Code: CodeUpstreamUnavailable, Message: "upstream unavailable", Err: err}
	}
	return &Error{Status: http.StatusBadGateway, Code: CodeBadGateway, Message: "bad gateway", Err: err}
}

// fwdState is what an outbound request needs beyond the inbound one,
// pooled when the upstream client is apigate's own.
type fwdState struct {
	req  http.Request
	url  url.URL
	hbuf headerBuf
}

// putFwd recycles fs, keeping only its header storage.
func (g *Gateway) putFwd(fs *fwdState) {
	fs.req, fs.url = http.Request{}, url.URL{}
	g.fwdPool.Put(fs)
}

// headerBuf is storage for outbound headers reused across requests: a
// map and one backing array for its values.
type headerBuf struct {
	h    http.Header
	vals []string
}

// outHeader returns the outbound copy of the request headers with the
// framework's invariants applied: hop-by-hop headers removed, an allowed
// upgrade reinstated, forwarding headers set. It also returns the allowed
// upgrade protocol, "" for none.
func (g *Gateway) outHeader(r *http.Request, buf *headerBuf) (http.Header, string) {
	in := r.Header
	nv := 0
	for _, vv := range in {
		nv += len(vv)
	}
	// One backing array for every value, plus the three forwarding
	// headers' values; reused from buf when it has room.
	var sv []string
	var h http.Header
	switch {
	case buf == nil:
		sv = make([]string, nv+3)
		h = make(http.Header, len(in)+4)
	default:
		if cap(buf.vals) < nv+3 {
			buf.vals = make([]string, nv+3)
		}
		sv = buf.vals[:nv+3]
		clear(sv)
		if buf.h == nil {
			buf.h = make(http.Header, len(in)+4)
		}
		h = buf.h
		clear(h)
	}
	for k, vv := range in {
		if vv == nil {
			h[k] = nil
			continue
		}
		n := copy(sv, vv)
		h[k] = sv[:n:n]
		sv = sv[n:]
	}
	upType := hop.UpgradeType(in)
	if upType != "" && !slices.Contains(g.upgrades, upType) {
		upType = ""
	}
	te := hop.TE(in)
	hop.Remove(h)
	if te {
		h["Te"] = []string{"trailers"}
	}
	if upType != "" {
		h["Connection"] = []string{"Upgrade"}
		h["Upgrade"] = []string{in.Get("Upgrade")}
	}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = nil // keep Go's default User-Agent out
	}
	g.forwarded(h, r, sv)
	return h, upType
}

// forwarded sets X-Forwarded-For, -Host and -Proto, keeping incoming ones
// only from trusted proxies. spare has room for three values.
func (g *Gateway) forwarded(h http.Header, r *http.Request, spare []string) {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = ""
	}
	trusted := len(g.trusted) > 0 && g.isTrusted(ip)
	if !trusted {
		delete(h, "Forwarded")
		delete(h, "X-Forwarded-For")
		delete(h, "X-Forwarded-Host")
		delete(h, "X-Forwarded-Proto")
	}
	if ip != "" {
		xff := ip
		if prior, ok := h["X-Forwarded-For"]; ok && trusted {
			xff = strings.Join(prior, ", ") + ", " + ip
		}
		spare[0] = xff
		h["X-Forwarded-For"] = spare[0:1:1]
	}
	if _, ok := h["X-Forwarded-Host"]; !ok && r.Host != "" {
		spare[1] = r.Host
		h["X-Forwarded-Host"] = spare[1:2:2]
	}
	if _, ok := h["X-Forwarded-Proto"]; !ok {
		spare[2] = "http"
		if r.TLS != nil {
			spare[2] = "https"
		}
		h["X-Forwarded-Proto"] = spare[2:3:3]
	}
}

func (g *Gateway) isTrusted(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range g.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
