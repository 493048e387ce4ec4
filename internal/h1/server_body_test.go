package h1

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServerUnreadBody checks that a small body the handler ignores is
// discarded, so the next request on the connection parses correctly.
func TestServerUnreadBody(t *testing.T) {
	tests := []struct {
		name  string
		first string
	}{
		{"Content-Length", "POST /skip HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789"},
		{"chunked", "POST /skip HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"a;x=y\r\n0123456789\r\n3\r\nabc\r\n0\r\n\r\n"},
		{"chunked with trailer", "POST /skip HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n" +
			"a\r\n0123456789\r\n0\r\nX-T: v\r\n\r\n"},
		{"body that looks like a request", "POST /skip HTTP/1.1\r\nHost: h\r\nContent-Length: 35\r\n\r\n" +
			"GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var paths []string
			hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				paths = append(paths, r.URL.Path)
				mu.Unlock()
				io.WriteString(w, r.URL.Path)
			}), ServerOptions{})
			c := hs.dial(t)
			c.send(tt.first + "GET /next HTTP/1.1\r\nHost: h\r\n\r\n")
			for _, want := range []string{"/skip", "/next"} {
				res, body := c.read("GET")
				if res.StatusCode != 200 || body != want {
					t.Fatalf("response = %d %q, want 200 %q", res.StatusCode, body, want)
				}
				if res.Close {
					t.Fatalf("response to %s has Connection: close (the pipelined rest is dropped); "+
						"want the small unread body discarded and the connection kept", want)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if got := strings.Join(paths, " "); got != "/skip /next" {
				t.Errorf("handler saw paths %q, want %q", got, "/skip /next")
			}
		})
	}
}

// TestServerLargeUnreadBody checks that a large body the handler ignores
// ends the connection after the response instead of being parsed as the
// next request.
func TestServerLargeUnreadBody(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		io.WriteString(w, "ignored")
	}), ServerOptions{})
	c := hs.dial(t)
	// The declared 1 MiB body starts with what looks like a request and
	// never arrives in full.
	res, body := c.roundTrip("POST", "POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 1048576\r\n\r\n"+
		"GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n")
	if res.StatusCode != 200 || body != "ignored" {
		t.Fatalf("response = %d %q, want 200 %q", res.StatusCode, body, "ignored")
	}
	c.wantClosed()
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(paths, " "); got != "/big" {
		t.Errorf("handler saw paths %q, want %q", got, "/big")
	}
}

// TestServerExpectContinue checks that "100 Continue" is sent when the
// handler starts reading the body, and only then.
func TestServerExpectContinue(t *testing.T) {
	for _, expect := range []string{"100-continue", "100-Continue"} {
		t.Run("read/"+expect, func(t *testing.T) {
			entered := make(chan struct{})
			release := make(chan struct{})
			hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(entered)
				<-release
				b, err := io.ReadAll(r.Body)
				if err != nil {
					w.WriteHeader(500)
				}
				w.Write(b)
			}), ServerOptions{})
			c := hs.dial(t)
			c.send("POST / HTTP/1.1\r\nHost: h\r\nExpect: " + expect + "\r\nContent-Length: 5\r\n\r\n")
			select {
			case <-entered:
			case <-time.After(2 * time.Second):
				close(release)
				t.Fatal("handler not called within 2s for a request with Expect: 100-continue and no body yet")
			}
			c.nc.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
			early, err := c.br.Peek(1)
			c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			close(release)
			if !isTimeout(err) {
				t.Fatalf("before the handler read the body: got %q, %v; want nothing sent", early, err)
			}
			res, _ := c.read("POST")
			if res.StatusCode != 100 {
				t.Fatalf("first response status = %d, want 100", res.StatusCode)
			}
			c.send("hello")
			res, body := c.read("POST")
			if res.StatusCode != 200 || body != "hello" {
				t.Errorf("final response = %d %q, want 200 %q", res.StatusCode, body, "hello")
			}
		})
	}
	t.Run("not read", func(t *testing.T) {
		hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "no thanks")
		}), ServerOptions{})
		c := hs.dial(t)
		c.send("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
		res, body := c.read("POST")
		if res.StatusCode != 200 || body != "no thanks" {
			t.Errorf("first response = %d %q, want 200 %q (no 100 Continue)", res.StatusCode, body, "no thanks")
		}
	})
}

// TestServerReadBodyThenRespond checks a handler echoing bodies of various
// framings and sizes read through http.Client.
func TestServerReadBodyThenRespond(t *testing.T) {
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(500)
		}
		w.Write(b)
	}), ServerOptions{})
	cl := hs.client(t)
	tests := []struct {
		name    string
		size    int
		chunked bool
	}{
		{"empty", 0, false},
		{"small", 100, false},
		{"1 MiB Content-Length", 1 << 20, false},
		{"1 MiB chunked", 1 << 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := strings.Repeat("0123456789abcdef", tt.size/16+1)[:tt.size]
			var body io.Reader = strings.NewReader(want)
			if tt.chunked {
				body = struct{ io.Reader }{body} // hides the length
			}
			req, err := http.NewRequest("PUT", hs.url("/echo"), body)
			if err != nil {
				t.Fatal(err)
			}
			res, err := cl.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			got, err := io.ReadAll(res.Body)
			if err != nil || string(got) != want {
				t.Errorf("echo of %d bytes: got %d bytes, %v", tt.size, len(got), err)
			}
		})
	}
}

// TestServerTruncatedBody checks that a body cut short by the client's
// half-close reads as io.ErrUnexpectedEOF, not as a clean end.
func TestServerTruncatedBody(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		anyErr bool // any error will do, not only io.ErrUnexpectedEOF
	}{
		{"Content-Length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc", false},
		{"chunked mid-chunk", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\na\r\nabc", false},
		{"chunked before last chunk", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", false},
		{"chunked in trailer", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errc := make(chan error, 1)
			hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, err := io.ReadAll(r.Body)
				errc <- err
			}), ServerOptions{})
			c := hs.dial(t)
			c.send(tt.raw)
			c.nc.(interface{ CloseWrite() error }).CloseWrite()
			select {
			case err := <-errc:
				if tt.anyErr && err == nil || !tt.anyErr && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("reading a truncated body: %v, want %v", err, io.ErrUnexpectedEOF)
				}
			case <-time.After(3 * time.Second):
				t.Fatal("handler still reading 3s after the client's half-close")
			}
		})
	}
}
