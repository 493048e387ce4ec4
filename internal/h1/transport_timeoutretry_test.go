package h1

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// A request that timed out waiting for its response head
// (ResponseHeaderTimeout) reached the upstream, which is slow, not gone:
// it must not be sent again on a new connection. net/http retries only
// when the reused connection was found closed. h1 retried any failure
// before the first byte of the response, so a slow upstream got every
// GET, PUT or DELETE twice and the caller waited twice the timeout.
func noRetryAfterTimeout(t *testing.T, rt http.RoundTripper) {
	var slowCalls atomic.Int32
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			slowCalls.Add(1)
			time.Sleep(400 * time.Millisecond)
		}
		io.WriteString(w, "ok")
	}))
	// A first exchange leaves an idle connection in the pool.
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	res, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, res)

	req, _ = http.NewRequest("PUT", srv.URL+"/slow", nil)
	start := time.Now()
	_, err = rt.RoundTrip(req)
	took := time.Since(start)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("slow request: %v, want a timeout", err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := slowCalls.Load(); n != 1 {
		t.Errorf("upstream got the timed-out request %d times, want 1 (timeout after %v)", n, took)
	}
}

func TestNoRetryAfterHeaderTimeout(t *testing.T) {
	tr := New(Options{ResponseHeaderTimeout: 100 * time.Millisecond})
	defer tr.CloseIdleConnections()
	noRetryAfterTimeout(t, tr)
}

func TestNoRetryAfterHeaderTimeoutNetHTTP(t *testing.T) {
	tr := &http.Transport{ResponseHeaderTimeout: 100 * time.Millisecond}
	defer tr.CloseIdleConnections()
	noRetryAfterTimeout(t, tr)
}
