package h1

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// dialFor connects to addr with a deadline d from now on every read and
// write; the connection closes when the test ends.
func dialFor(t *testing.T, addr string, d time.Duration) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(d))
	return nc
}

// onBothServers runs check against h served by this package's Server
// and, as the reference, by net/http's: a departure from net/http shows
// as the h1 subtest failing alone.
func onBothServers(t *testing.T, h http.Handler, check func(t *testing.T, addr string)) {
	t.Run("h1", func(t *testing.T) {
		hs := startHarness(t, h, ServerOptions{})
		check(t, hs.addr)
	})
	t.Run("net/http", func(t *testing.T) {
		ts := httptest.NewServer(h)
		defer ts.Close()
		check(t, ts.Listener.Addr().String())
	})
}
