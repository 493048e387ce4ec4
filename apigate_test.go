package apigate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/policy"
)

func TestRewrite(t *testing.T) {
	up := newEcho(t)
	tests := []struct {
		name      string
		svc       *ServiceSpec
		base      string // appended to the backend URL
		reqPath   string
		wantPath  string // decoded path upstream
		wantRaw   string // escaped path upstream when it differs
		wantQuery string
	}{
		{"strip prefix", Service("/api", GET("/items/:id")), "", "/api/items/7?a=1&b=2", "/items/7", "", "a=1&b=2"},
		{"prefix root keeps path", Service("/", GET("/items/:id")), "", "/items/7", "/items/7", "", ""},
		{"empty prefix keeps path", Service("", GET("/items/:id")), "", "/items/7", "/items/7", "", ""},
		{"static To", Service("/api", GET("/health", To("/status"))), "", "/api/health?x=y", "/status", "", "x=y"},
		{"template To", Service("/api", GET("/items/:id", To("/v2/items/:id"))), "", "/api/items/42", "/v2/items/42", "", ""},
		{"template two params", Service("/api", GET("/u/:uid/o/:oid", To("/orders/:oid/user/:uid"))), "", "/api/u/a/o/b", "/orders/b/user/a", "", ""},
		{"catch-all strip", Service("/static", GET("/*rest")), "", "/static/css/site.css", "/css/site.css", "", ""},
		{"catch-all template", Service("/files", GET("/*rest", To("/store/*rest"))), "", "/files/a/b/c.txt", "/store/a/b/c.txt", "", ""},
		{"backend base path", Service("/api", GET("/items/:id")), "/base/v1", "/api/items/7", "/base/v1/items/7", "", ""},
		{"escaped slash survives passthrough", Service("/api", GET("/files/:name")), "", "/api/files/a%2Fb", "/files/a/b", "/files/a%2Fb", ""},
		{"escaped slash survives template", Service("/api", GET("/files/:name", To("/f/:name"))), "", "/api/files/a%2fb", "/f/a/b", "/f/a%2Fb", ""},
		{"escaped space", Service("/api", GET("/files/:name")), "", "/api/files/a%20b", "/files/a b", "", ""},
		{"encoded unreserved normalized", Service("/api", GET("/items/:id")), "", "/api/items/%41%42", "/items/AB", "", ""},
		{"query unchanged", Service("/api", GET("/s")), "", "/api/s?q=a%20b&q=%2F&z", "/s", "", "q=a%20b&q=%2F&z"},
		{"prefix route root", Service("/api", GET("/")), "", "/api/", "/", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, gw := serveGateway(t, Mount(tt.svc, up.URL+tt.base))
			res, _ := get(t, gw.URL+tt.reqPath)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", res.StatusCode)
			}
			got := up.last(t)
			if got.Path != tt.wantPath {
				t.Errorf("upstream path = %q, want %q", got.Path, tt.wantPath)
			}
			if got.RawPath != tt.wantRaw {
				t.Errorf("upstream raw path = %q, want %q", got.RawPath, tt.wantRaw)
			}
			if got.Query != tt.wantQuery {
				t.Errorf("upstream query = %q, want %q", got.Query, tt.wantQuery)
			}
		})
	}
}

func TestUnsafePathsNeverReachUpstream(t *testing.T) {
	up := newEcho(t)
	svc := Service("/api",
		GET("/items/:id", To("/v2/items/:id")),
		GET("/files/*rest"),
		GET("/raw/:id"),
	)
	_, gw := serveGateway(t, Mount(svc, up.URL+"/base"))
	paths := []string{
		"/api/items/..",
		"/api/items/%2e%2e",
		"/api/items/%2E%2e",
		"/api/items/.",
		"/api/items/..%2F..%2Fadmin",
		"/api/items/..%2f",
		"/api/items/%2F%2Fevil.example",
		"/api/items/..%5Cadmin",
		"/api/files/../../admin",
		"/api/files/%2e%2e/admin",
		"/api/files//evil.example/x",
		"/api/files/a//b",
		"/api/raw/..",
		"/api/files/a/%2e/b",
		"/api/items/%zz",
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			conn := rawRequest(t, gw.Listener.Addr().String(), "GET "+p+" HTTP/1.1\r\nHost: x\r\n\r\n")
			if !strings.HasPrefix(conn, "HTTP/1.1 400") && !strings.HasPrefix(conn, "HTTP/1.1 404") {
				t.Errorf("status line = %q, want 400 or 404", firstLine(conn))
			}
		})
	}
	if n := up.count(); n != 0 {
		t.Errorf("upstream received %d requests, want 0: %+v", n, up.reqs)
	}
}

func TestAbsoluteFormRequestGoesToConfiguredBackend(t *testing.T) {
	up := newEcho(t)
	_, gw := serveGateway(t, Mount(Service("/api", GET("/*rest")), up.URL))
	resp := rawRequest(t, gw.Listener.Addr().String(), "GET http://evil.example/api/x HTTP/1.1\r\nHost: evil.example\r\n\r\n")
	if !strings.HasPrefix(resp, "HTTP/1.1 200") {
		t.Fatalf("status line = %q, want 200", firstLine(resp))
	}
	got := up.last(t)
	if got.Path != "/x" || got.Host != strings.TrimPrefix(up.URL, "http://") {
		t.Errorf("upstream got path %q host %q, want /x on the configured backend", got.Path, got.Host)
	}
}

func TestHopByHopHeaders(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "X-Hop", "Upgrade", "Te"} {
			if v := r.Header.Get(h); v != "" {
				w.Header().Add("X-Leaked", h+"="+v)
			}
		}
		w.Header().Set("X-End-To-End", r.Header.Get("X-End"))
		w.Header().Set("Connection", "X-Resp-Hop")
		w.Header().Set("X-Resp-Hop", "secret")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("Proxy-Authenticate", "Basic")
	}))
	defer up.Close()
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), up.URL))
	req := newReq(t, "GET", gw.URL+"/x", "")
	req.Header.Set("Connection", "X-Hop, keep-alive")
	req.Header.Set("X-Hop", "1")
	req.Header.Set("Keep-Alive", "timeout=1")
	req.Header.Set("Proxy-Connection", "keep-alive")
	req.Header.Set("Proxy-Authorization", "Basic eA==")
	req.Header.Set("Te", "gzip")
	req.Header.Set("X-End", "kept")
	res, _ := do(t, req)
	if l := res.Header.Values("X-Leaked"); len(l) > 0 {
		t.Errorf("hop-by-hop headers reached upstream: %v", l)
	}
	if got := res.Header.Get("X-End-To-End"); got != "kept" {
		t.Errorf("end-to-end header = %q, want kept", got)
	}
	for _, h := range []string{"X-Resp-Hop", "Keep-Alive", "Proxy-Authenticate"} {
		if v := res.Header.Get(h); v != "" {
			t.Errorf("response hop header %s = %q reached the client", h, v)
		}
	}
}

func TestForwardedHeaders(t *testing.T) {
	up := newEcho(t)
	svc := Service("/", GET("/x"))
	tests := []struct {
		name                string
		opts                []Option
		xff, xfh, xfp, fwd  string
		wantXFF, wantXFH    string
		wantXFP, wantFwdHdr string
	}{
		{"untrusted client spoof replaced", nil, "203.0.113.6", "evil.example", "https", "for=203.0.113.6", "127.0.0.1", "gw.example", "http", "for=127.0.0.1;host=gw.example;proto=http"},
		{"no incoming headers", nil, "", "", "", "", "127.0.0.1", "gw.example", "http", "for=127.0.0.1;host=gw.example;proto=http"},
		{"trusted proxy appended", []Option{WithTrustedProxies("127.0.0.0/8")}, "203.0.113.9", "public.example", "https", "for=203.0.113.9", "203.0.113.9, 127.0.0.1", "public.example", "https", "for=203.0.113.9, for=127.0.0.1;host=gw.example;proto=http"},
		{"trusted single address", []Option{WithTrustedProxies("127.0.0.1")}, "203.0.113.9", "", "", "", "203.0.113.9, 127.0.0.1", "gw.example", "http", "for=127.0.0.1;host=gw.example;proto=http"},
		{"other trusted range", []Option{WithTrustedProxies("198.51.100.0/24")}, "203.0.113.6", "", "", "for=203.0.113.6", "127.0.0.1", "gw.example", "http", "for=127.0.0.1;host=gw.example;proto=http"},
		{"host with a port quoted", nil, "", "", "", "", "127.0.0.1", "gw.example:8443", "http", `for=127.0.0.1;host="gw.example:8443";proto=http`},
		{"opted out, untrusted: removed", []Option{WithoutForwardedHeader()}, "", "", "", "for=203.0.113.6", "127.0.0.1", "gw.example", "http", ""},
		{"opted out, trusted: kept", []Option{WithoutForwardedHeader(), WithTrustedProxies("127.0.0.1")}, "", "", "", "for=203.0.113.9", "127.0.0.1", "gw.example", "http", "for=203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, gw := serveGateway(t, append([]Option{Mount(svc, up.URL)}, tt.opts...)...)
			req := newReq(t, "GET", gw.URL+"/x", "")
			req.Host = "gw.example"
			if tt.wantXFH != "" && tt.xfh == "" {
				req.Host = tt.wantXFH
			}
			for k, v := range map[string]string{"X-Forwarded-For": tt.xff, "X-Forwarded-Host": tt.xfh, "X-Forwarded-Proto": tt.xfp, "Forwarded": tt.fwd} {
				if v != "" {
					req.Header.Set(k, v)
				}
			}
			do(t, req)
			h := up.last(t).Header
			if got := strings.Join(h.Values("X-Forwarded-For"), ","); got != tt.wantXFF {
				t.Errorf("X-Forwarded-For = %q, want %q", got, tt.wantXFF)
			}
			if got := h.Get("X-Forwarded-Host"); got != tt.wantXFH {
				t.Errorf("X-Forwarded-Host = %q, want %q", got, tt.wantXFH)
			}
			if got := h.Get("X-Forwarded-Proto"); got != tt.wantXFP {
				t.Errorf("X-Forwarded-Proto = %q, want %q", got, tt.wantXFP)
			}
			if got := h.Get("Forwarded"); got != tt.wantFwdHdr {
				t.Errorf("Forwarded = %q, want %q", got, tt.wantFwdHdr)
			}
		})
	}
}

func TestHostHeader(t *testing.T) {
	up := newEcho(t)
	svc := Service("/", GET("/x"))
	upHost := strings.TrimPrefix(up.URL, "http://")
	for _, tt := range []struct {
		name string
		opts []Option
		want string
	}{
		{"upstream host by default", nil, upHost},
		{"client host preserved", []Option{WithPreserveHost()}, "client.example"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, gw := serveGateway(t, append([]Option{Mount(svc, up.URL)}, tt.opts...)...)
			req := newReq(t, "GET", gw.URL+"/x", "")
			req.Host = "client.example"
			do(t, req)
			if got := up.last(t).Host; got != tt.want {
				t.Errorf("upstream Host = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResponseTrailers(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Checksum")
		w.Write([]byte("body"))
		w.Header().Set("X-Checksum", "abc")
		w.Header().Set(http.TrailerPrefix+"X-Late", "late")
	}))
	defer up.Close()
	_, gw := serveGateway(t, Mount(Service("/", GET("/t")), up.URL))
	res, body := get(t, gw.URL+"/t")
	if body != "body" {
		t.Errorf("body = %q", body)
	}
	if got := res.Trailer.Get("X-Checksum"); got != "abc" {
		t.Errorf("trailer X-Checksum = %q, want abc", got)
	}
	if got := res.Trailer.Get("X-Late"); got != "late" {
		t.Errorf("trailer X-Late = %q, want late", got)
	}
}

func TestRequestBodyAndMethods(t *testing.T) {
	up := newEcho(t)
	svc := Service("/api", POST("/p"), PUT("/p"), PATCH("/p"), DELETE("/p"), GET("/p"), OPTIONS("/o"))
	_, gw := serveGateway(t, Mount(svc, up.URL))
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		res, _ := do(t, newReq(t, m, gw.URL+"/api/p", "hello "+m))
		if res.StatusCode != 200 {
			t.Fatalf("%s status = %d", m, res.StatusCode)
		}
		got := up.last(t)
		if got.Method != m || got.Body != "hello "+m || got.Length != int64(len("hello "+m)) {
			t.Errorf("%s: upstream got method %q body %q length %d", m, got.Method, got.Body, got.Length)
		}
	}
	res, body := do(t, newReq(t, "HEAD", gw.URL+"/api/p", ""))
	if res.StatusCode != 200 || body != "" || up.last(t).Method != "HEAD" {
		t.Errorf("HEAD on a GET route: status %d body %q upstream method %q", res.StatusCode, body, up.last(t).Method)
	}
	do(t, newReq(t, "OPTIONS", gw.URL+"/api/o", ""))
	if got := up.last(t).Method; got != "OPTIONS" {
		t.Errorf("declared OPTIONS route: upstream method %q", got)
	}
}

func TestRoutingMisses(t *testing.T) {
	up := newEcho(t)
	svc := Service("/api", GET("/items/:id"), DELETE("/items/:id"))
	_, gw := serveGateway(t, Mount(svc, up.URL))
	tests := []struct {
		method, path string
		status       int
		allow, body  string
	}{
		{"GET", "/nope", 404, "", "not_found: no route for /nope\n"},
		{"GET", "/api/items/1/extra", 404, "", ""},
		{"POST", "/api/items/1", 405, "GET, HEAD, DELETE, OPTIONS", "method_not_allowed: method not allowed\n"},
		{"OPTIONS", "/api/items/1", 204, "GET, HEAD, DELETE, OPTIONS", ""},
	}
	for _, tt := range tests {
		res, body := do(t, newReq(t, tt.method, gw.URL+tt.path, ""))
		if res.StatusCode != tt.status {
			t.Errorf("%s %s: status = %d, want %d", tt.method, tt.path, res.StatusCode, tt.status)
		}
		if got := res.Header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tt.method, tt.path, got, tt.allow)
		}
		if tt.body != "" && body != tt.body {
			t.Errorf("%s %s: body = %q, want %q", tt.method, tt.path, body, tt.body)
		}
	}
	if up.count() != 0 {
		t.Errorf("upstream received %d requests, want 0", up.count())
	}
}

func TestUpstreamFailures(t *testing.T) {
	refused := deadURL(t)

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()

	empty := policy.Policy{Strategy: noBackends{}}
	tests := []struct {
		name   string
		opts   []Option
		status int
		body   string
	}{
		{"refused", []Option{Mount(Service("/", GET("/x")), refused)}, 502, "upstream_unavailable: upstream unavailable\n"},
		{"timeout", []Option{Mount(Service("/", GET("/x")), slow.URL), WithRequestTimeout(100 * time.Millisecond)}, 504, "upstream_timeout: upstream timed out\n"},
		{"route timeout", []Option{Mount(Service("/", GET("/x", Timeout(100*time.Millisecond))), slow.URL)}, 504, "upstream_timeout: upstream timed out\n"},
		{"no backend", []Option{Mount(Service("/", GET("/x", Policy("none"))), slow.URL), WithPolicy("none", empty)}, 503, "no_backend: no backend available\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, gw := serveGateway(t, tt.opts...)
			res, body := get(t, gw.URL+"/x")
			if res.StatusCode != tt.status || body != tt.body {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, body, tt.status, tt.body)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	ok := "http://127.0.0.1:1"
	tests := []struct {
		name string
		opts []Option
		want []string
	}{
		{"nothing mounted", nil, []string{"no services mounted"}},
		{"bad backend URL", []Option{Mount(Service("/a", GET("/x")), "ftp://h", "http://", "::bad")}, []string{`"ftp://h": scheme must be http or https`, `"http://": no host`, `"::bad"`}},
		{"no backends", []Option{Mount(Service("/a", GET("/x")))}, []string{`service "a" (/a): no backends`}},
		{"no routes", []Option{Mount(Service("/a"), ok)}, []string{`service "a" (/a): no routes`}},
		{"duplicate route", []Option{Mount(Service("/a", GET("/x"), GET("/x")), ok)}, []string{"GET /a/x: route conflict"}},
		{"conflicting param route", []Option{Mount(Service("/u", GET("/:id"), GET("/me")), ok)}, []string{"GET /u/me: route conflict"}},
		{"conflict across services", []Option{Mount(Service("/a", GET("/x")), ok), Mount(Service("/a", Name("other"), GET("/x")), ok)}, []string{"GET /a/x: route conflict"}},
		{"To unknown param", []Option{Mount(Service("/a", GET("/items/:id", To("/v2/:nope"))), ok)}, []string{"GET /a/items/:id: To:", ":nope"}},
		{"unknown policy", []Option{Mount(Service("/a", GET("/x", Policy("sticky"))), ok)}, []string{`GET /a/x: unknown policy "sticky"`}},
		{"unknown default policy", []Option{Mount(Service("/a", GET("/x")), ok), WithDefaultPolicy("p")}, []string{`unknown policy "p"`}},
		{"bad prefix", []Option{Mount(Service("api", GET("/x")), ok)}, []string{`prefix "api" must start with /`}},
		{"param prefix", []Option{Mount(Service("/:v", GET("/x")), ok)}, []string{"must not contain parameters"}},
		{"bad route path", []Option{Mount(Service("/a", GET("x"), GET("/sp ace")), ok)}, []string{"GET /ax: path must start with /", "not allowed"}},
		{"duplicate service name", []Option{Mount(Service("/a", GET("/x")), ok), Mount(Service("/b", Name("a"), GET("/x")), ok)}, []string{`service name "a" mounted twice`}},
		{"h2c upgrade", []Option{Mount(Service("/a", GET("/x")), ok), WithUpgrades("h2c")}, []string{"h2c cannot be allowed"}},
		{"http1 engine and https", []Option{Mount(Service("/a", GET("/x")), "https://127.0.0.1:1"), WithUpstream(UpstreamOptions{Engine: EngineHTTP1})}, []string{"EngineHTTP1 speaks plain HTTP only"}},
		{"http1 engine and Configure", []Option{Mount(Service("/a", GET("/x")), ok), WithUpstream(UpstreamOptions{Engine: EngineHTTP1, Configure: func(*http.Transport) {}})}, []string{"Configure needs EngineNetHTTP"}},
		{"bad trusted proxy", []Option{Mount(Service("/a", GET("/x")), ok), WithTrustedProxies("nope")}, []string{`trusted proxy "nope"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := New(tt.opts...)
			if err == nil {
				t.Fatalf("New succeeded (%v), want an error", g)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestNewReportsAllErrors(t *testing.T) {
	_, err := New(Mount(Service("/a", GET("/x", Policy("p1")), GET("/y", To("/:z")))))
	for _, want := range []string{"no backends", `GET /a/x: unknown policy "p1"`, "GET /a/y: To:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	}
}

func TestBackendsByName(t *testing.T) {
	up := newEcho(t)
	svc := Service("/api", Name("catalog"), GET("/x"))
	_, gw := serveGateway(t, Backends("catalog", up.URL), Mount(svc))
	if res, _ := get(t, gw.URL+"/api/x"); res.StatusCode != 200 {
		t.Fatalf("status = %d", res.StatusCode)
	}
	if got := up.last(t).Path; got != "/x" {
		t.Errorf("upstream path = %q", got)
	}
}

func TestMiddlewareOrder(t *testing.T) {
	up := newEcho(t)
	var order []string
	mw := func(name string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				order = append(order, name)
				r.Header.Add("X-Chain", name)
				next.ServeHTTP(w, r)
			})
		}
	}
	svc := Service("/api",
		Use(mw("svc1"), mw("svc2")),
		GET("/items/:id", Use(mw("route")), To("/v2/:id")),
		GET("/plain"),
	)
	_, gw := serveGateway(t, Mount(svc, up.URL), Use(mw("gw")))
	get(t, gw.URL+"/api/items/9")
	if got, want := strings.Join(order, ","), "gw,svc1,svc2,route"; got != want {
		t.Errorf("middleware order = %s, want %s", got, want)
	}
	if got := up.last(t).Path; got != "/v2/9" {
		t.Errorf("params lost through middleware: upstream path %q", got)
	}
	order = nil
	get(t, gw.URL+"/nope")
	if got := strings.Join(order, ","); got != "gw" {
		t.Errorf("on a miss, middleware = %s, want gw only", got)
	}
}

func TestMountInServeMux(t *testing.T) {
	up := newEcho(t)
	g := MustNew(Mount(Service("/api", GET("/items/:id")), up.URL))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	mux.Handle("/api/", g)
	s := serveFront(t, mux)
	if _, body := get(t, s.URL+"/healthz"); body != "ok" {
		t.Errorf("health body = %q", body)
	}
	if res, _ := get(t, s.URL+"/api/items/3"); res.StatusCode != 200 || up.last(t).Path != "/items/3" {
		t.Errorf("gateway in mux: status %d upstream path %q", res.StatusCode, up.last(t).Path)
	}
}

func TestMustNewPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustNew did not panic on a bad configuration")
		}
	}()
	MustNew()
}

func TestErrorRenderers(t *testing.T) {
	up := newEcho(t)
	_, gw := serveGateway(t, Mount(Service("/api", GET("/x")), up.URL), WithErrorRenderer(JSONErrors))
	res, body := get(t, gw.URL+"/missing")
	if res.StatusCode != 404 || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("status %d content type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if want := `{"error":{"code":"not_found","message":"no route for /missing"}}` + "\n"; body != want {
		t.Errorf("body = %q, want %q", body, want)
	}
}

func TestClientCancelReachesUpstream(t *testing.T) {
	cancelled := make(chan struct{})
	started := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(10 * time.Second):
		}
	}))
	defer up.Close()
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), up.URL))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	req, _ := http.NewRequestWithContext(ctx, "GET", gw.URL+"/x", nil)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.Canceled) {
		t.Errorf("client error = %v, want context.Canceled", err)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("upstream request was not cancelled after the client went away")
	}
}

// rawRequest writes a raw HTTP/1.1 request and returns the raw response
// head and body read until the server closes or 2s pass.
func rawRequest(t testing.TB, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !strings.Contains(req, "Connection:") {
		req = strings.Replace(req, "\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1)
	}
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	var b strings.Builder
	br := bufio.NewReader(c)
	br.WriteTo(&b)
	return b.String()
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\r\n")
	return l
}

// noBackends is a strategy that never offers a candidate.
type noBackends struct{}

func (noBackends) Select(policy.Request) ([]balancer.Backend, string) { return nil, "" }

func TestNewTransport(t *testing.T) {
	up := newEcho(t)
	for _, e := range []Engine{EngineNetHTTP, EngineHTTP1} {
		rt := NewTransport(UpstreamOptions{Engine: e})
		c := &http.Client{Transport: rt}
		res, err := c.Get(up.URL + "/verify?x=1")
		if err != nil {
			t.Fatalf("engine %d: %v", e, err)
		}
		res.Body.Close()
		if got := up.last(t); got.Path != "/verify" || got.Query != "x=1" {
			t.Errorf("engine %d: upstream got %q %q", e, got.Path, got.Query)
		}
		rt.(interface{ CloseIdleConnections() }).CloseIdleConnections()
	}
}

// TestUpstreamConfigure: Configure runs after the gateway's defaults and
// its changes are what the proxy uses.
func TestUpstreamConfigure(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Big", strings.Repeat("a", 1024))
	}))
	defer up.Close()
	called := false
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), up.URL), WithUpstream(UpstreamOptions{
		Configure: func(tr *http.Transport) {
			called = true
			if !tr.DisableCompression || tr.MaxIdleConnsPerHost != DefaultMaxIdleConnsPerHost {
				t.Errorf("Configure saw a transport without the defaults: compression off %v, idle per host %d", tr.DisableCompression, tr.MaxIdleConnsPerHost)
			}
			tr.MaxResponseHeaderBytes = 256
		},
	}))
	res, _ := get(t, gw.URL+"/x")
	if !called {
		t.Fatal("Configure was not called")
	}
	if res.StatusCode != http.StatusBadGateway {
		t.Errorf("status = %d, want 502 from the header cap Configure set", res.StatusCode)
	}
}

// TestAllowListsHeadForGet checks that a GET-only path lists HEAD in Allow
// (it answers HEAD through its GET route) even when the gateway has HEAD
// routes elsewhere, and never lists it twice.
func TestAllowListsHeadForGet(t *testing.T) {
	up := newEcho(t)
	svc := Service("/api", GET("/a"), HEAD("/b"), GET("/c"), HEAD("/c"), POST("/d"))
	_, gw := serveGateway(t, Mount(svc, up.URL))
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"POST", "/api/a", 405, "GET, HEAD, OPTIONS"},
		{"OPTIONS", "/api/a", 204, "GET, HEAD, OPTIONS"},
		{"HEAD", "/api/a", 200, ""},
		{"POST", "/api/b", 405, "HEAD, OPTIONS"},
		{"POST", "/api/c", 405, "GET, HEAD, OPTIONS"},
		{"GET", "/api/d", 405, "POST, OPTIONS"},
	}
	for _, tt := range tests {
		res, _ := do(t, newReq(t, tt.method, gw.URL+tt.path, ""))
		if res.StatusCode != tt.status {
			t.Errorf("%s %s: status = %d, want %d", tt.method, tt.path, res.StatusCode, tt.status)
		}
		if got := res.Header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tt.method, tt.path, got, tt.allow)
		}
	}
	if got := up.last(t); got.Method != "HEAD" || got.Path != "/a" {
		t.Errorf("upstream got %s %s, want HEAD /a", got.Method, got.Path)
	}
}
