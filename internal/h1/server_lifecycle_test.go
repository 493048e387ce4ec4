package h1

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apigate-go/apigate/internal/syncbuf"
)

// TestServerHijack checks that a hijacked connection comes with the bytes
// already buffered after the request, and that the server neither writes
// to nor closes it after the handler returns.
func TestServerHijack(t *testing.T) {
	type result struct {
		remote   string
		writeErr error
		err      error
	}
	results := make(chan result, 1)
	returned := make(chan struct{})
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(returned)
		nc, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			results <- result{err: fmt.Errorf("Hijack: %w", err)}
			return
		}
		_, werr := w.Write([]byte("after hijack"))
		results <- result{remote: nc.RemoteAddr().String(), writeErr: werr}
		go func() {
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(5 * time.Second))
			extra := make([]byte, 5)
			if _, err := io.ReadFull(brw, extra); err != nil {
				return
			}
			fmt.Fprintf(brw, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(extra), extra)
			brw.Flush()
			ping := make([]byte, 4)
			if _, err := io.ReadFull(brw, ping); err != nil {
				return
			}
			brw.WriteString("pong")
			brw.Flush()
		}()
	}), ServerOptions{})
	c := hs.dial(t)
	c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\nEXTRA")
	r := <-results
	if r.err != nil {
		t.Fatal(r.err)
	}
	if want := c.nc.LocalAddr().String(); r.remote != want {
		t.Errorf("hijacked conn RemoteAddr = %s, want %s", r.remote, want)
	}
	if !errors.Is(r.writeErr, http.ErrHijacked) {
		t.Errorf("Write after Hijack = %v, want %v", r.writeErr, http.ErrHijacked)
	}
	res, body := c.read("GET")
	if res.StatusCode != 200 || body != "EXTRA" {
		t.Fatalf("response from the hijacked conn = %d %q, want 200 %q", res.StatusCode, body, "EXTRA")
	}
	<-returned
	time.Sleep(50 * time.Millisecond) // let the server finish with the handler
	c.send("ping")
	pong := make([]byte, 4)
	if _, err := io.ReadFull(c.br, pong); err != nil || string(pong) != "pong" {
		t.Fatalf("after the handler returned: read %q, %v; want %q", pong, err, "pong")
	}
	c.wantClosed() // closed by the hijacker, with nothing from the server
}

// TestServerHijackClearsDeadlines checks that the server's read and write
// deadlines do not carry over to a hijacked connection.
func TestServerHijackClearsDeadlines(t *testing.T) {
	const timeout = 150 * time.Millisecond
	errc := make(chan error, 1)
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			errc <- err
			return
		}
		go func() {
			defer nc.Close()
			time.Sleep(3 * timeout) // past every server deadline
			ping := make([]byte, 4)
			if _, err := io.ReadFull(brw, ping); err != nil {
				errc <- fmt.Errorf("reading the hijacked conn %v after Hijack: %w", 3*timeout, err)
				return
			}
			if _, err := nc.Write([]byte("pong")); err != nil {
				errc <- fmt.Errorf("writing the hijacked conn %v after Hijack: %w", 3*timeout, err)
				return
			}
			errc <- nil
		}()
	}), ServerOptions{ReadHeaderTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, IdleTimeout: timeout})
	c := hs.dial(t)
	c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\nping")
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	pong := make([]byte, 4)
	if _, err := io.ReadFull(c.br, pong); err != nil || string(pong) != "pong" {
		t.Errorf("read %q, %v; want %q", pong, err, "pong")
	}
}

// TestServerHijackOutlivesServer checks that Shutdown does not wait for a
// handler serving a hijacked connection, and that Close leaves that
// connection alone.
func TestServerHijackOutlivesServer(t *testing.T) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer nc.Close()
		nc.Write([]byte("hello"))
		// Echo, in the handler's goroutine, until the client or the test ends.
		go func() {
			<-done
			nc.Close()
		}()
		buf := make([]byte, 4)
		for {
			if _, err := io.ReadFull(brw, buf); err != nil {
				return
			}
			if _, err := nc.Write(buf); err != nil {
				return
			}
		}
	}), ServerOptions{})
	c := hs.dial(t)
	c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	hello := make([]byte, 5)
	if _, err := io.ReadFull(c.br, hello); err != nil || string(hello) != "hello" {
		t.Fatalf("read %q, %v; want %q", hello, err, "hello")
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	if err := hs.srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown with a hijacked connection in use = %v after %v, want nil at once", err, time.Since(start))
	}
	hs.srv.Close()

	c.send("ping")
	echo := make([]byte, 4)
	if _, err := io.ReadFull(c.br, echo); err != nil || string(echo) != "ping" {
		t.Errorf("hijacked connection after Shutdown and Close: read %q, %v; want %q", echo, err, "ping")
	}
}

// TestServerPanics checks that a panicking handler's connection is closed
// without a complete response, that other connections are still served,
// and that only panics other than http.ErrAbortHandler are logged.
func TestServerPanics(t *testing.T) {
	var logBuf syncbuf.Buffer
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/abort":
			panic(http.ErrAbortHandler)
		case "/partial":
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "partial ")
			http.NewResponseController(w).Flush()
			panic(http.ErrAbortHandler)
		case "/boom":
			panic("boom-marker")
		}
		io.WriteString(w, "fine")
	}), ServerOptions{ErrorLog: log.New(&logBuf, "", 0)})

	for _, path := range []string{"/abort", "/partial"} {
		c := hs.dial(t)
		c.send("GET " + path + " HTTP/1.1\r\nHost: h\r\n\r\n")
		res, err := http.ReadResponse(c.br, nil)
		if err == nil {
			b, err := io.ReadAll(res.Body)
			if err == nil {
				t.Errorf("GET %s: got a complete response %d %q, want none", path, res.StatusCode, b)
			}
		}
		c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.ReadAll(c.br); !isClosedErr(err) {
			t.Errorf("GET %s: connection not closed after the panic: %v", path, err)
		}
	}

	c := hs.dial(t)
	c.send("GET /boom HTTP/1.1\r\nHost: h\r\n\r\n")
	if res, err := http.ReadResponse(c.br, nil); err == nil {
		t.Errorf("GET /boom: got response %d, want none", res.StatusCode)
	}
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(logBuf.String(), "boom-marker") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logBuf.String(), "boom-marker") {
		t.Errorf("panic(%q) not logged; log = %q", "boom-marker", logBuf.String())
	}

	res, err := hs.client(t).Get(hs.url("/ok"))
	if err != nil {
		t.Fatalf("GET /ok after panics: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != "fine" {
		t.Errorf("GET /ok after panics = %d %q, want 200 %q", res.StatusCode, b, "fine")
	}

	// After Shutdown every connection is done: the log is final.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	hs.srv.Shutdown(ctx)
	logged := logBuf.String()
	if strings.Contains(logged, http.ErrAbortHandler.Error()) {
		t.Errorf("panic(http.ErrAbortHandler) was logged: %q", logged)
	}
	if n := strings.Count(logged, "boom-marker"); n != 1 {
		t.Errorf("log mentions the panic %d times, want 1: %q", n, logged)
	}
}

// testCtxKey is a context key of the tests.
type testCtxKey struct{}

// TestServerContextDone checks that the request context, and contexts
// derived from it, end when the handler returns.
func TestServerContextDone(t *testing.T) {
	type ctxs struct {
		req, derived, timeout context.Context
		afterFunc             chan struct{}
		cancels               []context.CancelFunc
	}
	got := make(chan ctxs, 1)
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.Context().Err(); err != nil {
			w.WriteHeader(500)
			fmt.Fprintf(w, "context already done: %v", err)
		}
		if v := r.Context().Value(http.LocalAddrContextKey); v == nil {
			w.WriteHeader(500)
			io.WriteString(w, "no http.LocalAddrContextKey value")
		}
		c := ctxs{req: r.Context(), afterFunc: make(chan struct{})}
		var cancel1, cancel2 context.CancelFunc
		c.derived, cancel1 = context.WithCancel(context.WithValue(r.Context(), testCtxKey{}, 1))
		c.timeout, cancel2 = context.WithTimeout(r.Context(), time.Hour)
		c.cancels = []context.CancelFunc{cancel1, cancel2} // called after the checks
		context.AfterFunc(r.Context(), func() { close(c.afterFunc) })
		got <- c
	}), ServerOptions{})
	c := hs.dial(t)
	if res, body := c.roundTrip("GET", "GET / HTTP/1.1\r\nHost: h\r\n\r\n"); res.StatusCode != 200 {
		t.Fatalf("response = %d %q, want 200", res.StatusCode, body)
	}
	cs := <-got
	defer func() {
		for _, cancel := range cs.cancels {
			cancel()
		}
	}()
	for _, tc := range []struct {
		name string
		done <-chan struct{}
	}{
		{"request context", cs.req.Done()},
		{"derived WithCancel context", cs.derived.Done()},
		{"derived WithTimeout context", cs.timeout.Done()},
		{"context.AfterFunc", cs.afterFunc},
	} {
		select {
		case <-tc.done:
		case <-time.After(2 * time.Second):
			t.Errorf("%s not done 2s after the handler returned", tc.name)
		}
	}
	if !errors.Is(cs.req.Err(), context.Canceled) {
		t.Errorf("ctx.Err() = %v, want %v", cs.req.Err(), context.Canceled)
	}
	// The connection, kept alive, serves the next request with a live context.
	if res, body := c.roundTrip("GET", "GET / HTTP/1.1\r\nHost: h\r\n\r\n"); res.StatusCode != 200 {
		t.Errorf("second response = %d %q, want 200", res.StatusCode, body)
	}
}

// TestServerContextHangup checks that the request context ends when the
// client closes the connection while the handler waits without writing.
func TestServerContextHangup(t *testing.T) {
	results := make(chan error, 1)
	entered := make(chan struct{})
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-r.Context().Done():
			results <- nil
		case <-time.After(3 * time.Second):
			results <- errors.New("request context not done 3s after the client closed the connection")
		}
	}), ServerOptions{})
	c := hs.dial(t)
	c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	<-entered
	c.nc.Close()
	if err := <-results; err != nil {
		t.Error(err)
	}
}

// TestServerHalfClose checks that a client that half-closes after its
// requests still gets every response.
func TestServerHalfClose(t *testing.T) {
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
		io.WriteString(w, r.URL.Path)
	}), ServerOptions{})
	c := hs.dial(t)
	c.send("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n")
	c.nc.(*net.TCPConn).CloseWrite()
	for _, want := range []string{"/a", "/b"} {
		if res, body := c.read("GET"); res.StatusCode != 200 || body != want {
			t.Fatalf("response = %d %q, want 200 %q", res.StatusCode, body, want)
		}
	}
	c.wantClosed()
}

// TestServerContextClientGone checks that the request context ends once a
// write to a client that reset the connection fails.
func TestServerContextClientGone(t *testing.T) {
	type result struct {
		writeErr, ctxErr error
	}
	results := make(chan result, 1)
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 32<<10))
		rc := http.NewResponseController(w)
		stop := time.Now().Add(3 * time.Second)
		var err error
		for err == nil && time.Now().Before(stop) {
			if _, err = w.Write(chunk); err == nil {
				err = rc.Flush()
			}
		}
		select {
		case <-r.Context().Done():
		case <-time.After(time.Second):
		}
		results <- result{err, r.Context().Err()}
	}), ServerOptions{})
	c := hs.dial(t)
	c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	if _, err := http.ReadResponse(c.br, nil); err != nil {
		t.Fatalf("reading response head: %v", err)
	}
	c.nc.(*net.TCPConn).SetLinger(0) // close with a reset
	c.nc.Close()
	r := <-results
	if r.writeErr == nil {
		t.Fatal("writes to a reset connection kept succeeding for 3s")
	}
	if r.ctxErr == nil {
		t.Errorf("after write error %v: request context not done within 1s", r.writeErr)
	}
}
