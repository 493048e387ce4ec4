package policy_test

import (
	"fmt"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/policy"
	"github.com/julienschmidt/httprouter"
)

// route serves one request the way the gateway does and returns the Addr
// of the chosen backend, "" for none.
func route(p policy.Policy, bal balancer.Balancer, r policy.Request) string {
	candidates, key := r.Backends, ""
	if p.Strategy != nil {
		candidates, key = p.Strategy.Select(r)
	}
	i := bal.Pick(candidates, key)
	if i < 0 {
		return ""
	}
	return candidates[i].Addr
}

func TestRoundRobinPresets(t *testing.T) {
	all := backends(3)
	tests := []struct {
		name string
		p    policy.Policy
	}{
		{"zero", policy.Policy{}},
		{"RoundRobin", policy.RoundRobin()},
		{"New(nil, nil)", policy.New(nil, nil)},
		{"New(All, RoundRobin)", policy.New(policy.All(), balancer.RoundRobin)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bal := tt.p.NewBalancer(all)
			var got []string
			for range 4 {
				got = append(got, route(tt.p, bal, policy.Request{Backends: all}))
			}
			want := []string{all[0].Addr, all[1].Addr, all[2].Addr, all[0].Addr}
			if !slices.Equal(got, want) {
				t.Errorf("addresses = %v, want %v", got, want)
			}
		})
	}
}

func TestStickyPresets(t *testing.T) {
	all := backends(5)
	header := func(user string) policy.Request {
		req := httptest.NewRequest("GET", "/api/cart", nil)
		if user != "" {
			req.Header.Set("X-User-Id", user)
		}
		return policy.Request{HTTP: req, Backends: all}
	}
	param := func(id string) policy.Request {
		return policy.Request{Params: httprouter.Params{{Key: "id", Value: id}}, Backends: all}
	}
	tests := []struct {
		name    string
		p       policy.Policy
		request func(string) policy.Request
	}{
		{"HeaderSticky", policy.HeaderSticky("X-User-Id"), header},
		{"ConsistentHash(Header)", policy.ConsistentHash(policy.Header("X-User-Id")), header},
		{"PathSticky", policy.PathSticky("id"), param},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Two routes (or replicas) with their own balancers agree.
			a, b := tt.p.NewBalancer(all), tt.p.NewBalancer(all)
			owners := make(map[string]bool)
			for u := range 50 {
				key := fmt.Sprintf("u-%d", u)
				first := route(tt.p, a, tt.request(key))
				for range 3 {
					if got := route(tt.p, a, tt.request(key)); got != first {
						t.Fatalf("key %s went to %s, then %s", key, first, got)
					}
				}
				if got := route(tt.p, b, tt.request(key)); got != first {
					t.Fatalf("key %s: one balancer picked %s, the other %s", key, first, got)
				}
				owners[first] = true
			}
			if len(owners) != len(all) {
				t.Errorf("50 keys landed on %d backends, want all %d", len(owners), len(all))
			}
		})
	}
}

func TestStickyWithoutKeySpreads(t *testing.T) {
	all := backends(3)
	p := policy.HeaderSticky("X-User-Id")
	bal := p.NewBalancer(all)
	seen := make(map[string]int)
	for range 30 {
		req := httptest.NewRequest("GET", "/", nil)
		seen[route(p, bal, policy.Request{HTTP: req, Backends: all})]++
	}
	for _, b := range all {
		if seen[b.Addr] != 10 {
			t.Errorf("keyless requests: %s got %d of 30, want 10", b.Addr, seen[b.Addr])
		}
	}
}

func TestLeastPresets(t *testing.T) {
	all := backends(2)
	tests := []struct {
		name string
		p    policy.Policy
		// after backend 0 has one request in flight and backend 1
		// answered slowly, the backend each should prefer
		want string
	}{
		{"LeastRequest", policy.LeastRequest(), all[1].Addr},
		{"LeastTime", policy.LeastTime(), all[0].Addr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bal := tt.p.NewBalancer(all)
			tr, ok := bal.(balancer.Tracker)
			if !ok {
				t.Fatalf("%s balancer does not implement balancer.Tracker", tt.name)
			}
			tr.Start(0)
			tr.Done(0, balancer.Result{Status: 200, Latency: time.Millisecond})
			tr.Start(1)
			tr.Done(1, balancer.Result{Status: 200, Latency: time.Second})
			tr.Start(0) // stays in flight
			for range 3 {
				if got := route(tt.p, bal, policy.Request{Backends: all}); got != tt.want {
					t.Errorf("picked %s, want %s", got, tt.want)
				}
			}
		})
	}
}

func TestNewBalancerFreshState(t *testing.T) {
	all := backends(2)
	p := policy.LeastRequest()
	a, b := p.NewBalancer(all), p.NewBalancer(all)
	a.(balancer.Tracker).Start(0)
	if got := b.Pick(all, ""); got != 0 {
		t.Errorf("second balancer of one policy picked %d, want 0 (no state shared with the first)", got)
	}
}
