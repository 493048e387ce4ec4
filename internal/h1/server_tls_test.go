package h1

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

// TestTLSHandshakeBounded checks that a TLS client that connects and
// sends nothing is dropped after the shortest of the server's timeouts
// when only WriteTimeout is set, as net/http bounds a handshake by the
// shortest of ReadHeaderTimeout, ReadTimeout and WriteTimeout. Before, the
// handshake waited on the client for as long as it cared to stay.
func TestTLSHandshakeBounded(t *testing.T) {
	ref := httptest.NewUnstartedServer(http.NotFoundHandler())
	ref.StartTLS() // for its certificate
	cfg := ref.TLS.Clone()
	ref.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(http.NotFoundHandler(), ServerOptions{WriteTimeout: 200 * time.Millisecond})
	go srv.Serve(tls.NewListener(ln, cfg))
	defer srv.Close()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the server still held a silent TLS client after %v", time.Since(start).Round(time.Millisecond))
	}
	// The server closed the connection (EOF, or a reset).
}
