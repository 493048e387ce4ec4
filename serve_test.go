package apigate

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"
)

// serverEngines are the servers the serving-helper tests run against.
var serverEngines = []struct {
	name   string
	engine Engine
	alpn   string // what a TLS client offering h2 and http/1.1 gets
}{{"net/http", EngineNetHTTP, "h2"}, {"http1", EngineHTTP1, "http/1.1"}}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	for _, e := range serverEngines {
		t.Run(e.name, func(t *testing.T) { testGracefulShutdown(t, e.engine) })
	}
}

func testGracefulShutdown(t *testing.T, engine Engine) {
	entered := make(chan struct{})
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "finished")
	}))
	defer up.Close()
	g := MustNew(Mount(Service("/", GET("/slow")), up.URL))
	ln, err := Listen(context.Background(), "127.0.0.1:0", ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, g, ServeOptions{ShutdownTimeout: 5 * time.Second, Engine: engine}) }()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		got <- result{string(b), err}
	}()
	<-entered
	cancel() // shutdown starts while the request is in flight
	time.Sleep(50 * time.Millisecond)
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("listener still accepts after shutdown began")
	}
	close(release)
	r := <-got
	if r.err != nil || r.body != "finished" {
		t.Errorf("in-flight request: %q, %v; want finished", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve returned %v, want nil", err)
	}
}

func TestServeDefaultsStopSlowHeaders(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	ln, err := Listen(context.Background(), "127.0.0.1:0", ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Serve(ctx, ln, h, ServeOptions{ReadHeaderTimeout: 200 * time.Millisecond})

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: "))
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	start := time.Now()
	b, _ := io.ReadAll(c) // the server closes the connection
	if time.Since(start) > 2*time.Second {
		t.Errorf("connection held for %v despite ReadHeaderTimeout", time.Since(start))
	}
	if strings.Contains(string(b), "200 OK") {
		t.Errorf("a request with unfinished headers was served: %q", b)
	}
}

func TestServeMaxHeaderBytes(t *testing.T) {
	s := NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), ServeOptions{})
	if s.MaxHeaderBytes != DefaultMaxHeaderBytes || s.ReadHeaderTimeout != DefaultReadHeaderTimeout || s.IdleTimeout != DefaultIdleTimeout {
		t.Errorf("defaults not applied: %d %v %v", s.MaxHeaderBytes, s.ReadHeaderTimeout, s.IdleTimeout)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go s.Serve(ln)
	defer s.Close()
	resp := rawRequest(t, ln.Addr().String(), "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 100<<10)+"\r\n\r\n")
	if !strings.HasPrefix(resp, "HTTP/1.1 431") {
		t.Errorf("status line = %q, want 431", firstLine(resp))
	}
}

func TestListenReusePort(t *testing.T) {
	ctx := context.Background()
	a, err := Listen(ctx, "127.0.0.1:0", ServeOptions{ReusePort: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Listen(ctx, a.Addr().String(), ServeOptions{ReusePort: true})
	if err != nil {
		t.Fatalf("second listener on %s with SO_REUSEPORT: %v", a.Addr(), err)
	}
	b.Close()
	if c, err := Listen(ctx, a.Addr().String(), ServeOptions{}); err == nil {
		c.Close()
		t.Error("a listener without SO_REUSEPORT shared the port")
	}
}

func TestListenAndServeError(t *testing.T) {
	a, _ := net.Listen("tcp", "127.0.0.1:0")
	defer a.Close()
	err := ListenAndServe(context.Background(), a.Addr().String(), http.NotFoundHandler(), ServeOptions{})
	if err == nil || !strings.Contains(err.Error(), "apigate: listen") {
		t.Errorf("err = %v, want a listen error", err)
	}
}

// TestServeTLS serves over TLS with each engine, and reuses a connection
// after ReadHeaderTimeout has passed since it was opened: the handshake's
// deadline must not outlive it.
func TestServeTLS(t *testing.T) {
	borrowed := httptest.NewTLSServer(http.NotFoundHandler()) // for its certificate and trusting client
	defer borrowed.Close()
	for _, e := range serverEngines {
		t.Run(e.name, func(t *testing.T) {
			ln, err := Listen(context.Background(), "127.0.0.1:0", ServeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			served := make(chan error, 1)
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				proto := "none"
				if r.TLS != nil {
					proto = r.TLS.NegotiatedProtocol
				}
				io.WriteString(w, proto)
			})
			cfg := borrowed.TLS.Clone()
			cfg.NextProtos = nil // httptest limits it to http/1.1; let each server choose
			o := ServeOptions{TLSConfig: cfg, ReadHeaderTimeout: 200 * time.Millisecond, Engine: e.engine}
			go func() { served <- Serve(ctx, ln, h, o) }()
			defer func() {
				cancel()
				if err := <-served; err != nil {
					t.Errorf("Serve = %v", err)
				}
			}()
			// HTTP/2 only where the server speaks it.
			pool := borrowed.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
			tc, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "example.com", NextProtos: []string{"h2", "http/1.1"}})
			if err != nil {
				t.Fatalf("TLS dial: %v", err)
			}
			if got := tc.ConnectionState().NegotiatedProtocol; got != e.alpn {
				t.Errorf("negotiated %q with a client offering h2, want %q", got, e.alpn)
			}
			tc.Close()

			tr := borrowed.Client().Transport.(*http.Transport).Clone()
			tr.ForceAttemptHTTP2 = false
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			url := "https://" + ln.Addr().String() + "/"
			for i := range 2 {
				var reused bool
				trace := &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) { reused = ci.Reused }}
				req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", url, nil)
				res, err := client.Do(req)
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || res.TLS == nil {
					t.Fatalf("request %d: status %d, TLS %v", i, res.StatusCode, res.TLS != nil)
				}
				if i == 0 {
					time.Sleep(300 * time.Millisecond) // past ReadHeaderTimeout, within IdleTimeout
					continue
				}
				if !reused {
					t.Errorf("second request on a new connection; want the first one reused")
				}
				if string(b) == "none" {
					t.Errorf("handler saw no TLS state")
				}
			}
		})
	}
}
