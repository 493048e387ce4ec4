package h1

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestServerRejects sends malformed or unsupported requests: each must get
// an error response, the connection closed after it, and no handler call.
func TestServerRejects(t *testing.T) {
	const host = "Host: h\r\n"
	big := "X-Big: " + strings.Repeat("b", 16<<10) + "\r\n"
	tests := []struct {
		name string
		raw  string
		want []int // acceptable status codes
	}{
		// Request line.
		{"garbage request line", "GARBAGE\r\n\r\n", []int{400}},
		{"missing version", "GET /\r\n" + host + "\r\n", []int{400}},
		{"extra token after version", "GET / HTTP/1.1 x\r\n" + host + "\r\n", []int{400}},
		{"double space", "GET  / HTTP/1.1\r\n" + host + "\r\n", []int{400}},
		{"empty method", " / HTTP/1.1\r\n" + host + "\r\n", []int{400}},
		{"lower-case version", "GET / http/1.1\r\n" + host + "\r\n", []int{400}},
		{"malformed version", "GET / HTTP/1.1.1\r\n" + host + "\r\n", []int{400}},
		{"non-token method", "G(T / HTTP/1.1\r\n" + host + "\r\n", []int{400}},
		{"relative target", "GET x HTTP/1.1\r\n" + host + "\r\n", []int{400}},
		{"control byte in target", "GET /a\x01b HTTP/1.1\r\n" + host + "\r\n", []int{400}},
		{"HTTP/2.0", "GET / HTTP/2.0\r\n" + host + "\r\n", []int{505}},
		{"HTTP/3.0", "GET / HTTP/3.0\r\n" + host + "\r\n", []int{505}},
		{"HTTP/0.9", "GET / HTTP/0.9\r\n" + host + "\r\n", []int{505}},

		// Header names and lines.
		{"space before colon", "GET / HTTP/1.1\r\n" + host + "X-A : v\r\n\r\n", []int{400}},
		{"space before colon in Host", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", []int{400}},
		{"space inside name", "GET / HTTP/1.1\r\n" + host + "X A: v\r\n\r\n", []int{400}},
		{"non-token name", "GET / HTTP/1.1\r\n" + host + "X(A): v\r\n\r\n", []int{400}},
		{"empty name", "GET / HTTP/1.1\r\n" + host + ": v\r\n\r\n", []int{400}},
		{"line without colon", "GET / HTTP/1.1\r\n" + host + "NoColonHere\r\n\r\n", []int{400}},
		{"obs-fold space", "GET / HTTP/1.1\r\n" + host + "X-A: a\r\n  b\r\n\r\n", []int{400}},
		{"obs-fold tab", "GET / HTTP/1.1\r\n" + host + "X-A: a\r\n\tb\r\n\r\n", []int{400}},
		{"whitespace before first header", "GET / HTTP/1.1\r\n X-A: a\r\n" + host + "\r\n", []int{400}},

		// Header values.
		{"CR in value", "GET / HTTP/1.1\r\n" + host + "X-A: a\rb\r\n\r\n", []int{400}},
		{"CR at start of value", "GET / HTTP/1.1\r\n" + host + "X-A:\rb\r\n\r\n", []int{400}},
		{"CR at end of value", "GET / HTTP/1.1\r\n" + host + "X-A: a\r\r\n\r\n", []int{400}},
		{"NUL in value", "GET / HTTP/1.1\r\n" + host + "X-A: a\x00b\r\n\r\n", []int{400}},
		{"bare LF in value", "GET / HTTP/1.1\r\n" + host + "X-A: a\nb\r\n\r\n", []int{400}},

		// Host.
		{"HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX-A: a\r\n\r\n", []int{400}},
		{"two Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", []int{400}},
		{"two identical Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", []int{400}},

		// Content-Length and Transfer-Encoding.
		{"Content-Length non-numeric", "POST / HTTP/1.1\r\n" + host + "Content-Length: abc\r\n\r\n", []int{400}},
		{"Content-Length negative", "POST / HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n", []int{400}},
		{"Content-Length plus sign", "POST / HTTP/1.1\r\n" + host + "Content-Length: +5\r\n\r\nhello", []int{400}},
		{"Content-Length empty", "POST / HTTP/1.1\r\n" + host + "Content-Length:\r\n\r\n", []int{400}},
		{"Content-Length overflow", "POST / HTTP/1.1\r\n" + host + "Content-Length: 99999999999999999999\r\n\r\n", []int{400}},
		{"Content-Length two values", "POST / HTTP/1.1\r\n" + host + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab", []int{400}},
		{"Content-Length with Transfer-Encoding", "POST / HTTP/1.1\r\n" + host +
			"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", []int{400}},
		{"Transfer-Encoding with Content-Length", "POST / HTTP/1.1\r\n" + host +
			"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n", []int{400}},
		{"Transfer-Encoding gzip", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n", []int{501}},
		{"trailer declaring Content-Length", "POST / HTTP/1.1\r\n" + host +
			"Transfer-Encoding: chunked\r\nTrailer: Content-Length\r\n\r\n0\r\nContent-Length: 5\r\n\r\n", []int{400}},
		{"Transfer-Encoding chunked, gzip", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked, gzip\r\n\r\n", []int{501}},
		{"Transfer-Encoding gzip, chunked", "POST / HTTP/1.1\r\n" + host +
			"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", []int{501}},
		{"two Transfer-Encoding fields", "POST / HTTP/1.1\r\n" + host +
			"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []int{400, 501}},

		// Limits and expectations.
		{"headers over MaxHeaderBytes", "GET / HTTP/1.1\r\n" + host + big + "\r\n", []int{431}},
		{"Expect other than 100-continue", "GET / HTTP/1.1\r\n" + host + "Expect: something-else\r\n\r\n", []int{417}},
	}
	hs := startHarness(t, pathEcho, ServerOptions{MaxHeaderBytes: 4 << 10})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hs.calls.Load()
			c := hs.dial(t)
			c.send(tt.raw)
			res, err := http.ReadResponse(c.br, nil)
			if err != nil {
				t.Fatalf("request %.80q: reading response: %v, want status %v", tt.raw, err, tt.want)
			}
			c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := io.ReadAll(res.Body); err != nil {
				t.Errorf("request %.80q: reading the %d response's body: %v", tt.raw, res.StatusCode, err)
			}
			if !slices.Contains(tt.want, res.StatusCode) {
				t.Errorf("request %.80q: status = %d, want %v", tt.raw, res.StatusCode, tt.want)
			}
			if n := hs.calls.Load() - before; n != 0 {
				t.Errorf("request %.80q: handler called %d times, want 0", tt.raw, n)
			}
			c.wantClosed()
		})
	}
}

// TestServerDefaultMaxHeaderBytes checks the 1 MiB default: a head just
// under it is served, one well over it is refused without a handler call.
func TestServerDefaultMaxHeaderBytes(t *testing.T) {
	hs := startHarness(t, pathEcho, ServerOptions{})

	c := hs.dial(t)
	ok := "GET /ok HTTP/1.1\r\nHost: h\r\nX-Big: " + strings.Repeat("a", 1<<20-200) + "\r\n\r\n"
	if res, body := c.roundTrip("GET", ok); res.StatusCode != 200 || body != "/ok" {
		t.Fatalf("head of %d bytes: %d %q, want 200 %q", len(ok), res.StatusCode, body, "/ok")
	}

	before := hs.calls.Load()
	c = hs.dial(t)
	tooBig := "GET /big HTTP/1.1\r\nHost: h\r\nX-Big: " + strings.Repeat("a", 1<<20+8<<10) + "\r\n\r\n"
	go c.nc.Write([]byte(tooBig)) // may fail once the server closes
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatalf("head of %d bytes: reading response: %v, want 431", len(tooBig), err)
	}
	res.Body.Close()
	if res.StatusCode != 431 {
		t.Errorf("head of %d bytes: status = %d, want 431", len(tooBig), res.StatusCode)
	}
	if n := hs.calls.Load() - before; n != 0 {
		t.Errorf("head of %d bytes: handler called %d times, want 0", len(tooBig), n)
	}
}
