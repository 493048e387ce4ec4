package balancer_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/apigate-go/apigate/balancer"
)

var benchBalancers = []struct {
	name    string
	f       balancer.Factory
	keyed   bool // pick with affinity keys
	weights bool // backends with different weights
}{
	{"RoundRobin", balancer.RoundRobin, false, false},
	{"RoundRobinWeighted", balancer.RoundRobin, false, true},
	{"ConsistentHash", balancer.ConsistentHash, true, false},
	{"ConsistentHashWeighted", balancer.ConsistentHash, true, true},
	{"LeastRequest", balancer.LeastRequest, false, false},
	{"LeastTime", balancer.LeastTime, false, false},
}

func benchBackends(n int, weights bool) []balancer.Backend {
	bs := equal(n)
	if weights {
		for i := range bs {
			bs[i].Weight = 1 + i%4
		}
	}
	return bs
}

func benchKeys(keyed bool) []string {
	keys := make([]string, 1024)
	if keyed {
		for i := range keys {
			keys[i] = fmt.Sprintf("user-%d", i)
		}
	}
	return keys
}

var benchResult = balancer.Result{Status: 200, Latency: 3 * time.Millisecond}

// benchPick serves one request the way the gateway does: Pick, then
// Start and Done for a tracker.
func benchPick(bal balancer.Balancer, tr balancer.Tracker, candidates []balancer.Backend, key string) {
	i := bal.Pick(candidates, key)
	if tr != nil {
		tr.Start(candidates[i].Index)
		tr.Done(candidates[i].Index, benchResult)
	}
}

func BenchmarkPick(b *testing.B) {
	for _, bb := range benchBalancers {
		for _, n := range []int{2, 8, 64} {
			all := benchBackends(n, bb.weights)
			keys := benchKeys(bb.keyed)
			b.Run(fmt.Sprintf("%s/%d", bb.name, n), func(b *testing.B) {
				bal := bb.f(all)
				tr, _ := bal.(balancer.Tracker)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					benchPick(bal, tr, all, keys[i&1023])
					i++
				}
			})
			b.Run(fmt.Sprintf("%s/%d/parallel", bb.name, n), func(b *testing.B) {
				bal := bb.f(all)
				tr, _ := bal.(balancer.Tracker)
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						benchPick(bal, tr, all, keys[i&1023])
						i++
					}
				})
			})
		}
	}
}

// BenchmarkPickSubset measures the path taken when a strategy drops one
// backend from the candidates.
func BenchmarkPickSubset(b *testing.B) {
	for _, bb := range benchBalancers {
		for _, n := range []int{8, 64} {
			all := benchBackends(n, bb.weights)
			candidates := all[1:]
			keys := benchKeys(bb.keyed)
			b.Run(fmt.Sprintf("%s/%d", bb.name, n), func(b *testing.B) {
				bal := bb.f(all)
				tr, _ := bal.(balancer.Tracker)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					benchPick(bal, tr, candidates, keys[i&1023])
					i++
				}
			})
		}
	}
}

func TestPickDoesNotAllocate(t *testing.T) {
	for _, bb := range benchBalancers {
		for _, n := range []int{2, 8, 64} {
			all := benchBackends(n, bb.weights)
			keys := benchKeys(bb.keyed)
			bal := bb.f(all)
			tr, _ := bal.(balancer.Tracker)
			i := 0
			allocs := testing.AllocsPerRun(200, func() {
				benchPick(bal, tr, all, keys[i&1023])
				benchPick(bal, tr, all[1:], keys[i&1023])
				i++
			})
			if allocs != 0 {
				t.Errorf("%s/%d: %.1f allocations per Pick, Start and Done, want 0", bb.name, n, allocs)
			}
		}
	}
}
