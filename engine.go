package apigate

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/apigate-go/apigate/internal/h1"
)

// engine is the upstream client as the exchange sees it. The clients
// differ in what they let the gateway reuse and in how a deadline reaches
// them; the exchange does not know which one is underneath.
type engine interface {
	// acquire returns the state of one outbound request, whose req is a
	// copy of r.
	acquire(r *http.Request) *outbound
	// roundTrip sends o.req and returns the response head. The exchange,
	// response body included, ends at deadline unless it is zero.
	roundTrip(o *outbound, deadline time.Time) (*http.Response, error)
	// release ends the exchange's use of o, once the response body (if
	// any) is closed.
	release(o *outbound)
	// rawFields returns the header fields of a response kept raw (see
	// outbound.rawHead), and ok; ok is false when res has its fields in
	// its header map.
	rawFields(res *http.Response) (fields string, ok bool)
	// fillHeader moves the fields of a response kept raw into its header
	// map, for when they cannot be relayed raw after all.
	fillHeader(res *http.Response)
}

// outbound is what an outbound request needs beyond the inbound one.
// Everything the exchange builds for the upstream lives here, so that an
// engine that is done with it at release can pool it whole.
type outbound struct {
	req  http.Request
	url  url.URL
	hbuf headerBuf
	// body is the client's streamed body, nil for none. It is not pooled:
	// an upstream client may finish writing it after the exchange.
	body   *clientBody
	parent context.Context // req's context without the deadline
	cancel context.CancelFunc
	info   informational
	// done is the response the exchange delivered and let go of, body
	// closed, for an engine that recycles responses; nil otherwise.
	done *http.Response
	// rawHead asks the engine to keep the response's header fields raw,
	// for the client's writer to relay them as they came (respondRaw):
	// set when nothing of the exchange reads or changes them.
	rawHead bool
}

// netEngine carries requests with a [http.RoundTripper] (net/http's
// Transport, or one given with [WithRoundTripper]). A RoundTripper may
// still read the request after it returns, so nothing is pooled, and the
// deadline goes through the context.
type netEngine struct {
	rt    http.RoundTripper
	trace bool // forward 1xx responses
}

func (e netEngine) acquire(r *http.Request) *outbound {
	o := new(outbound)
	ctx := r.Context()
	if e.trace {
		ctx = o.info.trace(ctx)
	}
	o.parent = ctx
	o.req = *r.WithContext(ctx) // inlined: the copy stays on the stack
	return o
}

func (e netEngine) roundTrip(o *outbound, deadline time.Time) (*http.Response, error) {
	if !deadline.IsZero() {
		if o.cancel != nil {
			o.cancel()
		}
		var ctx context.Context
		ctx, o.cancel = context.WithDeadline(o.parent, deadline)
		o.req = *o.req.WithContext(ctx)
	}
	return e.rt.RoundTrip(&o.req)
}

func (e netEngine) release(o *outbound) {
	if o.cancel != nil {
		o.cancel()
	}
}

// net/http's client has no raw heads.
func (netEngine) rawFields(*http.Response) (string, bool) { return "", false }
func (netEngine) fillHeader(*http.Response)               {}

// h1Engine carries requests with apigate's own HTTP/1.1 client. That
// client is done with a request once its response body is closed, so the
// outbound state is pooled; and it takes the deadline as an argument, at
// no cost, leaving the request's context as the server made it.
type h1Engine struct {
	t     *h1.Transport
	pool  *sync.Pool // *outbound
	trace bool       // forward 1xx responses
}

// The client takes the 1xx callback as an argument too, bound once per
// pooled outbound state: forwarding 1xx responses costs no allocation
// and leaves the request's context as the server made it.
func newH1Engine(t *h1.Transport, trace bool) h1Engine {
	return h1Engine{t: t, trace: trace, pool: &sync.Pool{New: func() any {
		o := new(outbound)
		if trace {
			o.info.bind()
		}
		return o
	}}}
}

func (e h1Engine) acquire(r *http.Request) *outbound {
	o := e.pool.Get().(*outbound)
	o.req = *r
	return o
}

func (e h1Engine) roundTrip(o *outbound, deadline time.Time) (*http.Response, error) {
	return e.t.RoundTripWith(&o.req, h1.RoundTripOptions{Deadline: deadline, Got1xx: o.info.fn, RawHead: o.rawHead})
}

func (e h1Engine) rawFields(res *http.Response) (string, bool) { return e.t.RawFields(res) }
func (e h1Engine) fillHeader(res *http.Response)               { e.t.FillHeader(res) }

// release recycles o, keeping only its header storage and its bound 1xx
// callback, and the response the exchange let go of.
func (e h1Engine) release(o *outbound) {
	if o.done != nil {
		e.t.Recycle(o.done)
	}
	*o = outbound{hbuf: o.hbuf, info: informational{fn: o.info.fn}}
	e.pool.Put(o)
}

// newEngine returns the engine for the transport the gateway uses; trace
// tells whether it forwards 1xx responses.
func newEngine(rt http.RoundTripper, trace bool) engine {
	if t, ok := rt.(*h1.Transport); ok {
		return newH1Engine(t, trace)
	}
	return netEngine{rt: rt, trace: trace}
}

// pooled reports whether e reuses what an outbound request held, so that
// header storage kept by a pooled [Ctx] may be reused too.
func pooled(e engine) bool {
	_, ok := e.(h1Engine)
	return ok
}
