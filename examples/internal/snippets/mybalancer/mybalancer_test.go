package mybalancer_test

import (
	"testing"

	"github.com/apigate-go/apigate/balancer/balancertest"
	"github.com/apigate-go/apigate/examples/internal/snippets/mybalancer"
)

func TestConformance(t *testing.T) {
	balancertest.Run(t, mybalancer.New)
}
