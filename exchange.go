package apigate

import (
	"net/http"
	"time"

	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/observe"
	"github.com/julienschmidt/httprouter"
)

// An exchange is one request's trip to an upstream and back, in four
// steps, each in its own function and file:
//
//   - prepare (outbound.go) builds the outbound request: path, headers,
//     body, the route's deadline, the candidates;
//   - run (this file) is the attempt loop: pick a backend, send, and on
//     failure decide whether to try another;
//   - deliver (respond.go) writes the upstream response, or hands a 101 to
//     switchProtocols (upgrade.go);
//   - failure (failure.go) maps a transport failure to the client's error.
//
// The upstream client is behind [engine] (engine.go): the exchange never
// asks which one it is.
//
// Where features plug in:
//
//   - a gate before anything goes upstream (load shedding, rate limits)
//     belongs in forward, before prepare: it answers with an *Error and
//     the exchange never starts;
//   - per-attempt policy (retries with a per-try timeout and a budget,
//     outlier ejection on 5xx answers, circuit breakers) belongs in run:
//     attempt returns the response head before anything is written, so a
//     5xx can be closed and retried like a dial error is today, and the
//     per-try deadline is the outbound one;
//   - response hooks belong in deliver, between the head arriving and
//     respond copying it, where After hooks run (after.go): res is still
//     the upstream's, nothing has been sent to the client.
//
// The exchange is also the request's state from routing on, for request
// IDs, events, tracing and panic recovery (request.go): a request that
// matches no route has one too, with a nil rt.
type exchange struct {
	g      *Gateway
	rt     *route
	w      http.ResponseWriter
	r      *http.Request // carries the tracer's context, if any
	c      *Ctx          // what hooks and maps changed; nil for passthrough routes
	ps     httprouter.Params
	o      *outbound
	upType string // the allowed upgrade protocol, "" for none
	// The upstream path: escaped (up), and decoded with the escaped form
	// in raw when they differ.
	up, decoded, raw string
	rawQuery         string
	cands            []balancer.Backend
	bs               *backendSet // the service's backends, loaded once
	key              string      // affinity key
	deadline         time.Time   // the route's timeout from now, zero for none
	streamed         bool        // the client's body is streamed through o.body
	guard            guard       // resilience bookkeeping (guard.go)

	id       string   // the request ID, "" when off
	idVals   []string // a one-value slice holding id, for header maps
	status   int      // the status sent to the client, 0 until a response starts
	terminal bool     // the request's terminal event was emitted
	done     bool     // the handler returned normally
}

// serve is the route's httprouter handle.
func (rt *route) serve(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	x := exchange{g: rt.gw, rt: rt, w: w, r: r}
	defer x.finish()
	x.start()
	if l := rt.limit; l != nil && !l.late {
		if e := l.check(w, x.r, ps, nil); e != nil {
			x.fail(e)
			x.done = true
			return
		}
	}
	if rt.res.limit != nil {
		// Shed before the pipeline: an overloaded route spends nothing on
		// hooks or decoding. The slot comes back however the request ends.
		if x.shed() {
			x.done = true
			return
		}
		defer rt.res.limit.Release()
	}
	if rt.pipe == nil {
		x.forward(ps, nil)
	} else {
		rt.pipe.run(&x, ps)
	}
	x.done = true
}

// forward sends the request to a backend and streams the response back.
// c carries what hooks and maps changed; nil for passthrough routes.
func (x *exchange) forward(ps httprouter.Params, c *Ctx) {
	x.c, x.ps, x.bs = c, ps, x.rt.svc.set.Load()
	defer x.end()
	if e := x.admit(); e != nil {
		x.fail(e)
		return
	}
	if e := x.prepare(ps); e != nil {
		x.fail(e)
		return
	}
	x.run()
}

// end releases what the exchange holds.
func (x *exchange) end() {
	x.leave()
	if x.o == nil {
		return
	}
	if x.streamed {
		x.o.body.end()
	}
	host := x.o.url.Host
	x.rt.gw.eng.release(x.o)
	x.o = nil
	if set := x.rt.svc.set.Load(); set != x.bs && host != "" {
		// The backends changed while the exchange ran: its connection,
		// back in the pool, may be to a backend that left.
		x.rt.gw.closeIfRetired(set, host)
	}
}

// run is the attempt loop: it picks a backend among the candidates and
// sends the request, again elsewhere when the failure allows it.
func (x *exchange) run() {
	rt := x.rt
	for attempts := 0; ; {
		i := x.bs.bals[rt.slot].bal.Pick(x.cands, x.key)
		if i < 0 || i >= len(x.cands) {
			x.fail(&Error{Status: http.StatusServiceUnavailable, Code: CodeNoBackend, Message: "no backend available"})
			return
		}
		b := x.cands[i]
		if !x.takeBackend(b.Index) {
			// At its in-flight cap: another candidate, or 503 at once.
			if len(x.cands) == 1 {
				x.fail(&Error{Status: http.StatusServiceUnavailable, Code: CodeOverloaded, Message: "overloaded"})
				return
			}
			x.cands = without(x.cands, b.Index)
			continue
		}
		res, lat, err := x.attempt(b)
		attempts++
		if err == nil {
			if !x.retryAnswer(b, attempts, res, lat) {
				x.succeeded(b, res, lat)
				return
			}
			if x.again(b, attempts, res.StatusCode, "", lat) {
				continue
			}
			x.failed(b, clientClosed(nil), lat)
			return
		}
		if tr := x.bs.bals[rt.slot].tracker; tr != nil {
			tr.Done(b.Index, balancer.Result{Latency: lat, Err: err})
		}
		e, retry := x.failure(b, attempts, err)
		if retry {
			if x.again(b, attempts, 0, upstreamError(x.o.req.Context(), err).Code, lat) {
				continue
			}
			e = clientClosed(err)
		}
		x.failed(b, e, lat)
		return
	}
}

// failed reports the exchange's failure on backend b and answers the
// client with e, unless the client is gone.
func (x *exchange) failed(b balancer.Backend, e *Error, lat time.Duration) {
	g := x.rt.gw
	x.ended(e.Status, true)
	if g.obs != nil {
		x.emit(observe.Event{Kind: observe.UpstreamFailed, Backend: b.Index, Addr: b.Addr, Status: e.Status, Code: e.Code, Latency: lat, Err: e.Err})
	}
	if e.Status == StatusClientClosedRequest {
		abandon()
	}
	if x.streamed && x.o.body.expired.Load() {
		// The client's connection is left with a read deadline in the
		// past: it cannot carry another request.
		x.w.Header().Set("Connection", "close")
	}
	x.status = e.Status
	g.render(x.w, x.r, e)
}

// succeeded records that backend b answered and delivers its response.
func (x *exchange) succeeded(b balancer.Backend, res *http.Response, lat time.Duration) {
	rt := x.rt
	x.bs.health.answered(b.Index, res.StatusCode, lat)
	x.ended(res.StatusCode, false)
	x.settle()
	if tr := x.bs.bals[rt.slot].tracker; tr != nil {
		// Done also when delivering aborts the handler.
		defer tr.Done(b.Index, balancer.Result{Status: res.StatusCode, Latency: lat})
	}
	x.deliver(b, res, lat)
}

// attempt sends the outbound request to backend b and returns the
// response head, or the failure, with the latency of either.
func (x *exchange) attempt(b balancer.Backend) (*http.Response, time.Duration, error) {
	rt, g := x.rt, x.rt.gw
	x.target(&x.bs.backends[b.Index])
	if g.obs != nil {
		x.emit(observe.Event{Kind: observe.BackendSelected, Backend: b.Index, Addr: b.Addr})
		if g.tracer != nil {
			g.tracer.InjectHeader(x.r.Context(), x.o.req.Header)
		}
	}
	var start time.Time
	tr := x.bs.bals[rt.slot].tracker
	if tr != nil || g.obs != nil || x.bs.health.slowAfter > 0 {
		start = time.Now()
	}
	if tr != nil {
		tr.Start(b.Index)
	}
	x.o.info.begin(x.w)
	res, err := g.eng.roundTrip(x.o, x.tryDeadline())
	x.o.info.end()
	var lat time.Duration
	if !start.IsZero() {
		lat = time.Since(start)
	}
	return res, lat, err
}

// deliver reports backend b's answer to the observer and writes it to the
// client: a 101 completes an upgrade, anything else is streamed, through
// the route's After hooks (after.go) when it has any.
func (x *exchange) deliver(b balancer.Backend, res *http.Response, lat time.Duration) {
	if x.g.ids != nil {
		delete(res.Header, x.g.ids.header) // the gateway's ID stands
	}
	if x.streamed && !x.o.body.eof.Load() {
		// The upstream answered before the client finished its upload:
		// the connection closes after the response, so no server waits
		// to drain a body the client may never send (net/http's does,
		// after the handler returns, with no deadline of its own).
		x.w.Header().Set("Connection", "close")
	}
	if res.StatusCode != http.StatusSwitchingProtocols && x.rt.after != nil {
		x.after(b, res, lat)
		return
	}
	if x.g.obs != nil {
		x.emit(observe.Event{Kind: observe.UpstreamSucceeded, Backend: b.Index, Addr: b.Addr, Status: res.StatusCode, Latency: lat})
	}
	x.status = res.StatusCode
	if x.o.rawHead && x.respondRaw(res) {
		x.o.done = res
		return
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		x.rt.gw.switchProtocols(x.w, x.r, x.upType, res)
		return
	}
	if x.rt.cors != nil {
		x.rt.cors.fromUpstream(x.w.Header(), res.Header)
	}
	x.rt.gw.respond(x.w, x.r, res)
	// respond closed the body and kept nothing of res but the header's
	// value slices: an engine that recycles responses may reuse it.
	x.o.done = res
}
