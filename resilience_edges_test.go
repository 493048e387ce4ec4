package apigate

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestBreakerTrialStream checks that a half-open circuit's trial counts
// when its answer arrives: a trial the service answers (200) with a long
// stream closes the circuit at once, instead of refusing every other
// request with 503 circuit_open until the stream ends.
func TestBreakerTrialStream(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fail":
			w.WriteHeader(503)
		case "/stream":
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(200)
			io.WriteString(w, "data: hello\n\n")
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		default:
			io.WriteString(w, "ok")
		}
	}))
	defer up.Close()
	_, gw := serveGateway(t, Mount(Service("/", GET("/*rest", Timeout(0))), up.URL),
		WithCircuitBreaker(BreakerOptions{ConsecutiveFailures: 1, OpenFor: 100 * time.Millisecond, Probes: 1}))
	if res, _ := get(t, gw.URL+"/fail"); res.StatusCode != 503 {
		t.Fatalf("fail: %d", res.StatusCode)
	}
	if res, body := get(t, gw.URL+"/ok"); !strings.HasPrefix(body, CodeCircuitOpen) {
		t.Fatalf("circuit not open: %d %q", res.StatusCode, body)
	}
	time.Sleep(150 * time.Millisecond)
	// The trial: the service answers 200 and streams.
	res, err := http.Get(gw.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("trial: %d", res.StatusCode)
	}
	buf := make([]byte, 64)
	if n, _ := res.Body.Read(buf); !strings.Contains(string(buf[:n]), "hello") {
		t.Fatalf("trial stream: %q", buf[:n])
	}
	// The trial succeeded: the service answered. The circuit should close.
	time.Sleep(50 * time.Millisecond)
	if res, body := get(t, gw.URL+"/ok"); res.StatusCode != 200 {
		t.Errorf("after a trial that the service answered with 200 (still streaming): %d %q; want 200", res.StatusCode, body)
	}
}

// TestHealthStatusDefaults checks that StatusMin and StatusMax each take
// their default (200, 399) on their own: setting only one of them was
// refused by New.
func TestHealthStatusDefaults(t *testing.T) {
	up := newEcho(t)
	for _, hc := range []HealthCheckOptions{
		{Path: "/healthz", StatusMax: 299},
		{Path: "/healthz", StatusMin: 204},
	} {
		g, err := New(Mount(Service("/", GET("/x"), HealthCheck(hc)), up.URL))
		if err != nil {
			t.Errorf("HealthCheck(StatusMin %d, StatusMax %d): %v", hc.StatusMin, hc.StatusMax, err)
			continue
		}
		g.Close()
	}
}

// TestCloseRestoresCheckedOutBackends checks that after Gateway.Close,
// which stops the health checks, a backend they had taken out serves
// again: nothing would probe it back, and it stayed out for good.
func TestCloseRestoresCheckedOutBackends(t *testing.T) {
	good, bad := newFlaky(t), newFlaky(t)
	hc := HealthCheckOptions{Path: "/healthz", Interval: 5 * time.Millisecond, Jitter: -1, Timeout: 100 * time.Millisecond}
	g, gw := serveGateway(t, Mount(Service("/", GET("/x"), HealthCheck(hc)), good.URL, bad.URL))
	h := g.routes[0].svc.set.Load().health
	bad.healthStatus.Store(503)
	waitFor(t, "the backend to be marked unhealthy", func() bool { return h.ck.Unhealthy() == 1 })
	g.Close()
	bad.healthStatus.Store(200)
	time.Sleep(50 * time.Millisecond)
	before := bad.requests.Load()
	for range 10 {
		get(t, gw.URL+"/x")
	}
	if n := bad.requests.Load() - before; n == 0 {
		t.Errorf("after Close, the backend the checks took out gets no traffic (0 of 10), though health checks are off")
	}
}
