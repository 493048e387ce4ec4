package apigate

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apigate-go/apigate/observe"
)

func countSelected(ev []observe.Event, addr string) int {
	n := 0
	for _, e := range ev {
		if e.Kind == observe.BackendSelected && e.Addr == addr {
			n++
		}
	}
	return n
}

func TestRetryAndCoolDown(t *testing.T) {
	up := newEcho(t)
	dead := deadURL(t)
	log := &eventLog{}
	svc := Service("/", GET("/x"), POST("/x"), PUT("/j", JSON[lookupIn]()))
	_, gw := serveGateway(t, Mount(svc, dead, up.URL), WithObserver(log), WithPassiveHealth(2, 200*time.Millisecond))

	// Idempotent requests succeed: a refused connection is retried once on
	// the other backend.
	for i := range 4 {
		if res, body := get(t, gw.URL+"/x"); res.StatusCode != 200 {
			t.Fatalf("GET %d: %d %s", i, res.StatusCode, body)
		}
	}
	ev := log.take()
	// Round-robin sends requests 1 and 3 to the dead backend first; after
	// two failures it cools down and is no longer selected.
	if n := countSelected(ev, dead); n != 2 {
		t.Errorf("dead backend selected %d times, want 2 (then cooling down)", n)
	}
	for range 4 {
		get(t, gw.URL+"/x")
	}
	if n := countSelected(log.take(), dead); n != 0 {
		t.Errorf("cooling backend selected %d times, want 0", n)
	}
	// A replayable JSON body on an idempotent method is retried too.
	time.Sleep(250 * time.Millisecond) // cool-down over: the dead one is probed again
	for range 2 {
		req := newReq(t, "PUT", gw.URL+"/j", `{"q":"a"}`)
		req.Header.Set("Content-Type", "application/json")
		if res, body := do(t, req); res.StatusCode != 200 || up.last(t).Body != `{"q":"a"}` {
			t.Fatalf("PUT: %d %s, upstream body %q", res.StatusCode, body, up.last(t).Body)
		}
	}
	if n := countSelected(log.take(), dead); n != 1 {
		t.Errorf("after the cool-down the dead backend was probed %d times, want 1 (then down again)", n)
	}
}

func TestNonIdempotentNeverRetried(t *testing.T) {
	up := newEcho(t)
	dead := deadURL(t)
	_, gw := serveGateway(t, Mount(Service("/", POST("/x")), dead, up.URL), WithPassiveHealth(0, 0))
	statuses := map[int]int{}
	for range 4 {
		res, _ := do(t, newReq(t, "POST", gw.URL+"/x", "payload"))
		statuses[res.StatusCode]++
	}
	if statuses[502] != 2 || statuses[200] != 2 {
		t.Errorf("POST statuses = %v, want two 502 (never retried) and two 200", statuses)
	}
	if up.count() != 2 {
		t.Errorf("live upstream got %d POSTs, want 2", up.count())
	}
}

func TestAllCoolingFailsOpen(t *testing.T) {
	dead := deadURL(t)
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), dead), WithPassiveHealth(1, time.Minute))
	for range 3 {
		res, body := get(t, gw.URL+"/x")
		if res.StatusCode != 502 || !strings.HasPrefix(body, "upstream_unavailable") {
			t.Errorf("got %d %q, want 502 upstream_unavailable (the only backend is still tried)", res.StatusCode, body)
		}
	}
}

func TestClientCancelIsNotAFailure(t *testing.T) {
	started := make(chan struct{}, 8)
	up := newSlowUpstream(t, started)
	log := &eventLog{}
	g, gw := serveGateway(t, Mount(Service("/", GET("/x")), up), WithPassiveHealth(1, time.Minute), WithObserver(log))
	for range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-started; cancel() }()
		req, _ := http.NewRequestWithContext(ctx, "GET", gw.URL+"/x?wait=1", nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}
	// Wait until the gateway has seen all three end as 499.
	var gone int
	for deadline := time.Now().Add(5 * time.Second); gone < 3 && time.Now().Before(deadline); {
		for _, e := range log.take() {
			if e.Kind == observe.UpstreamFailed && e.Status == StatusClientClosedRequest {
				gone++
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if gone != 3 {
		t.Fatalf("saw %d client-closed exchanges, want 3", gone)
	}
	h := g.routes[0].svc.set.Load().health
	if d, f := h.ejected(), h.fails(0); d != 0 || f != 0 {
		t.Errorf("after client cancellations: %d backends down, %d failures counted; want 0 and 0", d, f)
	}
}

// newSlowUpstream answers at once unless ?wait=1, then waits for the
// client to go away. It signals each waiting request on started.
func newSlowUpstream(t *testing.T, started chan<- struct{}) string {
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("wait") == "1" {
			started <- struct{}{}
			<-r.Context().Done()
			return
		}
		io.WriteString(w, "ok")
	}))
	return s
}
