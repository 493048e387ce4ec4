package discovery_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/discovery"
	"github.com/apigate-go/apigate/internal/dnstest"
	"github.com/apigate-go/apigate/policy"
)

// A gateway whose "items" backends are the SRV records of
// _http._tcp.items.example.test, read again every 10 seconds, with
// consistent hashing on X-User so that every replica sends a user to the
// same backend.
func ExampleDNS() {
	dns, _ := dnstest.Start() // a DNS server on loopback, for the example
	defer dns.Close()
	dns.SetSRV("_http._tcp.items.example.test",
		dnstest.SRV{Priority: 1, Weight: 1, Port: 9001, Target: "a.items.example.test"},
		dnstest.SRV{Priority: 1, Weight: 2, Port: 9002, Target: "b.items.example.test"})
	dns.SetIPs("a.items.example.test", netip.MustParseAddr("127.0.0.1"))
	dns.SetIPs("b.items.example.test", netip.MustParseAddr("127.0.0.2"))
	resolver := dns.Resolver() // leave Resolver nil for the system's

	g, err := apigate.New(
		apigate.Mount(apigate.Service("/items", apigate.GET("/*rest"), apigate.Policy("sticky"))),
		apigate.WithPolicy("sticky", policy.HeaderSticky("X-User")),
		apigate.Discover("items", discovery.DNS(discovery.DNSOptions{
			Name:     "_http._tcp.items.example.test",
			SRV:      true,
			Refresh:  10 * time.Second,
			Resolver: resolver,
		})),
	)
	if err != nil {
		panic(err)
	}
	defer g.Close()

	for i := 0; len(g.Backends("items")) == 0 && i < 5000; i++ { // the first answer
		time.Sleep(time.Millisecond)
	}
	fmt.Println(g.Backends("items"))
	// Output: [{http://127.0.0.1:9001 1} {http://127.0.0.2:9002 2}]
}

// Replacing a service's backends from code, for a control plane of your
// own.
func Example_setBackends() {
	g := apigate.MustNew(apigate.Mount(apigate.Service("/items", apigate.GET("/*rest")), "http://127.0.0.1:9001"))
	defer g.Close()

	err := g.SetBackends("items",
		apigate.Backend{URL: "http://127.0.0.1:9001", Weight: 1},
		apigate.Backend{URL: "http://127.0.0.1:9003", Weight: 3})
	fmt.Println(err, g.Backends("items"))

	err = g.SetBackends("items") // refused: the last good set stays
	fmt.Println(err)
	// Output:
	// <nil> [{http://127.0.0.1:9001 1} {http://127.0.0.1:9003 3}]
	// apigate: service "items": no backends
}
