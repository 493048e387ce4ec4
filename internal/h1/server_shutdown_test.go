package h1

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// blockingHandler returns a handler that signals entered, waits for free,
// then writes "done". Register free with t.Cleanup after startHarness.
func blockingHandler() (h http.Handler, entered <-chan struct{}, free func()) {
	in := make(chan struct{}, 16)
	release := make(chan struct{})
	var once sync.Once
	h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in <- struct{}{}
		<-release
		io.WriteString(w, "done")
	})
	return h, in, func() { once.Do(func() { close(release) }) }
}

// waitEntered waits up to 2s for a blocking handler to be called.
func waitEntered(t *testing.T, entered <-chan struct{}) {
	t.Helper()
	select {
	case <-entered:
	case <-time.After(2 * time.Second):
		t.Fatal("handler not called within 2s")
	}
}

// drainConn reads until EOF or an error, with a deadline of d; it
// returns what was read, the time it took and the error (nil for EOF).
func drainConn(c *rawClient, d time.Duration) (string, time.Duration, error) {
	start := time.Now()
	c.nc.SetReadDeadline(start.Add(d))
	b, err := io.ReadAll(c.br)
	return string(b), time.Since(start), err
}

func TestServerReadHeaderTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	tests := []struct {
		name    string
		opts    ServerOptions
		send    string
		trickle bool // keep sending header lines every 50ms
	}{
		{"stalled half head", ServerOptions{ReadHeaderTimeout: timeout}, "GET / HTTP/1.1\r\nHost: h\r\n", false},
		{"trickled head", ServerOptions{ReadHeaderTimeout: timeout}, "GET / HTTP/1.1\r\nHost: h\r\n", true},
		{"silent new connection", ServerOptions{ReadHeaderTimeout: timeout}, "", false},
		{"shorter than ReadTimeout", ServerOptions{ReadHeaderTimeout: timeout, ReadTimeout: 10 * time.Second},
			"GET / HTTP/1.1\r\nHost: h\r\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := startHarness(t, nil, tt.opts)
			c := hs.dial(t)
			if tt.send != "" {
				c.send(tt.send)
			}
			stop := make(chan struct{})
			defer close(stop)
			if tt.trickle {
				go func() {
					for {
						select {
						case <-stop:
							return
						case <-time.After(50 * time.Millisecond):
						}
						if _, err := io.WriteString(c.nc, "X-More: 1\r\n"); err != nil {
							return
						}
					}
				}()
			}
			got, took, err := drainConn(c, 2*time.Second)
			if isTimeout(err) {
				t.Fatalf("connection still open after %v with ReadHeaderTimeout %v (sent %q)", took, timeout, tt.send)
			}
			if !isClosedErr(err) {
				t.Errorf("read: %v, want EOF", err)
			}
			if got != "" && !strings.HasPrefix(got, "HTTP/1.1 408 ") {
				t.Errorf("got %.80q, want nothing or a 408 response", got)
			}
			if took < timeout*3/4 {
				t.Errorf("closed after %v, before ReadHeaderTimeout %v", took, timeout)
			}
			if n := hs.calls.Load(); n != 0 {
				t.Errorf("handler called %d times, want 0", n)
			}
		})
	}
	t.Run("body not bounded", func(t *testing.T) {
		hs := startHarness(t, echoBody, ServerOptions{ReadHeaderTimeout: timeout})
		c := hs.dial(t)
		c.send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n")
		time.Sleep(2 * timeout)
		res, body := c.roundTrip("POST", "hello")
		if res.StatusCode != 200 || body != "hello" {
			t.Errorf("body sent %v after the head: %d %q, want 200 %q", 2*timeout, res.StatusCode, body, "hello")
		}
	})
}

func TestServerReadTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	type result struct {
		err  error
		took time.Duration
	}
	results := make(chan result, 1)
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		_, err := io.ReadAll(r.Body)
		results <- result{err, time.Since(start)}
	}), ServerOptions{ReadTimeout: timeout})
	c := hs.dial(t)
	c.send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
	select {
	case r := <-results:
		if r.err == nil {
			t.Errorf("reading a stalled body with ReadTimeout %v: no error", timeout)
		}
		if r.took > 2*time.Second {
			t.Errorf("reading a stalled body failed after %v, want about %v", r.took, timeout)
		}
	case <-time.After(3 * time.Second):
		t.Fatalf("reading a stalled body with ReadTimeout %v still blocked after 3s", timeout)
	}
}

func TestServerIdleTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	hs := startHarness(t, pathEcho, ServerOptions{IdleTimeout: timeout})

	t.Run("idle connection closed", func(t *testing.T) {
		c := hs.dial(t)
		c.roundTrip("GET", "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
		got, took, err := drainConn(c, 2*time.Second)
		if isTimeout(err) {
			t.Fatalf("idle connection still open after %v with IdleTimeout %v", took, timeout)
		}
		if got != "" || !isClosedErr(err) {
			t.Errorf("read %q, %v; want EOF", got, err)
		}
		if took < timeout*3/4 {
			t.Errorf("closed after %v, before IdleTimeout %v", took, timeout)
		}
	})
	t.Run("request body not bounded", func(t *testing.T) {
		hs := startHarness(t, echoBody, ServerOptions{IdleTimeout: timeout})
		c := hs.dial(t)
		c.send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n")
		time.Sleep(2 * timeout)
		res, body := c.roundTrip("POST", "hello")
		if res.StatusCode != 200 || body != "hello" {
			t.Errorf("body sent %v after the head, IdleTimeout %v: %d %q, want 200 %q (the idle deadline must not bound a request)",
				2*timeout, timeout, res.StatusCode, body, "hello")
		}
	})
	t.Run("busy connection kept", func(t *testing.T) {
		c := hs.dial(t)
		// Eight requests a quarter of the timeout apart: twice the timeout
		// in all, each within it of the last.
		for i := range 8 {
			if res, body := c.roundTrip("GET", "GET /busy HTTP/1.1\r\nHost: h\r\n\r\n"); body != "/busy" {
				t.Fatalf("request %d: %d %q, want 200 %q", i, res.StatusCode, body, "/busy")
			}
			time.Sleep(timeout / 4)
		}
	})
}

func TestServerWriteTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	type result struct {
		err     error
		written int
	}
	results := make(chan result, 1)
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 64<<10))
		stop := time.Now().Add(3 * time.Second)
		var err error
		n := 0
		for err == nil && time.Now().Before(stop) {
			var k int
			k, err = w.Write(chunk)
			n += k
		}
		results <- result{err, n}
	}), ServerOptions{WriteTimeout: timeout})
	c := hs.dial(t)
	c.nc.(*net.TCPConn).SetReadBuffer(4 << 10)
	c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n") // and never read
	select {
	case r := <-results:
		if r.err == nil {
			t.Errorf("writing to a client that never reads with WriteTimeout %v: no error after 3s (%d bytes)", timeout, r.written)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler still writing after 5s")
	}
}

func TestServerShutdownIdle(t *testing.T) {
	hs := startHarness(t, pathEcho, ServerOptions{})
	c := hs.dial(t)
	c.roundTrip("GET", "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		errc <- hs.srv.Shutdown(ctx)
	}()
	if err := c.closedWithin(time.Second); err != nil {
		t.Errorf("idle connection during Shutdown: %v", err)
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Shutdown = %v, want nil", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Shutdown with only idle connections did not return within 2s")
	}
	if ok, err := hs.waitServe(2 * time.Second); !ok || !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve = %v (returned: %v), want %v", err, ok, http.ErrServerClosed)
	}
}

func TestServerShutdownInFlight(t *testing.T) {
	h, entered, free := blockingHandler()
	hs := startHarness(t, h, ServerOptions{})
	t.Cleanup(free)
	c := hs.dial(t)
	c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	waitEntered(t, entered)

	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		errc <- hs.srv.Shutdown(ctx)
	}()
	// Shutdown closes the listener first: wait for new dials to fail.
	refused := false
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		nc, err := net.Dial("tcp", hs.addr)
		if err != nil {
			refused = true
			break
		}
		nc.Close()
	}
	if !refused {
		t.Error("listener still accepting 2s after Shutdown started")
	}
	select {
	case err := <-errc:
		t.Fatalf("Shutdown returned %v while a request was in flight", err)
	default:
	}
	if ok, err := hs.waitServe(2 * time.Second); !ok || !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve = %v (returned: %v), want %v", err, ok, http.ErrServerClosed)
	}

	free()
	res, body := c.read("GET")
	if res.StatusCode != 200 || body != "done" {
		t.Errorf("in-flight response = %d %q, want 200 %q", res.StatusCode, body, "done")
	}
	if !res.Close {
		t.Error("in-flight response during Shutdown lacks Connection: close")
	}
	c.wantClosed()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Shutdown = %v, want nil", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Shutdown did not return within 2s of the last request finishing")
	}
}

func TestServerShutdownContextDone(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expiring, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	tests := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"canceled", canceled, context.Canceled},
		{"deadline", expiring, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, entered, free := blockingHandler()
			hs := startHarness(t, h, ServerOptions{})
			t.Cleanup(free)
			c := hs.dial(t)
			c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
			waitEntered(t, entered)
			errc := make(chan error, 1)
			go func() { errc <- hs.srv.Shutdown(tt.ctx) }()
			select {
			case err := <-errc:
				if !errors.Is(err, tt.want) {
					t.Errorf("Shutdown = %v, want %v", err, tt.want)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("Shutdown with a done context did not return within 2s")
			}
		})
	}
}

func TestServerCloseCutsActive(t *testing.T) {
	h, entered, free := blockingHandler()
	hs := startHarness(t, h, ServerOptions{})
	t.Cleanup(free)
	c := hs.dial(t)
	c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	waitEntered(t, entered)
	hs.srv.Close()
	got, took, err := drainConn(c, 2*time.Second)
	if isTimeout(err) {
		t.Fatalf("active connection still open %v after Close", took)
	}
	if got != "" {
		t.Errorf("got %.80q after Close, want nothing", got)
	}
	if ok, err := hs.waitServe(2 * time.Second); !ok || !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve = %v (returned: %v), want %v", err, ok, http.ErrServerClosed)
	}
}

func TestServerServeAfterShutdown(t *testing.T) {
	hs := startHarness(t, nil, ServerOptions{})
	if err := hs.srv.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	errc := make(chan error, 1)
	go func() { errc <- hs.srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve after Shutdown = %v, want %v", err, http.ErrServerClosed)
		}
	case <-time.After(2 * time.Second):
		ln.Close()
		t.Error("Serve after Shutdown still serving after 2s, want it to return http.ErrServerClosed")
	}
}
