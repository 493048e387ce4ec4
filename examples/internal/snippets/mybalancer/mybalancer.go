// Package mybalancer is the balancer of docs/policies.md's conformance
// snippet: round-robin under another name.
package mybalancer

import "github.com/apigate-go/apigate/balancer"

// New returns a round-robin balancer over backends.
func New(backends []balancer.Backend) balancer.Balancer { return balancer.RoundRobin(backends) }
