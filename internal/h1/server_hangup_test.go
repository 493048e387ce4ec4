package h1

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A client that sends a request with a body and then closes the
// connection before the server has read the body is gone: once the
// handler has read the body, its context must end, as net/http's does
// (its background read sees the EOF). A proxy otherwise keeps waiting
// on its upstream for a client that left.
func hangupAfterBody(t *testing.T, serve func(http.Handler) (addr string, stop func())) {
	results := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond) // the client hangs up meanwhile
		if _, err := io.ReadAll(r.Body); err != nil {
			results <- nil // the read saw the hang-up
			return
		}
		select {
		case <-r.Context().Done():
			results <- nil
		case <-time.After(2 * time.Second):
			results <- errors.New("request context not done 2s after the client closed the connection")
		}
	})
	addr, stop := serve(h)
	defer stop()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	// A body larger than the server's read-ahead: most of it is still in
	// the socket when the client's FIN arrives.
	body := strings.Repeat("x", 64<<10)
	io.WriteString(nc, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 65536\r\n\r\n"+body)
	time.Sleep(20 * time.Millisecond)
	nc.Close()
	if err := <-results; err != nil {
		t.Error(err)
	}
}

func TestHangupBeforeBodyRead(t *testing.T) {
	hangupAfterBody(t, func(h http.Handler) (string, func()) {
		hs := startHarness(t, h, ServerOptions{})
		return hs.addr, func() {}
	})
}

func TestHangupBeforeBodyReadNetHTTP(t *testing.T) {
	hangupAfterBody(t, func(h http.Handler) (string, func()) {
		ts := httptest.NewServer(h)
		return ts.Listener.Addr().String(), ts.Close
	})
}
