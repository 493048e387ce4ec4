package apigate

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/apigate-go/apigate/internal/syncbuf"
	"github.com/apigate-go/apigate/observe"
)

// TestRequestIDEndToEnd checks which request ID the upstream, the client,
// hooks and observers see.
func TestRequestIDEndToEnd(t *testing.T) {
	const fromClient = "client-chosen-1"
	tests := []struct {
		name    string
		opts    []Option
		header  string // the ID header
		sent    string // what the client sends
		keep    bool   // the client's ID is used
		off     bool   // request IDs are off
		hookSaw bool
	}{
		{name: "new ID by default", header: "X-Request-Id"},
		{name: "untrusted client's ID replaced", header: "X-Request-Id", sent: fromClient},
		{name: "trusted proxy's ID kept", header: "X-Request-Id", sent: fromClient, keep: true,
			opts: []Option{WithTrustedProxies("127.0.0.1", "::1")}},
		{name: "trusted proxy's invalid ID replaced", header: "X-Request-Id", sent: "bad id\"<>",
			opts: []Option{WithTrustedProxies("127.0.0.1", "::1")}},
		{name: "custom header", header: "X-Correlation-Id", sent: fromClient,
			opts: []Option{WithRequestIDHeader("x-correlation-id")}},
		{name: "off leaves the header alone", header: "X-Request-Id", sent: fromClient, off: true,
			opts: []Option{WithRequestIDHeader("")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newEcho(t)
			log := &eventLog{withEnded: true}
			var hookID string
			hook := Before(func(c *Ctx) error { hookID = c.RequestID(); return nil })
			opts := append([]Option{Mount(Service("/api", GET("/items/:id", hook)), up.URL), WithObserver(log)}, tt.opts...)
			_, gw := serveGateway(t, opts...)
			req := newReq(t, "GET", gw.URL+"/api/items/1", "")
			if tt.sent != "" {
				req.Header.Set(tt.header, tt.sent)
			}
			res, _ := do(t, req)
			upID := up.last(t).Header.Get(tt.header)
			if tt.off {
				if upID != tt.sent || res.Header.Get(tt.header) != "" || hookID != "" {
					t.Errorf("upstream %q, client %q, hook %q; want the client's header passed through untouched and no ID",
						upID, res.Header.Get(tt.header), hookID)
				}
				for _, e := range log.takeEnded(t, 1) {
					if e.RequestID != "" {
						t.Errorf("%v event has request ID %q with IDs off", e.Kind, e.RequestID)
					}
				}
				return
			}
			switch {
			case tt.keep && upID != tt.sent:
				t.Errorf("upstream ID = %q, want the trusted proxy's %q", upID, tt.sent)
			case !tt.keep && (upID == tt.sent || !validRequestID(upID) || len(upID) != 33):
				t.Errorf("upstream ID = %q, want a new ID", upID)
			}
			if got := res.Header.Values(tt.header); len(got) != 1 || got[0] != upID {
				t.Errorf("client got %s %q, want exactly the upstream's %q (the echo upstream adds none)", tt.header, got, upID)
			}
			if hookID != upID {
				t.Errorf("c.RequestID() = %q, want %q", hookID, upID)
			}
			events := log.takeEnded(t, 1)
			if len(events) < 4 {
				t.Fatalf("got %d events, want started, selected, succeeded, ended", len(events))
			}
			for _, e := range events {
				if e.RequestID != upID {
					t.Errorf("%v event has request ID %q, want %q", e.Kind, e.RequestID, upID)
				}
			}
		})
	}
}

// TestRequestIDOnGatewayResponses checks that answers the gateway writes
// itself (404, 502) and upstream responses carrying their own ID return
// the gateway's ID exactly once.
func TestRequestIDOnGatewayResponses(t *testing.T) {
	own := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "upstream-made-this")
	}))
	closed := deadURL(t)
	log := &eventLog{withEnded: true}
	_, gw := serveGateway(t,
		Mount(Service("/own", GET("/x")), own),
		Mount(Service("/down", GET("/x")), closed),
		WithObserver(log),
	)
	for _, tc := range []struct {
		path   string
		status int
	}{{"/own/x", 200}, {"/down/x", 502}, {"/nowhere", 404}} {
		res, _ := get(t, gw.URL+tc.path)
		if res.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, res.StatusCode, tc.status)
		}
		got := res.Header.Values("X-Request-Id")
		if len(got) != 1 || !validRequestID(got[0]) || got[0] == "upstream-made-this" {
			t.Errorf("%s: X-Request-Id %q, want one gateway ID", tc.path, got)
			continue
		}
		for _, e := range log.takeEnded(t, 1) {
			if e.RequestID != got[0] {
				t.Errorf("%s: %v event ID %q, want %q", tc.path, e.Kind, e.RequestID, got[0])
			}
		}
	}
}

// TestEventSequence pins the event order of a request retried once and of
// a plain request, RequestEnded last with the status sent.
func TestEventSequence(t *testing.T) {
	up := newEcho(t)
	log := &eventLog{withEnded: true}
	_, gw := serveGateway(t, Mount(Service("/api", GET("/x")), deadURL(t), up.URL), WithObserver(log))
	res, _ := get(t, gw.URL+"/api/x")
	if res.StatusCode != 200 {
		t.Fatalf("status %d, want 200 after a retry", res.StatusCode)
	}
	var kinds []string
	var last observe.Event
	for _, e := range log.takeEnded(t, 1) {
		kinds = append(kinds, e.Kind.String())
		last = e
	}
	want := "request_started backend_selected request_retried backend_selected upstream_succeeded request_ended"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("events = %s\nwant     %s", got, want)
	}
	if last.Status != 200 || last.Err != nil {
		t.Errorf("request_ended status %d err %v, want 200 and none", last.Status, last.Err)
	}
	if up.count() != 1 {
		t.Errorf("live upstream saw %d requests, want 1", up.count())
	}
}

// panicBody is an upstream response body that panics on its second read.
type panicBody struct{ reads int }

func (b *panicBody) Read(p []byte) (int, error) {
	b.reads++
	if b.reads > 1 {
		panic("body bug")
	}
	return copy(p, "partial"), nil
}

func (b *panicBody) Close() error { return nil }

// panicTransport answers every request with a 200 whose body panics.
type panicTransport struct{}

func (panicTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: &panicBody{}, ContentLength: -1}, nil
}

func TestRecoverAnswers500BeforeTheResponse(t *testing.T) {
	up := newEcho(t)
	log := &eventLog{withEnded: true}
	hook := Before(func(c *Ctx) error {
		switch c.Param("id") {
		case "panic":
			panic("hook bug")
		case "abort":
			panic(http.ErrAbortHandler)
		}
		return nil
	})
	_, gw := serveGateway(t, Mount(Service("/api", GET("/items/:id", hook)), up.URL),
		WithObserver(log), WithErrorRenderer(JSONErrors))

	res, body := get(t, gw.URL+"/api/items/panic")
	if res.StatusCode != 500 || !strings.Contains(body, `"code":"internal"`) || strings.Contains(body, "hook bug") {
		t.Errorf("panicking hook: %d %q, want 500 with code internal through the JSON renderer, no panic text", res.StatusCode, body)
	}
	var pe *observe.PanicError
	var kinds []string
	for _, e := range log.takeEnded(t, 1) {
		kinds = append(kinds, e.Kind.String())
		if e.Kind == observe.PanicRecovered {
			if !errors.As(e.Err, &pe) || e.Status != 500 || e.RequestID == "" || e.Route != "/api/items/:id" {
				t.Errorf("panic event = %+v, want a *PanicError, status 500, the request ID and route", e)
			}
		}
	}
	if pe == nil || pe.Value != "hook bug" || !bytes.Contains(pe.Stack, []byte("tracing_test.go")) {
		t.Fatalf("events %v: no panic event with the value and a stack through the hook", kinds)
	}
	if got, want := strings.Join(kinds, " "), "request_started panic_recovered pipeline_failed request_ended"; got != want {
		t.Errorf("events = %s, want %s (the panic, then the terminal event it took the place of)", got, want)
	}
	// The connection survived: the next request works.
	if res, _ := get(t, gw.URL+"/api/items/1"); res.StatusCode != 200 {
		t.Errorf("after a recovered panic: status %d, want 200", res.StatusCode)
	}
	log.takeEnded(t, 1)

	// http.ErrAbortHandler still aborts, unreported.
	_, err := http.Get(gw.URL + "/api/items/abort")
	if err == nil {
		t.Error("ErrAbortHandler: got a response, want the connection aborted")
	}
	for _, e := range log.takeEnded(t, 1) {
		if e.Kind == observe.PanicRecovered {
			t.Errorf("ErrAbortHandler reported as a panic: %+v", e)
		}
	}
	if up.count() != 1 {
		t.Errorf("upstream saw %d requests, want 1 (only the good one)", up.count())
	}
}

func TestRecoverCutsAStartedResponse(t *testing.T) {
	log := &eventLog{withEnded: true}
	_, gw := serveGateway(t, Mount(Service("/api", GET("/x")), "http://192.0.2.1"),
		WithRoundTripper(panicTransport{}), WithObserver(log))
	res, err := http.Get(gw.URL + "/api/x")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err == nil {
		t.Errorf("read %q cleanly, want the response cut", b)
	}
	var got *observe.Event
	for _, e := range log.takeEnded(t, 1) {
		if e.Kind == observe.PanicRecovered {
			got = &e
		}
	}
	if got == nil || got.Status != 0 {
		t.Errorf("panic event %+v, want one with status 0 (the response was cut)", got)
	}
}

// TestRendererPanicCutsTheResponse: a renderer that panics may have
// written part of the response, so the gateway cuts it and reports.
func TestRendererPanicCutsTheResponse(t *testing.T) {
	renderer := func(w http.ResponseWriter, r *http.Request, e *Error) { panic("renderer bug") }
	log := &eventLog{withEnded: true}
	_, gw := serveGateway(t, Mount(Service("/api", GET("/x")), "http://192.0.2.1"), WithErrorRenderer(renderer), WithObserver(log))
	if res, err := http.Get(gw.URL + "/nope"); err == nil {
		res.Body.Close()
		t.Errorf("panicking renderer: status %d, want the connection cut", res.StatusCode)
	}
	var kinds []string
	for _, e := range log.takeEnded(t, 1) {
		kinds = append(kinds, e.Kind.String())
		if e.Kind == observe.PanicRecovered && e.Status != 0 {
			t.Errorf("panic event status %d, want 0 (the response was cut)", e.Status)
		}
		if e.Kind == observe.RequestEnded && e.Err == nil {
			t.Error("request_ended without an error, want the cut reported")
		}
	}
	if got, want := strings.Join(kinds, " "), "request_started no_route panic_recovered request_ended"; got != want {
		t.Errorf("events = %s, want %s", got, want)
	}
}

// TestRenderSafelyFallsBackToText: when the 500 for a recovered panic
// cannot be rendered, a plain-text one goes out.
func TestRenderSafelyFallsBackToText(t *testing.T) {
	g := MustNew(Mount(Service("/api", GET("/x")), "http://192.0.2.1"),
		WithErrorRenderer(func(w http.ResponseWriter, r *http.Request, e *Error) { panic("renderer bug") }))
	w := httptest.NewRecorder()
	g.renderSafely(w, httptest.NewRequest("GET", "/", nil), &Error{Status: 500, Code: CodeInternal, Message: "internal error"})
	if w.Code != 500 || !strings.HasPrefix(w.Body.String(), "internal:") {
		t.Errorf("got %d %q, want a plain-text 500", w.Code, w.Body.String())
	}
}

func TestWithoutRecoverLetsPanicsThrough(t *testing.T) {
	hook := Before(func(c *Ctx) error { panic("hook bug") })
	g, err := New(Mount(Service("/api", GET("/x", hook)), "http://192.0.2.1"), WithoutRecover())
	if err != nil {
		t.Fatal(err)
	}
	var logged syncbuf.Buffer
	s := httptest.NewUnstartedServer(g)
	s.Config.ErrorLog = log.New(&logged, "", 0)
	s.Start()
	defer s.Close()
	if _, err := http.Get(s.URL + "/api/x"); err == nil {
		t.Error("got a response, want the connection closed by the server's own recovery")
	}
	s.Close()
	if !strings.Contains(logged.String(), "hook bug") {
		t.Errorf("server log = %q, want net/http's report of the panic", logged.String())
	}
}

// TestTracerSeam checks the core seam observe.Tracer: the context it
// returns reaches hooks and the upstream request, and InjectHeader runs
// once per attempt with the outbound headers.
func TestTracerSeam(t *testing.T) {
	up := newEcho(t)
	tr := &seamTracer{}
	var hookSaw any
	hook := Before(func(c *Ctx) error { hookSaw = c.Context().Value(seamKey{}); return nil })
	_, gw := serveGateway(t, Mount(Service("/api", GET("/x", hook)), deadURL(t), up.URL), WithObserver(tr))
	if res, _ := get(t, gw.URL+"/api/x"); res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if hookSaw != "traced" {
		t.Errorf("hook's context value = %v, want the tracer's", hookSaw)
	}
	if got := up.last(t).Header.Values("X-Attempt"); len(got) != 1 || got[0] != "2" {
		t.Errorf("upstream X-Attempt = %q, want [2]: one injection per attempt, the last one sent", got)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.starts != 1 || tr.injects != 2 || tr.untraced != 0 {
		t.Errorf("starts %d, injects %d, events without the context %d; want 1, 2, 0", tr.starts, tr.injects, tr.untraced)
	}
}

type seamKey struct{}

type seamTracer struct {
	mu                        sync.Mutex
	starts, injects, untraced int
}

func (s *seamTracer) Observe(ctx context.Context, e observe.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ctx.Value(seamKey{}) != "traced" {
		s.untraced++
	}
}

func (s *seamTracer) StartRequest(ctx context.Context, e observe.Event) context.Context {
	s.mu.Lock()
	s.starts++
	s.mu.Unlock()
	return context.WithValue(ctx, seamKey{}, "traced")
}

func (s *seamTracer) InjectHeader(ctx context.Context, h http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.injects++
	h.Set("X-Attempt", string(rune('0'+s.injects)))
}
