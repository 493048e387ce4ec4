package h1

import (
	"bufio"
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

// countingServer starts an httptest server that counts the connections it
// accepted.
func countingServer(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &n
}

func newTransport(t *testing.T) *Transport {
	t.Helper()
	tr := New(Options{})
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	res.Body.Close()
	return string(b)
}

func TestRoundTrip(t *testing.T) {
	type seen struct {
		method, uri, host, body, te string
		cl                          int64
	}
	var mu sync.Mutex
	var got seen
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = seen{r.Method, r.RequestURI, r.Host, string(b), strings.Join(r.TransferEncoding, ","), r.ContentLength}
		mu.Unlock()
		switch r.URL.Path {
		case "/204":
			w.WriteHeader(http.StatusNoContent)
		case "/304":
			w.WriteHeader(http.StatusNotModified)
		default:
			w.Header().Set("X-Echo", r.Header.Get("X-In"))
			fmt.Fprintf(w, "hello %s", b)
		}
	}))
	tr := newTransport(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		name     string
		method   string
		url      string
		host     string
		body     string
		status   int
		wantBody string
		want     seen
	}{
		{"get", "GET", srv.URL + "/a?b=c", "", "", 200, "hello ", seen{"GET", "/a?b=c", host, "", "", 0}},
		{"raw path", "GET", srv.URL + "/files/a%2Fb?x=%20", "", "", 200, "hello ", seen{"GET", "/files/a%2Fb?x=%20", host, "", "", 0}},
		{"host override", "GET", srv.URL + "/", "api.example", "", 200, "hello ", seen{"GET", "/", "api.example", "", "", 0}},
		{"post", "POST", srv.URL + "/p", "", "data", 200, "hello data", seen{"POST", "/p", host, "data", "", 4}},
		{"post empty", "POST", srv.URL + "/p", "", "", 200, "hello ", seen{"POST", "/p", host, "", "", 0}},
		{"head", "HEAD", srv.URL + "/h", "", "", 200, "", seen{"HEAD", "/h", host, "", "", 0}},
		{"204", "GET", srv.URL + "/204", "", "", 204, "", seen{"GET", "/204", host, "", "", 0}},
		{"304", "GET", srv.URL + "/304", "", "", 304, "", seen{"GET", "/304", host, "", "", 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, _ := http.NewRequest(tt.method, tt.url, body)
			req.Host = tt.host
			req.Header.Set("X-In", "v1")
			res, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			b := readAll(t, res)
			if res.StatusCode != tt.status || b != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, b, tt.status, tt.wantBody)
			}
			if tt.status == 200 {
				if got, want := res.Header.Get("X-Echo"), "v1"; got != want {
					t.Errorf("X-Echo: got %q, want %q", got, want)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if got != tt.want {
				t.Errorf("upstream saw %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestKeepAliveReuse(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		wantConns int32
	}{
		{"keep-alive", "/", 1},
		{"connection close", "/close", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/close" {
					w.Header().Set("Connection", "close")
				}
				io.WriteString(w, strings.Repeat("x", 10000))
			}))
			tr := newTransport(t)
			for i := range 5 {
				req, _ := http.NewRequest("GET", srv.URL+tt.path, nil)
				res, err := tr.RoundTrip(req)
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if got := len(readAll(t, res)); got != 10000 {
					t.Fatalf("request %d: got %d bytes, want 10000", i, got)
				}
			}
			if got := conns.Load(); got != tt.wantConns {
				t.Errorf("got %d server connections, want %d", got, tt.wantConns)
			}
		})
	}
}

func TestCloseBeforeEOFDropsConn(t *testing.T) {
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 1<<20))
	}))
	tr := newTransport(t)
	for i := range 2 {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		res, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		buf := make([]byte, 100)
		if _, err := io.ReadFull(res.Body, buf); err != nil {
			t.Fatalf("request %d: read: %v", i, err)
		}
		res.Body.Close()
		if _, err := res.Body.Read(buf); !errors.Is(err, errBodyClosed) {
			t.Errorf("read after Close: got %v, want %v", err, errBodyClosed)
		}
	}
	if got, want := conns.Load(), int32(2); got != want {
		t.Errorf("got %d server connections, want %d", got, want)
	}
}

// TestChunkedUploadStreams proves a body of unknown length reaches the
// upstream as it is written: the upstream reads the first part before
// the client sends the rest.
func TestChunkedUploadStreams(t *testing.T) {
	gotFirst := make(chan struct{})
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 5)
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			t.Errorf("upstream read: %v", err)
			return
		}
		close(gotFirst)
		rest, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s|%s|%v", buf, rest, r.TransferEncoding)
	}))
	tr := newTransport(t)
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("first"))
		select {
		case <-gotFirst:
			pw.Write([]byte("tail"))
			pw.Close()
		case <-time.After(10 * time.Second):
			pw.CloseWithError(errors.New("upstream never saw the first part"))
		}
	}()
	req, _ := http.NewRequest("POST", srv.URL, pr)
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if got, want := readAll(t, res), "first|tail|[chunked]"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestContentLengthUploadStreams is the same with a declared length.
func TestContentLengthUploadStreams(t *testing.T) {
	gotFirst := make(chan struct{})
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 5)
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			t.Errorf("upstream read: %v", err)
			return
		}
		close(gotFirst)
		rest, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s|%s|%d", buf, rest, r.ContentLength)
	}))
	tr := newTransport(t)
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("first"))
		select {
		case <-gotFirst:
			pw.Write([]byte("tail"))
			pw.Close()
		case <-time.After(10 * time.Second):
			pw.CloseWithError(errors.New("upstream never saw the first part"))
		}
	}()
	req, _ := http.NewRequest("POST", srv.URL, pr)
	req.ContentLength = 9
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if got, want := readAll(t, res), "first|tail|9"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestStreamingResponse(t *testing.T) {
	release := make(chan struct{})
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		io.WriteString(w, "second\n")
	}))
	tr := newTransport(t)
	req, _ := http.NewRequest("GET", srv.URL, nil)
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	br := bufio.NewReader(res.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first line: got %q, %v; want %q", line, err, "first\n")
	}
	close(release)
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "second\n" {
		t.Errorf("rest: got %q, %v; want %q", rest, err, "second\n")
	}
	res.Body.Close()
}

func TestResponseTrailers(t *testing.T) {
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		io.WriteString(w, "body")
		w.Header().Set("X-Sum", "42")
	}))
	tr := newTransport(t)
	req, _ := http.NewRequest("GET", srv.URL, nil)
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if got := readAll(t, res); got != "body" {
		t.Errorf("body: got %q, want %q", got, "body")
	}
	if got, want := res.Trailer.Get("X-Sum"), "42"; got != want {
		t.Errorf("trailer: got %q, want %q", got, want)
	}
}

func TestInformationalSkipped(t *testing.T) {
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "done")
	}))
	tr := newTransport(t)
	req, _ := http.NewRequest("GET", srv.URL, nil)
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if got := readAll(t, res); res.StatusCode != 201 || got != "done" {
		t.Errorf("got %d %q, want 201 %q", res.StatusCode, got, "done")
	}
}

func TestRequestErrors(t *testing.T) {
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tr := newTransport(t)
	tests := []struct {
		name  string
		url   string
		setup func(*http.Request)
		want  string
	}{
		{"header value CRLF", srv.URL, func(r *http.Request) { r.Header["X-Bad"] = []string{"a\r\nInjected: 1"} }, "invalid value"},
		{"header name", srv.URL, func(r *http.Request) { r.Header["Bad Name"] = []string{"a"} }, "invalid header name"},
		{"https without dialer", "https://127.0.0.1:1/", func(*http.Request) {}, "DialTLSContext"},
		{"scheme", "ftp://127.0.0.1:1/", func(*http.Request) {}, "unsupported scheme"},
		{"host", srv.URL, func(r *http.Request) { r.Host = "a\nb" }, "invalid Host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", tt.url, nil)
			tt.setup(req)
			_, err := tr.RoundTrip(req)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "h1: ") {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
	// A refused request writes nothing the server could act on.
	req, _ := http.NewRequest("GET", srv.URL, nil)
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("good request after bad ones: %v", err)
	}
	readAll(t, res)
}

// TestReuseAfterStreamedBody: a connection whose request body was written
// by the body goroutine is reused once that body was sent whole.
func TestReuseAfterStreamedBody(t *testing.T) {
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, n)
	}))
	tr := newTransport(t)
	tests := []struct {
		name   string
		length int64
		size   int
	}{
		{"chunked", -1, 1000},
		{"large content length", 200 << 10, 200 << 10},
		{"chunked again", -1, 100 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", srv.URL, io.MultiReader(strings.NewReader(strings.Repeat("z", tt.size))))
			req.ContentLength = tt.length
			res, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			if got, want := readAll(t, res), fmt.Sprint(tt.size); got != want {
				t.Errorf("upstream read %s bytes, want %s", got, want)
			}
			// The body goroutine may finish after the response and
			// return the connection itself.
			if !waitIdle(tr, 1) {
				t.Errorf("connection not returned to the pool")
			}
		})
	}
	if got, want := conns.Load(), int32(1); got != want {
		t.Errorf("got %d connections, want %d", got, want)
	}
}

// waitIdle waits up to 5s until tr holds n idle connections in all.
func waitIdle(tr *Transport, n int) bool {
	for range 500 {
		got := 0
		if m := tr.pools.Load(); m != nil {
			for _, p := range *m {
				p.mu.Lock()
				got += len(p.idle)
				p.mu.Unlock()
			}
		}
		if got == n {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// TestDeadlineStaysOnIdleConnection checks the promise of
// RoundTripDeadline's lazy clearing: an exchange's deadline, left on the
// pooled connection, neither fails a later exchange without one nor makes
// the liveness probe of a non-replayable request throw the connection
// away after it has passed.
func TestDeadlineStaysOnIdleConnection(t *testing.T) {
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, r.Method)
	}))
	tr := New(Options{})
	defer tr.CloseIdleConnections()
	send := func(method string, deadline time.Time) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL, strings.NewReader("x"))
		req.GetBody = nil // a POST that cannot be replayed: probed before reuse
		res, err := tr.RoundTripDeadline(req, deadline)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || string(b) != method {
			t.Fatalf("%s: body %q, %v", method, b, err)
		}
	}
	send("GET", time.Now().Add(100*time.Millisecond))
	time.Sleep(200 * time.Millisecond) // the deadline passes while the connection idles
	send("POST", time.Time{})
	send("GET", time.Time{})
	if n := conns.Load(); n != 1 {
		t.Errorf("connections = %d, want 1 reused throughout", n)
	}
}
