package h1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigate-go/apigate/internal/porttest"
)

// oneShotServer answers one request per connection, announcing
// keep-alive, then closes the connection: every pooled connection is
// stale by the next request. closed receives after each close.
func oneShotServer(t *testing.T) (url string, accepted func() int, closed <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	n := 0
	ch := make(chan struct{}, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			n++
			mu.Unlock()
			go func() {
				defer func() { c.Close(); ch <- struct{}{} }()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				b, _ := io.ReadAll(req.Body)
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\nok%s", 2+len(b), b)
			}()
		}
	}()
	return "http://" + ln.Addr().String(), func() int { mu.Lock(); defer mu.Unlock(); return n }, ch
}

func TestStaleConnection(t *testing.T) {
	tests := []struct {
		name   string
		method string
		body   func() io.Reader
		want   string
	}{
		// Replayable: retried on a fresh connection after the reused one
		// fails.
		{"get retried", "GET", func() io.Reader { return nil }, "ok"},
		{"put with GetBody retried", "PUT", func() io.Reader { return strings.NewReader("b") }, "okb"},
		// Not replayable: the reused connection is probed and skipped.
		{"post probed", "POST", func() io.Reader { return io.MultiReader(strings.NewReader("b")) }, "okb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, accepted, closed := oneShotServer(t)
			tr := newTransport(t)
			for i := range 3 {
				req, _ := http.NewRequest(tt.method, url, tt.body())
				res, err := tr.RoundTrip(req)
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if got := readAll(t, res); got != tt.want {
					t.Errorf("request %d: got %q, want %q", i, got, tt.want)
				}
				<-closed
			}
			if got, want := accepted(), 3; got != want {
				t.Errorf("got %d connections, want %d", got, want)
			}
		})
	}
}

func TestContextCancelMidBody(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first")
		if r.URL.Path == "/stream" {
			w.(http.Flusher).Flush()
			<-release
		}
	}))
	tr := newTransport(t)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/stream", nil)
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(res.Body, buf); err != nil {
		t.Fatalf("first part: %v", err)
	}
	cancel()
	_, err = res.Body.Read(buf)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("read after cancel: got %v, want context.Canceled", err)
	}
	res.Body.Close()
	// The connection was not pooled: the next request dials.
	req, _ = http.NewRequest("GET", srv.URL+"/", nil)
	res, err = tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("second request: %v", err)
	}
	readAll(t, res)
	if got, want := conns.Load(), int32(2); got != want {
		t.Errorf("got %d connections, want %d", got, want)
	}
}

func TestContextErrors(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			io.WriteString(w, "x")
			w.(http.Flusher).Flush()
		}
		<-block
	}))
	tr := newTransport(t)
	tests := []struct {
		name   string
		path   string
		ctx    func() (context.Context, context.CancelFunc)
		cancel bool // cancel after the request started
		want   error
	}{
		{"deadline awaiting headers", "/", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, false, context.DeadlineExceeded},
		{"deadline reading body", "/body", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, false, context.DeadlineExceeded},
		{"cancel awaiting headers", "/", func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, true, context.Canceled},
		{"already canceled", "/", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, false, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			if tt.cancel {
				time.AfterFunc(20*time.Millisecond, cancel)
			}
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+tt.path, nil)
			res, err := tr.RoundTrip(req)
			if err == nil {
				_, err = io.ReadAll(res.Body)
				res.Body.Close()
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDialRefused(t *testing.T) {
	addr := porttest.Refused(t)
	tests := []struct {
		name string
		tr   *Transport
	}{
		{"net.Dialer", New(Options{})},
		{"custom DialContext", New(Options{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return nil, errors.New("no route")
		}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
			_, err := tt.tr.RoundTrip(req)
			var oe *net.OpError
			if !errors.As(err, &oe) || oe.Op != "dial" {
				t.Errorf("got %v, want a *net.OpError with Op dial", err)
			}
		})
	}
}

// TestEarlyResponse: an upstream that answers without reading a large
// body is still heard.
func TestEarlyResponse(t *testing.T) {
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
	}))
	tr := newTransport(t)
	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(strings.Repeat("x", 16<<20)))
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	readAll(t, res)
	if got, want := res.StatusCode, http.StatusRequestEntityTooLarge; got != want {
		t.Errorf("got %d, want %d", got, want)
	}
}

func TestUpgrade(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		// The greeting arrives with the 101 head, so the client reads it
		// ahead; then echo.
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nhello;")
		io.Copy(c, br)
	}()
	tr := newTransport(t)
	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	rwc, ok := res.Body.(io.ReadWriteCloser)
	if res.StatusCode != 101 || !ok {
		t.Fatalf("got %d, body %T; want 101 and an io.ReadWriteCloser", res.StatusCode, res.Body)
	}
	defer rwc.Close()
	if _, err := io.WriteString(rwc, "ping"); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, len("hello;ping"))
	if _, err := io.ReadFull(rwc, buf); err != nil || string(buf) != "hello;ping" {
		t.Errorf("got %q, %v; want %q", buf, err, "hello;ping")
	}
}

func TestConcurrentUse(t *testing.T) {
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}))
	tr := newTransport(t)
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				want := fmt.Sprintf("w%d-%d", w, i)
				var body io.Reader
				method := "GET"
				if i%2 == 0 {
					method, body = "POST", strings.NewReader(want)
				}
				req, _ := http.NewRequest(method, srv.URL, body)
				res, err := tr.RoundTrip(req)
				if err != nil {
					t.Errorf("%s: %v", want, err)
					return
				}
				b, err := io.ReadAll(res.Body)
				res.Body.Close()
				if method == "POST" && (err != nil || string(b) != want) {
					t.Errorf("got %q, %v; want %q", b, err, want)
				}
			}
		}()
	}
	wg.Wait()
	if got := conns.Load(); got > workers {
		t.Errorf("got %d connections for %d workers, want at most %d", got, workers, workers)
	}
}

func TestResponseHeaderLimit(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Huge: "+strings.Repeat("h", 4000)+"\r\nContent-Length: 2\r\n\r\nok")
			}()
		}
	}()
	tests := []struct {
		name    string
		limit   int64
		wantErr bool
	}{
		{"under the limit", 8000, false},
		{"over the limit", 2000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := New(Options{MaxResponseHeaderBytes: tt.limit})
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/", nil)
			res, err := tr.RoundTrip(req)
			if err == nil {
				readAll(t, res)
			}
			if gotErr := err != nil; gotErr != tt.wantErr || tt.wantErr && !errors.Is(err, errHeaderTooLarge) {
				t.Errorf("got error %v, want error %v (%v)", err, tt.wantErr, errHeaderTooLarge)
			}
		})
	}
}

func TestResponseHeaderTimeout(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-block
		}
		io.WriteString(w, "ok")
	}))
	tr := New(Options{ResponseHeaderTimeout: 50 * time.Millisecond})
	defer tr.CloseIdleConnections()
	tests := []struct {
		name        string
		path        string
		wantTimeout bool
	}{
		{"fast", "/", false},
		{"slow", "/slow", true},
		{"fast after slow", "/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+tt.path, nil)
			res, err := tr.RoundTrip(req)
			if err == nil {
				readAll(t, res)
			}
			var ne net.Error
			gotTimeout := errors.As(err, &ne) && ne.Timeout()
			if gotTimeout != tt.wantTimeout || !tt.wantTimeout && err != nil {
				t.Errorf("got %v, want timeout %v", err, tt.wantTimeout)
			}
		})
	}
}

// TestFullDuplex: with a body of unknown length, the response is read
// while the body still flows: the upstream echoes each line as it reads
// it, and the client sends the next line only after reading the echo.
func TestFullDuplex(t *testing.T) {
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).EnableFullDuplex()
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		br := bufio.NewReader(r.Body)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			io.WriteString(w, "echo "+line)
			w.(http.Flusher).Flush()
		}
	}))
	tr := newTransport(t)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", srv.URL, pr)
	go io.WriteString(pw, "one\n")
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	br := bufio.NewReader(res.Body)
	for _, line := range []string{"one\n", "two\n", "three\n"} {
		if line != "one\n" {
			go io.WriteString(pw, line)
		}
		got, err := br.ReadString('\n')
		if want := "echo " + line; err != nil || got != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	pw.Close()
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Errorf("after the upload ended: got %q, %v; want a clean end", rest, err)
	}
	res.Body.Close()
}

// TestUploadBodyFails: a streaming body that fails midway ends the
// exchange with the body's error instead of waiting for a response the
// upstream will never send.
func TestUploadBodyFails(t *testing.T) {
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
	}))
	tr := newTransport(t)
	broken := errors.New("client went away")
	tests := []struct {
		name   string
		length int64
	}{
		{"chunked", -1},
		{"large content length", 1 << 20},
		{"small content length", 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			go func() {
				io.WriteString(pw, "part")
				pw.CloseWithError(broken)
			}()
			req, _ := http.NewRequest("POST", srv.URL, pr)
			req.ContentLength = tt.length
			_, err := tr.RoundTrip(req)
			if !errors.Is(err, broken) {
				t.Errorf("got %v, want %v", err, broken)
			}
		})
	}
}
