package apigate

import (
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// corsUpstream counts requests by method and answers with CORS headers of
// its own, which the gateway must replace on routes it owns CORS for.
type corsUpstream struct {
	*httptest.Server
	n, options atomic.Int64
}

func newCORSUpstream(t *testing.T) *corsUpstream {
	u := &corsUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.n.Add(1)
		if r.Method == http.MethodOptions {
			u.options.Add(1)
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "DELETE")
		h.Set("Vary", "Accept-Encoding")
		h.Set("X-Upstream", "yes")
		w.Write([]byte("upstream " + r.Method))
	}))
	t.Cleanup(u.Close)
	return u
}

func corsReq(t *testing.T, method, url, origin string, header ...string) *http.Request {
	req := newReq(t, method, url, "")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

// vary returns the tokens of every Vary line.
func vary(h http.Header) []string {
	var out []string
	for _, v := range h.Values("Vary") {
		for t := range strings.SplitSeq(v, ",") {
			out = append(out, strings.TrimSpace(t))
		}
	}
	return out
}

var testCORS = CORSOptions{
	AllowOrigins:     []string{"https://app.example.com", "https://*.example.org", "http://127.0.0.1:3000"},
	AllowMethods:     []string{"GET", "PUT"},
	AllowHeaders:     []string{"Content-Type", "X-Token"},
	ExposeHeaders:    []string{"X-Upstream", "X-Request-Id"},
	AllowCredentials: true,
	MaxAge:           10 * time.Minute,
}

func TestCORSPreflight(t *testing.T) {
	up := newCORSUpstream(t)
	api := Service("/api", CORS(testCORS),
		GET("/items/:id"), PUT("/items/:id"), DELETE("/items/:id"),
		OPTIONS("/items/:id"), // exists, yet never sees a preflight
	)
	_, gw := serveGateway(t, Mount(api, up.URL))

	tests := []struct {
		name, origin, method, headers string
		allowed                       bool
	}{
		{"exact origin", "https://app.example.com", "PUT", "content-type,x-token", true},
		{"pattern, one label", "https://a.example.org", "PUT", "", true},
		{"pattern, two labels", "https://a.b.example.org", "GET", "X-Token", true},
		{"origin with port", "http://127.0.0.1:3000", "GET", "", true},
		{"HEAD uses the GET route", "https://app.example.com", "HEAD", "", false}, // HEAD is not in AllowMethods
		{"pattern needs a label", "https://example.org", "PUT", "", false},
		{"pattern suffix is not enough", "https://a.example.org.evil.test", "PUT", "", false},
		{"other scheme", "http://a.example.org", "PUT", "", false},
		{"unknown origin", "https://evil.test", "PUT", "", false},
		{"null origin", "null", "PUT", "", false},
		{"method not allowed", "https://app.example.com", "DELETE", "", false},
		{"header not allowed", "https://app.example.com", "PUT", "x-token, x-other", false},
		{"exact origin is case-sensitive", "https://APP.example.com", "PUT", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := corsReq(t, "OPTIONS", gw.URL+"/api/items/7", tt.origin, "Access-Control-Request-Method", tt.method)
			if tt.headers != "" {
				req.Header.Set("Access-Control-Request-Headers", tt.headers)
			}
			res, body := do(t, req)
			if res.StatusCode != http.StatusNoContent || body != "" {
				t.Fatalf("status %d body %q, want 204 and no body", res.StatusCode, body)
			}
			if got := vary(res.Header); !slices.Contains(got, "Origin") || !slices.Contains(got, "Access-Control-Request-Headers") {
				t.Errorf("Vary = %q, want Origin and Access-Control-Request-Headers", got)
			}
			acao := res.Header.Get("Access-Control-Allow-Origin")
			if !tt.allowed {
				for k := range res.Header {
					if strings.HasPrefix(k, "Access-Control-") {
						t.Errorf("refused preflight carries %s: %q", k, res.Header[k])
					}
				}
				return
			}
			if acao != tt.origin {
				t.Errorf("Allow-Origin = %q, want %q", acao, tt.origin)
			}
			if got := res.Header.Get("Access-Control-Allow-Methods"); got != tt.method {
				t.Errorf("Allow-Methods = %q, want %q", got, tt.method)
			}
			if got := res.Header.Get("Access-Control-Allow-Headers"); got != strings.ToLower(tt.headers) {
				t.Errorf("Allow-Headers = %q, want %q", got, strings.ToLower(tt.headers))
			}
			if got := res.Header.Get("Access-Control-Allow-Credentials"); got != "true" {
				t.Errorf("Allow-Credentials = %q", got)
			}
			if got := res.Header.Get("Access-Control-Max-Age"); got != "600" {
				t.Errorf("Max-Age = %q, want 600", got)
			}
		})
	}
	if n := up.n.Load(); n != 0 {
		t.Errorf("upstream saw %d requests, want 0: preflights are the gateway's", n)
	}
}

func TestCORSOptionsWithoutPreflight(t *testing.T) {
	up := newCORSUpstream(t)
	api := Service("/api", CORS(testCORS), GET("/items/:id"), OPTIONS("/items/:id"), GET("/other"))
	_, gw := serveGateway(t, Mount(api, up.URL))

	// Origin without Access-Control-Request-Method: an ordinary OPTIONS,
	// forwarded to the OPTIONS route.
	res, body := do(t, corsReq(t, "OPTIONS", gw.URL+"/api/items/7", "https://app.example.com"))
	if res.StatusCode != 200 || body != "upstream OPTIONS" {
		t.Errorf("OPTIONS without preflight headers: %d %q, want the upstream's answer", res.StatusCode, body)
	}
	if got := up.options.Load(); got != 1 {
		t.Errorf("upstream saw %d OPTIONS, want 1", got)
	}
	// No OPTIONS route: the gateway's automatic answer, upstream untouched.
	res, _ = do(t, corsReq(t, "OPTIONS", gw.URL+"/api/other", ""))
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
		t.Errorf("OPTIONS /api/other: %d Allow %q, want 204 with Allow", res.StatusCode, res.Header.Get("Allow"))
	}
	// A preflight for a method without a route is not CORS's to answer.
	res, _ = do(t, corsReq(t, "OPTIONS", gw.URL+"/api/other", "https://app.example.com", "Access-Control-Request-Method", "PUT"))
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight for an unrouted method: %d, Allow-Origin %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
	// A preflight for a path without any route is a 404.
	res, _ = do(t, corsReq(t, "OPTIONS", gw.URL+"/api/nope", "https://app.example.com", "Access-Control-Request-Method", "GET"))
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("preflight for an unknown path: %d, want 404", res.StatusCode)
	}
	if n := up.n.Load(); n != 1 {
		t.Errorf("upstream saw %d requests, want 1", n)
	}
}

func TestCORSActualResponses(t *testing.T) {
	up := newCORSUpstream(t)
	type itemPath struct {
		ID int `path:"id"`
	}
	api := Service("/api", CORS(testCORS), GET("/items/:id", Path[itemPath]()))
	_, gw := serveGateway(t, Mount(api, up.URL))

	t.Run("allowed origin", func(t *testing.T) {
		res, body := do(t, corsReq(t, "GET", gw.URL+"/api/items/7", "https://a.example.org"))
		if res.StatusCode != 200 || body != "upstream GET" {
			t.Fatalf("%d %q", res.StatusCode, body)
		}
		if got := res.Header.Values("Access-Control-Allow-Origin"); !slices.Equal(got, []string{"https://a.example.org"}) {
			t.Errorf("Allow-Origin = %q, want only the gateway's", got)
		}
		if got := res.Header.Get("Access-Control-Allow-Credentials"); got != "true" {
			t.Errorf("Allow-Credentials = %q", got)
		}
		if got := res.Header.Get("Access-Control-Expose-Headers"); got != "X-Upstream, X-Request-Id" {
			t.Errorf("Expose-Headers = %q", got)
		}
		if got := res.Header.Get("Access-Control-Allow-Methods"); got != "" {
			t.Errorf("the upstream's Allow-Methods leaked: %q", got)
		}
		if got := vary(res.Header); !slices.Contains(got, "Origin") || !slices.Contains(got, "Accept-Encoding") {
			t.Errorf("Vary = %q, want the upstream's and Origin", got)
		}
	})
	t.Run("refused origin", func(t *testing.T) {
		res, _ := do(t, corsReq(t, "GET", gw.URL+"/api/items/7", "https://evil.test"))
		for k := range res.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("response to a refused origin carries %s: %q", k, res.Header[k])
			}
		}
		if got := vary(res.Header); !slices.Contains(got, "Origin") {
			t.Errorf("Vary = %q, want Origin", got)
		}
	})
	t.Run("no origin", func(t *testing.T) {
		res, _ := do(t, corsReq(t, "GET", gw.URL+"/api/items/7", ""))
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("Allow-Origin = %q without Origin", got)
		}
	})
	t.Run("gateway error", func(t *testing.T) {
		before := up.n.Load()
		res, _ := do(t, corsReq(t, "GET", gw.URL+"/api/items/x", "https://app.example.com"))
		if res.StatusCode != 400 {
			t.Fatalf("status %d, want 400", res.StatusCode)
		}
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
			t.Errorf("Allow-Origin on the gateway's 400 = %q", got)
		}
		if up.n.Load() != before {
			t.Error("the 400 reached the upstream")
		}
	})
}

func TestCORSAnyOrigin(t *testing.T) {
	up := newCORSUpstream(t)
	open := Service("/open", CORS(CORSOptions{AllowOrigins: []string{"*"}}), GET("/x"))
	creds := Service("/creds", CORS(CORSOptions{AllowOrigins: []string{"*"}, AllowCredentials: true}), GET("/x"))
	_, gw := serveGateway(t, Mount(open, up.URL), Mount(creds, up.URL))

	res, _ := do(t, corsReq(t, "GET", gw.URL+"/open/x", "https://any.test"))
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("without credentials: Allow-Origin = %q, want *", got)
	}
	if got := vary(res.Header); slices.Contains(got, "Origin") {
		t.Errorf("without credentials the answer does not vary by origin, Vary = %q", got)
	}
	res, _ = do(t, corsReq(t, "GET", gw.URL+"/creds/x", "https://any.test"))
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "https://any.test" {
		t.Errorf("with credentials: Allow-Origin = %q, want the origin echoed, never *", got)
	}
	if got := vary(res.Header); !slices.Contains(got, "Origin") {
		t.Errorf("with credentials: Vary = %q, want Origin", got)
	}
	res, _ = do(t, corsReq(t, "GET", gw.URL+"/creds/x", "null"))
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("origin null: Allow-Origin = %q, want none", got)
	}
	// Any header is allowed with "*" in AllowHeaders, echoed back.
	any := Service("/h", CORS(CORSOptions{AllowOrigins: []string{"*"}, AllowHeaders: []string{"*"}}), POST("/x"))
	_, gw2 := serveGateway(t, Mount(any, up.URL))
	res, _ = do(t, corsReq(t, "OPTIONS", gw2.URL+"/h/x", "https://any.test", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "x-a,x-b"))
	if got := res.Header.Get("Access-Control-Allow-Headers"); got != "x-a,x-b" {
		t.Errorf("Allow-Headers = %q, want x-a,x-b", got)
	}
}

func TestCORSLevels(t *testing.T) {
	up := newCORSUpstream(t)
	routeLevel := CORS(CORSOptions{AllowOrigins: []string{"https://route.test"}})
	svcLevel := CORS(CORSOptions{AllowOrigins: []string{"https://service.test"}})
	gwLevel := CORS(CORSOptions{AllowOrigins: []string{"https://gateway.test"}})
	a := Service("/a", svcLevel, GET("/svc"), GET("/route", routeLevel))
	b := Service("/b", GET("/gw"))
	_, gw := serveGateway(t, Mount(a, up.URL), Mount(b, up.URL), gwLevel)

	tests := []struct{ path, allowed, refused string }{
		{"/a/svc", "https://service.test", "https://gateway.test"},
		{"/a/route", "https://route.test", "https://service.test"},
		{"/b/gw", "https://gateway.test", "https://route.test"},
	}
	for _, tt := range tests {
		res, _ := do(t, corsReq(t, "GET", gw.URL+tt.path, tt.allowed))
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != tt.allowed {
			t.Errorf("GET %s from %s: Allow-Origin %q", tt.path, tt.allowed, got)
		}
		res, _ = do(t, corsReq(t, "GET", gw.URL+tt.path, tt.refused))
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("GET %s from %s: Allow-Origin %q, want none", tt.path, tt.refused, got)
		}
		res, _ = do(t, corsReq(t, "OPTIONS", gw.URL+tt.path, tt.allowed, "Access-Control-Request-Method", "GET"))
		if got := res.Header.Get("Access-Control-Allow-Origin"); res.StatusCode != 204 || got != tt.allowed {
			t.Errorf("preflight %s from %s: %d Allow-Origin %q", tt.path, tt.allowed, res.StatusCode, got)
		}
	}
	if n := up.n.Load(); n != 6 {
		t.Errorf("upstream saw %d requests, want 6 (no preflight)", n)
	}
}

func TestCORSOffLeavesUpstreamHeaders(t *testing.T) {
	up := newCORSUpstream(t)
	api := Service("/api", GET("/x"), GET("/y", CORS(CORSOptions{AllowOrigins: []string{"https://app.example.com"}})))
	_, gw := serveGateway(t, Mount(api, up.URL))
	res, _ := do(t, corsReq(t, "GET", gw.URL+"/api/x", "https://app.example.com"))
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("route without CORS: Allow-Origin %q, want the upstream's *", got)
	}
	if got := vary(res.Header); !slices.Equal(got, []string{"Accept-Encoding"}) {
		t.Errorf("route without CORS: Vary %q, want the upstream's", got)
	}
	// Its preflight goes the usual way: the automatic OPTIONS answer.
	res, _ = do(t, corsReq(t, "OPTIONS", gw.URL+"/api/x", "https://app.example.com", "Access-Control-Request-Method", "GET"))
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "" || res.Header.Get("Allow") == "" {
		t.Errorf("preflight on a route without CORS: %d %v", res.StatusCode, res.Header)
	}
}

func TestCORSConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		o    CORSOptions
		want string
	}{
		{"no origins", CORSOptions{}, "AllowOrigins is empty"},
		{"origin with path", CORSOptions{AllowOrigins: []string{"https://a.test/"}}, `origin "https://a.test/"`},
		{"origin without scheme", CORSOptions{AllowOrigins: []string{"a.test"}}, `origin "a.test"`},
		{"two wildcards", CORSOptions{AllowOrigins: []string{"https://*.*.a.test"}}, "one wildcard"},
		{"wildcard inside a label", CORSOptions{AllowOrigins: []string{"https://a*.a.test"}}, "one wildcard"},
		{"wildcard pattern with path", CORSOptions{AllowOrigins: []string{"https://*.a.test/x"}}, "nothing more"},
		{"bad header", CORSOptions{AllowOrigins: []string{"*"}, AllowHeaders: []string{"x a"}}, `header "x a"`},
		{"bad exposed header", CORSOptions{AllowOrigins: []string{"*"}, ExposeHeaders: []string{"x:a"}}, `exposed header "x:a"`},
		{"bad method", CORSOptions{AllowOrigins: []string{"*"}, AllowMethods: []string{"GET PUT"}}, `method "GET PUT"`},
		{"negative max age", CORSOptions{AllowOrigins: []string{"*"}, MaxAge: -time.Second}, "negative MaxAge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, level := range []string{"route", "service", "gateway"} {
				var opts []Option
				switch level {
				case "route":
					opts = append(opts, Mount(Service("/api", GET("/x", CORS(tt.o))), "http://127.0.0.1:1"))
				case "service":
					opts = append(opts, Mount(Service("/api", CORS(tt.o), GET("/x")), "http://127.0.0.1:1"))
				default:
					opts = append(opts, Mount(Service("/api", GET("/x")), "http://127.0.0.1:1"), CORS(tt.o))
				}
				_, err := New(opts...)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("%s level: New error %v, want one containing %q", level, err, tt.want)
				}
				if level == "route" && !strings.Contains(err.Error(), "GET /api/x") {
					t.Errorf("route level: error %q does not name the route", err)
				}
			}
		})
	}
}

// TestCORSAllocs pins that routes without CORS pay nothing for a CORS
// route beside them, and that a CORS route answering an allowed exact
// origin allocates at most two more times than a plain one (the response
// header map grows by three entries; the values are shared).
func TestCORSAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	up := benchUpstream(t)
	plain := MustNew(Mount(Service("/api", GET("/items/:id")), up.URL))
	defer plain.CloseIdleConnections()
	mixed := MustNew(Mount(Service("/api", GET("/items/:id"),
		GET("/cors/:id", CORS(CORSOptions{AllowOrigins: []string{"https://app.example.com"}, AllowCredentials: true}))), up.URL))
	defer mixed.CloseIdleConnections()

	base := handlerAllocs(t, plain, "/api/items/7")
	beside := handlerAllocs(t, mixed, "/api/items/7")
	req := httptest.NewRequest("GET", "/api/cors/7", nil)
	req.Header.Set("Origin", "https://app.example.com")
	withCORS := allocsPerRun(200, func() {
		w := httptest.NewRecorder()
		mixed.ServeHTTP(w, req)
		if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" {
			t.Fatalf("status %d, headers %v", w.Code, w.Header())
		}
	})
	t.Logf("allocs/request: plain %.2f, plain beside a CORS route %.2f, CORS route %.2f", base, beside, withCORS)
	if math.Abs(beside-base) > allocSlack {
		t.Errorf("a route without CORS allocates %.2f beside a CORS route, %.2f alone", beside, base)
	}
	if withCORS > base+2+allocSlack {
		t.Errorf("a CORS route allocates %.2f, a plain one %.2f", withCORS, base)
	}
}

// BenchmarkCORS measures what CORS adds to a passthrough GET from an
// allowed origin.
func BenchmarkCORS(b *testing.B) {
	up := benchUpstream(b)
	hdr := http.Header{"Origin": {"https://app.example.com"}}
	opts := CORSOptions{AllowOrigins: []string{"https://app.example.com", "https://*.example.org"}, AllowCredentials: true,
		ExposeHeaders: []string{"X-Request-Id"}}
	for _, c := range []struct {
		name  string
		route Route
	}{{"plain", GET("/items/:id")}, {"cors", GET("/items/:id", CORS(opts))}} {
		b.Run(c.name, func(b *testing.B) {
			g := MustNew(Mount(Service("/api", c.route), up.URL))
			defer g.CloseIdleConnections()
			runBenchHeader(b, g, "GET", "/api/items/7", nil, hdr)
		})
	}
	b.Run("httputil", func(b *testing.B) {
		runBenchHeader(b, stdlibProxy(b, up.URL), "GET", "/api/items/7", nil, hdr)
	})
}

// TestCORSWithHooks checks that a preflight skips the route's hooks (a
// browser sends no credentials with it) and that a hook's rejection
// carries the CORS headers, so the page can read the 401.
func TestCORSWithHooks(t *testing.T) {
	up := newCORSUpstream(t)
	var hooked atomic.Int64
	auth := func(c *Ctx) error {
		hooked.Add(1)
		if c.Header("Authorization") == "" {
			return Unauthorized("missing token")
		}
		return nil
	}
	api := Service("/api", Before(auth), CORS(CORSOptions{AllowOrigins: []string{"https://app.example.com"},
		AllowHeaders: []string{"Authorization"}}), GET("/me"))
	_, gw := serveGateway(t, Mount(api, up.URL))

	for _, method := range []string{"GET", "HEAD"} {
		res, _ := do(t, corsReq(t, "OPTIONS", gw.URL+"/api/me", "https://app.example.com",
			"Access-Control-Request-Method", method, "Access-Control-Request-Headers", "authorization"))
		if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
			res.Header.Get("Access-Control-Allow-Methods") != method {
			t.Errorf("preflight for %s: %d %v", method, res.StatusCode, res.Header)
		}
	}
	if n := hooked.Load(); n != 0 {
		t.Errorf("the hook ran %d times for preflights", n)
	}
	res, body := do(t, corsReq(t, "GET", gw.URL+"/api/me", "https://app.example.com"))
	if res.StatusCode != 401 || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("hook rejection: %d %q, Allow-Origin %q", res.StatusCode, body, res.Header.Get("Access-Control-Allow-Origin"))
	}
	res, _ = do(t, corsReq(t, "GET", gw.URL+"/api/me", "https://app.example.com", "Authorization", "Bearer x"))
	if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("authorized: %d, Allow-Origin %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
	if n := up.n.Load(); n != 1 {
		t.Errorf("upstream saw %d requests, want 1", n)
	}
}
