package apigate

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigate-go/apigate/observe"
)

// These tests run a gateway over real sockets against upstreams that fail
// in one way each, and check what every upstream received as well as
// what the client got. APIGATE_TEST_ENGINE=http1 runs them on the other
// engine.

// resetter is an upstream that counts each request and resets the
// connection without answering, once it has read the request's head.
func resetter(t *testing.T, n *atomic.Int32) string {
	return rawUpstream(t, func(c net.Conn, _ *bufio.Reader) {
		n.Add(1)
		reset(c)
	})
}

// blocker is an upstream that holds every request until release is
// closed, counting those in flight.
type blocker struct {
	*httptest.Server
	inFlight, seen atomic.Int32
	release        chan struct{}
}

func newBlocker(t *testing.T) *blocker {
	b := &blocker{release: make(chan struct{})}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.seen.Add(1)
		b.inFlight.Add(1)
		defer b.inFlight.Add(-1)
		select {
		case <-b.release:
		case <-r.Context().Done():
		}
		io.WriteString(w, "released")
	}))
	t.Cleanup(b.Close)
	t.Cleanup(func() {
		select {
		case <-b.release:
		default:
			close(b.release)
		}
	})
	return b
}

func statusCounts(t *testing.T, url string, n int) map[int]int {
	t.Helper()
	got := map[int]int{}
	for range n {
		res, _ := get(t, url)
		got[res.StatusCode]++
	}
	return got
}

func TestOutlierEjects5xxBackend(t *testing.T) {
	good, bad := newFlaky(t), newFlaky(t)
	bad.status.Store(503)
	log := &eventLog{}
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), good.URL, bad.URL), WithObserver(log),
		WithOutlierDetection(OutlierOptions{Failures: 3, BaseEjection: time.Minute}))
	got := statusCounts(t, gw.URL+"/x", 20)
	// Round-robin alternates: the bad backend answers requests 2, 4 and 6
	// with 503 (passed on: statuses are not retried by default), then it
	// is out.
	if bad.requests.Load() != 3 || good.requests.Load() != 17 {
		t.Errorf("bad backend saw %d, good %d; want 3 and 17", bad.requests.Load(), good.requests.Load())
	}
	if got[503] != 3 || got[200] != 17 {
		t.Errorf("client got %v, want 3×503 and 17×200", got)
	}
	ev := log.take()
	if n := countKind(ev, observe.BackendEjected, bad.URL); n != 1 {
		t.Errorf("%d backend_ejected events for the bad backend, want 1", n)
	}
	for _, e := range ev {
		if e.Kind == observe.BackendEjected && (e.Duration != time.Minute || e.Service != "root") {
			t.Errorf("ejection event %+v, want 1m on service root", e)
		}
	}
}

func TestOutlierIgnores4xx(t *testing.T) {
	good, notFound := newFlaky(t), newFlaky(t)
	notFound.status.Store(404)
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), good.URL, notFound.URL),
		WithOutlierDetection(OutlierOptions{Failures: 1}))
	statusCounts(t, gw.URL+"/x", 10)
	if n := notFound.requests.Load(); n != 5 {
		t.Errorf("the 404 backend saw %d of 10 requests, want 5 (4xx never ejects)", n)
	}
}

func TestOutlierNeverEjectsTheLastBackends(t *testing.T) {
	a, b := newFlaky(t), newFlaky(t)
	a.status.Store(500)
	b.status.Store(500)
	log := &eventLog{}
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), a.URL, b.URL), WithObserver(log),
		WithOutlierDetection(OutlierOptions{Failures: 1, MaxEjectedPercent: 100}))
	statusCounts(t, gw.URL+"/x", 10)
	if n := countKind(log.take(), observe.BackendEjected, ""); n != 1 {
		t.Errorf("%d ejections with both backends failing, want 1 (never the last one)", n)
	}
	if a.requests.Load()+b.requests.Load() != 10 {
		t.Errorf("backends saw %d and %d, want 10 in all", a.requests.Load(), b.requests.Load())
	}
}

func TestOutlierReadmits(t *testing.T) {
	good, bad := newFlaky(t), newFlaky(t)
	bad.status.Store(502)
	log := &eventLog{}
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), good.URL, bad.URL), WithObserver(log),
		WithOutlierDetection(OutlierOptions{Failures: 1, BaseEjection: 50 * time.Millisecond}))
	statusCounts(t, gw.URL+"/x", 4)
	if n := bad.requests.Load(); n != 1 {
		t.Fatalf("bad backend saw %d requests before its ejection, want 1", n)
	}
	bad.status.Store(200) // it recovers
	time.Sleep(60 * time.Millisecond)
	statusCounts(t, gw.URL+"/x", 4)
	if n := bad.requests.Load(); n != 3 {
		t.Errorf("after its ejection the recovered backend saw %d of 4, want 2", n-1)
	}
	if n := countKind(log.take(), observe.BackendReadmitted, bad.URL); n != 1 {
		t.Errorf("%d backend_readmitted events, want 1", n)
	}
}

func TestOutlierEjectsHangingBackend(t *testing.T) {
	good := newFlaky(t)
	hang := newBlocker(t)
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), good.URL, hang.URL), WithRequestTimeout(100*time.Millisecond),
		WithOutlierDetection(OutlierOptions{Failures: 2}))
	got := statusCounts(t, gw.URL+"/x", 10)
	if hang.seen.Load() != 2 || got[504] != 2 || got[200] != 8 {
		t.Errorf("hanging backend saw %d, client got %v; want 2 and 2×504, 8×200", hang.seen.Load(), got)
	}
}

func TestRetryStatusOnAnotherBackend(t *testing.T) {
	good, bad := newFlaky(t), newFlaky(t)
	bad.status.Store(503)
	log := &eventLog{}
	_, gw := serveGateway(t, Mount(Service("/", GET("/x"), POST("/x")), good.URL, bad.URL), WithObserver(log),
		WithOutlierDetection(OutlierOptions{Disable: true}),
		WithRetries(RetryOptions{Statuses: []int{503}, Backoff: time.Millisecond}))
	if got := statusCounts(t, gw.URL+"/x", 10); got[200] != 10 {
		t.Errorf("client got %v, want 10×200 (each 503 retried on the good backend)", got)
	}
	if bad.requests.Load() != 5 || good.requests.Load() != 10 {
		t.Errorf("bad backend saw %d, good %d; want 5 and 10", bad.requests.Load(), good.requests.Load())
	}
	ev := log.take()
	var retried int
	for _, e := range ev {
		if e.Kind == observe.RequestRetried {
			retried++
			if e.Addr != bad.URL || e.Status != 503 || e.Attempt != 1 || e.Duration <= 0 || e.Request == nil {
				t.Errorf("retry event %+v, want the bad backend's 503, attempt 1, a backoff", e)
			}
		}
	}
	if retried != 5 {
		t.Errorf("%d request_retried events, want 5", retried)
	}
	// POST is not idempotent: its 503 is passed on.
	bad.requests.Store(0)
	var post503 int
	for range 4 {
		if res, _ := do(t, newReq(t, "POST", gw.URL+"/x", "")); res.StatusCode == 503 {
			post503++
		}
	}
	if post503 != 2 || bad.requests.Load() != 2 {
		t.Errorf("POST: %d×503, bad backend saw %d; want 2 and 2 (never retried)", post503, bad.requests.Load())
	}
}

func TestRetryOnReset(t *testing.T) {
	var resets atomic.Int32
	good := newEcho(t)
	bad := resetter(t, &resets)
	_, gw := serveGateway(t, Mount(Service("/", GET("/x"), POST("/x"), PUT("/x"), PUT("/j", JSON[lookupIn]()), POST("/j", JSON[lookupIn]())), bad, good.URL),
		WithOutlierDetection(OutlierOptions{Disable: true}), WithRetries(RetryOptions{Backoff: -1}))
	tests := []struct {
		name, method, path, body string
		want                     [2]int // statuses of two requests: the first goes to the resetting backend
		resets, good             int
	}{
		{"GET is retried", "GET", "/x", "", [2]int{200, 200}, 1, 2},
		{"PUT with a held body is retried", "PUT", "/j", `{"q":"a"}`, [2]int{200, 200}, 1, 2},
		{"POST that reached the upstream is not", "POST", "/j", `{"q":"a"}`, [2]int{502, 200}, 1, 1},
		{"a streamed body is not", "PUT", "/x", "streamed", [2]int{502, 200}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resets.Store(0)
			before := good.count()
			for k := range 2 {
				req := newReq(t, tt.method, gw.URL+tt.path, tt.body)
				req.Header.Set("Content-Type", "application/json")
				res, _ := do(t, req)
				if res.StatusCode != tt.want[k] {
					t.Errorf("request %d: %d, want %d", k, res.StatusCode, tt.want[k])
				}
			}
			if int(resets.Load()) != tt.resets || good.count()-before != tt.good {
				t.Errorf("resetting backend saw %d, good %d; want %d and %d", resets.Load(), good.count()-before, tt.resets, tt.good)
			}
			if tt.body != "" && tt.good == 2 && good.last(t).Body != tt.body {
				t.Errorf("retried body = %q, want %q", good.last(t).Body, tt.body)
			}
		})
	}
}

func TestRetryResetSameBackend(t *testing.T) {
	// The only backend drops the first connection after reading a
	// request, then answers: a GET is retried on it.
	var n atomic.Int32
	up := rawUpstream(t, func(c net.Conn, _ *bufio.Reader) {
		if n.Add(1) == 1 {
			reset(c)
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
	})
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), up))
	if res, body := get(t, gw.URL+"/x"); res.StatusCode != 200 || body != "ok" || n.Load() != 2 {
		t.Errorf("got %d %q, upstream saw %d; want 200 after one retry", res.StatusCode, body, n.Load())
	}
}

func TestRetryPerTryTimeout(t *testing.T) {
	var n atomic.Int32
	up := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			<-r.Context().Done() // the first attempt hangs
			return
		}
		io.WriteString(w, "second")
	}))
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), up), WithRequestTimeout(5*time.Second),
		WithRetries(RetryOptions{PerTryTimeout: 100 * time.Millisecond, Backoff: -1}))
	start := time.Now()
	res, body := get(t, gw.URL+"/x")
	if res.StatusCode != 200 || body != "second" || n.Load() != 2 {
		t.Errorf("got %d %q, upstream saw %d; want the second attempt's answer", res.StatusCode, body, n.Load())
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v: the per-try timeout did not cut the first attempt", d)
	}
}

func TestRetryBudget(t *testing.T) {
	bad := newFlaky(t)
	bad.status.Store(503)
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), bad.URL),
		WithOutlierDetection(OutlierOptions{Disable: true}),
		WithRetries(RetryOptions{Attempts: 3, Statuses: []int{503}, Backoff: 300 * time.Millisecond, MaxBackoff: 300 * time.Millisecond,
			BudgetPercent: 1, MinConcurrency: 1}))
	// Four requests at once: one retry may be in flight (the floor of
	// 1); the others' 503s are passed on at once.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.Get(gw.URL + "/x")
			if err == nil {
				res.Body.Close()
			}
		}()
	}
	wg.Wait()
	// 4 first attempts; the retries in flight never exceed one at a
	// time, and the budget holder retries twice (3 attempts).
	if n := bad.requests.Load(); n < 5 || n > 6 {
		t.Errorf("backend saw %d requests, want 4 first attempts and at most 2 retries", n)
	}
}

func TestCircuitBreaker(t *testing.T) {
	up := newFlaky(t)
	up.status.Store(503)
	log := &eventLog{}
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), up.URL), WithObserver(log),
		WithCircuitBreaker(BreakerOptions{ConsecutiveFailures: 3, OpenFor: 200 * time.Millisecond, Probes: 1}))
	statusCounts(t, gw.URL+"/x", 3)
	res, body := get(t, gw.URL+"/x")
	if res.StatusCode != 503 || !strings.HasPrefix(body, CodeCircuitOpen) || res.Header.Get("Retry-After") != "1" {
		t.Fatalf("with the circuit open: %d %q Retry-After %q; want 503 circuit_open, Retry-After 1", res.StatusCode, body, res.Header.Get("Retry-After"))
	}
	if n := up.requests.Load(); n != 3 {
		t.Errorf("upstream saw %d requests, want 3 (none while open)", n)
	}
	ev := log.take()
	if countKind(ev, observe.CircuitOpened, "") != 1 || countKind(ev, observe.DispatchFailed, "") != 1 {
		t.Errorf("events %s: want one circuit_opened and one dispatch_failed", kinds(ev))
	}
	// Half-open: the trial fails, it opens again.
	time.Sleep(220 * time.Millisecond)
	if res, _ := get(t, gw.URL+"/x"); res.StatusCode != 503 || up.requests.Load() != 4 {
		t.Fatalf("trial request: %d, upstream saw %d; want the upstream's 503 and 4", res.StatusCode, up.requests.Load())
	}
	if res, body := get(t, gw.URL+"/x"); !strings.HasPrefix(body, CodeCircuitOpen) || up.requests.Load() != 4 {
		t.Fatalf("after a failed trial: %d %q; want circuit_open again", res.StatusCode, body)
	}
	// The upstream recovers: the next trial succeeds and closes it.
	up.status.Store(200)
	time.Sleep(220 * time.Millisecond)
	if got := statusCounts(t, gw.URL+"/x", 5); got[200] != 5 || up.requests.Load() != 9 {
		t.Errorf("after recovery: %v, upstream saw %d; want 5×200 and 9", got, up.requests.Load())
	}
	ev = log.take()
	if countKind(ev, observe.CircuitHalfOpen, "") != 2 || countKind(ev, observe.CircuitClosed, "") != 1 || countKind(ev, observe.CircuitOpened, "") != 1 {
		t.Errorf("events %s: want two circuit_half_open, one circuit_opened, one circuit_closed", kinds(ev))
	}
}

func TestCircuitBreakerIgnoresApplicationErrors(t *testing.T) {
	up := newFlaky(t)
	up.status.Store(500)
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), up.URL),
		WithCircuitBreaker(BreakerOptions{ConsecutiveFailures: 2}))
	if got := statusCounts(t, gw.URL+"/x", 5); got[500] != 5 || up.requests.Load() != 5 {
		t.Errorf("got %v, upstream saw %d; want every 500 passed on (the service answered)", got, up.requests.Load())
	}
}

func TestShedRouteInFlight(t *testing.T) {
	b := newBlocker(t)
	var panics atomic.Int32
	svc := Service("/", GET("/x", MaxInFlight(2)),
		GET("/p", MaxInFlight(1), Before(func(c *Ctx) error {
			if c.Header("X-Panic") != "" {
				panics.Add(1)
				panic("hook bug")
			}
			return nil
		})))
	_, gw := serveGateway(t, Mount(svc, b.URL))
	type result struct {
		status int
		err    error
	}
	results := make(chan result, 2)
	for range 2 {
		go func() {
			res, err := http.Get(gw.URL + "/x")
			if err != nil {
				results <- result{err: err}
				return
			}
			res.Body.Close()
			results <- result{status: res.StatusCode}
		}()
	}
	waitFor(t, "two requests in flight", func() bool { return b.inFlight.Load() == 2 })
	res, body := get(t, gw.URL+"/x")
	if res.StatusCode != 503 || !strings.HasPrefix(body, CodeOverloaded) {
		t.Errorf("third request: %d %q, want 503 overloaded at once", res.StatusCode, body)
	}
	if n := b.seen.Load(); n != 2 {
		t.Errorf("upstream saw %d requests, want 2", n)
	}
	close(b.release)
	for range 2 {
		if r := <-results; r.err != nil || r.status != 200 {
			t.Errorf("held request: %d %v", r.status, r.err)
		}
	}
	if got := statusCounts(t, gw.URL+"/x", 3); got[200] != 3 {
		t.Errorf("after the release: %v, want the slots back", got)
	}

	// A client that leaves gives its slot back.
	ctx, cancel := context.WithCancel(context.Background())
	b2 := newBlocker(t)
	_, gw2 := serveGateway(t, Mount(Service("/", GET("/x", MaxInFlight(1))), b2.URL))
	go func() {
		waitFor(t, "the request upstream", func() bool { return b2.inFlight.Load() == 1 })
		cancel()
	}()
	req, _ := http.NewRequestWithContext(ctx, "GET", gw2.URL+"/x", nil)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
	close(b2.release)
	waitFor(t, "the slot of the cancelled request", func() bool {
		res, _ := get(t, gw2.URL+"/x")
		return res.StatusCode == 200
	})

	// A panicking hook gives its slot back.
	req = newReq(t, "GET", gw.URL+"/p", "")
	req.Header.Set("X-Panic", "1")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
	if panics.Load() == 0 { // net/http's client may send it twice
		t.Fatal("the hook did not run")
	}
	if res, _ := get(t, gw.URL+"/p"); res.StatusCode != 200 {
		t.Errorf("after a panic: %d, want the slot back", res.StatusCode)
	}
}

func TestShedBackendInFlight(t *testing.T) {
	b1, b2 := newBlocker(t), newBlocker(t)
	_, gw := serveGateway(t, Mount(Service("/", GET("/x"), BackendMaxInFlight(1)), b1.URL, b2.URL))
	done := make(chan int, 2)
	for range 2 {
		go func() {
			res, err := http.Get(gw.URL + "/x")
			if err != nil {
				done <- 0
				return
			}
			res.Body.Close()
			done <- res.StatusCode
		}()
	}
	waitFor(t, "one request on each backend", func() bool { return b1.inFlight.Load() == 1 && b2.inFlight.Load() == 1 })
	res, body := get(t, gw.URL+"/x")
	if res.StatusCode != 503 || !strings.HasPrefix(body, CodeOverloaded) {
		t.Errorf("third request: %d %q, want 503 overloaded", res.StatusCode, body)
	}
	close(b1.release)
	close(b2.release)
	<-done
	<-done
	if b1.seen.Load() != 1 || b2.seen.Load() != 1 {
		t.Errorf("backends saw %d and %d, want 1 each", b1.seen.Load(), b2.seen.Load())
	}
	if got := statusCounts(t, gw.URL+"/x", 4); got[200] != 4 {
		t.Errorf("after the release: %v, want every slot back", got)
	}
}

func TestBackendDiesAndComesBack(t *testing.T) {
	good := newFlaky(t)
	var served atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			served.Add(1)
		}
		io.WriteString(w, "ok")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	log := &eventLog{}
	g, gw := serveGateway(t, Mount(Service("/", GET("/x")), good.URL, "http://"+addr), WithObserver(log),
		// A probe may take longer than the interval on a busy machine: only
		// the dead backend, refusing connections, fails its probes.
		WithHealthCheck(HealthCheckOptions{Path: "/healthz", Interval: 10 * time.Millisecond, Timeout: 2 * time.Second, HealthyAfter: 1, UnhealthyAfter: 1}))
	hs := g.routes[0].svc.set.Load().health
	statusCounts(t, gw.URL+"/x", 4)
	if served.Load() != 2 {
		t.Fatalf("the backend served %d of 4 before dying, want 2; events %s", served.Load(), kinds(log.take()))
	}
	srv.Close() // it dies
	waitFor(t, "the dead backend to be unhealthy", func() bool { return hs.ck.Unhealthy() == 1 })
	if got := statusCounts(t, gw.URL+"/x", 6); got[200] != 6 {
		t.Errorf("with one backend dead: %v, want 6×200", got)
	}
	ln, err = net.Listen("tcp", addr) // it comes back on the same address
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	srv2 := &http.Server{Handler: h}
	go srv2.Serve(ln)
	t.Cleanup(func() { srv2.Close() })
	waitFor(t, "the backend to be healthy again", func() bool { return hs.ck.Unhealthy() == 0 })
	statusCounts(t, gw.URL+"/x", 10)
	if n := served.Load() - 2; n < 3 || n > 7 {
		t.Errorf("the revived backend served %d of 10, want about half", n)
	}
	ev := log.take()
	if countKind(ev, observe.BackendUnhealthy, "http://"+addr) != 1 || countKind(ev, observe.BackendHealthy, "http://"+addr) != 1 {
		t.Errorf("events %s: want one backend_unhealthy and one backend_healthy", kinds(ev))
	}
}
