// Package policy decides how a route spreads requests over its backends.
//
// A [Policy] pairs a routing [Strategy], which yields the candidate backends
// and an optional affinity key for a request, with a [balancer.Factory],
// which picks one candidate. Register policies on the gateway by name and
// select them per service or route.
//
// Presets cover the common cases: [RoundRobin], [LeastRequest],
// [LeastTime], [ConsistentHash], [HeaderSticky] and [PathSticky]. [New]
// combines any strategy with any balancer; the strategies are [All],
// [Header], [PathParam] and any type with a Select method, such as a
// [StrategyFunc]. A strategy that can tell at build time that it does not
// fit a route implements [Checker].
//
// Per request the gateway does, in effect:
//
//	candidates, key := request.Backends, ""
//	if p.Strategy != nil {
//		candidates, key = p.Strategy.Select(request)
//	}
//	i := bal.Pick(candidates, key) // bal built once per route by p.Balancer
//	// i == -1: no backend (503); else forward to candidates[i]
package policy

import (
	"net/http"

	"github.com/apigate-go/apigate/balancer"
	"github.com/julienschmidt/httprouter"
)

// Request is what a [Strategy] sees of one request. It is passed by value;
// strategies must not keep it after Select returns.
type Request struct {
	// HTTP is the inbound request. Treat it as read-only.
	HTTP *http.Request
	// Service is the logical name of the service.
	Service string
	// Route is the route's full pattern, service prefix included.
	Route string
	// Params are the route's path parameters.
	Params httprouter.Params
	// Backends is every backend of the service, in [balancer.Backend.Index]
	// order. Do not modify it.
	Backends []balancer.Backend
}

// Strategy chooses the candidate backends and the affinity key for a
// request. Implementations must be safe for concurrent use and, as Select
// runs on every request, should not allocate.
type Strategy interface {
	// Select returns the candidates and the affinity key ("" for none).
	// The candidates are r.Backends or values taken from it (a subset,
	// possibly reordered, with Index and Addr unchanged); Select must not
	// modify r.Backends, so a subset goes into a new slice, ideally one
	// prepared in advance. An empty result makes the gateway answer 503.
	Select(r Request) (candidates []balancer.Backend, key string)
}

// Policy is a strategy plus a balancer. The zero Policy sends every request
// to all backends in round-robin order.
//
// A Policy is configuration: it holds a [balancer.Factory], not a balancer,
// and the gateway builds a fresh balancer for every route that uses it, so
// one Policy value may be shared freely.
type Policy struct {
	// Strategy yields candidates and the affinity key; nil means all
	// backends and no key.
	Strategy Strategy
	// Balancer builds the picker; nil means round-robin.
	Balancer balancer.Factory
}

// New returns the policy that selects with s and picks with a balancer
// built by f. A nil s means all backends and no key; a nil f means
// round-robin.
func New(s Strategy, f balancer.Factory) Policy {
	return Policy{Strategy: s, Balancer: f}
}

// NewBalancer builds p's balancer for backends, the full backend list of a
// service in [balancer.Backend.Index] order: p.Balancer(backends), or a
// round-robin balancer when p.Balancer is nil.
func (p Policy) NewBalancer(backends []balancer.Backend) balancer.Balancer {
	if p.Balancer == nil {
		return balancer.RoundRobin(backends)
	}
	return p.Balancer(backends)
}
