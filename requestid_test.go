package apigate

import (
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestValidRequestID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"f47ac10b-58cc-4372-a567-0e02b2c3d479", true},
		{"01ARZ3NDEKTSV4RRFFQ69G5FAV", true},
		{"Root=1-5759e988-bd862e3fe1be46a994272793", true},
		{"a/b+c==", true},
		{"svc_1.req:42@edge", true},
		{strings.Repeat("a", MaxRequestIDLen), true},
		{"", false},
		{strings.Repeat("a", MaxRequestIDLen+1), false},
		{"has space", false},
		{"quote\"", false},
		{"new\nline", false},
		{"tab\t", false},
		{"semi;colon", false},
		{"per%cent", false},
		{"<script>", false},
		{"caf\xc3\xa9", false},
		{"nul\x00", false},
	}
	for _, tt := range tests {
		if got := validRequestID(tt.id); got != tt.want {
			t.Errorf("validRequestID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestRequestIDsUniqueAndWellFormed(t *testing.T) {
	a, b := newRequestIDs("X-Request-Id"), newRequestIDs("X-Request-Id")
	const workers, each = 4, 5000
	ids := make(chan string, 2*workers*each)
	var wg sync.WaitGroup
	for _, g := range []*requestIDs{a, b} {
		for range workers {
			wg.Go(func() {
				for range each {
					id, vals := g.next()
					if len(vals) != 1 || vals[0] != id || cap(vals) != 1 {
						t.Errorf("next() slice = %q (cap %d), want [%q] with capacity 1", vals, cap(vals), id)
					}
					ids <- id
				}
			})
		}
	}
	wg.Wait()
	close(ids)
	seen := make(map[string]bool, 2*workers*each)
	prefixes := map[string]int{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("duplicate ID %q", id)
		}
		seen[id] = true
		if len(id) != 33 || id[16] != '-' || !validRequestID(id) || strings.Trim(id, "0123456789abcdef-") != "" {
			t.Fatalf("ID %q: want 16 hex digits, a dash and 16 hex digits", id)
		}
		prefixes[id[:16]]++
	}
	if len(prefixes) != 2 {
		t.Errorf("got %d distinct prefixes over two gateways, want 2: %v", len(prefixes), prefixes)
	}
	// Consecutive IDs must not show the sequence: their suffixes differ
	// in many digits, not just the last.
	x, _ := a.next()
	y, _ := a.next()
	diff := 0
	for i := 17; i < 33; i++ {
		if x[i] != y[i] {
			diff++
		}
	}
	if diff < 8 {
		t.Errorf("consecutive IDs %q and %q differ in %d of 16 digits, want a scrambled sequence", x, y, diff)
	}
}

func TestRequestIDPickTrustsOnlyTrustedValidIDs(t *testing.T) {
	ids := newRequestIDs("X-Request-Id")
	tests := []struct {
		name    string
		in      []string
		trusted bool
		keep    bool
	}{
		{"trusted valid", []string{"abc-123"}, true, true},
		{"untrusted valid", []string{"abc-123"}, false, false},
		{"trusted invalid", []string{"abc 123"}, true, false},
		{"trusted too long", []string{strings.Repeat("x", MaxRequestIDLen+1)}, true, false},
		{"trusted two values", []string{"a", "b"}, true, false},
		{"trusted absent", nil, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.in != nil {
				r.Header["X-Request-Id"] = tt.in
			}
			id, vals := ids.pick(r, tt.trusted)
			if tt.keep {
				if id != tt.in[0] || vals != nil {
					t.Errorf("pick = %q, %q; want the inbound %q and no new slice", id, vals, tt.in[0])
				}
				return
			}
			if len(id) != 33 || len(vals) != 1 || vals[0] != id {
				t.Errorf("pick = %q, %q; want a new ID", id, vals)
			}
		})
	}
}

func TestRequestIDNextAllocatesOnce(t *testing.T) {
	ids := newRequestIDs("X-Request-Id")
	if n := testing.AllocsPerRun(100, func() { ids.next() }); n != 1 {
		t.Errorf("next: %v allocations, want 1 (the ID and its header slice together)", n)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Request-Id", "from-proxy")
	if n := testing.AllocsPerRun(100, func() { ids.pick(r, true) }); n != 0 {
		t.Errorf("pick of a trusted ID: %v allocations, want 0", n)
	}
}

func TestWithRequestIDHeaderRejectsBadNames(t *testing.T) {
	_, err := New(Mount(Service("/api", GET("/x")), "http://127.0.0.1:1"), WithRequestIDHeader("Bad Header"))
	if err == nil || !strings.Contains(err.Error(), "WithRequestIDHeader") {
		t.Errorf("New with header name %q: err = %v, want an error naming WithRequestIDHeader", "Bad Header", err)
	}
}

// TestRequestIDAllocs pins what request IDs cost a passthrough request:
// one allocation for a new ID (the ID and its header value together),
// none for an ID taken from a trusted proxy. An in-memory upstream keeps
// the count to the gateway's own.
func TestRequestIDAllocs(t *testing.T) {
	var seen string // RoundTrip runs on the caller's goroutine
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = r.Header.Get("X-Request-Id")
		h := http.Header{"Content-Type": {"text/plain"}}
		return &http.Response{StatusCode: 200, Header: h, Body: http.NoBody}, nil
	})
	svc := Service("/api", GET("/items/:id"))
	gateway := func(opts ...Option) *Gateway {
		return MustNew(append([]Option{Mount(svc, "http://192.0.2.1"), WithRoundTripper(rt)}, opts...)...)
	}
	allocs := func(g *Gateway, req *http.Request) float64 {
		return allocsPerRun(500, func() { g.ServeHTTP(httptest.NewRecorder(), req) })
	}
	// Within allocSlack without the race detector; with it, sync.Pool
	// drops items at random, so only an upper bound holds.
	costs := func(got, want float64) bool {
		if raceEnabled {
			return got > want+3
		}
		return math.Abs(got-want) > allocSlack
	}
	plain := httptest.NewRequest("GET", "/api/items/7", nil)
	base := allocs(gateway(WithRequestIDHeader("")), plain)
	if got := allocs(gateway(), plain) - base; costs(got, 1) {
		t.Errorf("a new request ID costs %v allocations (%v without), want 1", got, base)
	}
	if len(seen) != 33 {
		t.Errorf("upstream saw X-Request-Id %q, want a new ID", seen)
	}
	tagged := httptest.NewRequest("GET", "/api/items/7", nil) // from 192.0.2.1
	tagged.Header.Set("X-Request-Id", "from-proxy")
	trust := WithTrustedProxies("192.0.2.0/24")
	base = allocs(gateway(trust, WithRequestIDHeader("")), tagged)
	if got := allocs(gateway(trust), tagged) - base; costs(got, 0) {
		t.Errorf("a trusted proxy's request ID costs %v allocations (%v without), want 0", got, base)
	}
	if seen != "from-proxy" {
		t.Errorf("upstream saw X-Request-Id %q, want the trusted proxy's", seen)
	}
}

func BenchmarkRequestIDNext(b *testing.B) {
	ids := newRequestIDs("X-Request-Id")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ids.next()
		}
	})
}
