package policy_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/apigate-go/apigate/balancer"

	"github.com/apigate-go/apigate/policy"
	"github.com/julienschmidt/httprouter"
)

var result = balancer.Result{Status: 200, Latency: 3 * time.Millisecond}

// BenchmarkPolicy measures what a policy costs per request: the strategy's
// Select and the balancer's Pick, with Start and Done for trackers.
func BenchmarkPolicy(b *testing.B) {
	all := backends(8)
	req := httptest.NewRequest("GET", "/api/users/42", nil)
	req.Header.Set("X-User-Id", "u-12345")
	r := policy.Request{
		HTTP:     req,
		Route:    "/api/users/:id",
		Params:   httprouter.Params{{Key: "id", Value: "42"}},
		Backends: all,
	}
	policies := []struct {
		name string
		p    policy.Policy
	}{
		{"RoundRobin", policy.RoundRobin()},
		{"LeastRequest", policy.LeastRequest()},
		{"LeastTime", policy.LeastTime()},
		{"HeaderSticky", policy.HeaderSticky("X-User-Id")},
		{"PathSticky", policy.PathSticky("id")},
	}
	for _, pp := range policies {
		b.Run(pp.name, func(b *testing.B) {
			bal := pp.p.NewBalancer(all)
			tr, _ := bal.(balancer.Tracker)
			b.ReportAllocs()
			for b.Loop() {
				candidates, key := all, ""
				if pp.p.Strategy != nil {
					candidates, key = pp.p.Strategy.Select(r)
				}
				c := candidates[bal.Pick(candidates, key)]
				if tr != nil {
					tr.Start(c.Index)
					tr.Done(c.Index, result)
				}
			}
		})
	}
}
