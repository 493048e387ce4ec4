package apigate

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// serveHelpers serves h with the package's serving helpers (Listen and
// Serve with o) and returns the address; cleanup shuts it down.
func serveHelpers(t *testing.T, h http.Handler, o ServeOptions) string {
	t.Helper()
	ln, err := Listen(context.Background(), "127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	o.ShutdownTimeout = time.Second
	go func() { done <- Serve(ctx, ln, h, o) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return ln.Addr().String()
}

// statusOf returns the status code of a raw response, 0 if there is none.
func statusOf(resp string) int {
	var code int
	fmt.Sscanf(resp, "HTTP/1.1 %d", &code)
	return code
}

// safeUpstreamPath reports whether p, a path as the upstream decoded it,
// stays under prefix with no dot or empty segment.
func safeUpstreamPath(p, prefix string) bool {
	if !strings.HasPrefix(p, prefix) {
		return false
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		if s == "." || s == ".." || s == "" && i < len(segs)-1 {
			return false
		}
	}
	return true
}

// TestConnectionListedHeadersNeverForwarded extends TestHopByHopHeaders:
// several Connection lines, odd spacing and case, on passthrough and
// pipeline routes, and a disallowed Upgrade.
func TestConnectionListedHeadersNeverForwarded(t *testing.T) {
	up := newEcho(t)
	hook := Before(func(c *Ctx) error { return c.SetHeader("X-Hooked", "1") })
	_, gw := serveGateway(t, Mount(Service("/", GET("/p"), GET("/h", hook)), up.URL))
	for _, path := range []string{"/p", "/h"} {
		t.Run(path, func(t *testing.T) {
			resp := rawRequest(t, gw.Listener.Addr().String(), "GET "+path+" HTTP/1.1\r\nHost: x\r\n"+
				"Connection: x-a ,  X-B,,\r\nConnection: X-c, upgrade, close\r\n"+
				"X-A: 1\r\nX-B: 2\r\nX-C: 3\r\nUpgrade: spdy/3\r\nKeep-Alive: timeout=9\r\n"+
				"Proxy-Connection: keep-alive\r\nTE: trailers, deflate\r\nX-End: kept\r\n\r\n")
			if statusOf(resp) != 200 {
				t.Fatalf("status line = %q, want 200", firstLine(resp))
			}
			h := up.last(t).Header
			for _, k := range []string{"X-A", "X-B", "X-C", "Upgrade", "Keep-Alive", "Proxy-Connection", "Connection"} {
				if v, ok := h[k]; ok {
					t.Errorf("upstream received %s: %q", k, v)
				}
			}
			if got := h.Get("Te"); got != "trailers" {
				t.Errorf("upstream TE = %q, want trailers (and nothing else)", got)
			}
			if got := h.Get("X-End"); got != "kept" {
				t.Errorf("upstream X-End = %q, want kept", got)
			}
		})
	}
}

// TestHostilePaths: encoded, doubled and overlong paths are refused or
// reach the upstream under the route's rewrite, never outside it.
func TestHostilePaths(t *testing.T) {
	up := newEcho(t)
	svc := Service("/api",
		GET("/items/:id", To("/v2/items/:id")),
		GET("/files/*rest"),
	)
	g := MustNew(Mount(svc, up.URL+"/base"))
	t.Cleanup(g.CloseIdleConnections)
	addr := serveHelpers(t, g, ServeOptions{})
	tests := []struct {
		path, prefix string
	}{
		{"/api/items/%252e%252e", "/base/v2/items/"}, // double-encoded: a literal "%2e%2e"
		{"/api/items/%252F..", "/base/v2/items/"},
		{"/api/items/.%2e", "/base/v2/items/"},
		{"/api/items/%2E.", "/base/v2/items/"},
		{"/api/items/%5c..%5c", "/base/v2/items/"},
		{"/api/items/..%00", "/base/v2/items/"},
		{"/api//items/1", "/base/v2/items/"},
		{"/api/items//1", "/base/v2/items/"},
		{"/api/files/a/.%2e/%2e%2e/admin", "/base/"},
		{"/api/files/a/%2e%2e%2fadmin", "/base/"},
		{"/api/files/a/..%5cadmin", "/base/"},
		{"/api/files///etc/passwd", "/base/"},
		{"/api/files/a%2F%2Fb", "/base/"},
		{"/api/files/%2F", "/base/"},
		{"/api/files/a/./b", "/base/"},
		{"/api/files/" + strings.Repeat("a/", 1000) + "..", "/base/"},
	}
	for _, tt := range tests {
		t.Run(tt.path[:min(len(tt.path), 40)], func(t *testing.T) {
			before := up.count()
			resp := rawRequest(t, addr, "GET "+tt.path+" HTTP/1.1\r\nHost: x\r\n\r\n")
			code := statusOf(resp)
			switch {
			case code == 400 || code == 404:
				if up.count() != before {
					t.Errorf("refused with %d but the upstream was reached: %+v", code, up.last(t))
				}
			case code == 200:
				got := up.last(t)
				t.Logf("forwarded as %q", got.URI)
				if !safeUpstreamPath(got.Path, tt.prefix) {
					t.Errorf("upstream path %q (raw %q) leaves %s", got.Path, got.RawPath, tt.prefix)
				}
			default:
				t.Errorf("status line = %q, want 400, 404, or 200 under %s", firstLine(resp), tt.prefix)
			}
		})
	}
	// An overlong path is stopped by the server's header limit.
	before := up.count()
	resp := rawRequest(t, addr, "GET /api/files/"+strings.Repeat("a", 100<<10)+" HTTP/1.1\r\nHost: x\r\n\r\n")
	if code := statusOf(resp); code != 414 && code != 431 {
		t.Errorf("100 KiB path: status line = %q, want 414 or 431", firstLine(resp))
	}
	if up.count() != before {
		t.Error("100 KiB path was forwarded")
	}
}

// TestMatrixDotSegment: a "..;" segment is "..", with a path parameter, for
// backends that strip ";params" before resolving dot segments (Tomcat,
// Jetty, Spring), so it must be refused like "..".
func TestMatrixDotSegment(t *testing.T) {
	up := newEcho(t)
	_, gw := serveGateway(t, Mount(Service("/api", GET("/files/*rest", To("/public/*rest"))), up.URL))
	for _, p := range []string{"/api/files/..;/admin", "/api/files/a/..;x=1/..;/admin", "/api/files/.;/x", "/api/files/%2e%2e;/admin"} {
		resp := rawRequest(t, gw.Listener.Addr().String(), "GET "+p+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if code := statusOf(resp); code != 400 {
			t.Errorf("%s: status line = %q, want 400 invalid_path", p, firstLine(resp))
		}
	}
	if up.count() != 0 {
		t.Errorf("upstream received %d requests with matrix dot segments", up.count())
	}
}

// TestNoOpenProxy: absolute-form and authority-form request targets naming
// another host never reach it; the request goes to a configured backend
// or is refused.
func TestNoOpenProxy(t *testing.T) {
	up := newEcho(t)
	trap := newEcho(t) // "another host": it must never be reached
	trapHost := strings.TrimPrefix(trap.URL, "http://")
	upHost := strings.TrimPrefix(up.URL, "http://")
	_, gw := serveGateway(t, Mount(Service("/api", GET("/*rest"), Handle("CONNECT", "/*rest")), up.URL))
	addr := gw.Listener.Addr().String()
	for _, target := range []string{
		"GET http://" + trapHost + "/api/x HTTP/1.1\r\nHost: " + trapHost,
		"GET https://" + trapHost + "/api/x HTTP/1.1\r\nHost: " + trapHost,
		"GET http://user:pw@" + trapHost + "/api/x HTTP/1.1\r\nHost: " + trapHost,
		"GET http://" + trapHost + " HTTP/1.1\r\nHost: " + trapHost,
		"GET //" + trapHost + "/api/x HTTP/1.1\r\nHost: x",
		"GET /api/x HTTP/1.1\r\nHost: " + trapHost,
		"CONNECT " + trapHost + " HTTP/1.1\r\nHost: " + trapHost,
		"OPTIONS * HTTP/1.1\r\nHost: " + trapHost,
	} {
		t.Run(firstLine(target), func(t *testing.T) {
			before := up.count()
			resp := rawRequest(t, addr, target+"\r\n\r\n")
			if trap.count() != 0 {
				t.Fatalf("the other host was reached: %+v", trap.last(t))
			}
			code := statusOf(resp)
			if up.count() == before {
				if code < 200 || code == 101 || code >= 500 {
					t.Errorf("status line = %q, want a 2xx or 4xx answer", firstLine(resp))
				}
				return
			}
			got := up.last(t)
			if got.Host != upHost || !strings.HasPrefix(got.URI, "/") {
				t.Errorf("upstream got Host %q URI %q, want the configured backend %q and an origin-form URI", got.Host, got.URI, upHost)
			}
		})
	}
}

// TestToTemplateSSRF: parameter values that look like hosts or URLs stay
// inside the To template's path on the configured backend.
func TestToTemplateSSRF(t *testing.T) {
	up := newEcho(t)
	trap := newEcho(t)
	trapHost := strings.TrimPrefix(trap.URL, "http://")
	upHost := strings.TrimPrefix(up.URL, "http://")
	svc := Service("/api",
		GET("/u/:id", To("/v2/users/:id")),
		GET("/f/*rest", To("/store/*rest")),
		GET("/r/:id", To("/:id")),
	)
	_, gw := serveGateway(t, Mount(svc, up.URL))
	addr := gw.Listener.Addr().String()
	var paths []string
	for _, v := range []string{
		"@" + trapHost, "%40" + trapHost, "%2F%2F" + trapHost, "http:%2F%2F" + trapHost,
		"http%3A%2F%2F" + trapHost, trapHost, "%5C%5C" + trapHost, "..%2F..%2F" + trapHost,
		"%3A%2F%2F" + trapHost, "%23@" + trapHost, "%3F@" + trapHost,
	} {
		paths = append(paths, "/api/u/"+v, "/api/r/"+v, "/api/f/"+v, "/api/f//"+v+"/x", "/api/f/http://"+trapHost+"/x")
	}
	prefixes := map[string]string{"/api/u/": "/v2/users/", "/api/f/": "/store/", "/api/r/": "/"}
	for _, p := range paths {
		before := up.count()
		resp := rawRequest(t, addr, "GET "+p+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if trap.count() != 0 {
			t.Fatalf("%s: the other host was reached: %+v", p, trap.last(t))
		}
		code := statusOf(resp)
		if up.count() == before {
			if code != 400 && code != 404 {
				t.Errorf("%s: status line = %q, want 400/404 when not forwarded", p, firstLine(resp))
			}
			continue
		}
		got := up.last(t)
		t.Logf("%s: forwarded as %q", p, got.URI)
		prefix := prefixes[p[:7]]
		if got.Host != upHost || !safeUpstreamPath(got.Path, prefix) {
			t.Errorf("%s: upstream got Host %q path %q (URI %q), want %q under %s", p, got.Host, got.Path, got.URI, upHost, prefix)
		}
	}
}

// TestRequestSmuggling sends ambiguous framing over raw TCP to a gateway
// served with the serving helpers: each is refused (400 or 501), or, for
// Transfer-Encoding with Content-Length, re-framed as RFC 9112 section 6.3
// requires (Content-Length dropped, chunked body decoded). No request
// smuggled inside a body ever reaches the upstream.
func TestRequestSmuggling(t *testing.T) {
	up := newEcho(t)
	g := MustNew(Mount(Service("/", POST("/x"), GET("/x")), up.URL))
	t.Cleanup(g.CloseIdleConnections)
	addr := serveHelpers(t, g, ServeOptions{})
	const smuggled = "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n"
	tests := []struct {
		name   string
		req    string
		refuse bool   // must be refused, else may be re-framed
		body   string // the body the upstream gets when re-framed
	}{
		{"CL.TE", "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + smuggled, false, "abc"},
		// net/http keeps the connection open after such a request (RFC 9112
		// section 6.1 says to close it): what follows the chunked body is
		// a new request that the gateway routes itself (404 here), never
		// bytes the upstream could read as a request.
		{"CL.TE, connection kept", "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
			"GET /admin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false, "abc"},
		{"TE.CL", "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + smuggled, false, "abc"},
		{"two Content-Lengths", "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc" + smuggled, true, ""},
		{"Content-Length list", "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 40\r\n\r\nabc" + smuggled, true, ""},
		{"chunked, identity", "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + smuggled, true, ""},
		{"identity, chunked", "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + smuggled, true, ""},
		{"two TE lines", "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + smuggled, true, ""},
		{"TE not chunked", "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + smuggled, true, ""},
		{"space before colon", "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc" + smuggled, true, ""},
		{"folded Content-Length", "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n 0\r\n\r\nabc" + smuggled, true, ""},
		{"folded Transfer-Encoding", "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + smuggled, false, "abc"},
		{"signed Content-Length", "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc" + smuggled, true, ""},
		{"NUL in a header value", "POST /x HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\nContent-Length: 3\r\n\r\nabc" + smuggled, true, ""},
		{"CR in a header value", "POST /x HTTP/1.1\r\nHost: x\r\nX-A: a\rContent-Length: 40\r\nContent-Length: 3\r\n\r\nabc" + smuggled, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := up.count()
			resp := rawRequest(t, addr, tt.req)
			code := statusOf(resp)
			t.Logf("%s: %q", tt.name, firstLine(resp))
			up.mu.Lock()
			reqs := append([]received(nil), up.reqs[before:]...)
			up.mu.Unlock()
			for _, r := range reqs {
				if r.Path != "/x" {
					t.Errorf("a smuggled request reached the upstream: %s %s", r.Method, r.Path)
				}
			}
			switch {
			case code == 400 || code == 501:
				if len(reqs) != 0 {
					t.Errorf("refused with %d but the upstream got %d requests", code, len(reqs))
				}
			case tt.refuse:
				t.Errorf("status line = %q, want 400 or 501", firstLine(resp))
			case code == 200:
				if len(reqs) != 1 {
					t.Fatalf("upstream got %d requests, want 1", len(reqs))
				}
				r := reqs[0]
				if r.Body != tt.body || r.Header.Get("Content-Length") != "" && r.Length != int64(len(r.Body)) {
					t.Errorf("upstream got body %q length %d encoding %v, want %q framed once", r.Body, r.Length, r.Encoding, tt.body)
				}
				if strings.Contains(tt.req, "/admin HTTP/1.1\r\nHost: x\r\nConnection: close") && !strings.Contains(resp, "not_found: no route for /admin") {
					t.Errorf("the request after the chunked body was not routed by the gateway: %q", resp)
				}
			default:
				t.Errorf("status line = %q, want 200 (re-framed), 400 or 501", firstLine(resp))
			}
		})
	}
}

// TestMalformedUploadIsTheClientsFault: a streamed body that turns out
// malformed (a bad chunk) is the client's error: 400, and the backend is
// not counted as failing, so clients cannot cool backends down at will.
func TestMalformedUploadIsTheClientsFault(t *testing.T) {
	up := newEcho(t)
	log := &eventLog{}
	g, gw := serveGateway(t, Mount(Service("/", POST("/x")), up.URL), WithPassiveHealth(1, time.Minute), WithObserver(log))
	resp := rawRequest(t, gw.Listener.Addr().String(),
		"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n\r\n")
	if code := statusOf(resp); code != 400 {
		t.Errorf("status line = %q, want 400 bad_request", firstLine(resp))
	}
	// The request went upstream, so it ends with one UpstreamFailed event
	// (not a PipelineFailed after BackendSelected).
	if got := kinds(log.take()); got != "request_started,backend_selected,upstream_failed" {
		t.Errorf("events = %s, want request_started,backend_selected,upstream_failed", got)
	}
	h := g.routes[0].svc.set.Load().health
	if d, f := h.ejected(), h.fails(0); d != 0 || f != 0 {
		t.Errorf("after a client's malformed body: %d backends down, %d failures counted; want 0 and 0", d, f)
	}
}

// TestObsFoldUnfolded: a folded header line is joined with a space by
// net/http (RFC 9112 section 5.2 allows that instead of a 400), so no CR
// or LF ever reaches the upstream.
func TestObsFoldUnfolded(t *testing.T) {
	up := newEcho(t)
	g := MustNew(Mount(Service("/", GET("/x")), up.URL))
	t.Cleanup(g.CloseIdleConnections)
	addr := serveHelpers(t, g, ServeOptions{})
	resp := rawRequest(t, addr, "GET /x HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n\tInjected: 1\r\n\r\n")
	switch code := statusOf(resp); code {
	case 400:
		if up.count() != 0 {
			t.Error("refused but forwarded")
		}
	case 200:
		h := up.last(t).Header
		if v := h.Get("X-Folded"); strings.ContainsAny(v, "\r\n") || !strings.HasPrefix(v, "a") {
			t.Errorf("upstream X-Folded = %q, want one line", v)
		}
		if v := h.Get("Injected"); v != "" {
			t.Errorf("a folded line became a header upstream: Injected = %q", v)
		}
	default:
		t.Errorf("status line = %q, want 200 (unfolded) or 400", firstLine(resp))
	}
}

// TestOversizeHeadersThroughGateway: the serving helpers answer 431 for
// headers past MaxHeaderBytes (one huge header, or many small ones), and
// nothing is forwarded.
func TestOversizeHeadersThroughGateway(t *testing.T) {
	up := newEcho(t)
	g := MustNew(Mount(Service("/", GET("/x")), up.URL))
	t.Cleanup(g.CloseIdleConnections)
	addr := serveHelpers(t, g, ServeOptions{})
	var many strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&many, "X-H%d: %s\r\n", i, strings.Repeat("v", 30))
	}
	for name, hdr := range map[string]string{
		"one huge":   "X-Big: " + strings.Repeat("a", 100<<10) + "\r\n",
		"many small": many.String(),
	} {
		resp := rawRequest(t, addr, "GET /x HTTP/1.1\r\nHost: x\r\n"+hdr+"\r\n")
		if code := statusOf(resp); code != 431 {
			t.Errorf("%s: status line = %q, want 431", name, firstLine(resp))
		}
	}
	if up.count() != 0 {
		t.Errorf("upstream received %d requests", up.count())
	}
	if res, _ := get(t, "http://"+addr+"/x"); res.StatusCode != 200 {
		t.Errorf("a normal request after the oversize ones: %d", res.StatusCode)
	}
}

// TestOversizeBodyNotBuffered: a JSON route answers 413 as soon as the
// declared length or the bytes read pass the limit, without waiting for
// (or buffering) the rest: the bodies here never end.
func TestOversizeBodyNotBuffered(t *testing.T) {
	up := newEcho(t)
	g := MustNew(Mount(Service("/", POST("/j", JSON[lookupIn](), BodyLimit(1024))), up.URL))
	t.Cleanup(g.CloseIdleConnections)
	addr := serveHelpers(t, g, ServeOptions{})
	tests := []struct {
		name, head string
		chunk      func(i int) string // what the client keeps sending
	}{
		{"Content-Length 1 GiB, body never sent", "Content-Length: 1073741824", nil},
		{"chunked, endless", "Transfer-Encoding: chunked", func(int) string {
			return "1000\r\n" + strings.Repeat(" ", 4096) + "\r\n"
		}},
		{"Content-Length 1 GiB, endless", "Content-Length: 1073741824", func(int) string { return strings.Repeat(" ", 4096) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// The body is JSON whitespace: only the limit can stop it.
			fmt.Fprintf(c, "POST /j HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%s\r\n\r\n", tt.head)
			var sent atomic.Int64
			stop := make(chan struct{})
			defer close(stop)
			if tt.chunk != nil {
				go func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						n, err := io.WriteString(c, tt.chunk(i))
						sent.Add(int64(n))
						if err != nil {
							return
						}
					}
				}()
			}
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("no response while the body was still coming (%d bytes sent): %v", sent.Load(), err)
			}
			b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
			if res.StatusCode != 413 || !strings.HasPrefix(string(b), "payload_too_large") {
				t.Errorf("got %d %q, want 413 payload_too_large", res.StatusCode, b)
			}
		})
	}
	if up.count() != 0 {
		t.Errorf("upstream received %d requests", up.count())
	}
}

// TestHookHeaderInjection extends TestHooks' CR/LF case to every setter
// and every control character: the request fails with 400 invalid_header
// even when the hook ignores the error, and nothing is forwarded.
func TestHookHeaderInjection(t *testing.T) {
	up := newEcho(t)
	setters := map[string]func(c *Ctx, k, v string) error{
		"SetHeader":         (*Ctx).SetHeader,
		"AddHeader":         (*Ctx).AddHeader,
		"SetHeaderIfAbsent": (*Ctx).SetHeaderIfAbsent,
	}
	var routes []ServiceOption
	var paths []string
	bad := []struct{ name, k, v string }{
		{"lf", "X-A", "a\nInjected: 1"},
		{"cr", "X-A", "a\rb"},
		{"crlf", "X-A", "a\r\n\r\nGET /admin HTTP/1.1"},
		{"nul", "X-A", "a\x00b"},
		{"del", "X-A", "a\x7fb"},
		{"name with space", "X A", "v"},
		{"name with lf", "X-A\nInjected", "v"},
		{"name with colon", "X-A:", "v"},
		{"empty name", "", "v"},
	}
	for sname, set := range setters {
		for i, h := range bad {
			p := fmt.Sprintf("/%s/%d", sname, i)
			paths = append(paths, p+" "+h.name)
			routes = append(routes, GET(p, Before(func(c *Ctx) error {
				set(c, h.k, h.v) // the error is ignored on purpose
				return nil
			})))
		}
	}
	routes = append(routes, GET("/ok", Before(func(c *Ctx) error { return c.SetHeader("X-Ok", "tab\tand text") })))
	_, gw := serveGateway(t, Mount(Service("/", routes...), up.URL))
	for _, pn := range paths {
		p, name, _ := strings.Cut(pn, " ")
		res, body := get(t, gw.URL+p)
		if res.StatusCode != 400 || body != "invalid_header: invalid header\n" {
			t.Errorf("%s (%s): got %d %q, want 400 invalid_header", p, name, res.StatusCode, body)
		}
	}
	if up.count() != 0 {
		t.Errorf("upstream received %d requests with invalid headers", up.count())
	}
	if res, _ := get(t, gw.URL+"/ok"); res.StatusCode != 200 || up.last(t).Header.Get("X-Ok") != "tab\tand text" {
		t.Errorf("a valid value with a tab: %d, upstream %q", res.StatusCode, up.last(t).Header.Get("X-Ok"))
	}
}

// TestSlowlorisDribble extends TestServeDefaultsStopSlowHeaders: a client
// that keeps sending one header byte at a time, so the connection is never
// idle, is still cut at ReadHeaderTimeout, and the gateway is not reached.
func TestSlowlorisDribble(t *testing.T) {
	up := newEcho(t)
	g := MustNew(Mount(Service("/", GET("/x")), up.URL))
	t.Cleanup(g.CloseIdleConnections)
	addr := serveHelpers(t, g, ServeOptions{ReadHeaderTimeout: 200 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /x HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if _, err := io.WriteString(c, "a"); err != nil {
				return
			}
		}
	}()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	start := time.Now()
	b, _ := io.ReadAll(c)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("dribbling client held the connection for %v with a 200ms ReadHeaderTimeout", d)
	}
	if len(b) > 0 && statusOf(string(b)) < 400 {
		t.Errorf("a dribbled request was answered: %q", firstLine(string(b)))
	}
	if up.count() != 0 {
		t.Error("a dribbled request reached the upstream")
	}
}
