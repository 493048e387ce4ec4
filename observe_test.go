package apigate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigate-go/apigate/observe"
)

// eventLog records events. RequestEnded events, which the gateway emits
// once its handler returns and so possibly after the client has its
// response, are kept only when withEnded is set; takeEnded waits for them.
type eventLog struct {
	mu        sync.Mutex
	events    []observe.Event
	withEnded bool
}

func (l *eventLog) Observe(_ context.Context, e observe.Event) {
	if e.Kind == observe.RequestEnded && !l.withEnded {
		return
	}
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

// takeEnded waits until the log holds n RequestEnded events, then takes
// them all.
func (l *eventLog) takeEnded(t testing.TB, n int) []observe.Event {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		l.mu.Lock()
		ended := 0
		for _, e := range l.events {
			if e.Kind == observe.RequestEnded {
				ended++
			}
		}
		l.mu.Unlock()
		if ended >= n {
			return l.take()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d request_ended events after 5s, want %d", ended, n)
		}
	}
}

func (l *eventLog) take() []observe.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	ev := l.events
	l.events = nil
	return ev
}

func TestObserverEvents(t *testing.T) {
	up := newEcho(t)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	refused := deadURL(t)

	log := &eventLog{}
	deny := func(c *Ctx) error { return Forbidden("no") }
	api := Service("/api",
		GET("/items/:id"),
		GET("/deny", Before(deny)),
		POST("/json", JSON[lookupIn]()),
		GET("/custom", Before(func(*Ctx) error { return Respond(204, nil, nil) })),
	)
	_, gw := serveGateway(t,
		Mount(api, up.URL),
		Mount(Service("/slow", GET("/x", Timeout(50*time.Millisecond))), slow.URL),
		Mount(Service("/down", GET("/x")), refused),
		WithObserver(log),
	)
	upAddr, slowAddr := up.URL, slow.URL
	type want struct {
		kind    observe.Kind
		backend int
		addr    string
		status  int
		code    string
	}
	S, B, P, US, UF := observe.RequestStarted, observe.BackendSelected, observe.PipelineFailed, observe.UpstreamSucceeded, observe.UpstreamFailed
	N, R := observe.NoRoute, observe.Responded
	tests := []struct {
		name, method, path, body string
		service, route           string
		events                   []want
	}{
		{"success", "GET", "/api/items/1", "", "api", "/api/items/:id",
			[]want{{S, -1, "", 0, ""}, {B, 0, upAddr, 0, ""}, {US, 0, upAddr, 200, ""}}},
		{"hook rejection", "GET", "/api/deny", "", "api", "/api/deny",
			[]want{{S, -1, "", 0, ""}, {P, -1, "", 403, CodeForbidden}}},
		{"decode failure", "POST", "/api/json", "{", "api", "/api/json",
			[]want{{S, -1, "", 0, ""}, {P, -1, "", 400, CodeInvalidJSON}}},
		{"custom response", "GET", "/api/custom", "", "api", "/api/custom",
			[]want{{S, -1, "", 0, ""}, {R, -1, "", 204, CodeCustomResponse}}},
		{"no route", "GET", "/nope", "", "", "",
			[]want{{S, -1, "", 0, ""}, {N, -1, "", 404, CodeNotFound}}},
		{"no method", "DELETE", "/api/items/1", "", "", "",
			[]want{{S, -1, "", 0, ""}, {N, -1, "", 405, CodeMethodNotAllowed}}},
		{"upstream refused", "GET", "/down/x", "", "down", "/down/x",
			[]want{{S, -1, "", 0, ""}, {B, 0, refused, 0, ""}, {UF, 0, refused, 502, CodeUpstreamUnavailable}}},
		{"upstream timeout", "GET", "/slow/x", "", "slow", "/slow/x",
			[]want{{S, -1, "", 0, ""}, {B, 0, slowAddr, 0, ""}, {UF, 0, slowAddr, 504, CodeUpstreamTimeout}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newReq(t, tt.method, gw.URL+tt.path, tt.body)
			req.Header.Set("Content-Type", "application/json")
			do(t, req)
			got := log.take()
			if len(got) != len(tt.events) {
				t.Fatalf("got %d events %v, want %d", len(got), kinds(got), len(tt.events))
			}
			for i, w := range tt.events {
				e := got[i]
				if e.Kind != w.kind || e.Backend != w.backend || e.Addr != w.addr || e.Status != w.status || e.Code != w.code {
					t.Errorf("event %d = {%v backend %d addr %q status %d code %q}, want %+v", i, e.Kind, e.Backend, e.Addr, e.Status, e.Code, w)
				}
				if e.Service != tt.service || e.Route != tt.route || e.Method != tt.method || e.Request == nil {
					t.Errorf("event %d: service %q route %q method %q request %v", i, e.Service, e.Route, e.Method, e.Request != nil)
				}
				if (e.Kind == US || e.Kind == UF) && e.Latency <= 0 {
					t.Errorf("event %d: latency %v", i, e.Latency)
				}
				if (e.Kind == P || e.Kind == UF) && e.Err == nil {
					t.Errorf("event %d: no error", i)
				}
			}
		})
	}
}

func kinds(ev []observe.Event) string {
	var s []string
	for _, e := range ev {
		s = append(s, e.Kind.String())
	}
	return strings.Join(s, ",")
}

// TestObserverSeesErrorDetail: the detail and cause of an error reach the
// observer while the client sees only the safe message.
func TestObserverSeesErrorDetail(t *testing.T) {
	up := newEcho(t)
	log := &eventLog{}
	hook := func(c *Ctx) error {
		return fmt.Errorf("lookup: %w", Internal("try again later").WithDetail("db timeout on shard 3"))
	}
	_, gw := serveGateway(t, Mount(Service("/", GET("/x", Before(hook))), up.URL), WithObserver(log))
	_, body := get(t, gw.URL+"/x")
	if strings.Contains(body, "shard") {
		t.Errorf("client saw the detail: %q", body)
	}
	ev := log.take()
	var e *Error
	if len(ev) != 2 || !errors.As(ev[1].Err, &e) || e.Detail != "db timeout on shard 3" {
		t.Errorf("observer did not get the detail: %+v", ev)
	}
}

// TestClientGoneDuringBodyRead: a client that disconnects while a JSON body
// is being read ends as 499 client_closed for the observer, not a 400.
func TestClientGoneDuringBodyRead(t *testing.T) {
	up := newEcho(t)
	log := &eventLog{}
	_, gw := serveGateway(t, Mount(Service("/", POST("/j", JSON[lookupIn]())), up.URL), WithObserver(log))
	c, err := net.Dial("tcp", gw.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("POST /j HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"q\":"))
	time.Sleep(20 * time.Millisecond)
	c.Close()
	var last observe.Event
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ev := log.take(); len(ev) > 0 {
			last = ev[len(ev)-1]
			if last.Kind.Terminal() {
				break
			}
		}
	}
	if last.Kind != observe.PipelineFailed || last.Status != StatusClientClosedRequest || last.Code != CodeClientClosed {
		t.Errorf("terminal event = %v %d %q, want pipeline_failed 499 client_closed", last.Kind, last.Status, last.Code)
	}
	if up.count() != 0 {
		t.Error("upstream reached")
	}
}

// slogRecords collects the level, message and event of each record.
type slogRecords struct {
	mu   sync.Mutex
	recs []string
}

func (h *slogRecords) Enabled(context.Context, slog.Level) bool { return true }
func (h *slogRecords) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *slogRecords) WithGroup(string) slog.Handler            { return h }
func (h *slogRecords) Handle(_ context.Context, r slog.Record) error {
	ev := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == observe.KeyEvent {
			ev = a.Value.String()
		}
		return true
	})
	h.mu.Lock()
	h.recs = append(h.recs, fmt.Sprintf("%s %q %s", r.Level, r.Message, ev))
	h.mu.Unlock()
	return nil
}

func (h *slogRecords) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.recs
	h.recs = nil
	return r
}

// TestSlogOutcomes checks that the slog observer logs each outcome as what
// it is: a miss is not a failure, a deliberate response is not a failure,
// and only the gateway's real failures reach Warn.
func TestSlogOutcomes(t *testing.T) {
	up := newEcho(t)
	h := &slogRecords{}
	api := Service("/api",
		GET("/x"),
		GET("/pay", Before(func(*Ctx) error { return RespondJSON(402, map[string]string{"pay": "first"}) })),
		GET("/maint", Before(func(*Ctx) error { return Respond(503, nil, []byte("maintenance")) })),
		GET("/deny", Before(func(*Ctx) error { return Forbidden("no") })),
		GET("/boom", Before(func(*Ctx) error { return errors.New("boom") })),
	)
	_, gw := serveGateway(t, Mount(api, up.URL), WithObserver(observe.NewSlog(slog.New(h), observe.SlogOptions{OmitProgress: true})))
	tests := []struct {
		method, path string
		status       int
		want         string
	}{
		{"GET", "/nope", 404, `INFO "no route" no_route`},
		{"POST", "/api/x", 405, `INFO "method not allowed" no_route`},
		{"GET", "/api/pay", 402, `DEBUG "answered by a hook or map" responded`},
		{"GET", "/api/maint", 503, `WARN "answered by a hook or map" responded`},
		{"GET", "/api/deny", 403, `INFO "request refused" pipeline_failed`},
		{"GET", "/api/boom", 500, `WARN "pipeline failed" pipeline_failed`},
		{"GET", "/api/x", 200, `DEBUG "upstream responded" upstream_succeeded`},
	}
	for _, tt := range tests {
		res, _ := do(t, newReq(t, tt.method, gw.URL+tt.path, ""))
		if res.StatusCode != tt.status {
			t.Errorf("%s %s: status = %d, want %d", tt.method, tt.path, res.StatusCode, tt.status)
		}
		if got := h.take(); len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s %s: records %q, want [%s]", tt.method, tt.path, got, tt.want)
		}
	}
}
