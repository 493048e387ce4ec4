// Package policy decides how a route spreads requests over its backends.
//
// A [Policy] pairs a routing [Strategy], which yields the candidate backends
// and an optional affinity key for a request, with a [balancer.Factory],
// which picks one candidate. Register policies on the gateway by name and
// select them per service or route.
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
// request. Implementations must be safe for concurrent use.
type Strategy interface {
	// Select returns the candidates (usually r.Backends, or a subset) and
	// the affinity key ("" for none).
	Select(r Request) (candidates []balancer.Backend, key string)
}

// Policy is a strategy plus a balancer. The zero Policy sends every request
// to all backends in round-robin order.
type Policy struct {
	// Strategy yields candidates and the affinity key; nil means all
	// backends and no key.
	Strategy Strategy
	// Balancer builds the picker; nil means round-robin.
	Balancer balancer.Factory
}
