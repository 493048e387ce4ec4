package h1

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// TestServerHeadDeadlineWithBytesReadAhead sends requests followed by
// the start of something the client never finishes, with short
// timeouts: the server must close the connection, whatever it had
// already read ahead. Every wait for a request head is bounded by
// ReadHeaderTimeout, else ReadTimeout, else IdleTimeout; the rest of a
// body the handler left unread is read on the way to the next head, and
// bounded like it.
func TestServerHeadDeadlineWithBytesReadAhead(t *testing.T) {
	const (
		partialHead = "GET /next HTTP/1.1\r\nHost: a\r\n"
		postOne     = "POST /one HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nA"
	)
	inputs := []struct {
		name    string
		send    string
		answers int // responses before the stall
	}{
		{"empty lines and a partial head after a body", postOne + "\r\n\r\n" + partialHead, 1},
		{"partial head after a body", postOne + partialHead, 1},
		{"partial head after a pipelined request", "GET /one HTTP/1.1\r\nHost: a\r\n\r\n" + partialHead, 1},
		{"partial head after two pipelined requests", "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n\r\n" + partialHead, 2},
		{"empty lines only", "\r\n\r\n\r\n", 0},
		{"empty lines only after a request", "GET /one HTTP/1.1\r\nHost: a\r\n\r\n\r\n\r\n", 1},
		{"bare LF lines and a partial head after a request", "GET /one HTTP/1.1\nHost: a\n\n\n\n" + partialHead, 1},
		{"head ending in a bare CR after a request", "GET /one HTTP/1.1\r\nHost: a\r\n\r\n" + partialHead + "\r", 1},
		{"partial chunked body left unread", "POST /one HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", 1},
		{"partial chunked body after a pipelined request", "GET /one HTTP/1.1\r\nHost: a\r\n\r\n" +
			"POST /two HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", 2},
	}
	const d = 200 * time.Millisecond
	configs := []struct {
		name string
		o    ServerOptions
	}{
		{"ReadHeaderTimeout and IdleTimeout", ServerOptions{ReadHeaderTimeout: d, IdleTimeout: d}},
		{"ReadHeaderTimeout only", ServerOptions{ReadHeaderTimeout: d}},
		{"ReadTimeout only", ServerOptions{ReadTimeout: d}},
		{"IdleTimeout only", ServerOptions{IdleTimeout: d}},
	}
	for _, cf := range configs {
		t.Run(cf.name, func(t *testing.T) {
			hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, r.URL.Path) // the body is left unread
			}), cf.o)
			for _, in := range inputs {
				t.Run(in.name, func(t *testing.T) {
					t.Parallel()
					c := hs.dial(t)
					c.nc.SetDeadline(time.Now().Add(10 * time.Second))
					c.send(in.send)
					for range in.answers {
						if res, _ := c.read("GET"); res.StatusCode != 200 {
							t.Fatalf("status %d, want 200", res.StatusCode)
						}
					}
					// The bound is generous: what counts is that the
					// server closes at all.
					if err := c.closedWithin(5 * time.Second); err != nil {
						t.Error(err)
					}
				})
			}
		})
	}
}
