package apigate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigate-go/apigate/observe"
	"github.com/apigate-go/apigate/ratelimit"
)

// status sends a GET with optional headers ("Name: value") and returns
// the response with its body read.
func getWith(t *testing.T, url string, headers ...string) (*http.Response, string) {
	t.Helper()
	req := newReq(t, http.MethodGet, url, "")
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	return do(t, req)
}

func TestRateLimitRefusesWith429AndHeaders(t *testing.T) {
	up := newEcho(t)
	lim := ratelimit.Limit{Name: "per-ip", Rate: 3, Per: time.Minute}
	_, gw := serveGateway(t, Mount(Service("/api", GET("/items/:id", RateLimit(lim, LimitByIP()))), up.URL))

	for i := range 3 {
		res, _ := get(t, gw.URL+"/api/items/7")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i+1, res.StatusCode)
		}
		if got, want := res.Header.Get("RateLimit-Policy"), `"per-ip";q=3;w=60`; got != want {
			t.Errorf("request %d: RateLimit-Policy %q, want %q", i+1, got, want)
		}
		if got, want := res.Header.Get("RateLimit"), fmt.Sprintf(`"per-ip";r=%d;t=20`, 2-i); got != want {
			t.Errorf("request %d: RateLimit %q, want %q", i+1, got, want)
		}
	}
	res, body := get(t, gw.URL+"/api/items/7")
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th request: status %d, want 429", res.StatusCode)
	}
	if want := "too_many_requests: too many requests\n"; body != want {
		t.Errorf("body %q, want %q", body, want)
	}
	if got := res.Header.Get("Retry-After"); got != "20" {
		t.Errorf("Retry-After %q, want 20 (one request every 20s)", got)
	}
	if got, want := res.Header.Get("RateLimit"), `"per-ip";r=0;t=20`; got != want {
		t.Errorf("RateLimit %q, want %q", got, want)
	}
	if got, want := res.Header.Get("RateLimit-Policy"), `"per-ip";q=3;w=60`; got != want {
		t.Errorf("RateLimit-Policy %q, want %q", got, want)
	}
	if n := up.count(); n != 3 {
		t.Fatalf("upstream saw %d requests, want 3 (the refused one must not reach it)", n)
	}
}

func TestRateLimitJSONErrors(t *testing.T) {
	up := newEcho(t)
	lim := ratelimit.Limit{Rate: 1, Per: time.Hour}
	_, gw := serveGateway(t, Mount(Service("/api", GET("/x", RateLimit(lim, LimitByIP()))), up.URL), WithErrorRenderer(JSONErrors))
	get(t, gw.URL+"/api/x")
	res, body := get(t, gw.URL+"/api/x")
	if res.StatusCode != 429 || !strings.Contains(body, `"code":"too_many_requests"`) {
		t.Fatalf("got %d %q, want 429 with the JSON envelope", res.StatusCode, body)
	}
	if got, want := res.Header.Get("RateLimit"), `"default";r=0;t=3600`; got != want {
		t.Errorf("RateLimit %q, want %q", got, want)
	}
	if up.count() != 1 {
		t.Fatalf("upstream saw %d requests, want 1", up.count())
	}
}

// userHook authenticates by a bearer token naming the user, as an auth
// hook would, and stores the user for the limit's key function.
type limitUser string

func userHook(c *Ctx) error {
	tok, ok := strings.CutPrefix(c.Header("Authorization"), "Bearer ")
	if !ok {
		return Unauthorized("missing token")
	}
	Set(c, limitUser(tok))
	return nil
}

func byUser(c *Ctx) string {
	u, _ := Value[limitUser](c)
	return string(u)
}

func TestRateLimitKeys(t *testing.T) {
	lim := ratelimit.Limit{Rate: 2, Per: time.Hour}
	type call struct {
		path    string
		headers []string
		status  int
	}
	for _, tc := range []struct {
		name  string
		route Route
		opts  []Option
		calls []call
	}{
		{"header", GET("/x", RateLimit(lim, LimitByHeader("x-api-key"))), nil, []call{
			{"/api/x", []string{"X-Api-Key: a"}, 200},
			{"/api/x", []string{"X-Api-Key: a"}, 200},
			{"/api/x", []string{"X-Api-Key: a"}, 429},
			{"/api/x", []string{"X-Api-Key: b"}, 200},
			// Without the header: the client's address, in a budget of its own.
			{"/api/x", nil, 200},
			{"/api/x", nil, 200},
			{"/api/x", nil, 429},
			{"/api/x", []string{"X-Api-Key: b"}, 200},
		}},
		{"path param", GET("/t/:tenant/items", RateLimit(lim, LimitByParam("tenant"))), nil, []call{
			{"/api/t/acme/items", nil, 200},
			{"/api/t/acme/items", nil, 200},
			{"/api/t/acme/items", nil, 429},
			{"/api/t/globex/items", nil, 200},
		}},
		{"func after hooks", GET("/me", Before(userHook), RateLimit(lim, LimitByFunc(byUser))), nil, []call{
			{"/api/me", []string{"Authorization: Bearer ann"}, 200},
			{"/api/me", []string{"Authorization: Bearer ann"}, 200},
			{"/api/me", []string{"Authorization: Bearer ann"}, 429},
			{"/api/me", []string{"Authorization: Bearer bob"}, 200},
			// The hook refuses before the limit counts.
			{"/api/me", nil, 401},
			{"/api/me", nil, 401},
			{"/api/me", nil, 401},
			{"/api/me", []string{"Authorization: Bearer bob"}, 200},
			{"/api/me", []string{"Authorization: Bearer bob"}, 429},
		}},
		{"func without hooks", GET("/q", RateLimit(lim, LimitByFunc(func(c *Ctx) string { return c.URL().Query().Get("k") }))), nil, []call{
			{"/api/q?k=1", nil, 200},
			{"/api/q?k=1", nil, 200},
			{"/api/q?k=1", nil, 429},
			{"/api/q?k=2", nil, 200},
		}},
		{"ip ignores X-Forwarded-For from strangers", GET("/x", RateLimit(lim, LimitByIP())), nil, []call{
			{"/api/x", []string{"X-Forwarded-For: 192.0.2.1"}, 200},
			{"/api/x", []string{"X-Forwarded-For: 192.0.2.2"}, 200},
			{"/api/x", []string{"X-Forwarded-For: 192.0.2.3"}, 429},
		}},
		{"ip from a trusted proxy", GET("/x", RateLimit(lim, LimitByIP())), []Option{WithTrustedProxies("127.0.0.1", "198.51.100.0/24")}, []call{
			{"/api/x", []string{"X-Forwarded-For: 192.0.2.1"}, 200},
			{"/api/x", []string{"X-Forwarded-For: 192.0.2.1"}, 200},
			{"/api/x", []string{"X-Forwarded-For: 192.0.2.1"}, 429},
			// The rightmost untrusted entry counts: a spoofed entry to its left does not.
			{"/api/x", []string{"X-Forwarded-For: 203.0.113.9, 192.0.2.1, 198.51.100.7"}, 429},
			{"/api/x", []string{"X-Forwarded-For: 192.0.2.2"}, 200},
			{"/api/x", []string{"X-Forwarded-For: 2001:db8:1:2::1"}, 200},
			{"/api/x", []string{"X-Forwarded-For: 2001:db8:1:2::ffff"}, 200},
			// The same /64.
			{"/api/x", []string{"X-Forwarded-For: 2001:db8:1:2:3:4:5:6"}, 429},
			{"/api/x", []string{"X-Forwarded-For: 2001:db8:1:3::1"}, 200},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newEcho(t)
			_, gw := serveGateway(t, append([]Option{Mount(Service("/api", tc.route), up.URL)}, tc.opts...)...)
			forwarded := 0
			for i, c := range tc.calls {
				res, body := getWith(t, gw.URL+c.path, c.headers...)
				if res.StatusCode != c.status {
					t.Fatalf("call %d %s %v: status %d (%q), want %d", i+1, c.path, c.headers, res.StatusCode, body, c.status)
				}
				if c.status == 200 {
					forwarded++
				}
			}
			if n := up.count(); n != forwarded {
				t.Fatalf("upstream saw %d requests, want %d", n, forwarded)
			}
		})
	}
}

// TestRateLimitFuncRunsBeforeBody: a limit keyed by a function refuses
// before the body is read, so a refused request with a broken body gets
// 429, not 400.
func TestRateLimitFuncRunsBeforeBody(t *testing.T) {
	type in struct {
		N int `json:"n"`
	}
	up := newEcho(t)
	lim := ratelimit.Limit{Rate: 1, Per: time.Hour}
	_, gw := serveGateway(t, Mount(Service("/api", POST("/n", JSON[in](), Before(userHook), RateLimit(lim, LimitByFunc(byUser)))), up.URL))
	send := func(body string) int {
		req := newReq(t, http.MethodPost, gw.URL+"/api/n", body)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer ann")
		res, _ := do(t, req)
		return res.StatusCode
	}
	if s := send(`{"n":1}`); s != 200 {
		t.Fatalf("first: %d, want 200", s)
	}
	if s := send(`{broken`); s != 429 {
		t.Fatalf("refused request with a broken body: %d, want 429", s)
	}
	if up.count() != 1 {
		t.Fatalf("upstream saw %d requests, want 1", up.count())
	}
}

func TestRateLimitServiceSharedAndExempt(t *testing.T) {
	up := newEcho(t)
	lim := ratelimit.Limit{Name: "svc", Rate: 2, Per: time.Hour}
	svc := Service("/api", RateLimit(lim, LimitByIP()),
		GET("/a"), GET("/b"), GET("/health", NoRateLimit()),
		GET("/own", RateLimit(ratelimit.Limit{Name: "own", Rate: 1, Per: time.Hour}, LimitByIP())))
	_, gw := serveGateway(t, Mount(svc, up.URL))
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/api/a", 200}, {"/api/b", 200}, {"/api/a", 429}, {"/api/b", 429},
		{"/api/health", 200}, {"/api/health", 200}, {"/api/health", 200},
		{"/api/own", 200}, {"/api/own", 429},
	} {
		res, _ := get(t, gw.URL+c.path)
		if res.StatusCode != c.status {
			t.Fatalf("%s: %d, want %d", c.path, res.StatusCode, c.status)
		}
		if c.path == "/api/health" && res.Header.Get("RateLimit") != "" {
			t.Fatalf("%s: exempt route has RateLimit %q", c.path, res.Header.Get("RateLimit"))
		}
	}
	if n := up.count(); n != 6 {
		t.Fatalf("upstream saw %d requests, want 6", n)
	}
}

func TestRateLimitHeadersOff(t *testing.T) {
	up := newEcho(t)
	lim := ratelimit.Limit{Rate: 1, Per: time.Hour}
	_, gw := serveGateway(t, Mount(Service("/api", GET("/x", RateLimit(lim, LimitByIP()))), up.URL), WithRateLimitHeaders(false))
	res, _ := get(t, gw.URL+"/api/x")
	if res.StatusCode != 200 || res.Header.Get("RateLimit") != "" || res.Header.Get("RateLimit-Policy") != "" {
		t.Fatalf("allowed: %d with RateLimit %q, RateLimit-Policy %q; want 200 without them",
			res.StatusCode, res.Header.Get("RateLimit"), res.Header.Get("RateLimit-Policy"))
	}
	res, _ = get(t, gw.URL+"/api/x")
	if res.StatusCode != 429 || res.Header.Get("RateLimit") == "" || res.Header.Get("Retry-After") == "" {
		t.Fatalf("refused: %d with RateLimit %q, Retry-After %q; want 429 with both", res.StatusCode,
			res.Header.Get("RateLimit"), res.Header.Get("Retry-After"))
	}
}

func TestRateLimitConfigErrors(t *testing.T) {
	ok := ratelimit.Limit{Rate: 1, Per: time.Second}
	for _, tc := range []struct {
		name  string
		svc   *ServiceSpec
		wants []string
	}{
		{"zero rate", Service("/api", GET("/x", RateLimit(ratelimit.Limit{Per: time.Second}, LimitByIP()))),
			[]string{"GET /api/x", "rate must be positive"}},
		{"missing param", Service("/api", GET("/x/:id", RateLimit(ok, LimitByParam("tenant")))),
			[]string{"GET /api/x/:id", `LimitByParam("tenant")`}},
		{"missing param on one route of a service", Service("/api", RateLimit(ok, LimitByParam("id")), GET("/x/:id"), GET("/y")),
			[]string{"GET /api/y", `LimitByParam("id")`}},
		{"bad header", Service("/api", GET("/x", RateLimit(ok, LimitByHeader("X Key")))),
			[]string{"GET /api/x", "invalid header name"}},
		{"nil func", Service("/api", GET("/x", RateLimit(ok, LimitByFunc(nil)))),
			[]string{"GET /api/x", "LimitByFunc(nil)"}},
		{"bad name", Service("/api", GET("/x", RateLimit(ratelimit.Limit{Name: `a"b`, Rate: 1, Per: time.Second}, LimitByIP()))),
			[]string{"GET /api/x", "not allowed"}},
		{"same name, different limits", Service("/api",
			GET("/x", RateLimit(ratelimit.Limit{Name: "n", Rate: 1, Per: time.Second}, LimitByIP())),
			GET("/y", RateLimit(ratelimit.Limit{Name: "n", Rate: 2, Per: time.Second}, LimitByIP()))),
			[]string{"GET /api/y", `"n" declared twice`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Mount(tc.svc, "http://127.0.0.1:1"))
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// downStore is a store that cannot decide, failing open or closed.
type downStore struct{ open bool }

func (s downStore) Allow(context.Context, ratelimit.Limit, string, time.Time) (ratelimit.Decision, error) {
	return ratelimit.Decision{Allowed: s.open}, fmt.Errorf("%w: connection refused", ratelimit.ErrUnavailable)
}

func TestRateLimitStoreDown(t *testing.T) {
	lim := ratelimit.Limit{Rate: 1, Per: time.Hour}
	for _, open := range []bool{true, false} {
		t.Run(fmt.Sprintf("open=%v", open), func(t *testing.T) {
			up := newEcho(t)
			var mu sync.Mutex
			var events []observe.Event
			obs := observe.Func(func(_ context.Context, e observe.Event) {
				mu.Lock()
				events = append(events, e)
				mu.Unlock()
			})
			_, gw := serveGateway(t, Mount(Service("/api", GET("/x", RateLimit(lim, LimitByIP()))), up.URL),
				WithRateLimiter(downStore{open}), WithObserver(obs))
			for range 3 {
				res, body := get(t, gw.URL+"/api/x")
				want := 200
				if !open {
					want = 503
					if !strings.HasPrefix(body, CodeLimiterUnavailable) {
						t.Errorf("body %q, want code %s", body, CodeLimiterUnavailable)
					}
				}
				if res.StatusCode != want {
					t.Fatalf("status %d, want %d", res.StatusCode, want)
				}
				if res.Header.Get("RateLimit") != "" {
					t.Errorf("RateLimit %q sent without a decision", res.Header.Get("RateLimit"))
				}
			}
			wantUp := 3
			if !open {
				wantUp = 0
			}
			if up.count() != wantUp {
				t.Fatalf("upstream saw %d requests, want %d", up.count(), wantUp)
			}
			if !open {
				mu.Lock()
				defer mu.Unlock()
				n := 0
				for _, e := range events {
					if e.Kind == observe.PipelineFailed && e.Code == CodeLimiterUnavailable && errors.Is(e.Err, ratelimit.ErrUnavailable) {
						n++
					}
				}
				if n != 3 {
					t.Fatalf("observer saw %d limiter failures, want 3", n)
				}
			}
		})
	}
}

// TestRateLimitMemoryBound floods a gateway with distinct keys: the store
// holds no more than its capacity, and the gateway keeps limiting.
func TestRateLimitMemoryBound(t *testing.T) {
	up := newEcho(t)
	store := ratelimit.NewLocal(64)
	lim := ratelimit.Limit{Rate: 1, Per: time.Hour}
	_, gw := serveGateway(t, Mount(Service("/api", GET("/x", RateLimit(lim, LimitByHeader("X-Key")))), up.URL), WithRateLimiter(store))
	for i := range 1000 {
		res, _ := getWith(t, gw.URL+"/api/x", fmt.Sprintf("X-Key: k%d", i))
		if res.StatusCode != 200 {
			t.Fatalf("key %d: status %d, want 200", i, res.StatusCode)
		}
	}
	if n := store.Len(time.Now()); n > store.Cap() || store.Cap() != 64 {
		t.Fatalf("store holds %d keys, capacity %d, want at most 64", n, store.Cap())
	}
	getWith(t, gw.URL+"/api/x", "X-Key: last")
	if res, _ := getWith(t, gw.URL+"/api/x", "X-Key: last"); res.StatusCode != 429 {
		t.Fatalf("after the flood: status %d, want 429", res.StatusCode)
	}
	if up.count() != 1001 {
		t.Fatalf("upstream saw %d requests, want 1001", up.count())
	}
}

// stubTransport answers every request with an empty 200 and the headers
// a typical upstream sends, without a network, so allocation counts are
// the gateway's alone. (Without any upstream header, the gateway's two
// would be the ones that make the response's header map allocate its
// storage.)
type stubTransport struct{}

func (stubTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h := http.Header{"Content-Type": {"application/json"}, "Date": {"Sun, 06 Dec 2026 00:00:00 GMT"}, "Content-Length": {"0"}}
	return &http.Response{StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: http.NoBody, ContentLength: 0, Request: r}, nil
}

// TestRateLimitAllocs pins the cost: a route without a limit allocates
// nothing more when other routes have one; a limited route with the
// in-memory store allocates nothing more without headers, nor with them
// for a limit of at least a request a second and a burst up to 256 (their
// values are prepared), and two more otherwise.
func TestRateLimitAllocs(t *testing.T) {
	slow := ratelimit.Limit{Rate: 1_000_000, Per: time.Hour, Burst: 1 << 20} // past the 256 prepared values
	fast := ratelimit.Limit{Name: "fast", Rate: 1_000_000, Per: time.Second, Burst: 100}
	gw := func(opts ...Option) *Gateway {
		return MustNew(append([]Option{WithRoundTripper(stubTransport{})}, opts...)...)
	}
	plain := gw(Mount(Service("/api", GET("/items/:id")), "http://192.0.2.1"))
	mixed := gw(Mount(Service("/api", GET("/items/:id"), GET("/limited/:id", RateLimit(slow, LimitByIP()))), "http://192.0.2.1"))
	quiet := gw(Mount(Service("/api", GET("/limited/:id", RateLimit(slow, LimitByIP()))), "http://192.0.2.1"), WithRateLimitHeaders(false))
	prepared := gw(Mount(Service("/api", GET("/limited/:id", RateLimit(fast, LimitByIP()))), "http://192.0.2.1"))

	base := handlerAllocs(t, plain, "/api/items/7")
	unlimited := handlerAllocs(t, mixed, "/api/items/7")
	limitedQuiet := handlerAllocs(t, quiet, "/api/limited/7")
	limitedPrepared := handlerAllocs(t, prepared, "/api/limited/7")
	limited := handlerAllocs(t, mixed, "/api/limited/7")
	t.Logf("allocs/request: no limit %.2f, unlimited route beside a limit %.2f, limited without headers %.2f, "+
		"limited with prepared headers %.2f, limited with headers %.2f",
		base, unlimited, limitedQuiet, limitedPrepared, limited)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"a route without a limit beside one", unlimited, base},
		{"a limited route without headers", limitedQuiet, base},
		{"a limited route with prepared headers", limitedPrepared, base},
		{"a limited route with headers", limited, base + 2},
	} {
		if math.Abs(c.got-c.want) > allocSlack {
			t.Errorf("%s allocates %.2f per request, want %.0f", c.name, c.got, c.want)
		}
	}
}

func BenchmarkRateLimit(b *testing.B) {
	up := benchUpstream(b)
	lim := ratelimit.Limit{Rate: 1_000_000, Per: time.Second, Burst: 1 << 20}
	for _, c := range []struct {
		name  string
		route Route
		opts  []Option
	}{
		{"none", GET("/items/:id"), nil},
		{"ip", GET("/items/:id", RateLimit(lim, LimitByIP())), nil},
		{"ip-quiet", GET("/items/:id", RateLimit(lim, LimitByIP())), []Option{WithRateLimitHeaders(false)}},
		{"param", GET("/items/:id", RateLimit(lim, LimitByParam("id"))), nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			g := MustNew(append([]Option{Mount(Service("/api", c.route), up.URL)}, c.opts...)...)
			defer g.CloseIdleConnections()
			runBenchOn(b, serveFrontWith(b, g, EngineNetHTTP), "GET", "/api/items/7", nil, nil)
		})
	}
	b.Run("httputil", func(b *testing.B) {
		runBench(b, stdlibProxy(b, up.URL), "GET", "/api/items/7", nil)
	})
}

// headerWriter is a ResponseWriter that only keeps headers, reused across
// iterations.
type headerWriter struct{ h http.Header }

func (w *headerWriter) Header() http.Header         { return w.h }
func (w *headerWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *headerWriter) WriteHeader(int)             {}

// BenchmarkRateLimitCheck measures what a limit adds to a request: the key,
// the in-memory store and the headers, without the proxying around them.
func BenchmarkRateLimitCheck(b *testing.B) {
	lim := ratelimit.Limit{Rate: 1_000_000, Per: time.Second, Burst: 1 << 30}
	for _, c := range []struct {
		name   string
		key    LimitKey
		remote string
		header http.Header
		opts   []Option
	}{
		{"ip", LimitByIP(), "192.0.2.1:1234", nil, nil},
		{"ip-quiet", LimitByIP(), "192.0.2.1:1234", nil, []Option{WithRateLimitHeaders(false)}},
		{"header", LimitByHeader("X-Api-Key"), "192.0.2.1:1234", http.Header{"X-Api-Key": {"k-123"}}, nil},
		{"ip-via-proxy", LimitByIP(), "127.0.0.1:1234", http.Header{"X-Forwarded-For": {"203.0.113.9, 198.51.100.7"}},
			[]Option{WithTrustedProxies("127.0.0.1", "198.51.100.0/24")}},
		{"ipv6", LimitByIP(), "[2001:db8::1]:1234", nil, nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			g := MustNew(append([]Option{Mount(Service("/api", GET("/x", RateLimit(lim, c.key))), "http://127.0.0.1:1")}, c.opts...)...)
			l := g.routes[0].limit
			r, _ := http.NewRequest(http.MethodGet, "http://192.0.2.2/api/x", nil)
			r.RemoteAddr, r.Header = c.remote, c.header
			if r.Header == nil {
				r.Header = http.Header{}
			}
			w := &headerWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				if e := l.check(w, r, nil, nil); e != nil {
					b.Fatal(e)
				}
			}
		})
	}
}

// TestRateLimitPreparedHeaders: a limit of at least a request a second
// uses prepared RateLimit values, and an upstream's own RateLimit header
// is added after the gateway's without changing them for later requests.
func TestRateLimitPreparedHeaders(t *testing.T) {
	up := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("own") {
			w.Header().Set("RateLimit", `"upstream";r=5;t=9`)
		}
	}))
	lim := ratelimit.Limit{Name: "fast", Rate: 1, Per: time.Second, Burst: 3}
	_, gw := serveGateway(t, Mount(Service("/api", GET("/x", RateLimit(lim, LimitByIP()))), up))
	for i, want := range [][]string{
		{`"fast";r=2;t=1`, `"upstream";r=5;t=9`},
		{`"fast";r=1;t=1`},
		{`"fast";r=0;t=1`, `"upstream";r=5;t=9`},
	} {
		path := "/api/x"
		if len(want) > 1 {
			path += "?own"
		}
		res, _ := get(t, gw.URL+path)
		if got := res.Header.Values("RateLimit"); res.StatusCode != 200 || strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("request %d: %d RateLimit %q, want 200 %q", i+1, res.StatusCode, got, want)
		}
		if got := res.Header.Get("RateLimit-Policy"); got != `"fast";q=1;w=1` {
			t.Fatalf("request %d: RateLimit-Policy %q", i+1, got)
		}
	}
	res, _ := get(t, gw.URL+"/api/x")
	if res.StatusCode != 429 || res.Header.Get("Retry-After") != "1" {
		t.Fatalf("4th: %d Retry-After %q, want 429 and 1", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// Sub-second periods are stated per second.
	half := ratelimit.Limit{Name: "half", Rate: 5, Per: 500 * time.Millisecond}
	_, gw = serveGateway(t, Mount(Service("/api", GET("/x", RateLimit(half, LimitByIP()))), up))
	if res, _ := get(t, gw.URL+"/api/x"); res.Header.Get("RateLimit-Policy") != `"half";q=10;w=1` {
		t.Fatalf("RateLimit-Policy %q, want q=10;w=1", res.Header.Get("RateLimit-Policy"))
	}
}
