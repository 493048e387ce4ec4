package policy

import "github.com/apigate-go/apigate/balancer"

// StrategyFunc adapts a function to [Strategy]. The function must follow
// the rules of [Strategy.Select]: safe for concurrent use, r.Backends left
// unmodified.
type StrategyFunc func(r Request) (candidates []balancer.Backend, key string)

// Select calls f(r).
func (f StrategyFunc) Select(r Request) ([]balancer.Backend, string) { return f(r) }
