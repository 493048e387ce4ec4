package apigate

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestRemovedBackendConnClosed checks that on EngineHTTP1 a connection
// that was carrying a request when its backend left is closed when that
// request ends, as the idle ones are at once: it stayed pooled to the
// removed backend until IdleConnTimeout.
func TestRemovedBackendConnClosed(t *testing.T) {
	if testEngine() != EngineHTTP1 {
		t.Skip("net/http's Transport closes them after IdleConnTimeout, as documented")
	}
	release := make(chan struct{})
	var open atomic.Int32
	a := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		w.Write([]byte("a"))
	}))
	a.Config.ConnState = func(c net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	a.Start()
	defer a.Close()
	b := newEcho(t)
	g, gw := serveGateway(t, Mount(Service("/items", GET("/*rest")), a.URL))
	done := make(chan int)
	go func() {
		res, err := http.Get(gw.URL + "/items/slow")
		if err != nil {
			done <- 0
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	waitFor(t, "the slow request to reach a", func() bool { return open.Load() == 1 })
	if err := g.SetBackends("items", Backend{URL: b.URL}); err != nil {
		t.Fatal(err)
	}
	close(release)
	if s := <-done; s != 200 {
		t.Fatalf("in-flight request: %d, want 200 (it completes on the backend that left)", s)
	}
	if res, _ := get(t, gw.URL+"/items/x"); res.StatusCode != 200 || b.count() != 1 {
		t.Fatalf("after SetBackends: %d, new backend saw %d", res.StatusCode, b.count())
	}
	deadline := time.Now().Add(2 * time.Second)
	for open.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := open.Load(); n != 0 {
		t.Errorf("%d connection(s) to the removed backend still open 2s after its last request ended", n)
	}
}
