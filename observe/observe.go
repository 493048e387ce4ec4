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
	"net/http"
	"time"
)

// Kind names a runtime event.
type Kind uint8

// The events a gateway emits. Every request yields RequestStarted, then
// exactly one of: NoRoute, Responded, PipelineFailed, DispatchFailed, or
// BackendSelected followed by UpstreamSucceeded or UpstreamFailed (a
// retried request yields RequestRetried and BackendSelected again before
// that last event). A request that matched no route yields RequestStarted
// and NoRoute (404 or 405) with empty Service and Route. OPTIONS requests
// the gateway answers itself (no OPTIONS route declared) yield no events.
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
}

// Observer receives events. Implementations must be safe for concurrent
// use and must not block.
type Observer interface {
	Observe(ctx context.Context, e Event)
}

// Func adapts a function to the [Observer] interface.
type Func func(ctx context.Context, e Event)

// Observe calls f(ctx, e).
func (f Func) Observe(ctx context.Context, e Event) { f(ctx, e) }
