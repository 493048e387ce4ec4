package apigate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// identity is what the test auth service returns.
type identity struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
}

// authCall is what the test auth service saw of one call.
type authSeen struct {
	Method string
	URI    string
	Header http.Header
	Body   string
}

// authStub is a test auth service: it records every call and answers with
// its handler.
type authStub struct {
	*httptest.Server
	mu    sync.Mutex
	calls []authSeen
	conns atomic.Int64 // connections accepted
}

func newAuthStub(t testing.TB, h http.HandlerFunc) *authStub {
	a := &authStub{}
	a.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.calls = append(a.calls, authSeen{Method: r.Method, URI: r.RequestURI, Header: r.Header.Clone(), Body: string(b)})
		a.mu.Unlock()
		h(w, r)
	}))
	a.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			a.conns.Add(1)
		}
	}
	a.Start()
	t.Cleanup(a.Close)
	return a
}

func (a *authStub) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.calls)
}

func (a *authStub) last(t testing.TB) authSeen {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.calls) == 0 {
		t.Fatal("auth service received no call")
	}
	return a.calls[len(a.calls)-1]
}

// tokenAuth accepts "Bearer <name>" for any name but "bad" and "banned",
// and answers the identity u-<name>.
func tokenAuth(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case !ok || name == "bad":
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"who are you"}`)
		return
	case name == "banned":
		w.WriteHeader(http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(identity{UserID: "u-" + name, Email: name + "@example.com"})
}

// applyIdentity passes the identity upstream.
func applyIdentity(c *Ctx, id identity) error {
	if id.UserID == "" {
		return BadGateway("auth response without user_id")
	}
	if err := c.SetHeader("X-User-Id", id.UserID); err != nil {
		return err
	}
	return c.SetHeader("X-User-Email", id.Email)
}

func authGateway(t testing.TB, upstream string, opts ...SharedOption) *httptest.Server {
	t.Helper()
	var ropts []RouteOption
	for _, o := range opts {
		ropts = append(ropts, o)
	}
	_, s := serveGateway(t, Mount(Service("/api", GET("/me", ropts...), GET("/open")), upstream))
	return s
}

func authGet(t testing.TB, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req := newReq(t, http.MethodGet, url, "")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

func TestAuthRequestAllows(t *testing.T) {
	auth := newAuthStub(t, tokenAuth)
	up := newEcho(t)
	s := authGateway(t, up.URL, AuthRequest(auth.URL+"/verify?scope=items", applyIdentity))

	res, _ := authGet(t, s.URL+"/api/me", map[string]string{
		"Authorization": "Bearer ann",
		"Cookie":        "session=1",
		"X-Other":       "o",
	})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", res.StatusCode)
	}
	got := auth.last(t)
	if got.Method != http.MethodGet || got.URI != "/verify?scope=items" || got.Body != "" {
		t.Errorf("auth call = %s %s body %q, want GET /verify?scope=items with no body", got.Method, got.URI, got.Body)
	}
	for k, want := range map[string]string{"Authorization": "Bearer ann", "Cookie": "session=1", "X-Forwarded-Proto": "http", "X-Forwarded-For": "127.0.0.1"} {
		if v := got.Header.Get(k); v != want {
			t.Errorf("auth saw %s = %q, want %q", k, v, want)
		}
	}
	if v := got.Header.Get("X-Other"); v != "" {
		t.Errorf("auth saw X-Other = %q, want it not sent", v)
	}
	if v := got.Header.Get("User-Agent"); v != "" {
		t.Errorf("auth saw User-Agent = %q, want none", v)
	}
	h := up.last(t).Header
	for k, want := range map[string]string{"X-User-Id": "u-ann", "X-User-Email": "ann@example.com", "Authorization": "Bearer ann", "X-Other": "o"} {
		if v := h.Get(k); v != want {
			t.Errorf("upstream saw %s = %q, want %q", k, v, want)
		}
	}

	// A route without it calls nobody.
	if res, _ := get(t, s.URL+"/api/open"); res.StatusCode != http.StatusOK {
		t.Fatalf("open route: status = %d", res.StatusCode)
	}
	if n := auth.count(); n != 1 {
		t.Errorf("auth calls = %d, want 1", n)
	}
}

// TestAuthRequestRejects checks each way the auth service can refuse or
// fail: the client gets the right error and the upstream sees nothing.
func TestAuthRequestRejects(t *testing.T) {
	slow := make(chan struct{})
	t.Cleanup(func() { close(slow) })
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()

	tests := []struct {
		name   string
		auth   http.HandlerFunc // nil: the closed listener
		token  string
		opts   []AuthOption
		status int
		code   string
	}{
		{name: "401", auth: tokenAuth, token: "bad", status: 401, code: CodeUnauthorized},
		{name: "no credentials", auth: tokenAuth, status: 401, code: CodeUnauthorized},
		{name: "403", auth: tokenAuth, token: "banned", status: 403, code: CodeForbidden},
		{name: "500", auth: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) }, token: "ann", status: 502, code: CodeAuthUnavailable},
		{name: "redirect", auth: func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/login", http.StatusFound) }, token: "ann", status: 502, code: CodeAuthUnavailable},
		{name: "invalid JSON", auth: func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "<html>") }, token: "ann", status: 502, code: CodeAuthUnavailable},
		{name: "empty 200", auth: func(w http.ResponseWriter, _ *http.Request) {}, token: "ann", status: 502, code: CodeAuthUnavailable},
		{name: "trailing data", auth: func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"user_id":"u"} {}`) }, token: "ann", status: 502, code: CodeAuthUnavailable},
		{name: "apply refuses", auth: func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{}`) }, token: "ann", status: 502, code: CodeBadGateway},
		{name: "over the limit", auth: tokenAuth, token: strings.Repeat("x", 40), opts: []AuthOption{AuthMaxBody(64)}, status: 502, code: CodeAuthUnavailable},
		{name: "over the limit, chunked", auth: func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, `{"user_id":"`)
			w.(http.Flusher).Flush()
			io.WriteString(w, strings.Repeat("x", 100)+`"}`)
		}, token: "ann", opts: []AuthOption{AuthMaxBody(64)}, status: 502, code: CodeAuthUnavailable},
		{name: "down", token: "ann", status: 502, code: CodeAuthUnavailable},
		{name: "slow", auth: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-slow:
			case <-r.Context().Done():
			}
		}, token: "ann", opts: []AuthOption{AuthTimeout(100 * time.Millisecond)}, status: 504, code: CodeAuthUnavailable},
		{name: "slow body", auth: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"user_id":`)
			w.(http.Flusher).Flush()
			select {
			case <-slow:
			case <-r.Context().Done():
			}
		}, token: "ann", opts: []AuthOption{AuthTimeout(100 * time.Millisecond)}, status: 504, code: CodeAuthUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := downURL
			var auth *authStub
			if tt.auth != nil {
				auth = newAuthStub(t, tt.auth)
				url = auth.URL
			}
			up := newEcho(t)
			s := authGateway(t, up.URL, AuthRequest(url, applyIdentity, tt.opts...))
			hdr := map[string]string{}
			if tt.token != "" {
				hdr["Authorization"] = "Bearer " + tt.token
			}
			res, body := authGet(t, s.URL+"/api/me", hdr)
			if res.StatusCode != tt.status || !strings.HasPrefix(body, tt.code+":") {
				t.Errorf("got %d %q, want %d %s", res.StatusCode, body, tt.status, tt.code)
			}
			if n := up.count(); n != 0 {
				t.Errorf("upstream received %d requests, want 0", n)
			}
			if auth != nil && auth.count() != 1 {
				t.Errorf("auth calls = %d, want 1", auth.count())
			}
		})
	}
}

func TestAuthRequestOptions(t *testing.T) {
	auth := newAuthStub(t, tokenAuth)
	up := newEcho(t)
	// A hook before the check turns a session cookie into credentials; the
	// check sends what it left.
	fromCookie := func(c *Ctx) error {
		if ck, err := c.Request().Cookie("sid"); err == nil {
			return c.SetHeader("X-Token", "Bearer "+ck.Value)
		}
		return nil
	}
	s := authGateway(t, up.URL, Before(fromCookie), AuthRequest(auth.URL+"/verify", applyIdentity,
		AuthMethod(http.MethodPost),
		AuthHeaders("Authorization", "x-token", "X-Secret"),
		AuthStrip("Authorization", "X-Token"),
		AuthOriginalRequest(),
	))
	res, _ := authGet(t, s.URL+"/api/me?a=1", map[string]string{
		"Authorization": "Bearer bob",
		"Cookie":        "sid=zed",
		// X-Secret is hop-by-hop here: named by Connection.
		"Connection": "X-Secret",
		"X-Secret":   "s",
	})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", res.StatusCode)
	}
	got := auth.last(t)
	if got.Method != http.MethodPost || got.Body != "" {
		t.Errorf("auth call = %s with body %q, want POST with none", got.Method, got.Body)
	}
	for k, want := range map[string]string{
		"Authorization": "Bearer bob", "X-Token": "Bearer zed",
		"X-Original-Method": "GET", "X-Original-Uri": "/api/me?a=1",
		"Cookie": "", "X-Secret": "",
	} {
		if v := got.Header.Get(k); v != want {
			t.Errorf("auth saw %s = %q, want %q", k, v, want)
		}
	}
	if cl := got.Header.Get("Content-Length"); cl != "" && cl != "0" {
		t.Errorf("auth saw Content-Length %q", cl)
	}
	h := up.last(t).Header
	for k, want := range map[string]string{"Authorization": "", "X-Token": "", "X-User-Id": "u-bob", "Cookie": "sid=zed"} {
		if v := h.Get(k); v != want {
			t.Errorf("upstream saw %s = %q, want %q", k, v, want)
		}
	}
}

// TestAuthRequestNoIdentity checks an auth service that only says yes or
// no: nothing is decoded, an empty body is fine.
func TestAuthRequestNoIdentity(t *testing.T) {
	auth := newAuthStub(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer ok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	up := newEcho(t)
	s := authGateway(t, up.URL, AuthRequest[struct{}](auth.URL, nil, AuthStrip()))
	res, _ := authGet(t, s.URL+"/api/me", map[string]string{"Authorization": "Bearer ok"})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", res.StatusCode)
	}
	if v := up.last(t).Header.Get("Authorization"); v != "" {
		t.Errorf("upstream saw Authorization %q, want it stripped", v)
	}
	res, _ = authGet(t, s.URL+"/api/me", map[string]string{"Authorization": "Bearer no"})
	if res.StatusCode != http.StatusUnauthorized || up.count() != 1 {
		t.Errorf("status = %d, upstream requests = %d; want 401, 1", res.StatusCode, up.count())
	}
}

// TestAuthRequestConcurrent sends requests with distinct tokens in
// parallel: each reaches the upstream with its own identity.
func TestAuthRequestConcurrent(t *testing.T) {
	auth := newAuthStub(t, tokenAuth)
	up := newEcho(t)
	s := authGateway(t, up.URL, AuthRequest(auth.URL, applyIdentity))
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("user%d", i)
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/me", nil)
			req.Header.Set("Authorization", "Bearer "+name)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer res.Body.Close()
			var rec received
			if err := json.NewDecoder(res.Body).Decode(&rec); err != nil {
				errs <- fmt.Errorf("%s: %d: %v", name, res.StatusCode, err)
				return
			}
			if got := rec.Header.Get("X-User-Id"); got != "u-"+name {
				errs <- fmt.Errorf("%s reached the upstream as %q", name, got)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	if len(up.reqs) != n {
		t.Fatalf("upstream received %d requests, want %d", len(up.reqs), n)
	}
	for _, r := range up.reqs {
		if want := "u-" + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "); r.Header.Get("X-User-Id") != want {
			t.Errorf("upstream saw %s with X-User-Id %q", r.Header.Get("Authorization"), r.Header.Get("X-User-Id"))
		}
	}
	if c := auth.count(); c != n {
		t.Errorf("auth calls = %d, want %d", c, n)
	}
}

// TestAuthRequestReusesConnections checks that every answer's body is
// read and closed: sequential requests share one connection to the auth
// service, whatever it answered.
func TestAuthRequestReusesConnections(t *testing.T) {
	auth := newAuthStub(t, tokenAuth)
	up := newEcho(t)
	s := authGateway(t, up.URL, AuthRequest(auth.URL, applyIdentity))
	for i, tok := range []string{"ann", "bad", "banned", "bob", "bad", "ann"} {
		res, _ := authGet(t, s.URL+"/api/me", map[string]string{"Authorization": "Bearer " + tok})
		if want := map[string]int{"bad": 401, "banned": 403}[tok]; want != 0 && res.StatusCode != want || want == 0 && res.StatusCode != 200 {
			t.Fatalf("request %d (%s): status %d", i, tok, res.StatusCode)
		}
	}
	if n := auth.conns.Load(); n != 1 {
		t.Errorf("auth service accepted %d connections, want 1", n)
	}
}

// TestAuthRequestClientGone checks that a client that leaves ends the
// call to the auth service, and nothing goes upstream.
func TestAuthRequestClientGone(t *testing.T) {
	arrived := make(chan struct{})
	ended := make(chan error, 1)
	auth := newAuthStub(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done():
			ended <- nil
		case <-time.After(10 * time.Second):
			ended <- errors.New("the auth call outlived its client")
		}
	})
	up := newEcho(t)
	s := authGateway(t, up.URL, AuthRequest(auth.URL, applyIdentity, AuthTimeout(time.Minute)))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer ann")
	go func() {
		<-arrived
		cancel()
	}()
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("got a response %d, want the request cancelled", res.StatusCode)
	}
	if err := <-ended; err != nil {
		t.Fatal(err)
	}
	if n := up.count(); n != 0 {
		t.Errorf("upstream received %d requests, want 0", n)
	}
}

func TestAuthRequestMisconfig(t *testing.T) {
	ok := "http://127.0.0.1:1"
	tests := []struct {
		name string
		opt  SharedOption
		up   UpstreamOptions
		want string
	}{
		{"no scheme", AuthRequest("127.0.0.1:9/verify", applyIdentity), UpstreamOptions{}, "GET /a/x: AuthRequest(\"127.0.0.1:9/verify\")"},
		{"ftp", AuthRequest("ftp://127.0.0.1/verify", applyIdentity), UpstreamOptions{}, "scheme must be http or https"},
		{"no host", AuthRequest("http:///verify", applyIdentity), UpstreamOptions{}, "no host"},
		{"user info", AuthRequest("http://u:p@127.0.0.1/verify", applyIdentity), UpstreamOptions{}, "must not have user info"},
		{"https on EngineHTTP1", AuthRequest("https://127.0.0.1/verify", applyIdentity), UpstreamOptions{Engine: EngineHTTP1}, "https needs EngineNetHTTP"},
		{"bad method", AuthRequest(ok, applyIdentity, AuthMethod("GE T")), UpstreamOptions{}, `AuthMethod: invalid method "GE T"`},
		{"hop-by-hop header", AuthRequest(ok, applyIdentity, AuthHeaders("connection")), UpstreamOptions{}, "AuthHeaders: Connection is managed by the gateway"},
		{"Host header", AuthRequest(ok, applyIdentity, AuthHeaders("Host")), UpstreamOptions{}, "AuthHeaders: Host is managed"},
		{"invalid header", AuthRequest(ok, applyIdentity, AuthStrip("a b")), UpstreamOptions{}, `AuthStrip: invalid header name "a b"`},
		{"zero timeout", AuthRequest(ok, applyIdentity, AuthTimeout(0)), UpstreamOptions{}, "AuthTimeout(0s): must be positive"},
		{"zero body", AuthRequest(ok, applyIdentity, AuthMaxBody(0)), UpstreamOptions{}, "AuthMaxBody(0): must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Mount(Service("/a", GET("/x", tt.opt)), ok), WithUpstream(tt.up))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "GET /a/x") {
				t.Fatalf("New: %v, want an error naming GET /a/x with %q", err, tt.want)
			}
		})
	}
	// https is fine with net/http; on a service it checks every route.
	_, err := New(Mount(Service("/a", AuthRequest("https://127.0.0.1/verify", applyIdentity), GET("/x")), ok))
	if err != nil {
		t.Fatalf("New with https on EngineNetHTTP: %v", err)
	}
}

// clientAuth is the hook a user writes without AuthRequest: an
// http.Client call per request, on a transport like the gateway's, with a
// context timeout, io.ReadAll and encoding/json.
func clientAuth(hc *http.Client, url string) Hook {
	return func(c *Ctx) error {
		ctx, cancel := context.WithTimeout(c.Context(), DefaultAuthTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", c.Header("Authorization"))
		res, err := hc.Do(req)
		if err != nil {
			return BadGateway("auth service unavailable")
		}
		defer res.Body.Close()
		body, err := io.ReadAll(io.LimitReader(res.Body, DefaultAuthMaxBody))
		switch {
		case err != nil:
			return BadGateway("auth service unavailable")
		case res.StatusCode == http.StatusUnauthorized:
			return Unauthorized("authentication required")
		case res.StatusCode != http.StatusOK:
			return BadGateway("auth service unavailable")
		}
		var id identity
		if err := json.Unmarshal(body, &id); err != nil {
			return BadGateway("invalid auth response")
		}
		return applyIdentity(c, id)
	}
}

// BenchmarkAuthRequest compares AuthRequest with the same check written
// as a hook calling the auth service through an http.Client, on each
// engine (the gateway's upstream client and server, and the hook's
// client).
func BenchmarkAuthRequest(b *testing.B) {
	up := benchUpstream(b)
	answer := []byte(`{"user_id":"u-42","email":"u42@example.com"}`)
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t0k3n" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	b.Cleanup(auth.Close)
	hdr := http.Header{"Authorization": {"Bearer t0k3n"}}
	for _, eng := range []struct {
		name string
		e    Engine
	}{{"nethttp", EngineNetHTTP}, {"http1", EngineHTTP1}} {
		uo := UpstreamOptions{Engine: eng.e}
		run := func(b *testing.B, opt RouteOption) {
			g := MustNew(Mount(Service("/api", GET("/me", opt)), up.URL), WithUpstream(uo))
			defer g.Close()
			runBenchOn(b, serveFrontWith(b, g, eng.e), "GET", "/api/me", nil, hdr)
		}
		b.Run("engine="+eng.name+"/hook=AuthRequest", func(b *testing.B) {
			run(b, AuthRequest(auth.URL+"/verify", applyIdentity, AuthStrip()))
		})
		b.Run("engine="+eng.name+"/hook=client", func(b *testing.B) {
			hc := &http.Client{Transport: NewTransport(uo)}
			defer hc.CloseIdleConnections()
			run(b, Before(clientAuth(hc, auth.URL+"/verify")))
		})
	}
}

// cannedAuth is an auth service that answers every request with the same
// bytes, at little cost, so that a benchmark of the call measures the
// caller's side.
func cannedAuth(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	body := `{"user_id":"u-42","email":"u42@example.com"}`
	answer := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n" + body)
	var wg sync.WaitGroup
	tb.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	var conns sync.Map
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				conns.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
				return
			}
			conns.Store(nc, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				br := bufio.NewReader(nc)
				for {
					// A request without a body: its head ends with an empty line.
					for {
						line, err := br.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(line) <= 2 {
							break
						}
					}
					if _, err := nc.Write(answer); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// BenchmarkAuthRequestCall measures the call to the auth service alone:
// the hook run on a prepared Ctx against an auth service that costs
// almost nothing.
func BenchmarkAuthRequestCall(b *testing.B) {
	authURL := cannedAuth(b) + "/verify"
	for _, eng := range []struct {
		name string
		e    Engine
	}{{"nethttp", EngineNetHTTP}, {"http1", EngineHTTP1}} {
		uo := UpstreamOptions{Engine: eng.e}
		hc := &http.Client{Transport: NewTransport(uo)}
		for _, v := range []struct {
			name string
			hook Hook
		}{
			{"AuthRequest", nil},
			{"client", clientAuth(hc, authURL)},
		} {
			b.Run("engine="+eng.name+"/hook="+v.name, func(b *testing.B) {
				opt := Before(v.hook)
				if v.hook == nil {
					opt = AuthRequest(authURL, applyIdentity)
				}
				g := MustNew(Mount(Service("/api", GET("/me", opt)), "http://127.0.0.1:1"), WithUpstream(uo))
				defer g.Close()
				defer hc.CloseIdleConnections()
				hook := g.routes[0].pipe.hooks[0]
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					ctx, cancel := context.WithCancel(context.Background()) // as a server's request context
					defer cancel()
					r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/me", nil)
					c := &Ctx{r: r, rt: g.routes[0], header: http.Header{"Authorization": {"Bearer t0k3n"}}}
					for pb.Next() {
						if err := hook(c); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// TestAuthRequestPassesChallenge: a 401 from the auth service reaches the
// client with the service's WWW-Authenticate fields (RFC 9110 requires a
// 401 to carry one), and nothing else of the service's answer; a 403's
// fields are not passed.
func TestAuthRequestPassesChallenge(t *testing.T) {
	auth := newAuthStub(t, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Www-Authenticate"] = []string{`Bearer realm="api", error="invalid_token"`, `Basic realm="api"`}
		h.Set("X-Auth-Debug", "token expired 3s ago")
		status := http.StatusUnauthorized
		if r.Header.Get("Authorization") == "Bearer banned" {
			status = http.StatusForbidden
		}
		w.WriteHeader(status)
		io.WriteString(w, `{"error":"who are you"}`)
	})
	up := newEcho(t)
	s := authGateway(t, up.URL, AuthRequest(auth.URL, applyIdentity))

	res, body := authGet(t, s.URL+"/api/me", map[string]string{"Authorization": "Bearer old"})
	if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(body, CodeUnauthorized+":") {
		t.Fatalf("got %d %q, want 401 %s", res.StatusCode, body, CodeUnauthorized)
	}
	want := []string{`Bearer realm="api", error="invalid_token"`, `Basic realm="api"`}
	if got := res.Header.Values("WWW-Authenticate"); !slices.Equal(got, want) {
		t.Errorf("WWW-Authenticate = %q, want %q", got, want)
	}
	if v := res.Header.Get("X-Auth-Debug"); v != "" {
		t.Errorf("the auth service's X-Auth-Debug reached the client: %q", v)
	}
	if strings.Contains(body, "who are you") {
		t.Errorf("the auth service's body reached the client: %q", body)
	}

	res, _ = authGet(t, s.URL+"/api/me", map[string]string{"Authorization": "Bearer banned"})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403", res.StatusCode)
	}
	if v := res.Header.Values("WWW-Authenticate"); len(v) != 0 {
		t.Errorf("a 403 passed the auth service's WWW-Authenticate: %q", v)
	}
	if n := up.count(); n != 0 {
		t.Errorf("upstream received %d requests, want 0", n)
	}
	if n := auth.count(); n != 2 {
		t.Errorf("auth calls = %d, want 2", n)
	}
}
