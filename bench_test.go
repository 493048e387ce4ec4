package apigate

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"testing"
)

// The benchmarks in this file run the same exchange through apigate and
// through a bare httputil.ReverseProxy in one process, over real sockets,
// so their ratio is meaningful on a noisy machine.

func benchUpstream(tb testing.TB) *httptest.Server {
	body := bytes.Repeat([]byte("x"), 512)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	tb.Cleanup(s.Close)
	return s
}

// stdlibProxy is what a Go user writes without apigate, with the same
// features and tuning: the same transport settings and the same 30s
// request timeout.
func stdlibProxy(tb testing.TB, target string) http.Handler {
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = newTransport(UpstreamOptions{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), DefaultRequestTimeout)
		defer cancel()
		rp.ServeHTTP(w, r.WithContext(ctx))
	})
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
}

func runBench(b *testing.B, h http.Handler, method, path string, body []byte) {
	runBenchHeader(b, h, method, path, body, nil)
}

func runBenchHeader(b *testing.B, h http.Handler, method, path string, body []byte, hdr http.Header) {
	runBenchOn(b, httptest.NewServer(h), method, path, body, hdr)
}

// runBenchOn sends parallel requests to front, an apigate gateway or its
// baseline, and closes front at the end.
func runBenchOn(b *testing.B, front *httptest.Server, method, path string, body []byte, hdr http.Header) {
	defer front.Close()
	c := benchClient()
	defer c.CloseIdleConnections()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(method, front.URL+path, bytes.NewReader(body))
			for k, v := range hdr {
				req.Header[k] = v
			}
			res, err := c.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
}

// engines are the upstream clients and servers the proxy benchmarks
// compare.
var engines = []struct {
	name           string
	client, server Engine
}{
	{"apigate", EngineNetHTTP, EngineNetHTTP},
	{"apigate-http1", EngineHTTP1, EngineNetHTTP},
	{"apigate-http1-server", EngineHTTP1, EngineHTTP1},
}

// benchProxy runs one exchange through apigate with each engine and
// through the httputil baseline.
func benchProxy(b *testing.B, route Route, method, path string, body []byte) {
	up := benchUpstream(b)
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			g := MustNew(Mount(Service("/api", route), up.URL), WithUpstream(UpstreamOptions{Engine: e.client}))
			defer g.CloseIdleConnections()
			runBenchOn(b, serveFrontWith(b, g, e.server), method, path, body, nil)
		})
	}
	b.Run("httputil", func(b *testing.B) {
		runBench(b, stdlibProxy(b, up.URL), method, path, body)
	})
}

func BenchmarkPassthroughGET(b *testing.B) {
	benchProxy(b, GET("/items/:id"), "GET", "/api/items/7", nil)
}

func BenchmarkStreamPOST1MiB(b *testing.B) {
	benchProxy(b, POST("/upload"), "POST", "/api/upload", bytes.Repeat([]byte("y"), 1<<20))
}

// allocsPerRun is testing.AllocsPerRun made robust to background work:
// the average number of allocations per call of f over runs calls, after
// one call to warm up, taken three times, the lowest kept. Work elsewhere
// in the process (an in-process upstream, a health check, a GC emptying
// the sync.Pools) only ever adds allocations, and it rarely lands in all
// three. Nor is the average rounded down, as testing.AllocsPerRun's is
// (85.99 against 86.00 would read as 85 against 86). Compare its results
// within allocSlack.
func allocsPerRun(runs int, f func()) float64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	f()
	lowest := math.Inf(1)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			f()
		}
		runtime.ReadMemStats(&after)
		lowest = min(lowest, float64(after.Mallocs-before.Mallocs)/float64(runs))
	}
	return lowest
}

// allocSlack is how far two averages from allocsPerRun may be apart and
// still count as the same: background work stays well under it, and a
// real change costs at least one allocation per request.
const allocSlack = 0.5

// handlerAllocs counts the allocations of one request served by h, called
// directly (no front server) against a real upstream socket.
func handlerAllocs(t *testing.T, h http.Handler, path string) float64 {
	req := httptest.NewRequest("GET", path, nil)
	return allocsPerRun(200, func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			t.Fatalf("status %d", w.Code)
		}
	})
}

// TestPassthroughAllocsBelowHTTPUtil pins that a passthrough route
// allocates less than a bare httputil.ReverseProxy doing the same work:
// without request IDs, which httputil does not make (their cost is pinned
// by TestRequestIDAllocs).
func TestPassthroughAllocsBelowHTTPUtil(t *testing.T) {
	up := benchUpstream(t)
	g := MustNew(Mount(Service("/api", GET("/items/:id")), up.URL), WithRequestIDHeader(""))
	defer g.CloseIdleConnections()
	ours := handlerAllocs(t, g, "/api/items/7")
	theirs := handlerAllocs(t, stdlibProxy(t, up.URL), "/api/items/7")
	t.Logf("allocs/request: apigate %.0f, httputil %.0f", ours, theirs)
	if ours >= theirs {
		t.Errorf("apigate allocates %.0f per passthrough request, httputil %.0f", ours, theirs)
	}
}
