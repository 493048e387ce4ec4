package policy

import (
	"fmt"
	"slices"

	"github.com/apigate-go/apigate/balancer"
)

// PathParam returns the strategy that offers every backend and uses the
// value of the named path parameter as the affinity key, no key when the
// route matched without it. For a catch-all parameter (*name) the value
// includes its leading slash. PathParam implements [Checker]: it reports
// a route whose pattern has no parameter of that name.
func PathParam(name string) Strategy { return pathParam{name: name} }

type pathParam struct{ name string }

// Select implements [Strategy].
func (p pathParam) Select(r Request) ([]balancer.Backend, string) {
	return r.Backends, r.Params.ByName(p.name)
}

// Check implements [Checker].
func (p pathParam) Check(route string, params []string) error {
	if !slices.Contains(params, p.name) {
		return fmt.Errorf("policy: route %s has no path parameter %q for the affinity key", route, p.name)
	}
	return nil
}
