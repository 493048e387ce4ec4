package balancer_test

import (
	"fmt"
	"time"

	"github.com/apigate-go/apigate/balancer"
)

func ExampleRoundRobin() {
	backends := []balancer.Backend{
		{Index: 0, Addr: "http://a:8080", Weight: 5},
		{Index: 1, Addr: "http://b:8080", Weight: 1},
		{Index: 2, Addr: "http://c:8080", Weight: 1},
	}
	b := balancer.RoundRobin(backends)
	for range 14 {
		fmt.Print(b.Pick(backends, ""), " ")
	}
	fmt.Println()
	// Output: 0 0 1 0 2 0 0 0 0 1 0 2 0 0
}

func ExampleConsistentHash() {
	backends := []balancer.Backend{
		{Index: 0, Addr: "http://192.0.2.1:8080"},
		{Index: 1, Addr: "http://192.0.2.2:8080"},
		{Index: 2, Addr: "http://192.0.2.3:8080"},
	}
	// Two gateway replicas build their balancers independently.
	replica1 := balancer.ConsistentHash(backends)
	replica2 := balancer.ConsistentHash(backends)
	for _, user := range []string{"alice", "bob", "carol"} {
		a := backends[replica1.Pick(backends, user)].Addr
		b := backends[replica2.Pick(backends, user)].Addr
		fmt.Println(user, a, a == b)
	}
	// A strategy dropped 192.0.2.3 (say, it is cooling down): only its keys move.
	candidates := backends[:2]
	fmt.Println("carol", candidates[replica1.Pick(candidates, "carol")].Addr)
	// Output:
	// alice http://192.0.2.2:8080 true
	// bob http://192.0.2.2:8080 true
	// carol http://192.0.2.3:8080 true
	// carol http://192.0.2.2:8080
}

func ExampleLeastTime() {
	backends := []balancer.Backend{
		{Index: 0, Addr: "http://fast:8080"},
		{Index: 1, Addr: "http://slow:8080"},
	}
	b := balancer.LeastTime(backends)
	tr := b.(balancer.Tracker)
	latency := []time.Duration{5 * time.Millisecond, 50 * time.Millisecond}
	picks := map[string]int{}
	for range 1000 {
		c := backends[b.Pick(backends, "")]
		tr.Start(c.Index)
		// ... forward the request ...
		tr.Done(c.Index, balancer.Result{Status: 200, Latency: latency[c.Index]})
		picks[c.Addr]++
	}
	fmt.Println("fast backend serves most requests:", picks["http://fast:8080"] > 900)
	fmt.Println("slow backend is still probed:", picks["http://slow:8080"] > 0)
	// Output:
	// fast backend serves most requests: true
	// slow backend is still probed: true
}
