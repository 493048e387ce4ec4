package h1

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rawUpstream is an upstream over raw TCP. The first request on its first
// connection (or every request) is answered by a script; every other request, on any
// connection, gets an honest 200 whose body is the request's path. It
// records which connection each request arrived on.
type rawUpstream struct {
	url   string
	conns atomic.Int32
	mu    sync.Mutex
	seen  []string // "conn N: METHOD /path", in arrival order
}

// startRawUpstream starts a raw upstream whose first request is answered
// by script, which may read the request's body and reports whether to go
// on serving the connection honestly.
func startRawUpstream(t *testing.T, script func(c net.Conn, req *http.Request) bool) *rawUpstream {
	t.Helper()
	return startScripted(t, script, false)
}

// startScripted starts a raw upstream whose script answers the first
// request, or every request when all is set.
func startScripted(t *testing.T, script func(c net.Conn, req *http.Request) bool, all bool) *rawUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &rawUpstream{url: "http://" + ln.Addr().String()}
	var wg sync.WaitGroup
	var open sync.Map // net.Conn -> struct{}
	t.Cleanup(func() {
		ln.Close()
		open.Range(func(c, _ any) bool { c.(net.Conn).Close(); return true })
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			i := int(u.conns.Add(1)) - 1
			open.Store(c, struct{}{})
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				u.serve(i, c, script, all)
			}()
		}
	}()
	return u
}

func (u *rawUpstream) serve(i int, c net.Conn, script func(net.Conn, *http.Request) bool, all bool) {
	br := bufio.NewReader(c)
	for j := 0; ; j++ {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		u.mu.Lock()
		u.seen = append(u.seen, fmt.Sprintf("conn %d: %s %s", i, req.Method, req.URL.Path))
		u.mu.Unlock()
		if script != nil && (all || i == 0 && j == 0) {
			if !script(c, req) {
				return
			}
			io.Copy(io.Discard, req.Body)
			continue
		}
		io.Copy(io.Discard, req.Body)
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(req.URL.Path), req.URL.Path)
	}
}

func (u *rawUpstream) requests() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.seen...)
}

// poison is a complete response an upstream sends where none was asked
// for: a client that reads it as the answer to its next request hands
// that request's caller a response meant for no one, and every later
// caller on the connection the answer meant for the one before.
const poison = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nPOISON"

// wantOwnResponses sends GETs for /second and /third and checks that each
// gets its own honest response.
func wantOwnResponses(t *testing.T, tr *Transport, u *rawUpstream) {
	t.Helper()
	for _, path := range []string{"/second", "/third"} {
		req, _ := http.NewRequest("GET", u.url+path, nil)
		res, err := tr.RoundTrip(req)
		if err != nil {
			t.Errorf("GET %s: %v", path, err)
			continue
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 || string(b) != path {
			t.Errorf("GET %s: got %d %q (%v), want 200 %q", path, res.StatusCode, b, err, path)
		}
	}
}

// TestTrailingBytesNotPooled: a connection with bytes left after a
// complete response, or whose response broke the framing rules, is
// closed, not pooled, whichever way the bytes come: so the next request
// gets its own response on a new connection.
func TestTrailingBytesNotPooled(t *testing.T) {
	large := strings.Repeat("x", 10000) // more than the connection's read buffer
	tests := []struct {
		name   string
		method string
		header string // a request header, "Name: value"
		reply  string // written as soon as the request arrived
		late   string // written once the client has read the reply
		// What the client sees of the first exchange.
		wantStatus int
		wantBody   string
		wantErr    string
	}{
		{name: "HEAD answered with a body", method: "HEAD",
			reply: "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nPOISON", wantStatus: 200},
		{name: "HEAD answered with a response as body", method: "HEAD",
			reply: "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n" + poison, wantStatus: 200},
		{name: "HEAD body arriving late", method: "HEAD",
			reply: "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n", late: poison, wantStatus: 200},
		{name: "204 with a body", method: "GET",
			reply: "HTTP/1.1 204 No Content\r\n\r\n" + poison, wantStatus: 204},
		{name: "304 with a body", method: "GET",
			reply: "HTTP/1.1 304 Not Modified\r\nContent-Length: 6\r\n\r\n" + poison, wantStatus: 304},
		{name: "body longer than Content-Length", method: "GET",
			reply: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + poison, wantStatus: 200, wantBody: "ok"},
		{name: "large body longer than Content-Length", method: "GET",
			reply:      "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n" + large + poison,
			wantStatus: 200, wantBody: large},
		{name: "body longer than Content-Length, arriving late", method: "GET",
			reply: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", late: poison, wantStatus: 200, wantBody: "ok"},
		{name: "data after the chunked terminator", method: "GET",
			reply:      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n" + poison,
			wantStatus: 200, wantBody: "ok"},
		{name: "data after trailers", method: "GET",
			reply:      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n" + poison,
			wantStatus: 200, wantBody: "ok"},
		{name: "data after a 1xx and a response", method: "GET",
			reply:      "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + poison,
			wantStatus: 200, wantBody: "ok"},
		{name: "1xx followed by garbage", method: "GET",
			reply: "HTTP/1.1 103 Early Hints\r\n\r\nGARBAGE\r\n\r\n" + poison, wantErr: "malformed"},
		{name: "both Content-Length and Transfer-Encoding", method: "GET",
			reply:      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
			wantStatus: 200, wantBody: "ok"},
		{name: "HTTP/1.0 keep-alive with Transfer-Encoding", method: "GET",
			reply:      "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\nok",
			wantStatus: 200, wantBody: "ok"},
		{name: "request with Connection: close", method: "GET", header: "Connection: close",
			reply: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", wantStatus: 200, wantBody: "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read, wrote := make(chan struct{}), make(chan struct{})
			u := startRawUpstream(t, func(c net.Conn, req *http.Request) bool {
				io.WriteString(c, tt.reply)
				if tt.late != "" {
					<-read
					io.WriteString(c, tt.late)
				}
				close(wrote)
				return true // then serve honestly: a reused connection would be read out of step
			})
			tr := newTransport(t)
			req, _ := http.NewRequest(tt.method, u.url+"/first", nil)
			if k, v, ok := strings.Cut(tt.header, ": "); ok {
				req.Header.Set(k, v)
			}
			res, err := tr.RoundTrip(req)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(res.Body)
				res.Body.Close()
			}
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("first: got error %v, want one containing %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("first: %v", err)
			case res.StatusCode != tt.wantStatus || string(body) != tt.wantBody:
				t.Errorf("first: got %d %.40q, want %d %.40q", res.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			close(read)
			<-wrote
			wantOwnResponses(t, tr, u)
			if got, want := u.conns.Load(), int32(2); got != want {
				t.Errorf("upstream saw %d connections, want %d: %q", got, want, u.requests())
			}
		})
	}
}

// TestEarlyResponseThenSmuggled: an upstream answers a large upload
// before reading it, then reads it and answers again (as if part of the
// body were a request): that second answer is not the next request's.
func TestEarlyResponseThenSmuggled(t *testing.T) {
	wrote := make(chan struct{})
	u := startRawUpstream(t, func(c net.Conn, req *http.Request) bool {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly")
		io.Copy(io.Discard, req.Body)
		io.WriteString(c, poison)
		close(wrote)
		return true
	})
	tr := newTransport(t)
	req, _ := http.NewRequest("POST", u.url+"/first", strings.NewReader(strings.Repeat("b", 1<<20)))
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("first: %v", err)
	}
	if got := readAll(t, res); got != "early" {
		t.Errorf("first: got %q, want %q", got, "early")
	}
	<-wrote
	wantOwnResponses(t, tr, u)
}

// closeCounter is a request body that counts its Close calls.
type closeCounter struct {
	io.Reader
	closed chan struct{}
	once   sync.Once
}

func (c *closeCounter) Close() error { c.once.Do(func() { close(c.closed) }); return nil }

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestEarlyResponseStalledUpload: an upstream that answers an upload
// early and then neither reads the rest nor closes does not hold the
// connection and the request body forever: like net/http, the client
// gives the upload a moment to finish after the response ended, then
// closes the connection.
func TestEarlyResponseStalledUpload(t *testing.T) {
	done := make(chan struct{})
	u := startRawUpstream(t, func(c net.Conn, req *http.Request) bool {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly")
		<-done // neither read nor close until the test ends
		return false
	})
	t.Cleanup(func() { close(done) }) // runs before the upstream's cleanup
	tr := newTransport(t)
	body := &closeCounter{Reader: io.LimitReader(zeros{}, 1<<30), closed: make(chan struct{})}
	req, _ := http.NewRequest("POST", u.url+"/first", body)
	req.ContentLength = 1 << 30
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("first: %v", err)
	}
	if got := readAll(t, res); got != "early" {
		t.Errorf("first: got %q, want %q", got, "early")
	}
	select {
	case <-body.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the request body was still being sent 10s after the response ended")
	}
	wantOwnResponses(t, tr, u)
	if got, want := u.conns.Load(), int32(2); got != want {
		t.Errorf("upstream saw %d connections, want %d", got, want)
	}
}

// TestUpstreamClosesMidBody: a body cut short by the upstream's close is
// an error, and the connection is not reused.
func TestUpstreamClosesMidBody(t *testing.T) {
	for _, reply := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcd",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\nX-T: 1\r\n",
	} {
		t.Run(reply[strings.Index(reply, "\n")+1:strings.Index(reply, ":")], func(t *testing.T) {
			u := startRawUpstream(t, func(c net.Conn, req *http.Request) bool {
				io.WriteString(c, reply)
				return false
			})
			tr := newTransport(t)
			req, _ := http.NewRequest("GET", u.url+"/first", nil)
			res, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("first: %v", err)
			}
			_, err = io.ReadAll(res.Body)
			res.Body.Close()
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("got %v, want io.ErrUnexpectedEOF", err)
			}
			wantOwnResponses(t, tr, u)
			if got, want := u.conns.Load(), int32(2); got != want {
				t.Errorf("upstream saw %d connections, want %d", got, want)
			}
		})
	}
}

// TestTrailingBytesNotPooledTLS: over TLS, bytes after a response may
// wait in the TLS layer (decrypted from the record that ended the
// response) or on the socket beneath it; either way the connection is
// not reused.
func TestTrailingBytesNotPooledTLS(t *testing.T) {
	large := strings.Repeat("x", 10000) // the record outgrows the read buffer
	for _, tt := range []struct{ name, reply, want string }{
		{"after a small response", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + poison, "ok"},
		{"after a large response", "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n" + large + poison, large},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var first atomic.Bool
			var conns atomic.Int32
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !first.CompareAndSwap(false, true) {
					io.WriteString(w, r.URL.Path)
					return
				}
				c, brw, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				io.WriteString(c, tt.reply) // one write, one record
				// Then answer honestly, so that reuse reads out of step.
				for {
					req, err := http.ReadRequest(brw.Reader)
					if err != nil {
						return
					}
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(req.URL.Path), req.URL.Path)
				}
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			// Whole records: the one that ends the response holds the
			// bytes after it.
			srv.TLS = &tls.Config{DynamicRecordSizingDisabled: true}
			srv.StartTLS()
			defer srv.Close()
			cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig
			tr := New(Options{DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				d := tls.Dialer{Config: cfg}
				return d.DialContext(ctx, network, addr)
			}})
			defer tr.CloseIdleConnections()
			u := &rawUpstream{url: srv.URL}
			req, _ := http.NewRequest("GET", u.url+"/first", nil)
			res, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("first: %v", err)
			}
			// Reads as large as the body: the last goes past the read
			// buffer, straight to the TLS layer.
			b := make([]byte, len(tt.want)+1)
			n, err := io.ReadFull(res.Body, b)
			res.Body.Close()
			if got := string(b[:n]); got != tt.want || err != io.ErrUnexpectedEOF {
				t.Errorf("first: got %.40q (%v), want %.40q", got, err, tt.want)
			}
			wantOwnResponses(t, tr, u)
			if got, want := conns.Load(), int32(2); got != want {
				t.Errorf("upstream saw %d connections, want %d", got, want)
			}
		})
	}
}
