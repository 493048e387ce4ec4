package apigatetest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apigate-go/apigate"
)

// Options chooses how [NewWith] and [Serve] serve a gateway.
type Options struct {
	// Engine is the server (apigate.EngineNetHTTP, the default, or
	// apigate.EngineHTTP1) and, for NewWith, the gateway's upstream
	// client; a WithUpstream option given to NewWith replaces the client
	// choice.
	Engine apigate.Engine
}

// Gateway is a gateway served on a loopback socket for the length of a
// test.
type Gateway struct {
	// Gateway is the gateway under test; nil when [Serve] serves a
	// handler of the caller's.
	*apigate.Gateway
	// URL is the base URL it is served at, such as http://127.0.0.1:40123.
	URL string
	// Client sends requests to it; it follows no redirects.
	Client *http.Client
}

// New builds a gateway from opts (failing the test if New reports an
// error) and serves it with net/http on a loopback socket until the test
// ends.
func New(t testing.TB, opts ...apigate.Option) *Gateway {
	t.Helper()
	return NewWith(t, Options{}, opts...)
}

// NewWith is [New] with a choice of engine.
func NewWith(t testing.TB, o Options, opts ...apigate.Option) *Gateway {
	t.Helper()
	opts = append([]apigate.Option{apigate.WithUpstream(apigate.UpstreamOptions{Engine: o.Engine})}, opts...)
	gw, err := apigate.New(opts...)
	if err != nil {
		t.Fatalf("apigatetest: apigate.New: %v", err)
	}
	t.Cleanup(gw.CloseIdleConnections)
	s := Serve(t, o, gw)
	s.Gateway = gw
	return s
}

// Serve serves h, typically a mux or middleware around a gateway the
// test built itself, on a loopback socket until the test ends, with
// o.Engine's server.
func Serve(t testing.TB, o Options, h http.Handler) *Gateway {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	so := apigate.ServeOptions{Engine: o.Engine, ShutdownTimeout: time.Second}
	ln, err := apigate.Listen(ctx, "127.0.0.1:0", so)
	if err != nil {
		cancel()
		t.Fatalf("apigatetest: listen: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		apigate.Serve(ctx, ln, h, so)
	}()
	client := &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(func() {
		client.CloseIdleConnections()
		cancel()
		<-done
	})
	return &Gateway{URL: "http://" + ln.Addr().String(), Client: client}
}

// Get sends a GET for path (with its query) and headers given as
// "Name: value".
func (g *Gateway) Get(t testing.TB, path string, headers ...string) *Response {
	t.Helper()
	return g.Do(t, http.MethodGet, path, "", headers...)
}

// Do sends a request with method, path, body and headers given as
// "Name: value", and returns the response with its body read. A transport
// error fails the test.
func (g *Gateway) Do(t testing.TB, method, path, body string, headers ...string) *Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, g.URL+path, rd)
	if err != nil {
		t.Fatalf("apigatetest: %v", err)
	}
	for k, v := range parseHeaders(headers) {
		req.Header[k] = v
	}
	return g.Send(t, req)
}

// Send sends req, which may target any URL, with the gateway's client.
func (g *Gateway) Send(t testing.TB, req *http.Request) *Response {
	t.Helper()
	res, err := g.Client.Do(req)
	if err != nil {
		t.Fatalf("apigatetest: %s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("apigatetest: %s %s: reading the body: %v", req.Method, req.URL, err)
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Trailer: res.Trailer, Body: string(b), req: req.Method + " " + req.URL.Path}
}

// Response is a response from the gateway with its body read. Its Assert
// methods report failures with t.Errorf and return the response, so they
// chain.
type Response struct {
	Status  int
	Header  http.Header
	Trailer http.Header
	Body    string
	req     string
}

// AssertStatus checks the status code.
func (r *Response) AssertStatus(t testing.TB, want int) *Response {
	t.Helper()
	if r.Status != want {
		t.Errorf("apigatetest: %s: status %d, want %d; body %q", r.req, r.Status, want, clip([]byte(r.Body)))
	}
	return r
}

// AssertHeader checks the first value of a response header; want "" means
// absent.
func (r *Response) AssertHeader(t testing.TB, name, want string) *Response {
	t.Helper()
	if got := r.Header.Get(name); got != want {
		t.Errorf("apigatetest: %s: header %s = %q, want %q", r.req, name, got, want)
	}
	return r
}

// AssertBody checks the whole body.
func (r *Response) AssertBody(t testing.TB, want string) *Response {
	t.Helper()
	if r.Body != want {
		t.Errorf("apigatetest: %s: body %q, want %q", r.req, clip([]byte(r.Body)), want)
	}
	return r
}

// AssertBodyContains checks that the body contains each of subs.
func (r *Response) AssertBodyContains(t testing.TB, subs ...string) *Response {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(r.Body, s) {
			t.Errorf("apigatetest: %s: body %q does not contain %q", r.req, clip([]byte(r.Body)), s)
		}
	}
	return r
}

// JSON decodes the body into v, failing the test if it does not decode.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("apigatetest: %s: body %q is not JSON: %v", r.req, clip([]byte(r.Body)), err)
	}
}
