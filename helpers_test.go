package apigate

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/apigate-go/apigate/internal/h1"
)

// received is what the echo upstream saw of one request.
type received struct {
	Method   string      `json:"method"`
	Path     string      `json:"path"`
	RawPath  string      `json:"raw_path"`
	URI      string      `json:"uri"`
	Query    string      `json:"query"`
	Host     string      `json:"host"`
	Header   http.Header `json:"header"`
	Body     string      `json:"body"`
	Length   int64       `json:"length"`
	Encoding []string    `json:"encoding"`
}

// echoUpstream is an httptest server that records every request and
// answers with it as JSON.
type echoUpstream struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

func newEcho(t testing.TB) *echoUpstream {
	e := &echoUpstream{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec := received{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath, URI: r.RequestURI,
			Query: r.URL.RawQuery, Host: r.Host, Header: r.Header, Body: string(b), Length: r.ContentLength,
			Encoding: r.TransferEncoding}
		e.mu.Lock()
		e.reqs = append(e.reqs, rec)
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Upstream", "echo")
		json.NewEncoder(w).Encode(rec)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *echoUpstream) last(t testing.TB) received {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.reqs) == 0 {
		t.Fatal("upstream received no request")
	}
	return e.reqs[len(e.reqs)-1]
}

func (e *echoUpstream) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.reqs)
}

// testEngine is the upstream client and the server the end-to-end tests
// use: APIGATE_TEST_ENGINE=http1 runs them against EngineHTTP1 (CI runs
// both).
func testEngine() Engine {
	if os.Getenv("APIGATE_TEST_ENGINE") == "http1" {
		return EngineHTTP1
	}
	return EngineNetHTTP
}

// serveGateway builds a gateway and serves it on a real socket. A test's
// own WithUpstream replaces the engine choice.
func serveGateway(t testing.TB, opts ...Option) (*Gateway, *httptest.Server) {
	t.Helper()
	opts = append([]Option{WithUpstream(UpstreamOptions{Engine: testEngine()})}, opts...)
	g, err := New(opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s := serveFront(t, g)
	t.Cleanup(func() { g.Close() })
	return g, s
}

// serveFront serves a gateway (or a handler wrapping one) on a real
// socket with the test engine's server: net/http's, or apigate's
// HTTP/1.1 server when APIGATE_TEST_ENGINE=http1.
func serveFront(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	return serveFrontWith(t, h, testEngine())
}

// serveFrontWith serves h with the given server engine; the server closes
// when the test ends.
func serveFrontWith(t testing.TB, h http.Handler, engine Engine) *httptest.Server {
	t.Helper()
	if engine != EngineHTTP1 {
		s := httptest.NewServer(h)
		t.Cleanup(s.Close)
		return s
	}
	s := httptest.NewUnstartedServer(h)
	s.URL = "http://" + s.Listener.Addr().String()
	srv := h1.NewServer(h, h1.ServerOptions{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(s.Listener)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return s
}

// do sends a request and returns the response with its body read.
func do(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return res, string(b)
}

func get(t testing.TB, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

func newReq(t testing.TB, method, url, body string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func newServer(t testing.TB, h http.Handler) string {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}
