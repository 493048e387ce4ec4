package apigate

import (
	"io"
	"net/http"
	"testing"
)

// TestInformationalForwardingAllocs pins that forwarding 1xx responses,
// on by default, costs a passthrough request no allocation with
// EngineHTTP1 as both server and client: the client is handed the 1xx
// callback directly, so the request's context stays the server's own,
// whose cancellation the client watches for free.
func TestInformationalForwardingAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	up := benchUpstream(t)
	c := benchClient()
	defer c.CloseIdleConnections()
	allocs := func(opts ...Option) float64 {
		opts = append([]Option{Mount(Service("/api", GET("/items/:id")), up.URL),
			WithUpstream(UpstreamOptions{Engine: EngineHTTP1})}, opts...)
		g := MustNew(opts...)
		defer g.CloseIdleConnections()
		front := serveFrontWith(t, g, EngineHTTP1)
		req, _ := http.NewRequest("GET", front.URL+"/api/items/7", nil)
		get := func() {
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
		}
		for range 20 { // warm the pools and connections
			get()
		}
		return testing.AllocsPerRun(500, get)
	}
	on, off := allocs(), allocs(WithoutInformational())
	t.Logf("allocs/request: forwarding 1xx %.0f, WithoutInformational %.0f", on, off)
	if on > off {
		t.Errorf("forwarding 1xx costs %.0f allocations per request", on-off)
	}
}
