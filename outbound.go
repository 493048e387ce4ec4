package apigate

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apigate-go/apigate/internal/h1"
	"github.com/apigate-go/apigate/internal/hop"
	"github.com/apigate-go/apigate/internal/rewrite"
	"github.com/apigate-go/apigate/policy"
	"github.com/julienschmidt/httprouter"
)

// prepare builds the outbound request and the candidate backends. It
// returns the error to answer with when the request cannot go upstream.
func (x *exchange) prepare(ps httprouter.Params) *Error {
	rt, g, r, c := x.rt, x.rt.gw, x.r, x.c
	x.up = rt.upstreamPath(r, ps)
	if err := rewrite.Check(x.up); err != nil {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidPath, Message: "invalid path", Err: err}
	}
	// The path, decoded and escaped, without the backend's base path.
	x.decoded = x.up
	if strings.IndexByte(x.up, '%') >= 0 {
		p, err := url.PathUnescape(x.up)
		if err != nil {
			return &Error{Status: http.StatusBadRequest, Code: CodeInvalidPath, Message: "invalid path", Err: err}
		}
		x.decoded, x.raw = p, x.up
	}
	if g.streamLimit > 0 && r.ContentLength > g.streamLimit && (c == nil || !c.hasBody) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodePayloadTooLarge, Message: "request body too large"}
	}

	o := g.eng.acquire(r)
	x.o = o
	if rt.after == nil && rt.cors == nil {
		_, o.rawHead = x.w.(h1.RawHeaderWriter)
	}
	out := &o.req
	if c != nil {
		out.Header, x.upType = c.header, c.upgrade
	} else {
		out.Header, x.upType = g.outHeader(r, &o.hbuf)
		x.tagOutbound(out.Header)
	}
	// The route's timeout bounds the exchange, body included; upgraded
	// connections are bounded by their idle timeout instead. The
	// deadline is coarse, up to a 64th of the timeout late, so that a
	// pooled connection keeps the one it has armed.
	if rt.timeout > 0 && x.upType == "" {
		x.deadline = h1.CoarseDeadline(time.Now(), rt.timeout)
	}

	// The strategy sees the outbound headers, so a hook can set the
	// affinity key.
	x.cands = x.bs.all
	if rt.strategy != nil {
		x.cands, x.key = rt.strategy.Select(policy.Request{HTTP: out, Service: rt.svc.name, Route: rt.pattern, Params: ps, Backends: x.bs.all})
	}
	x.cands = x.bs.health.filter(x.cands)

	out.RequestURI = ""
	out.Close = false
	if !g.preserveHost {
		out.Host = ""
	}
	x.rawQuery = r.URL.RawQuery
	if c != nil {
		// Hooks decided what goes upstream: trailers, which arrive after
		// them, would bypass them.
		out.Trailer = nil
		if c.hasQuery {
			x.rawQuery = c.rawQuery
		}
	}
	x.body()
	return nil
}

// body sets the outbound body: none, the mapped one, or the client's,
// streamed through o.body, which watches for read failures, the stream
// limit and the deadline.
func (x *exchange) body() {
	out, c := &x.o.req, x.c
	switch {
	case c != nil && c.hasBody:
		out.Body = newBytesBody(c.body)
		out.ContentLength = int64(len(c.body))
		out.TransferEncoding = nil
		out.GetBody = nil
		delete(out.Header, "Content-Length")
		if c.contentType != "" {
			out.Header["Content-Type"] = []string{c.contentType}
		}
	case x.r.ContentLength == 0:
		out.Body = nil
	case out.Body != nil && out.Body != http.NoBody:
		x.streamed = true
		b := &clientBody{rc: out.Body, w: x.w}
		x.o.body = b
		if out.ContentLength < 0 {
			b.limit = x.rt.gw.streamLimit
		}
		if !x.deadline.IsZero() {
			b.arm(time.Until(x.deadline))
		}
		out.Body = b
	}
}

// rewind makes the outbound body ready to be sent again, for a retry.
func (o *outbound) rewind(c *Ctx) {
	if c != nil && c.hasBody {
		o.req.Body = newBytesBody(c.body)
	}
}

// target points the outbound request at backend be.
func (x *exchange) target(be *upstream) {
	u := &x.o.url
	*u = url.URL{Scheme: be.scheme, Host: be.host, Path: rewrite.Join(be.basePath, x.decoded), RawQuery: x.rawQuery}
	if x.raw != "" || be.base != be.basePath {
		u.RawPath = rewrite.Join(be.base, x.up)
	}
	x.o.req.URL = u
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

// bytesBody is a request body held in memory, with one allocation.
type bytesBody struct{ bytes.Reader }

func newBytesBody(b []byte) *bytesBody {
	bb := new(bytesBody)
	bb.Reset(b)
	return bb
}

// Close does nothing.
func (*bytesBody) Close() error { return nil }

// headerBuf is storage for outbound headers reused across requests: a
// map and one backing array for its values.
type headerBuf struct {
	h    http.Header
	vals []string
}

// outHeader returns the outbound copy of the request headers with the
// framework's invariants applied: hop-by-hop headers removed, an allowed
// upgrade reinstated, forwarding headers set. It also returns the allowed
// upgrade protocol, "" for none. It reuses buf's storage when buf is not
// nil.
func (g *Gateway) outHeader(r *http.Request, buf *headerBuf) (http.Header, string) {
	in := r.Header
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = ""
	}
	trusted := len(g.trusted) > 0 && g.isTrusted(ip)
	nv := 0
	for _, vv := range in {
		nv += len(vv)
	}
	// One backing array for every value, plus the forwarding headers'
	// values; reused from buf when it has room.
	const spare = 4
	var sv []string
	var h http.Header
	switch {
	case buf == nil:
		sv = make([]string, nv+spare)
		h = make(http.Header, len(in)+spare+1)
	default:
		if cap(buf.vals) < nv+spare {
			buf.vals = make([]string, nv+spare)
		}
		sv = buf.vals[:nv+spare]
		clear(sv)
		if buf.h == nil {
			buf.h = make(http.Header, len(in)+spare+1)
		}
		h = buf.h
		clear(h)
	}
	// Hop-by-hop fields, and the forwarding fields of a peer that is not
	// trusted (forwarded sets its own), are left out as the fields are
	// copied, which costs less than deleting them after.
	for k, vv := range in {
		if hop.IsHop(k) || !trusted && isForwarding(k) {
			continue
		}
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
	hop.RemoveListed(h, in["Connection"])
	if hop.TE(in) {
		h["Te"] = []string{"trailers"}
	}
	if upType != "" {
		h["Connection"] = []string{"Upgrade"}
		h["Upgrade"] = []string{in.Get("Upgrade")}
	}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = nil // keep Go's default User-Agent out
	}
	g.forwarded(h, r, ip, sv)
	return h, upType
}

// clientBody is the client's request body as the upstream client reads
// it. It records whether reading failed, caps a body of unknown length at
// the stream limit, and interrupts a read that blocks past the exchange's
// deadline (a client stalling its upload would otherwise hold the
// exchange, and the upstream connection, for as long as it likes).
//
// An upstream client may go on reading a request body after its round
// trip returned (net/http's Transport does, from its write loop). The
// server reads the next request from the same connection once the
// handler returns, so [clientBody.end] makes every later read fail and
// waits for a read in progress before the exchange ends.
type clientBody struct {
	rc    io.ReadCloser
	w     http.ResponseWriter // interrupts a blocked read
	limit int64               // the most bytes to read, 0 for no limit
	timer *time.Timer
	mu    sync.Mutex // held by Read while it reads rc, and by Close
	n     int64      // bytes read so far; guarded by mu
	ended bool       // the exchange is over: reads fail; guarded by mu
	// Set by Read, which may run on another goroutine than the exchange.
	failed   atomic.Bool // a read failed
	tooLarge atomic.Bool // the body passed limit
	expired  atomic.Bool // the deadline passed while the body was still read
	eof      atomic.Bool // the body was read whole
}

// arm sets the client connection's read deadline to the past in d from
// now, unless the body has been read whole by then. Setting a past
// deadline only when it is due, rather than the deadline itself now,
// never loosens a read timeout the server set.
func (b *clientBody) arm(d time.Duration) {
	b.timer = time.AfterFunc(d, func() {
		b.expired.Store(true)
		http.NewResponseController(b.w).SetReadDeadline(aLongTimeAgo)
	})
}

// disarm stops the deadline's timer, if any.
func (b *clientBody) disarm() {
	if b.timer != nil {
		b.timer.Stop()
	}
}

// aLongTimeAgo is a deadline in the past: setting it interrupts blocked
// reads.
var aLongTimeAgo = time.Unix(1, 0)

func (b *clientBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return 0, errExchangeEnded
	}
	n, err := b.rc.Read(p)
	b.n += int64(n)
	switch {
	case b.limit > 0 && b.n > b.limit:
		b.tooLarge.Store(true)
		b.failed.Store(true)
		b.disarm()
		return 0, errBodyTooLarge
	case err == io.EOF:
		// Read whole: a later deadline must not touch the connection,
		// which the server may be watching or reusing.
		b.eof.Store(true)
		b.disarm()
	case err != nil:
		b.failed.Store(true)
	}
	return n, err
}

// Close closes the client's body, unless the exchange is over: the
// server then owns it.
func (b *clientBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return nil
	}
	return b.rc.Close()
}

// end is called when the exchange is over: later reads fail, and a read
// still in progress (the client stalls its upload while the upstream
// client's writer waits for it) is interrupted through the connection's
// read deadline and waited for. The client's connection then cannot carry
// another request; the server closes it.
func (b *clientBody) end() {
	b.disarm()
	if !b.mu.TryLock() {
		// A read that returns soon (the client is still sending) is let
		// finish: interrupting it costs the client its connection.
		t := time.AfterFunc(endGrace, func() {
			http.NewResponseController(b.w).SetReadDeadline(aLongTimeAgo)
		})
		b.mu.Lock()
		t.Stop()
	}
	b.ended = true
	b.mu.Unlock()
}

// endGrace is how long the end of an exchange waits for a read of the
// client's body in progress before it interrupts it (net/http's Transport
// waits as long for its body writer).
const endGrace = 50 * time.Millisecond

var errExchangeEnded = errors.New("apigate: request body read after the exchange ended")

var errBodyTooLarge = errors.New("apigate: request body larger than the stream limit")
