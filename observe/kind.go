package observe

import "strconv"

// kindNames holds the stable names of the kinds, indexed by Kind.
var kindNames = [...]string{
	RequestStarted:    "request_started",
	BackendSelected:   "backend_selected",
	PipelineFailed:    "pipeline_failed",
	DispatchFailed:    "dispatch_failed",
	UpstreamSucceeded: "upstream_succeeded",
	UpstreamFailed:    "upstream_failed",
	NoRoute:           "no_route",
	Responded:         "responded",
	BackendEjected:    "backend_ejected",
	BackendReadmitted: "backend_readmitted",
	BackendUnhealthy:  "backend_unhealthy",
	BackendHealthy:    "backend_healthy",
	HealthChecked:     "health_checked",
	RequestRetried:    "request_retried",
	CircuitOpened:     "circuit_opened",
	CircuitHalfOpen:   "circuit_half_open",
	CircuitClosed:     "circuit_closed",
	RequestEnded:      "request_ended",
	PanicRecovered:    "panic_recovered",
	BackendsChanged:   "backends_changed",
	BackendsRefused:   "backends_refused",
}

// String returns the kind's stable lower_snake name, such as
// "request_started", or "kind(N)" for a value that names no event. The
// names are part of the API: log pipelines and dashboards may match them.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Terminal reports whether k ends a request: every request that started
// yields exactly one terminal event ([NoRoute], [Responded],
// [PipelineFailed], [DispatchFailed], [UpstreamSucceeded] or
// [UpstreamFailed]).
func (k Kind) Terminal() bool {
	switch k {
	case NoRoute, Responded, PipelineFailed, DispatchFailed, UpstreamSucceeded, UpstreamFailed:
		return true
	}
	return false
}

// Resilience reports whether k is a resilience event (BackendEjected to
// CircuitClosed): a decision or state change rather than a step of one
// request.
func (k Kind) Resilience() bool { return k >= BackendEjected && k <= CircuitClosed }
