package apigate

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"testing"
)

// TestInformationalForwardingAllocs pins what forwarding 1xx responses,
// on by default, costs a passthrough request. With EngineHTTP1 as both
// server and client, nothing: the client is handed the 1xx callback
// directly, so the request's context stays the server's own, whose
// cancellation the client watches for free. With EngineNetHTTP, one
// allocation: the callback, bound per request since net/http's client
// may call it after the exchange has moved on; the trace context holding
// it lives in the outbound state.
func TestInformationalForwardingAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	up := benchUpstream(t)
	c := benchClient()
	defer c.CloseIdleConnections()
	allocs := func(e Engine, opts ...Option) float64 {
		opts = append([]Option{Mount(Service("/api", GET("/items/:id")), up.URL),
			WithUpstream(UpstreamOptions{Engine: e})}, opts...)
		g := MustNew(opts...)
		defer g.CloseIdleConnections()
		front := serveFrontWith(t, g, e)
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
		return allocsPerRun(200, get)
	}
	for _, tt := range []struct {
		name   string
		engine Engine
		want   float64
	}{{"http1", EngineHTTP1, 0}, {"nethttp", EngineNetHTTP, 1}} {
		t.Run(tt.name, func(t *testing.T) {
			on, off := allocs(tt.engine), allocs(tt.engine, WithoutInformational())
			t.Logf("allocs/request: forwarding 1xx %.2f, WithoutInformational %.2f", on, off)
			if on-off > tt.want+allocSlack {
				t.Errorf("forwarding 1xx costs %.2f allocations per request, want at most %.0f", on-off, tt.want)
			}
		})
	}
}

// TestInformationalComposesWithTrace: a client trace already in the
// inbound request's context (put there by a middleware) still sees the
// upstream exchange, 1xx responses included, while those are forwarded to
// the client as well.
func TestInformationalComposesWithTrace(t *testing.T) {
	up := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</a.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		io.WriteString(w, "final")
	}))
	g := newGateway(t, Mount(Service("/", GET("/x")), up))
	var mu sync.Mutex
	var seen []string
	front := serveFront(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		trace := &httptrace.ClientTrace{
			GotConn: func(httptrace.GotConnInfo) {
				mu.Lock()
				seen = append(seen, "conn")
				mu.Unlock()
			},
			Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
				mu.Lock()
				seen = append(seen, fmt.Sprintf("%d %s", code, h.Get("Link")))
				mu.Unlock()
				return nil
			},
		}
		g.ServeHTTP(w, r.WithContext(httptrace.WithClientTrace(r.Context(), trace)))
	}))
	var client []string
	req := newReq(t, "GET", front.URL+"/x", "")
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			client = append(client, fmt.Sprintf("%d %s", code, h.Get("Link")))
			return nil
		},
	}))
	res, body := do(t, req)
	if res.StatusCode != 200 || body != "final" {
		t.Fatalf("final response %d %q", res.StatusCode, body)
	}
	const hint = "103 </a.css>; rel=preload"
	if len(client) != 1 || client[0] != hint {
		t.Errorf("client got 1xx %q, want [%q]", client, hint)
	}
	mu.Lock()
	defer mu.Unlock()
	// EngineHTTP1's client reports no connection events.
	if want := hint; len(seen) == 0 || seen[len(seen)-1] != want {
		t.Errorf("middleware's trace saw %q, want it to end with %q", seen, want)
	}
	if testEngine() != EngineHTTP1 && (len(seen) != 2 || seen[0] != "conn") {
		t.Errorf("middleware's trace saw %q, want GotConn first", seen)
	}
}
