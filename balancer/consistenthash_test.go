package balancer_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/apigate-go/apigate/balancer"
)

// keyAddrs maps each of n keys to the Addr ConsistentHash picks for it.
func keyAddrs(b balancer.Balancer, candidates []balancer.Backend, n int) []string {
	out := make([]string, n)
	for k := range n {
		out[k] = candidates[b.Pick(candidates, fmt.Sprintf("user-%d", k))].Addr
	}
	return out
}

func TestConsistentHashSameKeySameBackend(t *testing.T) {
	all := weighted(1, 1, 2, 1, 3)
	reversed := slices.Clone(all)
	slices.Reverse(reversed)
	// The reversed list keeps each backend's Index: only the order of the
	// candidates differs.
	tests := []struct {
		name string
		a, b []balancer.Backend
	}{
		{"independent builds", all, all},
		{"candidates in another order", all, reversed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := keyAddrs(balancer.ConsistentHash(all), tt.a, 2000)
			want := keyAddrs(balancer.ConsistentHash(all), tt.b, 2000)
			for k := range got {
				if got[k] != want[k] {
					t.Fatalf("key user-%d: one balancer picked %s, the other %s", k, got[k], want[k])
				}
			}
		})
	}
}

// TestConsistentHashGolden pins the mapping: gateway replicas running
// different releases must agree, so it may only change in a major version.
func TestConsistentHashGolden(t *testing.T) {
	all := []balancer.Backend{
		{Index: 0, Addr: "http://192.0.2.1:8080", Weight: 1},
		{Index: 1, Addr: "http://192.0.2.2:8080", Weight: 1},
		{Index: 2, Addr: "http://192.0.2.3:8080", Weight: 1},
	}
	heavy := slices.Clone(all)
	heavy[2].Weight = 5
	tests := []struct {
		name     string
		backends []balancer.Backend
		want     []int // picks for the keys below
	}{
		{"equal weights", all, []int{1, 1, 2, 1, 0, 1, 2, 1}},
		{"weighted", heavy, []int{1, 2, 2, 1, 2, 2, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := balancer.ConsistentHash(tt.backends)
			var got []int
			for _, key := range []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"} {
				got = append(got, b.Pick(tt.backends, key))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("picks = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConsistentHashBalance(t *testing.T) {
	tests := []struct {
		name     string
		backends []balancer.Backend
		tol      float64
	}{
		{"equal", equal(10), 0.10},
		{"weighted", weighted(1, 2, 3, 4), 0.05},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := balancer.ConsistentHash(tt.backends)
			total := 0
			for _, c := range tt.backends {
				total += max(c.Weight, 1)
			}
			const keys = 40000
			got := make(map[string]int)
			for _, addr := range keyAddrs(b, tt.backends, keys) {
				got[addr]++
			}
			for _, c := range tt.backends {
				want := keys * max(c.Weight, 1) / total
				if !within(got[c.Addr], want, tt.tol) {
					t.Errorf("backend %d (weight %d) owns %d keys, want %d±%.0f%%", c.Index, c.Weight, got[c.Addr], want, 100*tt.tol)
				}
			}
		})
	}
}

func TestConsistentHashAddBackend(t *testing.T) {
	tests := []struct {
		name      string
		before    []balancer.Backend
		added     int // weight of the added backend
		wantMoved float64
	}{
		{"10 equal + 1", equal(10), 1, 1.0 / 11},
		{"3 equal + 1", equal(3), 1, 1.0 / 4},
		{"weighted 1,2,3 + weight 2", weighted(1, 2, 3), 2, 2.0 / 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := append(slices.Clone(tt.before), balancer.Backend{
				Index: len(tt.before), Addr: "http://10.0.1.1:8080", Weight: tt.added,
			})
			const keys = 10000
			old := keyAddrs(balancer.ConsistentHash(tt.before), tt.before, keys)
			now := keyAddrs(balancer.ConsistentHash(after), after, keys)
			moved := 0
			for k := range old {
				if old[k] == now[k] {
					continue
				}
				moved++
				if now[k] != "http://10.0.1.1:8080" {
					t.Errorf("key user-%d moved from %s to %s, want it to stay or move to the new backend", k, old[k], now[k])
				}
			}
			got := float64(moved) / keys
			t.Logf("moved %.4f of %d keys, ideal %.4f", got, keys, tt.wantMoved)
			if got < tt.wantMoved-0.02 || got > tt.wantMoved+0.02 {
				t.Errorf("moved %.3f of the keys, want %.3f±0.02", got, tt.wantMoved)
			}
		})
	}
}

func TestConsistentHashSubset(t *testing.T) {
	all := weighted(1, 1, 1, 2, 1)
	b := balancer.ConsistentHash(all)
	const removed = 3
	var rest []int
	for i := range all {
		if i != removed {
			rest = append(rest, i)
		}
	}
	sub := subset(all, rest...)
	const keys = 10000
	full := keyAddrs(b, all, keys)
	part := keyAddrs(b, sub, keys)
	gained := make(map[string]int)
	for k := range full {
		switch {
		case full[k] == all[removed].Addr:
			gained[part[k]]++
		case part[k] != full[k]:
			t.Fatalf("key user-%d moved from %s to %s though its backend is still a candidate", k, full[k], part[k])
		}
	}
	for _, c := range sub {
		if gained[c.Addr] == 0 {
			t.Errorf("backend %d took none of the removed backend's keys, want them spread over every candidate", c.Index)
		}
	}
}

func TestConsistentHashKeylessSpreads(t *testing.T) {
	all := weighted(1, 2, 1)
	b := balancer.ConsistentHash(all)
	got := counts(b, all, 4000)
	for _, c := range all {
		if want := 1000 * c.Weight; !within(got[c.Index], want, 0.01) {
			t.Errorf("backend %d (weight %d) got %d keyless picks, want %d±1%%", c.Index, c.Weight, got[c.Index], want)
		}
	}
}

func TestConsistentHashUnknownBackends(t *testing.T) {
	b := balancer.ConsistentHash(equal(2))
	strangers := []balancer.Backend{{Index: 9, Addr: "x"}, {Index: -1, Addr: "y"}, {Index: 1, Addr: "z"}}
	for k := range 100 {
		key := fmt.Sprint(k)
		if got := b.Pick(strangers, key); got < 0 || got >= len(strangers) {
			t.Fatalf("Pick(strangers, %q) = %d, want a position in [0, 3)", key, got)
		}
	}
}
