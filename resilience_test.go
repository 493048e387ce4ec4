package apigate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigate-go/apigate/observe"
)

// flaky is an upstream whose health endpoint and ordinary answers the
// test controls, and which counts what it received.
type flaky struct {
	*httptest.Server
	healthStatus atomic.Int32 // answer to /healthz
	status       atomic.Int32 // answer to everything else
	probes       atomic.Int32
	requests     atomic.Int32
	lastProbe    atomic.Value // *http.Request of the last probe
}

func newFlaky(t testing.TB) *flaky {
	f := &flaky{}
	f.healthStatus.Store(200)
	f.status.Store(200)
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			f.probes.Add(1)
			f.lastProbe.Store(r.Clone(context.Background()))
			w.WriteHeader(int(f.healthStatus.Load()))
			return
		}
		f.requests.Add(1)
		w.WriteHeader(int(f.status.Load()))
		w.Write([]byte("ok"))
	}))
	t.Cleanup(f.Close)
	return f
}

// waitFor polls cond until it holds or 5 seconds pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func countKind(ev []observe.Event, k observe.Kind, addr string) int {
	n := 0
	for _, e := range ev {
		if e.Kind == k && (addr == "" || e.Addr == addr) {
			n++
		}
	}
	return n
}

func TestHealthCheckTakesBackendOutAndBack(t *testing.T) {
	good, bad := newFlaky(t), newFlaky(t)
	log := &eventLog{}
	hc := HealthCheckOptions{Path: "/healthz?deep=1", Host: "health.example", Interval: 5 * time.Millisecond,
		Jitter: -1, Timeout: 100 * time.Millisecond, HealthyAfter: 2, UnhealthyAfter: 2}
	g, gw := serveGateway(t, Mount(Service("/", GET("/x"), HealthCheck(hc)), good.URL, bad.URL), WithObserver(log))
	h := g.routes[0].svc.set.Load().health

	bad.healthStatus.Store(503)
	waitFor(t, "the failing backend to be marked unhealthy", func() bool { return h.ck.Unhealthy() == 1 })
	before := bad.requests.Load()
	for i := range 10 {
		if res, body := get(t, gw.URL+"/x"); res.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, res.StatusCode, body)
		}
	}
	if n := bad.requests.Load() - before; n != 0 {
		t.Errorf("the unhealthy backend got %d of 10 requests, want 0", n)
	}
	if p, _ := bad.lastProbe.Load().(*http.Request); p == nil || p.URL.RawQuery != "deep=1" || p.Host != "health.example" ||
		p.Method != "GET" || p.Header.Get("User-Agent") != "apigate-health-check" {
		t.Errorf("probe = %+v, want GET /healthz?deep=1 with Host health.example", p)
	}

	bad.healthStatus.Store(204)
	waitFor(t, "the backend to be healthy again", func() bool { return h.ck.Unhealthy() == 0 })
	before = bad.requests.Load()
	for range 10 {
		get(t, gw.URL+"/x")
	}
	if n := bad.requests.Load() - before; n != 5 {
		t.Errorf("the recovered backend got %d of 10 round-robin requests, want 5", n)
	}
	ev := log.take()
	if countKind(ev, observe.BackendUnhealthy, bad.URL) != 1 || countKind(ev, observe.BackendHealthy, bad.URL) != 1 {
		t.Errorf("want one backend_unhealthy and one backend_healthy event for %s", bad.URL)
	}
	if countKind(ev, observe.BackendUnhealthy, good.URL)+countKind(ev, observe.BackendHealthy, good.URL) != 0 {
		t.Error("the good backend changed health")
	}
	var failed, passed int
	for _, e := range ev {
		if e.Kind != observe.HealthChecked {
			continue
		}
		if e.Service != "root" || e.Request != nil || e.Backend < 0 || e.Latency <= 0 {
			t.Errorf("probe event %+v, want service root, no request, a backend and a latency", e)
		}
		switch {
		case e.Code == CodeHealthCheckFailed && e.Status == 503 && e.Err != nil:
			failed++
		case e.Code == "" && e.Err == nil:
			passed++
		default:
			t.Errorf("probe event with status %d, code %q, err %v", e.Status, e.Code, e.Err)
		}
	}
	if failed < 2 || passed < 2 {
		t.Errorf("saw %d failed and %d passed probe events, want at least 2 of each", failed, passed)
	}
}

func TestHealthCheckAllUnhealthyStillServes(t *testing.T) {
	a := newFlaky(t)
	a.healthStatus.Store(500)
	hc := HealthCheckOptions{Path: "/healthz", Interval: 5 * time.Millisecond, UnhealthyAfter: 1}
	g, gw := serveGateway(t, Mount(Service("/", GET("/x")), a.URL), WithHealthCheck(hc))
	waitFor(t, "the backend to be unhealthy", func() bool { return g.routes[0].svc.set.Load().health.ck.Unhealthy() == 1 })
	if res, _ := get(t, gw.URL+"/x"); res.StatusCode != 200 || a.requests.Load() != 1 {
		t.Errorf("with every backend failing its checks: %d, upstream saw %d; want the request tried anyway", res.StatusCode, a.requests.Load())
	}
}

func TestHealthCheckHangingBackend(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) })
	hc := HealthCheckOptions{Path: "/healthz", Interval: 20 * time.Millisecond, Timeout: 200 * time.Millisecond, UnhealthyAfter: 1}
	g, _ := serveGateway(t, Mount(Service("/", GET("/x")), hang.URL, newFlaky(t).URL), WithHealthCheck(hc))
	h := g.routes[0].svc.set.Load().health
	waitFor(t, "the hanging backend to time out its probe", func() bool { return !h.ck.Healthy(0) })
	if !h.ck.Healthy(1) {
		t.Error("the good backend is unhealthy")
	}
}

func TestCloseStopsHealthChecks(t *testing.T) {
	up := newFlaky(t)
	base := runtime.NumGoroutine()
	g, err := New(Mount(Service("/", GET("/x")), up.URL, up.URL+"/b"),
		WithUpstream(UpstreamOptions{Engine: testEngine()}),
		WithHealthCheck(HealthCheckOptions{Path: "/healthz", Interval: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "probes", func() bool { return up.probes.Load() >= 4 })
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // a probe on the wire when Close was called may still land
	n := up.probes.Load()
	time.Sleep(30 * time.Millisecond)
	if m := up.probes.Load(); m != n {
		t.Errorf("%d probes after Close", m-n)
	}
	if got := settleGoroutines(base, func() {}); got > base {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before:\n%s", got, base, buf[:runtime.Stack(buf, true)])
	}
	if err := g.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestFailedNewStartsNothing(t *testing.T) {
	up := newFlaky(t)
	_, err := New(Mount(Service("/", GET("/x"), HealthCheck(HealthCheckOptions{Path: "/healthz", Interval: time.Millisecond}))),
		Mount(Service("/b", GET("/x")), up.URL))
	if err == nil {
		t.Fatal("New accepted a service without backends")
	}
	time.Sleep(20 * time.Millisecond)
	if n := up.probes.Load(); n != 0 {
		t.Errorf("a gateway that failed to build sent %d probes", n)
	}
}

func TestResilienceOptionErrors(t *testing.T) {
	const up = "http://127.0.0.1:9"
	tests := []struct {
		name string
		opts []Option
		want []string // substrings of the error
	}{
		{"gateway outlier", []Option{WithOutlierDetection(OutlierOptions{MaxEjectedPercent: 101, Failures: -1})},
			[]string{"apigate: WithOutlierDetection: ", "MaxEjectedPercent 101", "negative Failures"}},
		{"outlier durations", []Option{WithOutlierDetection(OutlierOptions{BaseEjection: time.Minute, MaxEjection: time.Second})},
			[]string{"MaxEjection 1s below BaseEjection 1m0s"}},
		{"service health path", []Option{Mount(Service("/s", GET("/x"), HealthCheck(HealthCheckOptions{Path: "healthz"})), up)},
			[]string{`apigate: service "s": HealthCheck: path "healthz" must start with /`}},
		{"health without path", []Option{WithHealthCheck(HealthCheckOptions{})}, []string{"WithHealthCheck: no Path"}},
		{"health timing", []Option{WithHealthCheck(HealthCheckOptions{Path: "/h", Interval: time.Second, Jitter: time.Second, Timeout: -1})},
			[]string{"negative Interval or Timeout", "jitter 1s not below the interval 1s"}},
		{"health statuses", []Option{WithHealthCheck(HealthCheckOptions{Path: "/h", StatusMin: 300, StatusMax: 200})},
			[]string{"status range 300–200"}},
		{"health dot segments", []Option{WithHealthCheck(HealthCheckOptions{Path: "/a/../h"})}, []string{`path "/a/../h"`}},
		{"route retries", []Option{Mount(Service("/s", GET("/x", Retries(RetryOptions{Attempts: 11, Statuses: []int{404}}))), up)},
			[]string{"apigate: GET /s/x: Retries: ", "attempts 11", "status 404 cannot be retried"}},
		{"service retries", []Option{Mount(Service("/s", GET("/x"), Retries(RetryOptions{BudgetPercent: 200})), up)},
			[]string{`service "s": Retries: budget percent 200`}},
		{"breaker", []Option{WithCircuitBreaker(BreakerOptions{FailureRatio: 1.5})}, []string{"WithCircuitBreaker: failure ratio 1.5"}},
		{"breaker no criterion", []Option{WithCircuitBreaker(BreakerOptions{FailureRatio: -1})}, []string{"no criterion"}},
		{"route max in flight", []Option{Mount(Service("/s", POST("/x", MaxInFlight(-1))), up)},
			[]string{"apigate: POST /s/x: MaxInFlight: negative limit -1"}},
		{"backend max in flight", []Option{WithBackendMaxInFlight(-2)}, []string{"WithBackendMaxInFlight: negative limit -2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := append([]Option{Mount(Service("/", GET("/x")), up)}, tt.opts...)
			g, err := New(opts...)
			if err == nil {
				g.Close()
				t.Fatal("New accepted the options")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if n := strings.Count(err.Error(), "apigate: With"); n > 1 {
				t.Errorf("a gateway option's error is reported %d times: %q", n, err)
			}
		})
	}
}

func TestResilienceOptionsAccepted(t *testing.T) {
	const up = "http://127.0.0.1:9"
	g, err := New(
		Mount(Service("/a", GET("/x", Retries(RetryOptions{Disable: true}), MaxInFlight(0)),
			OutlierDetection(OutlierOptions{Disable: true}), HealthCheck(HealthCheckOptions{Disable: true}),
			CircuitBreaker(BreakerOptions{Disable: true}), BackendMaxInFlight(0)), up),
		Mount(Service("/b", GET("/x", MaxInFlight(3))), up, up+"/2"),
		WithOutlierDetection(OutlierOptions{GatewayErrorsOnly: true, SlowAfter: time.Second}),
		WithHealthCheck(HealthCheckOptions{Path: "/healthz", Interval: time.Hour}),
		WithRetries(RetryOptions{Attempts: 3, Statuses: []int{503, 429}}),
		WithCircuitBreaker(BreakerOptions{ConsecutiveFailures: 5}),
		WithMaxInFlight(100), WithBackendMaxInFlight(10),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	a, b := g.routes[0], g.routes[1]
	if h := a.svc.set.Load().health; h.ej != nil || h.ck != nil || h.breaker != nil || h.limits != nil {
		t.Errorf("service /a turned everything off, got %+v", h)
	}
	if a.res.retry.attempts != 1 || a.res.limit != nil {
		t.Errorf("route /a/x: %d attempts, limit %v; want 1 and none", a.res.retry.attempts, a.res.limit)
	}
	h := b.svc.set.Load().health
	if h.ej == nil || !h.gatewayOnly || h.slowAfter != time.Second || h.ck == nil || h.breaker == nil || len(h.limits) != 2 {
		t.Errorf("service /b should inherit every gateway setting, got %+v", h)
	}
	if r := b.res.retry; r.attempts != 3 || !r.retriesStatus(503) || !r.retriesStatus(429) || r.retriesStatus(500) {
		t.Errorf("route /b/x retry plan %+v, want 3 attempts on 503 and 429", r)
	}
	if b.res.limit == nil || !b.res.limit.Acquire() {
		t.Error("route /b/x has no in-flight cap")
	}
}

func TestMayRetry(t *testing.T) {
	tests := []struct {
		f          failure
		method     string
		replayable bool
		want       bool
	}{
		{failConnect, "POST", true, true}, // the upstream saw nothing
		{failConnect, "GET", false, false},
		{failReset, "GET", true, true},
		{failReset, "PUT", true, true},
		{failReset, "POST", true, false}, // may have reached the upstream
		{failReset, "PATCH", true, false},
		{failStatus, "DELETE", true, true},
		{failStatus, "POST", true, false},
		{failStatus, "GET", false, false},
		{failTimeout, "GET", true, false},
	}
	for _, tt := range tests {
		if got := mayRetry(tt.f, tt.method, tt.replayable); got != tt.want {
			t.Errorf("mayRetry(%d, %s, replayable %v) = %v, want %v", tt.f, tt.method, tt.replayable, got, tt.want)
		}
	}
}

func TestRetryPlan(t *testing.T) {
	p := RetryOptions{Statuses: []int{503}}.plan()
	if p.attempts != DefaultRetryAttempts || !p.retriesStatus(503) || p.retriesStatus(502) || p.retriesStatus(200) || p.retriesStatus(429) {
		t.Errorf("plan %+v: want 2 attempts, 503 only", p)
	}
	for n := 1; n <= 5; n++ {
		if d := p.wait(n); d <= 0 || d > DefaultRetryMaxBackoff {
			t.Errorf("wait(%d) = %v, want within (0, %v]", n, d, DefaultRetryMaxBackoff)
		}
	}
	if np := (RetryOptions{Backoff: -1}).plan(); np.wait(1) != 0 {
		t.Errorf("negative Backoff: wait = %v, want 0", np.wait(1))
	}
	if p := (RetryOptions{Disable: true, Attempts: 5}).plan(); p.attempts != 1 {
		t.Errorf("disabled: %d attempts, want 1", p.attempts)
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		wait time.Duration
		want int
	}{{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {1001 * time.Millisecond, 2}, {5 * time.Second, 5}} {
		if got := retryAfter(tt.wait); got != tt.want {
			t.Errorf("retryAfter(%v) = %d, want %d", tt.wait, got, tt.want)
		}
	}
}

func TestFailedAnswer(t *testing.T) {
	all := &health{}
	gw := &health{gatewayOnly: true, slowAfter: time.Second}
	tests := []struct {
		h       *health
		status  int
		latency time.Duration
		want    bool
	}{
		{all, 200, 0, false},
		{all, 404, 0, false}, // 4xx never counts
		{all, 429, 0, false},
		{all, 500, 0, true},
		{all, 503, time.Hour, true},
		{all, 200, time.Hour, false}, // latency off
		{gw, 500, 0, false},
		{gw, 502, 0, true},
		{gw, 504, 0, true},
		{gw, 505, 0, false},
		{gw, 200, 2 * time.Second, true},
		{gw, 404, 2 * time.Second, true},
	}
	for _, tt := range tests {
		if got := tt.h.failedAnswer(tt.status, tt.latency); got != tt.want {
			t.Errorf("gatewayOnly %v: failedAnswer(%d, %v) = %v, want %v", tt.h.gatewayOnly, tt.status, tt.latency, got, tt.want)
		}
	}
}

func TestAnsweredEjects(t *testing.T) {
	g := MustNew(Mount(Service("/", GET("/x")), "http://127.0.0.1:9", "http://127.0.0.1:10"),
		WithOutlierDetection(OutlierOptions{Failures: 2}))
	defer g.Close()
	h := g.routes[0].svc.set.Load().health
	h.answered(0, 503, 0)
	h.answered(0, 200, 0) // a success in between resets the count
	h.answered(0, 404, 0)
	h.answered(0, 500, 0)
	if h.ejected() != 0 || h.fails(0) != 1 {
		t.Fatalf("ejected %d, fails %d; want 0 and 1", h.ejected(), h.fails(0))
	}
	h.answered(0, 502, 0)
	if h.ejected() != 1 {
		t.Fatal("two 5xx in a row did not eject")
	}
	all := g.routes[0].svc.set.Load().all
	if got := h.filter(all); len(got) != 1 || got[0].Index != 1 {
		t.Errorf("filter = %v, want backend 1 only", got)
	}
}

// TestResilienceAddsNoAllocations pins that the resilience features cost
// no allocation on a request that does not fail: a gateway with every
// one of them on allocates as much per passthrough request as one with
// them all off.
func TestResilienceAddsNoAllocations(t *testing.T) {
	up := benchUpstream(t)
	for _, e := range []Engine{EngineNetHTTP, EngineHTTP1} {
		// The same two backends (the same URL twice) for both.
		off := MustNew(Mount(Service("/api", GET("/items/:id")), up.URL, up.URL), WithUpstream(UpstreamOptions{Engine: e}),
			WithOutlierDetection(OutlierOptions{Disable: true}), WithRetries(RetryOptions{Disable: true}))
		on := MustNew(Mount(Service("/api", GET("/items/:id", MaxInFlight(1000))), up.URL, up.URL), WithUpstream(UpstreamOptions{Engine: e}),
			WithOutlierDetection(OutlierOptions{SlowAfter: time.Minute}),
			WithRetries(RetryOptions{Attempts: 3, Statuses: []int{503}, PerTryTimeout: time.Minute}),
			WithCircuitBreaker(BreakerOptions{ConsecutiveFailures: 5}), WithBackendMaxInFlight(1000),
			WithHealthCheck(HealthCheckOptions{Path: "/items/health", Interval: time.Hour}))
		a, b := handlerAllocs(t, off, "/api/items/7"), handlerAllocs(t, on, "/api/items/7")
		t.Logf("engine %d: allocs/request %.1f with resilience off, %.1f with everything on", e, a, b)
		// The race detector makes sync.Pool drop items at random: allow
		// for that there.
		slack := allocSlack
		if raceEnabled {
			slack = 3
		}
		if b > a+slack {
			t.Errorf("engine %d: %.1f allocs/request with resilience on, %.1f off", e, b, a)
		}
		off.Close()
		on.Close()
	}
}

func TestRouteRetriesUnderServiceWithout(t *testing.T) {
	var resets atomic.Int32
	good := newEcho(t)
	_, gw := serveGateway(t, Mount(Service("/", GET("/x", Retries(RetryOptions{Backoff: -1})), Retries(RetryOptions{Disable: true})),
		resetter(t, &resets), good.URL), WithOutlierDetection(OutlierOptions{Disable: true}))
	if got := statusCounts(t, gw.URL+"/x", 4); got[200] != 4 || resets.Load() != 2 {
		t.Errorf("got %v, resetting backend saw %d; want every request retried to 200", got, resets.Load())
	}
}
