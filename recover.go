package apigate

import (
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

// recovered handles a panic value p recovered while serving r on route rt
// (nil for requests that matched no route). wrote reports whether the
// response had started; id is the request's ID. It re-panics
// http.ErrAbortHandler, and panics with it after reporting when the
// response had started.
func (g *Gateway) recovered(w http.ResponseWriter, r *http.Request, rt *route, p any, wrote bool, id string) {
	if p == http.ErrAbortHandler {
		panic(p)
	}
	pe := &observe.PanicError{Value: p, Stack: debug.Stack()}
	status := 0
	if !wrote {
		status = http.StatusInternalServerError
	}
	if g.obs != nil {
		g.emit(r, rt, observe.Event{Kind: observe.PanicRecovered, Backend: -1, Status: status, Err: pe, RequestID: id})
	}
	if wrote {
		panic(http.ErrAbortHandler)
	}
	g.renderSafely(w, r, &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error", Err: pe})
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
	g.renderer(tw, r, e)
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
