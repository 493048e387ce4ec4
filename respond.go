package apigate

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"

	"github.com/apigate-go/apigate/internal/field"
	"github.com/apigate-go/apigate/internal/h1"
	"github.com/apigate-go/apigate/internal/hop"
)

// respond streams an upstream response to the client.
func (g *Gateway) respond(w http.ResponseWriter, r *http.Request, res *http.Response) {
	defer res.Body.Close()
	hop.Remove(res.Header)
	dst := w.Header()
	copyResponseHeader(dst, res.Header)
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
	g.relayBody(w, r, res.Body, rc)
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

// respondRaw streams an upstream response whose header fields the
// engine kept raw (see outbound.rawHead) to the client, whose writer
// relays them as they came, less the hop-by-hop ones and the upstream's
// request ID, by the rules of copyResponseHeader. It reports false,
// having written nothing, for a response that is not raw or that the
// writer cannot take raw: its fields are then in its header map.
func (x *exchange) respondRaw(res *http.Response) bool {
	eng := x.g.eng
	fields, ok := eng.rawFields(res)
	if !ok {
		return false
	}
	skip := ""
	if x.g.ids != nil {
		skip = x.g.ids.header
	}
	if !x.w.(h1.RawHeaderWriter).WriteRawHeader(res.StatusCode, fields, res.ContentLength, skip) {
		eng.fillHeader(res)
		return false
	}
	defer res.Body.Close()
	x.g.relayBody(x.w, x.r, res.Body, nil)
	return true
}

// copyResponseHeader copies the upstream's response header into dst,
// which may already hold headers set by middleware. The upstream wins: a
// field it sends replaces the middleware's value rather than adding to it
// (two Cache-Control or Content-Type values would contradict each other),
// except for the fields that accumulate ([field.Accumulates]: Set-Cookie,
// RateLimit, RateLimit-Policy), whose upstream values are added after the
// middleware's. Fields the upstream does not send are left as the
// middleware set them.
func copyResponseHeader(dst, src http.Header) {
	for k, vv := range src {
		if field.Accumulates(k) {
			if old, ok := dst[k]; ok {
				vv = append(old[:len(old):len(old)], vv...)
			}
		}
		dst[k] = vv
	}
}

// relayBody copies an upstream body to the client's w, flushing after
// each write when rc is set. If the upstream breaks mid-body while r's
// client is still there, it aborts the client's connection
// (http.ErrAbortHandler), so that the client sees a cut stream, not a
// clean end; a failed write means the client is gone and ends the copy
// quietly.
func (g *Gateway) relayBody(w http.ResponseWriter, r *http.Request, src io.Reader, rc *http.ResponseController) {
	if err := g.copyBody(w, src, rc); err != nil && r.Context().Err() == nil {
		panic(http.ErrAbortHandler)
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

// informational forwards the upstream's 1xx responses (103 Early Hints,
// 102 Processing) to the client while the exchange waits for the final
// one. The upstream client reports them to fn: net/http's through the
// request context's [httptrace.ClientTrace], apigate's own as an
// argument. fn is bound once per outbound state, so with a pooled one it
// costs nothing per request; it is nil when 1xx responses are not
// forwarded.
type informational struct {
	ct  httptrace.ClientTrace
	ctx traceCtx
	fn  func(int, textproto.MIMEHeader) error // got1xx, once bound

	mu sync.Mutex
	w  http.ResponseWriter // nil outside roundTrip
}

// bind makes fn, so that 1xx responses are forwarded.
func (in *informational) bind() { in.fn = in.got1xx }

// trace returns ctx with a trace whose Got1xxResponse is fn.
func (in *informational) trace(ctx context.Context) context.Context {
	if in.fn == nil {
		in.bind()
	}
	in.ct = httptrace.ClientTrace{Got1xxResponse: in.fn}
	if traceKey == nil || httptrace.ContextClientTrace(ctx) != nil {
		// WithClientTrace composes the trace already in ctx into ours.
		return httptrace.WithClientTrace(ctx, &in.ct)
	}
	in.ctx = traceCtx{ctx, &in.ct}
	return &in.ctx
}

// traceCtx is a context carrying a [httptrace.ClientTrace] that, unlike
// [httptrace.WithClientTrace]'s, costs no allocation of its own: it lives
// in the outbound state. It stands for WithClientTrace only when its
// parent has no trace to compose with ours.
type traceCtx struct {
	context.Context
	trace *httptrace.ClientTrace
}

func (c *traceCtx) Value(key any) any {
	if key == traceKey {
		return c.trace
	}
	return c.Context.Value(key)
}

// traceKey is the context key under which [httptrace.ContextClientTrace]
// looks for a trace, as it asks a context for it; nil if it could not be
// learnt, and then traces are made with [httptrace.WithClientTrace].
var traceKey = func() any {
	var p keyProbe
	p.Context = context.Background()
	httptrace.ContextClientTrace(&p)
	if p.keys != 1 {
		return nil
	}
	return p.key
}()

// keyProbe is a context that records the key of the lookup made in it.
type keyProbe struct {
	context.Context
	key  any
	keys int
}

func (p *keyProbe) Value(key any) any {
	p.key = key
	p.keys++
	return nil
}

// begin lets 1xx responses through to w until end.
func (in *informational) begin(w http.ResponseWriter) {
	if in.fn != nil {
		in.mu.Lock()
		in.w = w
		in.mu.Unlock()
	}
}

// end stops forwarding 1xx responses: the upstream client may still call
// back after the exchange has moved on (to write an error, say).
func (in *informational) end() {
	if in.fn != nil {
		in.mu.Lock()
		in.w = nil
		in.mu.Unlock()
	}
}

// got1xx writes a 1xx response with the upstream's fields only (less the
// hop-by-hop ones), leaving the final response's header as it was.
// 100 Continue is not forwarded: it answers the upstream's own
// Expect: 100-continue handshake, which the client has with the gateway's
// server.
func (in *informational) got1xx(code int, h textproto.MIMEHeader) error {
	if code == http.StatusContinue {
		return nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.w == nil {
		return nil
	}
	dst := in.w.Header()
	saved := maps.Clone(dst)
	clear(dst)
	for k, vv := range h {
		dst[k] = vv
	}
	hop.Remove(dst)
	in.w.WriteHeader(code)
	clear(dst)
	maps.Copy(dst, saved)
	return nil
}
