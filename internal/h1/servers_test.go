package h1

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

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
