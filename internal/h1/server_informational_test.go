package h1

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawExchange sends raw on a new connection to addr and returns
// everything the server sent within 500ms (or until it closed).
func rawExchange(t *testing.T, addr, raw string, body string) string {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	io.WriteString(nc, raw)
	br := bufio.NewReader(nc)
	var out strings.Builder
	if body != "" {
		// Wait for the head of the first response before the body.
		nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		out.WriteString(readHead(t, br))
		io.WriteString(nc, body)
	}
	nc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	b, _ := io.ReadAll(br)
	out.Write(b)
	return out.String()
}

// A 1xx response must carry no Content-Length or Transfer-Encoding
// (RFC 9110, sections 8.6 and 6.1): net/http leaves them out of the
// interim head.
var earlyHints = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Link", "</a.css>; rel=preload")
	w.Header().Set("Content-Length", "2")
	w.WriteHeader(http.StatusEarlyHints)
	io.WriteString(w, "ok")
})

func checkEarlyHints(t *testing.T, addr string) {
	out := rawExchange(t, addr, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", "")
	interim, _, _ := strings.Cut(out, "\r\n\r\n")
	if !strings.HasPrefix(interim, "HTTP/1.1 103") {
		t.Fatalf("first response %q, want a 103", interim)
	}
	if strings.Contains(strings.ToLower(interim), "content-length") {
		t.Errorf("103 response carries Content-Length: %q", interim)
	}
}

func TestInformationalNoContentLength(t *testing.T) { onBothServers(t, earlyHints, checkEarlyHints) }

// A handler that sends "100 Continue" itself (WriteHeader(100)) and then
// reads the body must not make the server send a second one: net/http
// sends one.
var explicitContinue = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusContinue)
	b, _ := io.ReadAll(r.Body)
	w.Write(b)
})

func checkExplicitContinue(t *testing.T, addr string) {
	out := rawExchange(t, addr,
		"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", "hello")
	if n := strings.Count(out, "HTTP/1.1 100 Continue\r\n"); n != 1 {
		t.Errorf("%d \"100 Continue\" responses, want 1: %q", n, out)
	}
}

func TestExplicitContinueOnce(t *testing.T) {
	onBothServers(t, explicitContinue, checkExplicitContinue)
}
