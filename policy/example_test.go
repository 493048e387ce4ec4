package policy_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/policy"
	"github.com/julienschmidt/httprouter"
)

var exampleBackends = []balancer.Backend{
	{Index: 0, Addr: "http://192.0.2.1:8080", Weight: 1},
	{Index: 1, Addr: "http://192.0.2.2:8080", Weight: 1},
	{Index: 2, Addr: "http://192.0.2.3:8080", Weight: 1},
}

func ExampleHeaderSticky() {
	p := policy.HeaderSticky("X-User-Id")
	bal := p.NewBalancer(exampleBackends) // the gateway does this once per route

	for _, user := range []string{"alice", "bob", "alice", "carol", "bob"} {
		req := httptest.NewRequest("GET", "/api/cart", nil)
		req.Header.Set("X-User-Id", user)
		candidates, key := p.Strategy.Select(policy.Request{HTTP: req, Backends: exampleBackends})
		fmt.Println(user, "->", candidates[bal.Pick(candidates, key)].Addr)
	}
	// Output:
	// alice -> http://192.0.2.2:8080
	// bob -> http://192.0.2.2:8080
	// alice -> http://192.0.2.2:8080
	// carol -> http://192.0.2.3:8080
	// bob -> http://192.0.2.2:8080
}

func ExamplePathSticky() {
	p := policy.PathSticky("id")
	if err := p.Check("/api/users/:uid"); err != nil {
		fmt.Println(err) // the gateway reports this from New
	}

	bal := p.NewBalancer(exampleBackends)
	for _, id := range []string{"42", "7", "42"} {
		r := policy.Request{
			Route:    "/api/users/:id",
			Params:   httprouter.Params{{Key: "id", Value: id}},
			Backends: exampleBackends,
		}
		candidates, key := p.Strategy.Select(r)
		fmt.Println("user", id, "->", candidates[bal.Pick(candidates, key)].Addr)
	}
	// Output:
	// policy: route /api/users/:uid has no path parameter "id" for the affinity key
	// user 42 -> http://192.0.2.1:8080
	// user 7 -> http://192.0.2.2:8080
	// user 42 -> http://192.0.2.1:8080
}

func ExampleRoundRobin() {
	p := policy.RoundRobin() // same as policy.Policy{}
	bal := p.NewBalancer(exampleBackends)
	for range 4 {
		fmt.Println(exampleBackends[bal.Pick(exampleBackends, "")].Addr)
	}
	// Output:
	// http://192.0.2.1:8080
	// http://192.0.2.2:8080
	// http://192.0.2.3:8080
	// http://192.0.2.1:8080
}

func ExampleLeastRequest() {
	p := policy.LeastRequest()
	bal := p.NewBalancer(exampleBackends)
	tr := bal.(balancer.Tracker) // the gateway reports each exchange

	tr.Start(0) // a slow request is in flight on 192.0.2.1
	tr.Start(1) // and another on 192.0.2.2
	fmt.Println(exampleBackends[bal.Pick(exampleBackends, "")].Addr)
	// Output: http://192.0.2.3:8080
}

func ExampleStrategyFunc() {
	// Requests marked as canary go to the last backend only; the others
	// spread over the rest, sticky per user. The candidate lists are
	// prepared once, outside the request path.
	canary := exampleBackends[2:]
	stable := exampleBackends[:2]
	split := policy.StrategyFunc(func(r policy.Request) ([]balancer.Backend, string) {
		if r.HTTP.Header.Get("X-Canary") == "always" {
			return canary, ""
		}
		return stable, r.HTTP.Header.Get("X-User-Id")
	})
	p := policy.New(split, balancer.ConsistentHash)
	bal := p.NewBalancer(exampleBackends)

	for _, h := range [][2]string{{"X-Canary", "always"}, {"X-User-Id", "alice"}, {"X-User-Id", "carol"}} {
		req := httptest.NewRequest("GET", "/api/search", nil)
		req.Header.Set(h[0], h[1])
		candidates, key := p.Strategy.Select(policy.Request{HTTP: req, Backends: exampleBackends})
		fmt.Println(h[1], "->", candidates[bal.Pick(candidates, key)].Addr)
	}
	// Output:
	// always -> http://192.0.2.3:8080
	// alice -> http://192.0.2.2:8080
	// carol -> http://192.0.2.2:8080
}

func ExampleNew() {
	// Any strategy with any balancer: requests with the same tenant
	// header go to the backend with the fewest requests in flight, with
	// no stickiness; New(policy.Header("X-Tenant"), balancer.ConsistentHash)
	// would make them sticky.
	p := policy.New(policy.Header("X-Tenant"), balancer.LeastRequest)
	fmt.Println(p.Check("/api/reports") == nil)
	// Output: true
}
