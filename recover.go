package apigate

import (
	"errors"
	"net/http"
	"runtime/debug"

	"github.com/apigate-go/apigate/observe"
)

// WithoutRecover turns off the gateway's panic recovery.
//
// By default the gateway recovers a panic raised while it serves a request
// in the code it calls: hooks, maps, validators, policies and balancers,
// observers, the error renderer and the upstream transport. When nothing
// has been sent to the client yet, it answers 500 (code "internal",
// through the error renderer) and the connection stays usable; when the
// response has started, it cuts the response, as net/http does. Either
// way it reports the panic to the observer as an observe.PanicRecovered
// event whose Err is an *observe.PanicError with the value and the stack.
// A panic with [http.ErrAbortHandler] keeps its meaning: it is not
// reported and still aborts the response. Panics in middleware (see
// [WithMiddleware] and [Use]) are the middleware's own, as in any
// net/http handler.
//
// Without recovery, a panic reaches the server, which (for net/http's)
// logs it to its ErrorLog and closes the connection. Turn recovery off
// when an outer handler recovers panics itself, or to crash loudly in
// tests. Recovery costs a deferred call per request.
func WithoutRecover() Option {
	return optionFunc(func(c *config) { c.noRecover = true })
}

// finish ends the request: it recovers a panic (unless recovery is off)
// and emits RequestEnded. It must be deferred by the handler that called
// start, which sets x.done when it returns normally.
func (x *exchange) finish() {
	g := x.g
	if !x.done && g.recover {
		if p := recover(); p != nil {
			x.recovered(p)
			x.done = true
		}
	}
	if g.obs == nil {
		return
	}
	ev := observe.Event{Kind: observe.RequestEnded, Backend: -1, Status: x.status}
	if !x.done {
		// A panic goes on up: http.ErrAbortHandler after the upstream broke
		// mid-body, or any panic with recovery off.
		ev.Err = errResponseCut
	}
	x.emit(ev)
}

// errResponseCut is the Err of a RequestEnded event whose response was
// aborted.
var errResponseCut = errors.New("apigate: response cut")

// recovered handles a panic value p recovered while serving the request.
// It re-panics http.ErrAbortHandler, and panics with it after reporting
// when the response had started; otherwise it answers 500.
func (x *exchange) recovered(p any) {
	if p == http.ErrAbortHandler {
		x.reportCut()
		panic(p)
	}
	g := x.g
	pe := &observe.PanicError{Value: p, Stack: debug.Stack()}
	wrote := x.status != 0
	if g.obs != nil {
		status := http.StatusInternalServerError
		if wrote {
			status = 0
		}
		x.emit(observe.Event{Kind: observe.PanicRecovered, Backend: -1, Status: status, Err: pe})
	}
	if wrote {
		x.reportCut()
		panic(http.ErrAbortHandler)
	}
	e := &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error", Err: pe}
	if g.obs != nil && !x.terminal {
		x.emit(observe.Event{Kind: observe.PipelineFailed, Backend: -1, Status: e.Status, Code: e.Code, Err: pe})
	}
	x.status = e.Status
	g.renderSafely(x.w, x.r, e)
}

// reportCut emits RequestEnded for a response about to be aborted.
func (x *exchange) reportCut() {
	if x.g.obs != nil {
		x.emit(observe.Event{Kind: observe.RequestEnded, Backend: -1, Status: x.status, Err: errResponseCut})
	}
	x.done = true // finish must not report it again
}

// renderSafely renders e; should the renderer itself panic, it writes a
// plain 500 instead, unless the renderer had already written.
func (g *Gateway) renderSafely(w http.ResponseWriter, r *http.Request, e *Error) {
	tw := &trackWriter{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler || tw.wrote {
				panic(http.ErrAbortHandler)
			}
			TextErrors(w, r, e)
		}
	}()
	g.render(tw, r, e)
}

// trackWriter records whether a response was started through it.
type trackWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		t.wrote = true
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

// Unwrap returns the underlying writer, for [http.ResponseController].
func (t *trackWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
