package apigate

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigate-go/apigate/internal/porttest"
	"github.com/apigate-go/apigate/observe"
)

// TestRetriedAnswerThenRetryFails checks what the RetryOptions.Statuses
// doc says of an answer that was retried: the client gets what the last
// attempt brought, here the gateway's error for a connection refused, not
// the earlier answer, whose body went before the retry. Each backend
// counts what it saw.
func TestRetriedAnswerThenRetryFails(t *testing.T) {
	var seen atomic.Int32
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		w.Header().Set("X-From", "a")
		w.WriteHeader(503)
		io.WriteString(w, "a is busy")
	}))
	defer a.Close()
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), a.URL, "http://"+porttest.Refused(t)),
		WithOutlierDetection(OutlierOptions{Disable: true}),
		WithRetries(RetryOptions{Statuses: []int{503}, Backoff: time.Millisecond}))
	for range 4 {
		res, body := get(t, gw.URL+"/x")
		switch {
		case res.StatusCode == 503 && body == "a is busy":
			// a answered second, after the refused port: the last answer.
		case res.StatusCode == 502 && res.Header.Get("X-From") == "":
			// a answered first, and its retry was refused.
		default:
			t.Errorf("client got %d %q (X-From %q); want a's 503 when a answered last, else 502",
				res.StatusCode, body, res.Header.Get("X-From"))
		}
	}
	if n := seen.Load(); n != 4 {
		t.Errorf("a saw %d requests, want 4 (one per request: the other attempt goes to the refused port)", n)
	}
}

// TestNoRetryPastDeadline checks that a retry whose backoff runs to the
// request's deadline is not sent: sent with no time left, it failed at
// once, and outlier detection charged the backend it went to, which saw
// nothing (a healthy backend could be ejected for another's slowness).
func TestNoRetryPastDeadline(t *testing.T) {
	hang := newBlocker(t)
	ok1, ok2 := newEcho(t), newEcho(t)
	log := &eventLog{}
	_, gw := serveGateway(t, Mount(Service("/", GET("/x", Timeout(300*time.Millisecond))), hang.URL, ok1.URL, ok2.URL),
		WithObserver(log),
		WithOutlierDetection(OutlierOptions{Failures: 1, MaxEjectedPercent: 100}),
		WithRetries(RetryOptions{PerTryTimeout: 200 * time.Millisecond, Backoff: time.Second, MaxBackoff: time.Second}))
	res, _ := get(t, gw.URL+"/x")
	if res.StatusCode != 504 {
		t.Errorf("status %d, want 504: the hung attempt's timeout stands", res.StatusCode)
	}
	seen := ok1.count() + ok2.count()
	if seen != 0 {
		t.Errorf("the healthy backends saw %d requests, want 0: no retry fits in the time left", seen)
	}
	for _, e := range log.take() {
		if (e.Kind == observe.UpstreamFailed || e.Kind == observe.BackendEjected) && e.Addr != hang.URL {
			t.Errorf("%s on %s, which saw %d requests (healthy backends saw %d in all)", e.Kind, e.Addr, map[string]int{ok1.URL: ok1.count(), ok2.URL: ok2.count()}[e.Addr], seen)
		}
	}
}
