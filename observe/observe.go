// Package observe carries the gateway's runtime events to an [Observer].
//
// Observation is off by default: a gateway without an observer pays one nil
// check per event site. Observers run synchronously on the request path, so
// they must be fast and safe for concurrent use.
//
// The package ships these observers:
//   - [Slog] writes one structured record per event through a
//     [log/slog.Logger], at a level that follows the outcome.
//   - [Metrics] counts requests and records upstream latency histograms in
//     memory, with atomic updates; [Metrics.Snapshot] reads them. The nested
//     module github.com/apigate-go/apigate/observe/prometheus exposes them
//     to Prometheus.
//   - [Func] adapts a plain function.
//   - [Multi] fans one event stream out to several observers.
//
// The package speaks standard-library types only and never imports the
// gateway package.
package observe

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Kind names a runtime event.
type Kind uint8

// The events a gateway emits. Every request yields RequestStarted, then
// exactly one of: NoRoute, Responded, PipelineFailed, DispatchFailed, or
// BackendSelected followed by UpstreamSucceeded or UpstreamFailed, and
// last RequestEnded. A retried request yields RequestRetried
// and BackendSelected again for each failed attempt before the last
// attempt's outcome, which alone is terminal. A request that matched no route yields RequestStarted and
// NoRoute (404 or 405) with empty Service and Route. A panic the gateway
// recovered adds PanicRecovered (and PipelineFailed when it struck before
// the terminal event) before RequestEnded. OPTIONS requests the
// gateway answers itself (no OPTIONS route declared) yield no events.
//
// The resilience events (BackendEjected to CircuitClosed) report
// decisions and state changes of a service; they are not part of any
// request's sequence. Those that no request caused (a health probe, a
// readmission) carry a nil Request and empty Route and Method.
const (
	// RequestStarted fires when a request arrives, after routing.
	RequestStarted Kind = iota + 1
	// BackendSelected fires when the balancer has picked a backend.
	BackendSelected
	// PipelineFailed fires when the gateway refused the request before
	// going upstream: a bad path, a hook, decoder or map that returned an
	// error, or a client that went away while its body was read (499).
	PipelineFailed
	// DispatchFailed fires when no backend could be chosen.
	DispatchFailed
	// UpstreamSucceeded fires when the upstream answered with headers.
	UpstreamSucceeded
	// UpstreamFailed fires when the upstream exchange failed (refused,
	// timeout, reset, client gone).
	UpstreamFailed
	// NoRoute fires when no route matched: no route for the path (404,
	// Code "not_found") or none for the method (405, Code
	// "method_not_allowed").
	NoRoute
	// Responded fires when a hook or map answered the request itself with
	// a custom response (Code "custom_response"): a deliberate outcome,
	// not a failure.
	Responded
	// BackendEjected fires when outlier detection takes a backend out of
	// rotation after failures in a row; Duration is how long.
	BackendEjected
	// BackendReadmitted fires when an ejected backend's time is up and it
	// takes traffic again (on probation: one failure ejects it again).
	BackendReadmitted
	// BackendUnhealthy fires when active health checks take a backend
	// out of rotation.
	BackendUnhealthy
	// BackendHealthy fires when active health checks bring a backend
	// back.
	BackendHealthy
	// HealthChecked fires after each active health probe: Status is the
	// backend's answer (0 if none), Latency the probe's time, Code
	// "health_check_failed" and Err the cause when it failed.
	HealthChecked
	// RequestRetried fires when a failed attempt is retried: Backend and
	// Addr are the backend that failed, Status and Code what it did,
	// Attempt the number of the retry (1 for the first) and Duration the
	// wait before it.
	RequestRetried
	// CircuitOpened fires when a service's circuit breaker opens: its
	// requests are refused with 503 "circuit_open" for Duration.
	CircuitOpened
	// CircuitHalfOpen fires when an open circuit lets trial requests
	// through.
	CircuitHalfOpen
	// CircuitClosed fires when trial requests succeeded and the circuit
	// closes.
	CircuitClosed
	// RequestEnded fires last, when the gateway is done with the request:
	// the response has been written in full, or cut, or the client went
	// away. Status is the status the client was sent (0 when none was);
	// Err is set when the response was cut (the upstream broke mid-body).
	// It is not terminal: the terminal event came before it.
	RequestEnded
	// PanicRecovered fires when the gateway recovered from a panic while
	// serving the request (see apigate.WithoutRecover). Err is a
	// *[PanicError] with the panic value and the stack. Status is 500 when
	// the gateway could still answer (code "internal"), 0 when the
	// response had started and was cut. When the panic struck before the
	// request's terminal event, a PipelineFailed event (500, code
	// "internal", Err the same *PanicError) follows it: a panicking hook
	// yields RequestStarted, PanicRecovered, PipelineFailed, RequestEnded.
	PanicRecovered
	// BackendsChanged fires when a service's backend set was replaced
	// (Gateway.SetBackends or discovery).
	BackendsChanged
	// BackendsRefused fires when an update of a service's backends was
	// refused (an empty or invalid set) or discovery failed; Err says
	// why. The service keeps its last good set.
	BackendsRefused
)

// Event is one runtime event. It is passed by value; observers must not
// keep Request after Observe returns, nor read its body.
type Event struct {
	Kind Kind
	// Request is the inbound request.
	Request *http.Request
	// Service is the service's logical name; Route the route's full
	// pattern; Method the request method.
	Service, Route, Method string
	// Backend is the chosen backend's index, -1 when none was chosen; Addr
	// its URL.
	Backend int
	Addr    string
	// Status is the HTTP status: the upstream's on UpstreamSucceeded, the
	// one sent to the client on failures (499 when the client went away).
	Status int
	// Code is the stable error code on failures ("" otherwise).
	Code string
	// Latency is the upstream latency to response headers, on upstream
	// events.
	Latency time.Duration
	// Err is the underlying error on failures.
	Err error
	// Duration is how long a decision lasts: the ejection on
	// BackendEjected, the open state on CircuitOpened, the backoff on
	// RequestRetried.
	Duration time.Duration
	// Attempt is the number of the retry on RequestRetried, 1 for the
	// first.
	Attempt int
	// RequestID is the request's ID (see apigate.WithRequestIDHeader), ""
	// when request IDs are off.
	RequestID string
}

// PanicError is the Err of a [PanicRecovered] event: a panic recovered
// while serving a request.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the panicking goroutine's stack trace, as
	// [runtime/debug.Stack] formats it.
	Stack []byte
}

// Error returns "panic: " and the panic value.
func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value if it is an error, else nil.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Observer receives events. Implementations must be safe for concurrent
// use and must not block.
type Observer interface {
	Observe(ctx context.Context, e Event)
}

// Tracer is an [Observer] that follows each request as a unit, for
// distributed tracing: it gives the request a context of its own and adds
// headers to every upstream attempt. The gateway checks for it once, in
// New; an observer that is not a Tracer costs nothing more. [Multi]
// passes both calls on to the Tracers it holds.
type Tracer interface {
	Observer
	// StartRequest is called once per request, with the RequestStarted
	// event, before that event is observed. The context it returns must
	// derive from ctx; it becomes the request's context for everything
	// that follows: hooks and maps, the upstream request, and later events.
	StartRequest(ctx context.Context, e Event) context.Context
	// InjectHeader is called once per upstream attempt, after that
	// attempt's BackendSelected event and before the request is sent, with
	// the outbound request's headers, which it may change (a traceparent
	// header, say). A retry sends the same headers again: set values, do
	// not add them. ctx is the request's context. It must not keep h.
	InjectHeader(ctx context.Context, h http.Header)
}

// Func adapts a function to the [Observer] interface.
type Func func(ctx context.Context, e Event)

// Observe calls f(ctx, e).
func (f Func) Observe(ctx context.Context, e Event) { f(ctx, e) }
