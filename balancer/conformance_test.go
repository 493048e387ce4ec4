package balancer_test

import (
	"testing"

	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/balancer/balancertest"
)

func TestConformance(t *testing.T) {
	tests := []struct {
		name string
		f    balancer.Factory
	}{
		{"RoundRobin", balancer.RoundRobin},
		{"ConsistentHash", balancer.ConsistentHash},
		{"LeastRequest", balancer.LeastRequest},
		{"LeastTime", balancer.LeastTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			balancertest.Run(t, tt.f)
		})
	}
}
