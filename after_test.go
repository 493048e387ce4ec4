package apigate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigate-go/apigate/observe"
)

// TestAfterEditsHead runs service and route After hooks on a passthrough
// route and on a pipeline route: they see the upstream's status and
// fields (hop-by-hop ones removed) and the answering backend, run service
// first, and what they set, delete or replace is what the client gets,
// over the upstream's fields and middleware's alike.
func TestAfterEditsHead(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Connection", "X-Hop")
		h.Set("X-Hop", "1")
		h.Set("X-Powered-By", "upstream/1.0")
		h.Set("Cache-Control", "public, max-age=60")
		h.Set("X-Upstream", "yes")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "created "+r.URL.Path)
	}))
	defer up.Close()

	type seen struct {
		status       int
		hop, backend string
		param, user  string
		outbound     string
	}
	var mu sync.Mutex
	var seens []seen
	svcHook := func(c *Ctx, res *UpstreamResponse) error {
		u, _ := Value[user](c)
		mu.Lock()
		seens = append(seens, seen{res.Status, res.Header.Get("X-Hop"), res.Backend, c.Param("id"), u.ID, c.Header("X-Req")})
		mu.Unlock()
		res.Header.Add("X-Order", "service")
		return nil
	}
	routeHook := func(c *Ctx, res *UpstreamResponse) error {
		res.Header.Add("X-Order", "route")
		res.Header.Del("X-Powered-By")
		res.Header.Set("Cache-Control", "no-store")
		if res.Status == http.StatusCreated {
			res.Status = http.StatusAccepted
		}
		return nil
	}
	mw := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "private")
			w.Header().Set("X-Middleware", "kept")
			next.ServeHTTP(w, r)
		})
	}
	setUser := Before(func(c *Ctx) error { Set(c, user{ID: "u-7"}); return nil })
	svc := Service("/api", After(svcHook), Use(mw),
		GET("/plain/:id", After(routeHook)),
		GET("/piped/:id", setUser, After(routeHook)),
		GET("/service-only/:id"),
	)
	obs := &eventLog{}
	_, gw := serveGateway(t, Mount(svc, up.URL), WithObserver(obs))

	for _, tc := range []struct {
		path, user, order string
		status            int
	}{
		{"/api/plain/a%20b", "", "service,route", http.StatusAccepted},
		{"/api/piped/a%20b", "u-7", "service,route", http.StatusAccepted},
		{"/api/service-only/a%20b", "", "service", http.StatusCreated},
	} {
		t.Run(tc.path, func(t *testing.T) {
			mu.Lock()
			seens = nil
			mu.Unlock()
			obs.take()
			req := newReq(t, "GET", gw.URL+tc.path, "")
			req.Header.Set("X-Req", "r1")
			res, body := do(t, req)
			if res.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", res.StatusCode, tc.status)
			}
			if want := "created " + strings.Replace(strings.TrimPrefix(tc.path, "/api"), "%20", " ", 1); body != want {
				t.Errorf("body = %q, want %q", body, want)
			}
			if got := strings.Join(res.Header.Values("X-Order"), ","); got != tc.order {
				t.Errorf("X-Order = %q, want %q", got, tc.order)
			}
			wantCC, wantPB := "no-store", ""
			if tc.order == "service" {
				wantCC, wantPB = "public, max-age=60", "upstream/1.0"
			}
			for k, want := range map[string]string{"Cache-Control": wantCC, "X-Powered-By": wantPB,
				"X-Upstream": "yes", "X-Middleware": "kept", "X-Hop": ""} {
				if got := strings.Join(res.Header.Values(k), ","); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			for _, ev := range obs.take() {
				if ev.Kind.Terminal() && (ev.Kind != observe.UpstreamSucceeded || ev.Status != tc.status) {
					t.Errorf("terminal event %v %d, want upstream_succeeded %d", ev.Kind, ev.Status, tc.status)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			want := seen{http.StatusCreated, "", up.URL, "a b", tc.user, "r1"}
			if len(seens) != 1 || seens[0] != want {
				t.Errorf("service hook saw %+v, want [%+v]", seens, want)
			}
		})
	}
}

// TestAfterReplacesResponse maps upstream answers to the gateway's own:
// an *Error rendered by the renderer, a custom Response, a plain error,
// an invalid status. The upstream is asked once and its body never
// reaches the client.
func TestAfterReplacesResponse(t *testing.T) {
	var calls atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("X-Debug", "internal")
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "<h1>stack trace: db password hunter2</h1>")
	}))
	defer up.Close()
	envelope := func(c *Ctx, res *UpstreamResponse) error {
		if res.Status >= 500 {
			return BadGateway("the catalog is unavailable").WithDetail("upstream %d from %s", res.Status, res.Backend)
		}
		return nil
	}
	var ranAfter atomic.Int32
	later := func(c *Ctx, res *UpstreamResponse) error { ranAfter.Add(1); return nil }
	svc := Service("/",
		GET("/envelope", After(envelope, later)),
		GET("/custom", After(func(c *Ctx, res *UpstreamResponse) error {
			return RespondJSON(http.StatusServiceUnavailable, map[string]any{"retry": true, "was": res.Status})
		})),
		GET("/plain", After(func(c *Ctx, res *UpstreamResponse) error { return errors.New("secret detail") })),
		GET("/bad-status", After(func(c *Ctx, res *UpstreamResponse) error { res.Status = 1000; return nil })),
		GET("/informational", After(func(c *Ctx, res *UpstreamResponse) error { res.Status = 103; return nil })),
	)
	obs := &eventLog{}
	_, gw := serveGateway(t, Mount(svc, up.URL), WithErrorRenderer(JSONErrors), WithObserver(obs))

	for _, tc := range []struct {
		path   string
		status int
		body   string
		code   string // of the request's one terminal event
	}{
		{"/envelope", 502, `{"error":{"code":"bad_gateway","message":"the catalog is unavailable"}}` + "\n", CodeBadGateway},
		{"/custom", 503, `{"retry":true,"was":500}`, CodeCustomResponse},
		{"/plain", 500, `{"error":{"code":"internal","message":"internal error"}}` + "\n", CodeInternal},
		{"/bad-status", 500, `{"error":{"code":"internal","message":"internal error"}}` + "\n", CodeInternal},
		{"/informational", 500, `{"error":{"code":"internal","message":"internal error"}}` + "\n", CodeInternal},
	} {
		t.Run(tc.path, func(t *testing.T) {
			before := calls.Load()
			obs.take()
			res, body := get(t, gw.URL+tc.path)
			if res.StatusCode != tc.status || body != tc.body {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, body, tc.status, tc.body)
			}
			if got := res.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			if got := res.Header.Get("X-Debug"); got != "" {
				t.Errorf("the upstream's X-Debug reached the client: %q", got)
			}
			if n := calls.Load() - before; n != 1 {
				t.Errorf("upstream asked %d times, want once", n)
			}
			// One terminal event, saying what the client got.
			var terminal []observe.Event
			for _, ev := range obs.take() {
				if ev.Kind.Terminal() {
					terminal = append(terminal, ev)
				}
			}
			if len(terminal) != 1 {
				t.Fatalf("%d terminal events, want 1: %+v", len(terminal), terminal)
			}
			ev := terminal[0]
			if ev.Kind != observe.UpstreamSucceeded || ev.Status != tc.status || ev.Code != tc.code || ev.Addr != up.URL {
				t.Errorf("terminal event %v %d %q %s, want upstream_succeeded %d %q %s", ev.Kind, ev.Status, ev.Code, ev.Addr, tc.status, tc.code, up.URL)
			}
			var e *Error
			if tc.path == "/envelope" && (!errors.As(ev.Err, &e) || e.Detail != "upstream 500 from "+up.URL) {
				t.Errorf("event error %v, want the hook's with its detail", ev.Err)
			}
		})
	}
	if n := ranAfter.Load(); n != 0 {
		t.Errorf("the hook after the failing one ran %d times", n)
	}
}

// TestAfterKeepsStreaming pins that a route with an After hook still
// streams: a chunked body and server-sent events reach the client one
// piece at a time, before the upstream has written the next.
func TestAfterKeepsStreaming(t *testing.T) {
	next := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/events" {
			w.Header().Set("Content-Type", "text/event-stream")
		}
		for i := range 3 {
			fmt.Fprintf(w, "data: event %d\n", i)
			w.(http.Flusher).Flush()
			select {
			case <-next:
			case <-time.After(10 * time.Second):
				return
			}
		}
	}))
	defer up.Close()
	tag := After(func(c *Ctx, res *UpstreamResponse) error {
		res.Header.Set("X-Accel-Buffering", "no")
		return nil
	})
	_, gw := serveGateway(t, Mount(Service("/", Timeout(0), tag, GET("/events"), GET("/chunked")), up.URL))
	for _, path := range []string{"/events", "/chunked"} {
		t.Run(path, func(t *testing.T) {
			res, err := http.Get(gw.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if got := res.Header.Get("X-Accel-Buffering"); got != "no" {
				t.Errorf("X-Accel-Buffering = %q, want no", got)
			}
			br := bufio.NewReader(res.Body)
			for i := range 3 {
				// The upstream writes event i+1 only once event i has
				// reached the client.
				line, err := br.ReadString('\n')
				if want := fmt.Sprintf("data: event %d\n", i); err != nil || line != want {
					t.Fatalf("line %d = %q, %v; want %q", i, line, err, want)
				}
				next <- struct{}{}
			}
		})
	}
}

// TestAfterOnlyWithUpstreamResponse pins where After hooks do not run:
// when there is no upstream response (no backend answers, a Before hook
// rejects) and on a 101 that completes an upgrade.
func TestAfterOnlyWithUpstreamResponse(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	ws := wsEchoServer(t)
	defer ws.Close()
	var ran atomic.Int32
	count := After(func(c *Ctx, res *UpstreamResponse) error { ran.Add(1); return nil })
	_, gw := serveGateway(t,
		Mount(Service("/dead", count, GET("/x")), deadURL),
		Mount(Service("/ws", count, GET("/x"), GET("/rejected", Before(func(c *Ctx) error { return Forbidden("no") }))), ws.URL),
	)
	if res, _ := get(t, gw.URL+"/dead/x"); res.StatusCode != http.StatusBadGateway {
		t.Errorf("dead backend: status %d, want 502", res.StatusCode)
	}
	if res, _ := get(t, gw.URL+"/ws/rejected"); res.StatusCode != http.StatusForbidden {
		t.Errorf("rejected: status %d, want 403", res.StatusCode)
	}
	if n := ran.Load(); n != 0 {
		t.Errorf("After hook ran %d times without an upstream response", n)
	}
	// A non-101 answer on the same route runs the hook.
	if res, _ := get(t, gw.URL+"/ws/x"); res.StatusCode != http.StatusBadRequest || ran.Load() != 1 {
		t.Errorf("plain GET: status %d, hook ran %d times; want 400 and once", res.StatusCode, ran.Load())
	}

	conn, err := net.Dial("tcp", gw.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /ws/x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: a2V5\r\nSec-WebSocket-Version: 13\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: status %d", res.StatusCode)
	}
	if n := ran.Load(); n != 1 {
		t.Errorf("After hook ran on the 101 (%d runs in all, want 1)", n)
	}
}

// TestAfterPanicClosesUpstream pins what a panicking After hook leaves:
// recovered, the client gets a 500 (or a cut response for
// http.ErrAbortHandler); either way the upstream's response is closed
// (its handler sees the gateway go away) and the gateway serves on.
func TestAfterPanicClosesUpstream(t *testing.T) {
	gone := make(chan struct{}, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			io.WriteString(w, "ok")
			return
		}
		// An endless body: only a closed response ends it.
		w.WriteHeader(http.StatusOK)
		for {
			if _, err := w.Write(make([]byte, 4096)); err != nil {
				gone <- struct{}{}
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				gone <- struct{}{}
				return
			case <-time.After(time.Millisecond):
			}
		}
	}))
	defer up.Close()
	obs := &eventLog{}
	_, gw := serveGateway(t, WithObserver(obs), Mount(Service("/", Timeout(0),
		After(func(c *Ctx, res *UpstreamResponse) error {
			switch c.Path() {
			case "/boom":
				panic("hook bug")
			case "/abort":
				panic(http.ErrAbortHandler)
			}
			return nil
		}),
		GET("/boom"), GET("/abort"), GET("/ok")), up.URL))

	for _, path := range []string{"/boom", "/abort"} {
		t.Run(path, func(t *testing.T) {
			obs.take()
			res, err := http.Get(gw.URL + path)
			if path == "/abort" {
				if err == nil {
					res.Body.Close()
					t.Fatalf("the client got a %d response from an aborting hook", res.StatusCode)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 500 || string(body) != "internal: internal error\n" {
					t.Errorf("got %d %q, want the recovered 500", res.StatusCode, body)
				}
				var kinds []string
				for _, ev := range obs.take() {
					if ev.Kind.Terminal() || ev.Kind == observe.PanicRecovered {
						kinds = append(kinds, ev.Kind.String())
					}
				}
				if got := strings.Join(kinds, ","); got != "panic_recovered,pipeline_failed" {
					t.Errorf("events %s, want panic_recovered,pipeline_failed", got)
				}
			}
			select {
			case <-gone:
			case <-time.After(10 * time.Second):
				t.Fatal("the upstream's response was never closed")
			}
			if res, body := get(t, gw.URL+"/ok"); res.StatusCode != 200 || body != "ok" {
				t.Errorf("after the panic: %d %q", res.StatusCode, body)
			}
		})
	}
}

func TestAfterNilHook(t *testing.T) {
	ok := func(c *Ctx, res *UpstreamResponse) error { return nil }
	_, err := New(Mount(Service("/api", After(nil), GET("/a")), "http://127.0.0.1:1"),
		Mount(Service("/b", GET("/x", After(ok, nil)), GET("/y")), "http://127.0.0.1:1"))
	if err == nil {
		t.Fatal("New accepted nil After hooks")
	}
	for _, want := range []string{"GET /api/a: After: hook 1 is nil", "GET /b/x: After: hook 2 is nil"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "/b/y") {
		t.Errorf("error %q names a route without After hooks", err)
	}
}

// TestAfterAddsNoAllocations pins that After hooks cost no allocation of
// their own, on a passthrough route and on a pipeline route, with each
// engine: a route with a hook that reads and edits the response head
// allocates as much per request as the same route without it.
func TestAfterAddsNoAllocations(t *testing.T) {
	up := benchUpstream(t)
	hook := After(func(c *Ctx, res *UpstreamResponse) error {
		if res.Status >= 500 {
			return BadGateway("upstream failed")
		}
		res.Header.Del("X-Powered-By")
		res.Status = http.StatusOK
		return nil
	})
	before := Before(func(c *Ctx) error { return nil })
	slack := allocSlack
	if raceEnabled {
		slack = 3 // the borrowed Ctx's pool drops some at random
	}
	for _, e := range []Engine{EngineNetHTTP, EngineHTTP1} {
		for _, tc := range []struct {
			name      string
			off, with Route
		}{
			{"passthrough", GET("/items/:id"), GET("/items/:id", hook)},
			{"pipeline", GET("/items/:id", before), GET("/items/:id", before, hook)},
		} {
			off := MustNew(Mount(Service("/api", tc.off), up.URL), WithUpstream(UpstreamOptions{Engine: e}))
			with := MustNew(Mount(Service("/api", tc.with), up.URL), WithUpstream(UpstreamOptions{Engine: e}))
			a, b := handlerAllocs(t, off, "/api/items/7"), handlerAllocs(t, with, "/api/items/7")
			t.Logf("engine %d, %s: allocs/request %.1f without After hooks, %.1f with", e, tc.name, a, b)
			if b > a+slack {
				t.Errorf("engine %d, %s: %.1f allocs/request with an After hook, %.1f without", e, tc.name, b, a)
			}
			off.Close()
			with.Close()
		}
	}
}

// BenchmarkAfterHook runs a passthrough route without and with an After
// hook that checks the status and deletes a header, on each engine, and
// httputil with the same ModifyResponse.
func BenchmarkAfterHook(b *testing.B) {
	up := benchUpstream(b)
	hook := func(c *Ctx, res *UpstreamResponse) error {
		if res.Status >= 500 {
			return BadGateway("upstream failed")
		}
		res.Header.Del("X-Powered-By")
		return nil
	}
	for _, e := range engines {
		for _, with := range []bool{false, true} {
			name := e.name + "/none"
			route := GET("/items/:id")
			if with {
				name = e.name + "/after"
				route = GET("/items/:id", After(hook))
			}
			b.Run(name, func(b *testing.B) {
				g := MustNew(Mount(Service("/api", route), up.URL), WithUpstream(UpstreamOptions{Engine: e.client}))
				defer g.CloseIdleConnections()
				runBenchOn(b, serveFrontWith(b, g, e.server), "GET", "/api/items/7", nil, nil)
			})
		}
	}
	b.Run("httputil/ModifyResponse", func(b *testing.B) {
		u, _ := url.Parse(up.URL)
		rp := httputil.NewSingleHostReverseProxy(u)
		rp.Transport = newTransport(UpstreamOptions{})
		rp.ModifyResponse = func(res *http.Response) error {
			if res.StatusCode >= 500 {
				return errors.New("upstream failed")
			}
			res.Header.Del("X-Powered-By")
			return nil
		}
		runBench(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), DefaultRequestTimeout)
			defer cancel()
			rp.ServeHTTP(w, r.WithContext(ctx))
		}), "GET", "/api/items/7", nil)
	})
}

// TestAfterWithCORS pins how After hooks and CORS meet: hooks do not see
// the upstream's Access-Control-* fields, the gateway's CORS headers
// stand, and a response a hook replaces still carries them.
func TestAfterWithCORS(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Vary", "Accept-Encoding")
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusInternalServerError)
		}
		io.WriteString(w, "body")
	}))
	defer up.Close()
	var sawACAO atomic.Value
	hook := After(func(c *Ctx, res *UpstreamResponse) error {
		sawACAO.Store(res.Header.Get("Access-Control-Allow-Origin"))
		if res.Status >= 500 {
			return BadGateway("upstream failed")
		}
		res.Header.Set("X-Hooked", "1")
		return nil
	})
	const origin = "https://app.example.com"
	_, gw := serveGateway(t, Mount(Service("/", CORS(CORSOptions{AllowOrigins: []string{origin}}), hook,
		GET("/ok"), GET("/fail")), up.URL))
	for _, tc := range []struct {
		path   string
		status int
		hooked string
	}{{"/ok", 200, "1"}, {"/fail", 502, ""}} {
		req := newReq(t, "GET", gw.URL+tc.path, "")
		req.Header.Set("Origin", origin)
		res, _ := do(t, req)
		if res.StatusCode != tc.status || res.Header.Get("X-Hooked") != tc.hooked {
			t.Errorf("%s: %d X-Hooked=%q, want %d %q", tc.path, res.StatusCode, res.Header.Get("X-Hooked"), tc.status, tc.hooked)
		}
		if got := res.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != origin {
			t.Errorf("%s: Access-Control-Allow-Origin = %q, want the gateway's %q", tc.path, got, origin)
		}
		if got, _ := sawACAO.Load().(string); got != "" {
			t.Errorf("%s: the hook saw the upstream's Access-Control-Allow-Origin %q", tc.path, got)
		}
	}
}
