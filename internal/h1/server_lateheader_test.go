package h1

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Framing fields a handler sets after WriteHeader must not reach the
// wire: the ResponseWriter contract says changing the header map after
// WriteHeader has no effect (net/http snapshots it), and here they would
// contradict the framing the server computes itself, giving a response
// two Content-Lengths, or Transfer-Encoding with Content-Length.
var lateFraming = []struct {
	name string
	h    http.HandlerFunc
}{
	{"Content-Length after WriteHeader", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, "hello")
	}},
	{"Content-Length changed after WriteHeader", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		w.WriteHeader(200)
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, "hello")
	}},
	{"Content-Length deleted after WriteHeader", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		w.WriteHeader(200)
		w.Header().Del("Content-Length")
		io.WriteString(w, "hello")
	}},
	{"Transfer-Encoding after WriteHeader", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.Header().Set("Transfer-Encoding", "chunked")
		io.WriteString(w, "hello")
	}},
}

// readHead reads one response's raw head (up to the empty line).
func readHead(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var head strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading head: %v (so far %q)", err, head.String())
		}
		head.WriteString(line)
		if line == "\r\n" {
			return head.String()
		}
	}
}

func checkFraming(t *testing.T, addr string) {
	nc := dialFor(t, addr, 2*time.Second)
	io.WriteString(nc, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	br := bufio.NewReader(nc)
	head := readHead(t, br)
	lower := strings.ToLower(head)
	nCL := strings.Count(lower, "\r\ncontent-length:")
	hasTE := strings.Contains(lower, "\r\ntransfer-encoding:")
	if nCL > 1 || nCL == 1 && hasTE {
		t.Errorf("response head has %d Content-Length fields and Transfer-Encoding %v: %q", nCL, hasTE, head)
	}
	res, err := http.ReadResponse(bufio.NewReader(io.MultiReader(strings.NewReader(head), br)), &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("net/http client cannot read the response: %v", err)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil || string(b) != "hello" {
		t.Errorf("body = %q, %v; want %q", b, err, "hello")
	}
}

func TestLateFramingHeaders(t *testing.T) {
	for _, tt := range lateFraming {
		t.Run(tt.name, func(t *testing.T) { onBothServers(t, tt.h, checkFraming) })
	}
}

// TestLateFramingDesync shows the impact on a kept-alive
// connection: with the Content-Length deleted after WriteHeader, the
// response goes out with no framing at all, and the next response is
// read as the rest of its body.
func TestLateFramingDesync(t *testing.T) {
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/first" {
			w.Header().Set("Content-Length", "5")
			w.WriteHeader(200)
			w.Header().Del("Content-Length")
		}
		io.WriteString(w, "hello")
	}), ServerOptions{})
	c := hs.dial(t)
	c.send("GET /first HTTP/1.1\r\nHost: h\r\n\r\nGET /second HTTP/1.1\r\nHost: h\r\n\r\n")
	res, err := http.ReadResponse(c.br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	c.nc.SetReadDeadline(time.Now().Add(time.Second))
	b, _ := io.ReadAll(res.Body)
	if string(b) != "hello" {
		t.Errorf("first body = %q, want %q", b, "hello")
	}
}
