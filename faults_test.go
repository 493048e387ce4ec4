package apigate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apigate-go/apigate/policy"
)

// rawUpstream is a TCP server that reads each request head and hands the
// connection to serve, for upstreams that misbehave below HTTP. It returns
// the server's base URL; cleanup closes the listener and every connection
// and waits for the handlers.
func rawUpstream(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	return tcpServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		serve(c, br)
	})
}

// tcpServer accepts connections on a loopback port and runs handle on
// each; it returns the base URL. Cleanup closes the listener and every
// connection and waits for the handlers.
func tcpServer(t *testing.T, handle func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String()
}

// reset closes c with an RST instead of a FIN.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// TestUpstreamFaults: every way an upstream can fail gives the client a
// clear status with a stable code, or a cut stream once the response has
// started, and the gateway keeps serving a healthy route afterwards.
func TestUpstreamFaults(t *testing.T) {
	const timeout = 200 * time.Millisecond
	trickle := make([]string, 30)
	for i := range trickle {
		trickle[i] = fmt.Sprintf("piece %02d;", i)
	}
	tests := []struct {
		name     string
		upstream func(t *testing.T) string
		status   int    // 0: the response started, the stream must be cut
		body     string // exact body for a status
		minTime  time.Duration
		timeout  time.Duration // request timeout; 0 for the default above
	}{
		{"refuses", deadURL, 502, "upstream_unavailable: upstream unavailable\n", 0, 0},
		{"closes before headers", func(t *testing.T) string {
			return rawUpstream(t, func(c net.Conn, _ *bufio.Reader) {})
		}, 502, "bad_gateway: bad gateway\n", 0, 0},
		{"resets before headers", func(t *testing.T) string {
			return rawUpstream(t, func(c net.Conn, _ *bufio.Reader) { reset(c) })
		}, 502, "bad_gateway: bad gateway\n", 0, 0},
		{"hangs before headers", func(t *testing.T) string {
			return rawUpstream(t, func(c net.Conn, br *bufio.Reader) { io.Copy(io.Discard, br) })
		}, 504, "upstream_timeout: upstream timed out\n", timeout, 0},
		{"malformed status line", func(t *testing.T) string {
			return rawUpstream(t, func(c net.Conn, _ *bufio.Reader) { io.WriteString(c, "HTTP/1.1 two hundred OK\r\n\r\n") })
		}, 502, "bad_gateway: bad gateway\n", 0, 0},
		{"not HTTP at all", func(t *testing.T) string {
			return rawUpstream(t, func(c net.Conn, _ *bufio.Reader) { io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n\r\n") })
		}, 502, "bad_gateway: bad gateway\n", 0, 0},
		{"conflicting Content-Length", func(t *testing.T) string {
			return rawUpstream(t, func(c net.Conn, _ *bufio.Reader) {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
			})
		}, 502, "bad_gateway: bad gateway\n", 0, 0},
		{"huge header", func(t *testing.T) string {
			// Over the upstream transport's response header limit
			// (http.Transport's default, 10 MiB: see
			// TestUpstreamHeaderCap for a tighter cap).
			return hugeHeaderUpstream(t, 11<<20)
		}, 502, "bad_gateway: bad gateway\n", 0, 10 * time.Second},
		{"resets mid-response", func(t *testing.T) string {
			return rawUpstream(t, func(c net.Conn, _ *bufio.Reader) {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
				time.Sleep(20 * time.Millisecond)
				reset(c)
			})
		}, 0, "", 0, 0},
		{"broken chunked body", func(t *testing.T) string {
			return rawUpstream(t, func(c net.Conn, _ *bufio.Reader) {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n")
			})
		}, 0, "", 0, 0},
		{"hangs mid-body past the timeout", func(t *testing.T) string {
			return rawUpstream(t, func(c net.Conn, br *bufio.Reader) {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nstart")
				io.Copy(io.Discard, br)
			})
		}, 0, "", timeout, 0},
		{"trickles a body", func(t *testing.T) string {
			return newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for _, p := range trickle {
					io.WriteString(w, p)
					w.(http.Flusher).Flush()
					time.Sleep(3 * time.Millisecond)
				}
			}))
		}, 200, strings.Join(trickle, ""), 30 * 3 * time.Millisecond, 0},
	}
	healthy := newEcho(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := tt.upstream(t)
			to := timeout
			if tt.timeout > 0 {
				to = tt.timeout
			}
			_, gw := serveGateway(t,
				Mount(Service("/bad", GET("/x")), bad),
				Mount(Service("/ok", GET("/x")), healthy.URL),
				WithRequestTimeout(to))
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()

			start := time.Now()
			res, err := client.Get(gw.URL + "/bad/x")
			var body []byte
			if err == nil {
				body, err = io.ReadAll(res.Body)
				res.Body.Close()
			}
			elapsed := time.Since(start)
			switch {
			case tt.status == 0:
				// The response had started: the client must see an error,
				// never a clean end.
				if err == nil {
					t.Errorf("got a clean %d %q, want a cut stream", res.StatusCode, body)
				}
			case err != nil:
				t.Fatalf("got error %v, want %d", err, tt.status)
			case res.StatusCode != tt.status || string(body) != tt.body:
				t.Errorf("got %d %q, want %d %q", res.StatusCode, body, tt.status, tt.body)
			}
			if elapsed < tt.minTime || elapsed > tt.minTime+3*time.Second {
				t.Errorf("answered after %v, want between %v and %v", elapsed, tt.minTime, tt.minTime+3*time.Second)
			}
			// The gateway keeps serving others.
			for i := range 3 {
				res, err := client.Get(gw.URL + "/ok/x")
				if err != nil {
					t.Fatalf("healthy route after the fault, request %d: %v", i, err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					t.Errorf("healthy route after the fault, request %d: status %d", i, res.StatusCode)
				}
			}
		})
	}
}

// hugeHeaderUpstream answers with a single header of n bytes.
func hugeHeaderUpstream(t *testing.T, n int) string {
	return rawUpstream(t, func(c net.Conn, _ *bufio.Reader) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Huge: "+strings.Repeat("h", n)+"\r\nContent-Length: 0\r\n\r\n")
	})
}

// TestUpstreamHeaderCap: an upstream answering with a 2 MiB header is
// refused with 502, so one response cannot make the gateway hold
// megabytes of headers, and the gateway keeps serving others.
func TestUpstreamHeaderCap(t *testing.T) {
	healthy := newEcho(t)
	_, gw := serveGateway(t,
		Mount(Service("/bad", GET("/x")), hugeHeaderUpstream(t, 2<<20)),
		Mount(Service("/ok", GET("/x")), healthy.URL))
	res, body := get(t, gw.URL+"/bad/x")
	if res.StatusCode != 502 || body != "bad_gateway: bad gateway\n" || res.Header.Get("X-Huge") != "" {
		t.Errorf("got %d %q (X-Huge %d bytes), want 502 bad_gateway", res.StatusCode, body, len(res.Header.Get("X-Huge")))
	}
	if res, _ := get(t, gw.URL+"/ok/x"); res.StatusCode != 200 {
		t.Errorf("healthy route after the fault: status %d", res.StatusCode)
	}
}

// settleGoroutines waits until at most want goroutines run, closing idle
// connections meanwhile, and returns the last count.
func settleGoroutines(want int, closeIdle func()) int {
	n := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		closeIdle()
		runtime.GC()
		if n = runtime.NumGoroutine(); n <= want {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
	return n
}

// stableGoroutines closes idle connections and returns the goroutine
// count once it has stopped changing.
func stableGoroutines(closeIdle func()) int {
	last, same := -1, 0
	for deadline := time.Now().Add(3 * time.Second); same < 5 && time.Now().Before(deadline); {
		closeIdle()
		time.Sleep(10 * time.Millisecond)
		if n := runtime.NumGoroutine(); n == last {
			same++
		} else {
			last, same = n, 0
		}
	}
	return last
}

// TestClientDisconnectCancelsUpstream: a client that goes away mid-download
// or mid-upload cancels the upstream exchange (the upstream sees its
// context end or a read error, never a clean end of an upload), leaks no
// goroutine, does not count as a backend failure, and leaves the
// least-request counters at zero.
func TestClientDisconnectCancelsUpstream(t *testing.T) {
	type report struct {
		kind string
		err  error
	}
	reports := make(chan report, 16)
	started := make(chan struct{}, 16)
	var urls []string
	var servers []*httptest.Server
	for i := range 2 {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/down":
				chunk := strings.Repeat("d", 1024)
				started <- struct{}{}
				for {
					if _, err := io.WriteString(w, chunk); err != nil {
						reports <- report{"down", err}
						return
					}
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
						reports <- report{"down", r.Context().Err()}
						return
					case <-time.After(2 * time.Millisecond):
					}
				}
			case "/up":
				var one [1]byte
				if _, err := io.ReadFull(r.Body, one[:]); err != nil {
					reports <- report{"up", err}
					return
				}
				started <- struct{}{}
				_, err := io.Copy(io.Discard, r.Body) // nil: a clean end
				reports <- report{"up", err}
			default:
				fmt.Fprint(w, i)
			}
		}))
		servers = append(servers, s)
		urls = append(urls, s.URL)
	}
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	g, err := New(Mount(Service("/", GET("/down"), POST("/up"), GET("/x"), Policy("lr")), urls...),
		WithPolicy("lr", policy.LeastRequest()), WithPassiveHealth(1, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	gw := serveFront(t, g)
	defer g.CloseIdleConnections()
	tr := &http.Transport{}
	client := &http.Client{Transport: tr}
	closeIdle := func() {
		tr.CloseIdleConnections()
		g.CloseIdleConnections()
	}

	spread := func() map[string]int {
		counts := map[string]int{}
		for range 10 {
			res, err := client.Get(gw.URL + "/x")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			counts[string(b)]++
		}
		return counts
	}
	if c := spread(); c["0"] != 5 || c["1"] != 5 {
		t.Fatalf("before any cancellation, 10 requests went %v, want 5 and 5", c)
	}
	base := stableGoroutines(closeIdle)
	waitStarted := func(what string) {
		t.Helper()
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the upstream never started", what)
		}
	}
	wait := func(what string) report {
		t.Helper()
		select {
		case r := <-reports:
			return r
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the upstream never noticed the client went away", what)
			return report{}
		}
	}

	// An odd number of cancelled exchanges: if their in-flight counts
	// leaked, the backends would differ and least-request would no longer
	// alternate.
	for i := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", gw.URL+"/down", nil)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(res.Body, make([]byte, 4096)); err != nil {
			t.Fatalf("download %d: %v", i, err)
		}
		waitStarted("download")
		cancel()
		res.Body.Close()
		if r := wait("download"); r.kind != "down" || r.err == nil {
			t.Errorf("download %d: upstream reported %+v, want a write error or a cancelled context", i, r)
		}
	}
	for i := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		go func() {
			pw.Write([]byte(strings.Repeat("u", 32<<10)))
			<-ctx.Done()
			pw.CloseWithError(ctx.Err())
		}()
		req, _ := http.NewRequestWithContext(ctx, "POST", gw.URL+"/up", pr)
		done := make(chan error, 1)
		go func() {
			res, err := client.Do(req)
			if err == nil {
				res.Body.Close()
			}
			done <- err
		}()
		waitStarted("upload")
		cancel()
		if err := <-done; err == nil {
			t.Errorf("upload %d: the cancelled client got a response", i)
		}
		if r := wait("upload"); r.kind != "up" || r.err == nil {
			t.Errorf("upload %d: upstream reported %+v, want a read error (a cut upload must never look complete)", i, r)
		}
	}

	h := g.routes[0].svc.set.Load().health
	if n := settleGoroutines(base, closeIdle); n > base {
		buf := make([]byte, 1<<16)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines after the cancelled exchanges, %d before:\n%s", n, base, buf)
	}
	if d := h.ejected(); d != 0 {
		t.Errorf("%d backends marked down by client cancellations, want 0", d)
	}
	if c := spread(); c["0"] != 5 || c["1"] != 5 {
		t.Errorf("after the cancellations, 10 requests went %v, want 5 and 5 (in-flight counters back to zero)", c)
	}
}

// TestBackendDiesMidRun: one of two backends goes away while requests keep
// coming; idempotent requests keep succeeding (retried on the other) and
// passive health takes the dead one out.
func TestBackendDiesMidRun(t *testing.T) {
	live := newEcho(t)
	dying := newEcho(t)
	log := &eventLog{}
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), dying.URL, live.URL),
		WithPassiveHealth(2, time.Minute), WithObserver(log))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()

	const workers, perWorker = 4, 60
	var ok atomic.Int32
	var once sync.Once
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWorker {
				res, err := client.Get(gw.URL + "/x")
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				b, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != 200 {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%d %q %v", res.StatusCode, b, err))
					mu.Unlock()
					continue
				}
				if ok.Add(1) == workers*perWorker/3 {
					once.Do(func() { go dying.Close() })
				}
			}
		}()
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed while a backend died, want 0: %v", len(failures), workers*perWorker, failures[:min(len(failures), 5)])
	}
	if dying.count() == 0 {
		t.Fatal("the dying backend never served: the test proves nothing")
	}
	log.take()
	for range 20 {
		if res, body := get(t, gw.URL+"/x"); res.StatusCode != 200 {
			t.Fatalf("after the death: %d %s", res.StatusCode, body)
		}
	}
	if n := countSelected(log.take(), dying.URL); n != 0 {
		t.Errorf("the dead backend was still selected %d times of 20, want 0 (cooling down)", n)
	}
}

// TestGracefulShutdownUnderLoad: shutting down while clients hammer the
// gateway loses no accepted request. Every response is a complete 200;
// every failure is a refused connection after the listener closed.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	const payload = "complete response body"
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		io.WriteString(w, payload)
	}))
	defer up.Close()
	g := MustNew(Mount(Service("/", GET("/x")), up.URL))
	defer g.CloseIdleConnections()
	ln, err := Listen(context.Background(), "127.0.0.1:0", ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, g, ServeOptions{ShutdownTimeout: 5 * time.Second}) }()

	url := "http://" + ln.Addr().String() + "/x"
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var okCount, refused, inFlightAtCancel atomic.Int32
	var stop atomic.Bool
	var mu sync.Mutex
	var bad []string
	var wg sync.WaitGroup
	var inFlight atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				inFlight.Add(1)
				res, err := client.Get(url)
				if err != nil {
					inFlight.Add(-1)
					if errors.Is(err, syscall.ECONNREFUSED) {
						refused.Add(1)
						time.Sleep(5 * time.Millisecond)
						continue
					}
					mu.Lock()
					bad = append(bad, "error: "+err.Error())
					mu.Unlock()
					continue
				}
				b, err := io.ReadAll(res.Body)
				res.Body.Close()
				inFlight.Add(-1)
				if err != nil || res.StatusCode != 200 || string(b) != payload {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("%d %q %v", res.StatusCode, b, err))
					mu.Unlock()
					continue
				}
				okCount.Add(1)
			}
		}()
	}
	time.Sleep(150 * time.Millisecond)
	inFlightAtCancel.Store(inFlight.Load())
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve returned %v, want nil", err)
	}
	time.Sleep(50 * time.Millisecond) // clients now meet a closed port
	stop.Store(true)
	wg.Wait()
	if len(bad) > 0 {
		t.Errorf("%d requests lost or broken by the shutdown: %v", len(bad), bad[:min(len(bad), 5)])
	}
	if okCount.Load() == 0 || refused.Load() == 0 || inFlightAtCancel.Load() == 0 {
		t.Errorf("ok %d, refused %d, in flight at cancel %d: want all above 0 for the test to mean anything",
			okCount.Load(), refused.Load(), inFlightAtCancel.Load())
	}
}
