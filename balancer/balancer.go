// Package balancer picks one upstream backend per request.
//
// A [Balancer] chooses among candidate [Backend] values, optionally guided by
// an affinity key. Balancers that learn from traffic (least-request,
// least-time) also implement [Tracker]. A [Factory] builds a balancer with
// fresh state for one backend set: the gateway calls it once per route (or
// per policy use), so two routes never share counters.
//
// The package speaks standard-library types only and never imports the
// gateway package.
package balancer

import "time"

// Backend is one upstream server of a service, as balancers see it.
// Backends are values: a balancer keeps per-backend state in its own
// slices, indexed by [Backend.Index].
type Backend struct {
	// Index is the backend's position in its service's backend list,
	// stable for the life of the gateway.
	Index int
	// Addr identifies the backend: its URL as configured. Consistent
	// hashing hashes it, so every replica given the same list agrees.
	Addr string
	// Weight is the backend's relative share of traffic; values below 1
	// count as 1. The built-in balancers read it from the list given to
	// the [Factory], by Index, so it is configuration: a strategy cannot
	// change it per request.
	Weight int
}

// Balancer picks one backend among candidates.
//
// candidates are drawn from the backends the balancer was built with (see
// [Factory]) and identified by [Backend.Index]; they may be all of them, a
// subset (a strategy may drop a backend that is cooling down) and in any
// order. Pick must not modify or retain candidates.
//
// Implementations must be safe for concurrent use and should not lock or
// allocate on the request path. The package [balancertest] checks the
// contract.
//
// [balancertest]: https://pkg.go.dev/github.com/apigate-go/apigate/balancer/balancertest
type Balancer interface {
	// Pick returns the position in candidates of the chosen backend, or -1
	// when candidates is empty. key is the request's affinity key, "" when
	// the request has none.
	Pick(candidates []Backend, key string) int
}

// Result is what the gateway reports of one upstream exchange.
type Result struct {
	// Status is the upstream response status, 0 when there was none.
	Status int
	// Latency is the time from sending the request to receiving the
	// response headers (or to the failure).
	Latency time.Duration
	// Err is the transport error, nil when a response arrived. A request
	// cancelled by its client reports context.Canceled.
	Err error
}

// Tracker is implemented by balancers that learn from traffic. The gateway
// calls Start when it sends a request to a backend and Done exactly once
// per Start, also when the client cancels or the exchange fails. Start and
// Done may run concurrently with each other and with Pick.
type Tracker interface {
	// Start records that a request was sent to the backend with the given
	// [Backend.Index].
	Start(index int)
	// Done records the end of a request started with Start.
	Done(index int, r Result)
}

// Factory builds a [Balancer] with fresh state for backends, the full
// backend list of one service in [Backend.Index] order. A factory must not
// modify or retain backends: it copies what it needs.
//
// [RoundRobin], [ConsistentHash], [LeastRequest] and [LeastTime] are
// factories.
type Factory func(backends []Backend) Balancer
