package apigatetest_test

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/apigatetest"
)

// engine is the engine the tests run on: APIGATE_TEST_ENGINE=http1 picks
// apigate's own server and client.
func engine() apigate.Engine {
	if os.Getenv("APIGATE_TEST_ENGINE") == "http1" {
		return apigate.EngineHTTP1
	}
	return apigate.EngineNetHTTP
}

func serve(t *testing.T, up *apigatetest.Upstream, routes ...apigate.ServiceOption) *apigatetest.Gateway {
	return apigatetest.NewWith(t, apigatetest.Options{Engine: engine()},
		apigate.Mount(apigate.Service("/api", routes...), up.URL))
}

func TestRecordsRequests(t *testing.T) {
	up := apigatetest.NewUpstream(t)
	gw := serve(t, up, apigate.POST("/items/:id"))
	res := gw.Do(t, "POST", "/api/items/a%2Fb?x=1&x=2", `{"name":"lamp"}`, "Content-Type: application/json", "X-Trace: t1")
	res.AssertStatus(t, 200).AssertHeader(t, "Content-Type", "application/json").AssertBodyContains(t, `"method":"POST"`)

	up.AssertCalled(t, 1)
	r := up.Last(t)
	if r.Method != "POST" || r.Path != "/items/a/b" || r.RawPath != "/items/a%2Fb" || r.RawQuery != "x=1&x=2" {
		t.Errorf("recorded %s %q raw %q query %q", r.Method, r.Path, r.RawPath, r.RawQuery)
	}
	if got := r.Query["x"]; len(got) != 2 || got[1] != "2" {
		t.Errorf("Query = %v", r.Query)
	}
	if r.Header.Get("X-Trace") != "t1" || r.Header.Get("X-Forwarded-For") == "" {
		t.Errorf("Header = %v", r.Header)
	}
	var body struct{ Name string }
	r.JSON(t, &body)
	if body.Name != "lamp" || r.ContentLength != int64(len(`{"name":"lamp"}`)) {
		t.Errorf("body %q, length %d", r.Body, r.ContentLength)
	}
	// Requests returns copies.
	up.Requests()[0].Header.Set("X-Trace", "changed")
	if up.Last(t).Header.Get("X-Trace") != "t1" {
		t.Error("changing a returned request changed the record")
	}
}

func TestConcurrentRequests(t *testing.T) {
	up := apigatetest.NewUpstream(t, apigatetest.Reply(200, "ok"))
	gw := serve(t, up, apigate.GET("/x"))
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			gw.Get(t, fmt.Sprintf("/api/x?i=%d", i)).AssertStatus(t, 200).AssertBody(t, "ok")
			_ = up.Count()
		})
	}
	wg.Wait()
	up.AssertCalled(t, 20)
	seen := map[string]bool{}
	for _, r := range up.Requests() {
		seen[r.RawQuery] = true
	}
	if len(seen) != 20 {
		t.Errorf("%d distinct requests recorded, want 20", len(seen))
	}
}

func TestBehaviorsInTurn(t *testing.T) {
	up := apigatetest.NewUpstream(t,
		apigatetest.Reply(503, "busy", "Retry-After: 1"),
		apigatetest.JSON(201, map[string]int{"id": 7}),
	)
	gw := serve(t, up, apigate.POST("/items"))
	gw.Do(t, "POST", "/api/items", "a").AssertStatus(t, 503).AssertHeader(t, "Retry-After", "1").AssertBody(t, "busy")
	gw.Do(t, "POST", "/api/items", "b").AssertStatus(t, 201).AssertBody(t, `{"id":7}`)
	gw.Do(t, "POST", "/api/items", "c").AssertStatus(t, 201) // the last behaviour repeats
	up.AssertCalled(t, 3)
	up.Reset()
	up.AssertNotCalled(t)
	gw.Do(t, "POST", "/api/items", "d").AssertStatus(t, 503)
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name     string
		behavior apigatetest.Behavior
		status   int
		calls    int
	}{
		{"delay past the timeout", apigatetest.Delay(5*time.Second, apigatetest.Reply(200, "late")), 504, 1},
		{"hang", apigatetest.Hang(), 504, 1},
		// A reset before any response is retried once (the default
		// retry policy), on the same backend when it is the only one.
		{"reset", apigatetest.ResetConnection(), 502, 2},
		{"delay within the timeout", apigatetest.Delay(10*time.Millisecond, apigatetest.Reply(200, "ok")), 200, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := apigatetest.NewUpstream(t, tt.behavior)
			gw := serve(t, up, apigate.GET("/x", apigate.Timeout(300*time.Millisecond)))
			gw.Get(t, "/api/x").AssertStatus(t, tt.status)
			up.AssertCalled(t, tt.calls)
		})
	}
}

func TestStream(t *testing.T) {
	up := apigatetest.NewUpstream(t, apigatetest.Stream(5*time.Millisecond, []string{"a\n", "b\n", "c\n"}, "Content-Type: text/event-stream"))
	gw := serve(t, up, apigate.GET("/feed"))
	res := gw.Get(t, "/api/feed").AssertStatus(t, 200).AssertBody(t, "a\nb\nc\n").AssertHeader(t, "Content-Length", "")
	res.AssertHeader(t, "Content-Type", "text/event-stream")
}

func TestWrappedHandler(t *testing.T) {
	up := apigatetest.NewUpstream(t)
	gateway, err := apigate.New(apigate.Mount(apigate.Service("/api", apigate.GET("/x")), up.URL),
		apigate.WithUpstream(apigate.UpstreamOptions{Engine: engine()}))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mux.Handle("/", gateway)
	gw := apigatetest.Serve(t, apigatetest.Options{Engine: engine()}, mux)
	gw.Get(t, "/healthz").AssertStatus(t, 200).AssertBody(t, "ok")
	gw.Get(t, "/api/x").AssertStatus(t, 200)
	up.AssertCalled(t, 1)
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestAssertionsReportFailures(t *testing.T) {
	up := apigatetest.NewUpstream(t, apigatetest.Reply(404, "nope", "X-A: 1"))
	gw := serve(t, up, apigate.GET("/x"))
	rec := &recorder{TB: t}
	res := gw.Get(t, "/api/x")
	res.AssertStatus(rec, 200).AssertHeader(rec, "X-A", "2").AssertBody(rec, "yes").AssertBodyContains(rec, "maybe")
	up.AssertCalled(rec, 2)
	up.AssertNotCalled(rec)
	want := []string{"status 404, want 200", `header X-A = "1", want "2"`, `body "nope", want "yes"`,
		`does not contain "maybe"`, "received 1 requests, want 2", "received 1 requests, want 0"}
	if len(rec.errors) != len(want) {
		t.Fatalf("failures %q, want %d", rec.errors, len(want))
	}
	for i, w := range want {
		if !strings.Contains(rec.errors[i], w) {
			t.Errorf("failure %d = %q, want it to say %q", i, rec.errors[i], w)
		}
	}
	if !strings.Contains(rec.errors[4], "GET /x") {
		t.Errorf("AssertCalled does not list the requests received: %q", rec.errors[4])
	}
	// Passing assertions say nothing.
	rec.errors = nil
	res.AssertStatus(rec, 404).AssertHeader(rec, "X-A", "1").AssertBody(rec, "nope").AssertHeader(rec, "X-None", "")
	up.AssertCalled(rec, 1)
	if len(rec.errors) != 0 {
		t.Errorf("passing assertions reported %q", rec.errors)
	}
}
