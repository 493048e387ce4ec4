package apigate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigate-go/apigate/observe"
	"github.com/apigate-go/apigate/policy"
)

// countingUpstream counts the requests it serves, and those a client sent
// after it saw a backend swap complete (header X-After: the swap's
// number).
type countingUpstream struct {
	*httptest.Server
	total atomic.Int64
	after [3]atomic.Int64 // by swap number
}

func newCounting(t testing.TB) *countingUpstream {
	u := &countingUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return // probes are not traffic
		}
		u.total.Add(1)
		if n, err := strconv.Atoi(r.Header.Get("X-After")); err == nil && n > 0 && n < len(u.after) {
			u.after[n].Add(1)
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(u.Close)
	return u
}

// TestSetBackendsUnderLoad swaps a service's backends twice while 20
// clients send requests: no request fails, a backend that left gets no
// request sent after the swap returned, and one that joined gets its
// share.
func TestSetBackendsUnderLoad(t *testing.T) {
	a, b, c := newCounting(t), newCounting(t), newCounting(t)
	g, s := serveGateway(t, Mount(Service("/api", GET("/*p"), Name("api")), a.URL, b.URL))

	var swaps atomic.Int64 // swaps completed
	var sent, failed atomic.Int64
	var firstErr atomic.Value
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	defer client.CloseIdleConnections()
	waitSent := func(n int64) {
		t.Helper()
		target := sent.Load() + n
		deadline := time.Now().Add(20 * time.Second)
		for sent.Load() < target {
			if time.Now().After(deadline) {
				t.Fatalf("clients stalled at %d requests", sent.Load())
			}
			time.Sleep(time.Millisecond)
		}
	}
	// phase runs 20 clients, applies backends once they have sent 1000
	// requests, and stops them 2000 requests later.
	phase := func(backends ...Backend) {
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/x", nil)
					req.Header.Set("X-After", strconv.FormatInt(swaps.Load(), 10))
					res, err := client.Do(req)
					if err == nil {
						body, _ := io.ReadAll(res.Body)
						res.Body.Close()
						if res.StatusCode != 200 || string(body) != "ok" {
							err = fmt.Errorf("%d %q", res.StatusCode, body)
						}
					}
					sent.Add(1)
					if err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err)
					}
				}
			}()
		}
		defer func() {
			stop()
			wg.Wait()
		}()
		waitSent(1000)
		if err := g.SetBackends("api", backends...); err != nil {
			t.Error(err)
			return
		}
		swaps.Add(1)
		waitSent(2000)
	}
	// Swap 1: a leaves, c joins with weight 3.
	phase(Backend{URL: b.URL, Weight: 1}, Backend{URL: c.URL, Weight: 3})
	// Counted now: requests labelled 1 but sent around swap 2 may reach a.
	a1, b1, c1 := a.after[1].Load(), b.after[1].Load(), c.after[1].Load()
	// Swap 2: b leaves, a comes back.
	phase(Backend{URL: a.URL}, Backend{URL: c.URL})

	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed; first: %v", n, sent.Load(), firstErr.Load())
	}
	if n := a1; n != 0 {
		t.Errorf("removed backend a got %d requests sent after swap 1", n)
	}
	if n := b.after[2].Load(); n != 0 {
		t.Errorf("removed backend b got %d requests sent after swap 2", n)
	}
	// After swap 1, c has weight 3 of 4: round-robin gives it 3/4 exactly,
	// give or take the requests in flight at the swap.
	if c1 < 2*b1 || c1 == 0 {
		t.Errorf("after swap 1: b got %d, c (weight 3) %d; want about 1:3", b1, c1)
	}
	a2, c2 := a.after[2].Load(), c.after[2].Load()
	if a2 < c2/2 || c2 < a2/2 || a2 == 0 {
		t.Errorf("after swap 2: a got %d, c %d; want about even", a2, c2)
	}
	if got := a.total.Load() + b.total.Load() + c.total.Load(); got != sent.Load() {
		t.Errorf("upstreams saw %d requests, clients sent %d", got, sent.Load())
	}
}

// TestSetBackendsRefused: an empty or invalid set is refused with an
// error and an event, and the service keeps serving from its last good
// set.
func TestSetBackendsRefused(t *testing.T) {
	up := newCounting(t)
	rec := &recorder{}
	g, s := serveGateway(t, Mount(Service("/api", GET("/*p"), Name("api")), up.URL), WithObserver(rec))

	err := g.SetBackends("api")
	if !errors.Is(err, ErrNoBackends) {
		t.Errorf("SetBackends(): %v, want ErrNoBackends", err)
	}
	if err := g.SetBackends("api", Backend{URL: "ftp://192.0.2.1"}); err == nil {
		t.Error("SetBackends with an ftp URL: no error")
	}
	if err := g.SetBackends("api", Backend{URL: "http://192.0.2.1", Weight: -1}); err == nil {
		t.Error("SetBackends with a negative weight: no error")
	}
	if err := g.SetBackends("nope", Backend{URL: up.URL}); err == nil {
		t.Error("SetBackends of an unknown service: no error")
	}
	if res, body := get(t, s.URL+"/api/x"); res.StatusCode != 200 || body != "ok" {
		t.Errorf("after refused updates: %d %q", res.StatusCode, body)
	}
	if got := up.total.Load(); got != 1 {
		t.Errorf("upstream saw %d requests, want 1", got)
	}
	if got := g.Backends("api"); len(got) != 1 || got[0].URL != up.URL {
		t.Errorf("Backends = %v, want the original one", got)
	}
	if n := rec.count(observe.BackendsRefused); n != 3 {
		t.Errorf("%d BackendsRefused events, want 3", n)
	}
	if n := rec.count(observe.BackendsChanged); n != 0 {
		t.Errorf("%d BackendsChanged events, want 0", n)
	}
}

// recorder counts events by kind.
type recorder struct {
	mu     sync.Mutex
	kinds  map[observe.Kind]int
	events []observe.Event
}

func (r *recorder) Observe(_ context.Context, e observe.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.kinds == nil {
		r.kinds = map[observe.Kind]int{}
	}
	r.kinds[e.Kind]++
	if e.Kind == observe.BackendsRefused || e.Kind == observe.BackendsChanged {
		r.events = append(r.events, e)
	}
}

func (r *recorder) count(k observe.Kind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.kinds[k]
}

// TestSetBackendsKeepsState: a backend in both sets keeps its outlier
// ejection, health-check verdict and in-flight cap, wherever it moves in
// the list; one that joins starts fresh.
func TestSetBackendsKeepsState(t *testing.T) {
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(sick.Close)
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	t.Cleanup(flaky.Close)
	good, other := newCounting(t), newCounting(t)
	g, s := serveGateway(t, Mount(Service("/api", GET("/*p"), Name("api")), sick.URL, flaky.URL, good.URL),
		WithOutlierDetection(OutlierOptions{Failures: 1, BaseEjection: time.Hour}),
		WithHealthCheck(HealthCheckOptions{Path: "/healthz", Interval: time.Hour, UnhealthyAfter: 1}),
		WithBackendMaxInFlight(5))
	svc := g.service("api")
	waitFor(t, "the sick backend to fail its health check", func() bool { return svc.set.Load().health.ck.Unhealthy() == 1 })
	for range 4 {
		get(t, s.URL+"/api/x")
	}
	old := svc.set.Load()
	if old.health.ej.Available(1, time.Now().UnixNano()) {
		t.Fatal("the flaky backend was not ejected")
	}

	if err := g.SetBackends("api", Backend{URL: other.URL}, Backend{URL: good.URL}, Backend{URL: flaky.URL}, Backend{URL: sick.URL}); err != nil {
		t.Fatal(err)
	}
	set := svc.set.Load()
	now := time.Now().UnixNano()
	if set.health.ej.Available(2, now) {
		t.Error("the flaky backend is no longer ejected after the swap")
	}
	if set.health.ck.Healthy(3) {
		t.Error("the sick backend is healthy again after the swap")
	}
	if !set.health.ej.Available(0, now) || !set.health.ck.Healthy(0) || !set.health.ej.Available(1, now) || !set.health.ck.Healthy(1) {
		t.Error("a good backend is out after the swap")
	}
	if set.health.limits[1] != old.health.limits[2] || set.health.limits[0] == old.health.limits[2] {
		t.Error("in-flight caps not carried by URL")
	}
	before := good.total.Load() + other.total.Load()
	for range 10 {
		if res, _ := get(t, s.URL+"/api/x"); res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
	}
	if got := good.total.Load() + other.total.Load() - before; got != 10 {
		t.Errorf("good backends got %d of 10 requests", got)
	}
	if other.total.Load() == 0 {
		t.Error("the new backend got no request")
	}
}

// TestSetBackendsConsistentHashMovesOnlyChangedKeys: with consistent
// hashing, a key moves only if its backend left or to a backend that
// joined, never between two backends in both sets.
func TestSetBackendsConsistentHashMovesOnlyChangedKeys(t *testing.T) {
	urls := func(ns ...int) []Backend {
		var bs []Backend
		for _, n := range ns {
			bs = append(bs, Backend{URL: fmt.Sprintf("http://192.0.2.%d:8080", n), Weight: 1 + n%3})
		}
		return bs
	}
	g := MustNew(MountBackends(Service("/api", GET("/*p"), Policy("sticky"), Name("api")), urls(1, 2, 3, 4, 5)...),
		WithPolicy("sticky", policy.HeaderSticky("X-User")))
	defer g.Close()
	svc := g.service("api")
	owners := func() map[string]string {
		set := svc.set.Load()
		m := make(map[string]string, 20000)
		for k := range 20000 {
			key := "user-" + strconv.Itoa(k)
			m[key] = set.all[set.bals[0].bal.Pick(set.all, key)].Addr
		}
		return m
	}
	steps := [][]Backend{urls(1, 2, 3, 4, 5, 6), urls(2, 3, 4, 5, 6), urls(2, 3, 4, 5, 6, 7, 8), urls(3, 5, 9)}
	before := owners()
	for i, step := range steps {
		oldSet := map[string]bool{}
		for _, b := range g.Backends("api") {
			oldSet[b.URL] = true
		}
		if err := g.SetBackends("api", step...); err != nil {
			t.Fatal(err)
		}
		newSet := map[string]bool{}
		for _, b := range step {
			newSet[b.URL] = true
		}
		after := owners()
		moved := 0
		for k, was := range before {
			now := after[k]
			if now == was {
				continue
			}
			moved++
			if oldSet[was] && newSet[was] && oldSet[now] {
				t.Fatalf("step %d: key %s moved from %s to %s, both in both sets", i, k, was, now)
			}
		}
		if moved == 0 {
			t.Errorf("step %d: no key moved", i)
		}
		before = after
	}
}

// TestSetBackendsAllocs: the request path costs the same allocations
// after a swap as before (one atomic load, no allocation).
func TestSetBackendsAllocs(t *testing.T) {
	up := newCounting(t)
	g := MustNew(Mount(Service("/api", GET("/*p"), Name("api")), up.URL), WithUpstream(UpstreamOptions{Engine: testEngine()}))
	defer g.Close()
	w := &discardWriter{h: http.Header{}}
	req := httptest.NewRequest(http.MethodGet, "/api/x", nil)
	run := func() {
		clear(w.h)
		g.ServeHTTP(w, req)
	}
	run()
	before := allocsPerRun(200, run)
	if err := g.SetBackends("api", Backend{URL: up.URL}, Backend{URL: up.URL + "/"}); err != nil {
		t.Fatal(err)
	}
	run()
	after := allocsPerRun(200, run)
	// The race detector makes sync.Pool drop items at random.
	slack := allocSlack
	if raceEnabled {
		slack = 3
	}
	if after > before+slack {
		t.Errorf("allocations per request: %.1f after a swap, %.1f before", after, before)
	}
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
