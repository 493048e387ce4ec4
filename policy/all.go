package policy

import "github.com/apigate-go/apigate/balancer"

// All returns the strategy that offers every backend of the service and no
// affinity key. It is what a nil [Policy.Strategy] means; use it where a
// non-nil strategy is wanted, for example to wrap it.
func All() Strategy { return all{} }

type all struct{}

// Select implements [Strategy].
func (all) Select(r Request) ([]balancer.Backend, string) { return r.Backends, "" }
