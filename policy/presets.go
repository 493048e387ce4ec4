package policy

import "github.com/apigate-go/apigate/balancer"

// RoundRobin returns the policy that spreads requests over all backends in
// smooth weighted round-robin order ([balancer.RoundRobin]). It behaves as
// the zero Policy.
func RoundRobin() Policy { return Policy{Balancer: balancer.RoundRobin} }

// LeastRequest returns the policy that sends each request to the backend
// with the fewest requests in flight, relative to its weight
// ([balancer.LeastRequest]).
func LeastRequest() Policy { return Policy{Balancer: balancer.LeastRequest} }

// LeastTime returns the policy that sends each request to the backend
// expected to answer soonest, from a moving average of its latency and its
// requests in flight ([balancer.LeastTime]).
func LeastTime() Policy { return Policy{Balancer: balancer.LeastTime} }

// ConsistentHash returns the policy that sends requests with the same
// affinity key, as chosen by s, to the same backend, on every gateway
// replica ([balancer.ConsistentHash]). Requests without a key are spread in
// round-robin order.
func ConsistentHash(s Strategy) Policy {
	return Policy{Strategy: s, Balancer: balancer.ConsistentHash}
}

// HeaderSticky returns the policy that sends requests with the same value
// of the named header to the same backend: ConsistentHash(Header(header)).
func HeaderSticky(header string) Policy { return ConsistentHash(Header(header)) }

// PathSticky returns the policy that sends requests with the same value of
// the named path parameter to the same backend:
// ConsistentHash(PathParam(param)). Building a route whose pattern lacks
// the parameter fails (see [Policy.Check]).
func PathSticky(param string) Policy { return ConsistentHash(PathParam(param)) }
