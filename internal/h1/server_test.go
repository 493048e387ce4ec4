package h1

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// This file holds the harness shared by the server tests, and the tests of
// what a handler sees of a request and of connection reuse. The other
// server_*_test.go files cover rejections, bodies, responses, lifecycle,
// fuzzing and benchmarks.

// harness runs a [Server] under test on a loopback listener and counts
// the calls of its handler.
type harness struct {
	srv   *Server
	addr  string
	calls atomic.Int32

	done     chan struct{} // closed when Serve returned
	serveErr error         // Serve's result, set before done is closed
}

// startHarness serves h (a handler that writes nothing when nil) with
// options o on 127.0.0.1:0, and closes the server when the test ends.
func startHarness(t testing.TB, h http.Handler, o ServerOptions) *harness {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if h == nil {
		h = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	}
	hs := &harness{addr: ln.Addr().String(), done: make(chan struct{})}
	hs.srv = NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hs.calls.Add(1)
		h.ServeHTTP(w, r)
	}), o)
	go func() {
		hs.serveErr = hs.srv.Serve(ln)
		close(hs.done)
	}()
	t.Cleanup(func() {
		hs.srv.Close()
		if ok, _ := hs.waitServe(5 * time.Second); !ok {
			t.Errorf("Serve did not return within 5s of Close")
		}
	})
	return hs
}

// waitServe waits up to d for Serve to return and reports its result.
func (hs *harness) waitServe(d time.Duration) (ok bool, err error) {
	select {
	case <-hs.done:
		return true, hs.serveErr
	case <-time.After(d):
		return false, nil
	}
}

// url returns the absolute URL of path on the server.
func (hs *harness) url(path string) string { return "http://" + hs.addr + path }

// client returns an http.Client with a transport of its own, closed when
// the test ends.
func (hs *harness) client(t testing.TB) *http.Client {
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

// rawClient is one TCP connection to the server under test, written with
// exact bytes and read with http.ReadResponse.
type rawClient struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

// dial opens a raw connection to the server with a 5s deadline, closed
// when the test ends.
func (hs *harness) dial(t testing.TB) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", hs.addr)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	t.Cleanup(func() { nc.Close() })
	return &rawClient{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// send writes s in one write.
func (c *rawClient) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, s); err != nil {
		c.t.Fatalf("writing request: %v", err)
	}
}

// read reads one response to a request with the given method and its
// whole body.
func (c *rawClient) read(method string) (*http.Response, string) {
	c.t.Helper()
	res, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("reading response: %v", err)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("reading response body: %v (got %q)", err, b)
	}
	return res, string(b)
}

// roundTrip sends a request and reads its response.
func (c *rawClient) roundTrip(method, raw string) (*http.Response, string) {
	c.t.Helper()
	c.send(raw)
	return c.read(method)
}

// wantClosed fails the test unless the server closes the connection
// within 2s without sending anything more.
func (c *rawClient) wantClosed() {
	c.t.Helper()
	if err := c.closedWithin(2 * time.Second); err != nil {
		c.t.Error(err)
	}
}

// closedWithin returns nil if the server closes the connection within d
// without sending anything more.
func (c *rawClient) closedWithin(d time.Duration) error {
	c.nc.SetReadDeadline(time.Now().Add(d))
	defer c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	extra, err := io.ReadAll(c.br)
	switch {
	case len(extra) > 0:
		return fmt.Errorf("got %d unexpected bytes after the response: %.200q", len(extra), extra)
	case isClosedErr(err):
		return nil
	case isTimeout(err):
		return fmt.Errorf("connection still open %v after the response, want closed", d)
	default:
		return fmt.Errorf("reading after the response: %v, want EOF", err)
	}
}

// isClosedErr reports whether err (nil being io.ReadAll's EOF) is how a
// read sees a connection closed by the peer.
func isClosedErr(err error) bool {
	return err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// requestView renders what a handler sees of r, field name to value, with
// every header field as "Header[Key]". The body is read (first with a
// one-byte read, "FirstRead"), then the trailer is added as "Trailer[Key]".
func requestView(r *http.Request) map[string]string {
	v := map[string]string{
		"Method":           r.Method,
		"RequestURI":       r.RequestURI,
		"Host":             r.Host,
		"Proto":            r.Proto,
		"ProtoMajor":       fmt.Sprint(r.ProtoMajor),
		"ProtoMinor":       fmt.Sprint(r.ProtoMinor),
		"ContentLength":    fmt.Sprint(r.ContentLength),
		"TransferEncoding": fmt.Sprintf("%q", r.TransferEncoding),
		"RemoteAddr":       r.RemoteAddr,
		"LocalAddr":        fmt.Sprint(r.Context().Value(http.LocalAddrContextKey)),
	}
	if r.URL == nil {
		v["URL"] = "<nil>"
	} else {
		v["URL.Path"] = r.URL.Path
		v["URL.RawPath"] = r.URL.RawPath
		v["URL.RawQuery"] = r.URL.RawQuery
		v["URL.Host"] = r.URL.Host
	}
	keys := make([]string, 0, len(r.Header))
	for k, vv := range r.Header {
		keys = append(keys, k)
		v["Header["+k+"]"] = fmt.Sprintf("%q", vv)
	}
	sort.Strings(keys)
	v["HeaderKeys"] = fmt.Sprintf("%q", keys)
	if r.Body == nil {
		v["Body"] = "<nil>"
		return v
	}
	one := make([]byte, 1)
	n, err := r.Body.Read(one)
	v["FirstRead"] = fmt.Sprintf("%d %v", n, err)
	rest, err := io.ReadAll(r.Body)
	v["Body"] = string(one[:n]) + string(rest)
	if err != nil {
		v["BodyErr"] = err.Error()
	}
	for k, vv := range r.Trailer {
		v["Trailer["+k+"]"] = fmt.Sprintf("%q", vv)
	}
	return v
}

func TestServerRequestFields(t *testing.T) {
	seen := make(chan map[string]string, 1)
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- requestView(r)
		io.WriteString(w, "ok")
	}), ServerOptions{})

	tests := []struct {
		name string
		raw  string
		want map[string]string
	}{
		{
			name: "simple GET",
			raw:  "GET /p/q?x=1&y=%20 HTTP/1.1\r\nHost: example.com\r\n\r\n",
			want: map[string]string{
				"Method": "GET", "URL.Path": "/p/q", "URL.RawPath": "", "URL.RawQuery": "x=1&y=%20",
				"RequestURI": "/p/q?x=1&y=%20", "Host": "example.com", "Proto": "HTTP/1.1",
				"ProtoMajor": "1", "ProtoMinor": "1", "ContentLength": "0", "TransferEncoding": "[]",
				"FirstRead": "0 EOF", "Body": "", "HeaderKeys": "[]", // Host moves to r.Host
			},
		},
		{
			name: "escaped slash keeps RawPath",
			raw:  "GET /a%2Fb/c HTTP/1.1\r\nHost: h\r\n\r\n",
			want: map[string]string{"URL.Path": "/a/b/c", "URL.RawPath": "/a%2Fb/c", "RequestURI": "/a%2Fb/c"},
		},
		{
			name: "escaping that round-trips leaves RawPath empty",
			raw:  "GET /a%20b HTTP/1.1\r\nHost: h\r\n\r\n",
			want: map[string]string{"URL.Path": "/a b", "URL.RawPath": "", "RequestURI": "/a%20b"},
		},
		{
			name: "headers canonical, repeated in order, values trimmed",
			raw: "GET / HTTP/1.1\r\nhost: h\r\nx-multi: a\r\nX-MULTI: b\r\nX-Multi: c, d\r\n" +
				"content-type: text/plain\r\nX-Space: \t v  w \t \r\nX-Empty:\r\n\r\n",
			want: map[string]string{
				"Header[X-Multi]": `["a" "b" "c, d"]`, "Header[Content-Type]": `["text/plain"]`,
				"Header[X-Space]": `["v  w"]`, "Header[X-Empty]": `[""]`, "Host": "h",
				"HeaderKeys": `["Content-Type" "X-Empty" "X-Multi" "X-Space"]`,
			},
		},
		{
			name: "Content-Length body",
			raw:  "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world",
			want: map[string]string{
				"Method": "POST", "ContentLength": "11", "TransferEncoding": "[]",
				"FirstRead": "1 <nil>", "Body": "hello world", "Header[Content-Length]": `["11"]`,
			},
		},
		{
			name: "identical duplicate Content-Length accepted",
			raw:  "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
			want: map[string]string{"ContentLength": "3", "Body": "abc"},
		},
		{
			name: "chunked body",
			raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
			want: map[string]string{
				"ContentLength": "-1", "TransferEncoding": `["chunked"]`, "Body": "hello world",
			},
		},
		{
			name: "absolute-form target",
			raw:  "GET http://example.com/x?y HTTP/1.1\r\nHost: example.com\r\n\r\n",
			want: map[string]string{
				"URL.Path": "/x", "URL.RawQuery": "y", "Host": "example.com",
				"RequestURI": "http://example.com/x?y",
			},
		},
		{
			name: "OPTIONS asterisk",
			raw:  "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
			want: map[string]string{"Method": "OPTIONS", "RequestURI": "*", "URL.Path": "*"},
		},
		{
			name: "HTTP/1.0 without Host",
			raw:  "GET /old HTTP/1.0\r\n\r\n",
			want: map[string]string{
				"Proto": "HTTP/1.0", "ProtoMajor": "1", "ProtoMinor": "0", "Host": "", "URL.Path": "/old",
			},
		},
		{
			name: "HTTP/1.2 treated as 1.x like net/http",
			raw:  "GET / HTTP/1.2\r\nHost: h\r\n\r\n",
			want: map[string]string{"Proto": "HTTP/1.2", "ProtoMajor": "1", "ProtoMinor": "2"},
		},
		{
			name: "extension method",
			raw:  "PURGE /c HTTP/1.1\r\nHost: h\r\n\r\n",
			want: map[string]string{"Method": "PURGE"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := hs.dial(t)
			res, body := c.roundTrip("GET", tt.raw)
			if res.StatusCode != 200 || body != "ok" {
				t.Fatalf("response = %d %q, want 200 %q", res.StatusCode, body, "ok")
			}
			var got map[string]string
			select {
			case got = <-seen:
			default:
				t.Fatal("handler did not run")
			}
			tt.want["RemoteAddr"] = c.nc.LocalAddr().String()
			tt.want["LocalAddr"] = hs.addr
			keys := make([]string, 0, len(tt.want))
			for k := range tt.want {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				g, ok := got[k]
				if !ok {
					g = "<absent>"
				}
				if g != tt.want[k] {
					t.Errorf("%s = %s, want %s", k, g, tt.want[k])
				}
			}
			if e, ok := got["BodyErr"]; ok {
				t.Errorf("reading body: %s", e)
			}
		})
	}
}

func TestServerChunkedExtensionsAndTrailer(t *testing.T) {
	seen := make(chan map[string]string, 1)
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- requestView(r)
	}), ServerOptions{})
	c := hs.dial(t)
	res, _ := c.roundTrip("POST", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"+
		"5;name=value\r\nhello\r\n6;a;b=\"q\"\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n")
	if res.StatusCode != 200 {
		t.Fatalf("status = %d, want 200", res.StatusCode)
	}
	got := <-seen
	for k, want := range map[string]string{"Body": "hello world", "Trailer[X-Sum]": `["42"]`} {
		if got[k] != want {
			t.Errorf("%s = %s, want %s", k, got[k], want)
		}
	}
	if e, ok := got["BodyErr"]; ok {
		t.Errorf("reading body: %s", e)
	}
	// The connection is still usable: the trailer section was consumed.
	if res, body := c.roundTrip("GET", "GET /next HTTP/1.1\r\nHost: h\r\n\r\n"); res.StatusCode != 200 {
		t.Errorf("next request: %d %q, want 200", res.StatusCode, body)
	}
	<-seen
}

// pathEcho writes the request path as the body.
var pathEcho = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, r.URL.Path)
})

func TestServerKeepAlive(t *testing.T) {
	hs := startHarness(t, pathEcho, ServerOptions{})
	c := hs.dial(t)
	for _, p := range []string{"/1", "/2", "/3"} {
		res, body := c.roundTrip("GET", "GET "+p+" HTTP/1.1\r\nHost: h\r\n\r\n")
		if res.StatusCode != 200 || body != p {
			t.Fatalf("GET %s = %d %q, want 200 %q", p, res.StatusCode, body, p)
		}
		if res.Close {
			t.Fatalf("GET %s: response asks to close the connection", p)
		}
	}
	if got := hs.calls.Load(); got != 3 {
		t.Errorf("handler calls = %d, want 3", got)
	}
}

func TestServerPipelined(t *testing.T) {
	hs := startHarness(t, pathEcho, ServerOptions{})
	c := hs.dial(t)
	paths := []string{"/a", "/b", "/c", "/d"}
	var req strings.Builder
	for _, p := range paths {
		req.WriteString("GET " + p + " HTTP/1.1\r\nHost: h\r\n\r\n")
	}
	req.WriteString("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz")
	req.WriteString("GET /f HTTP/1.1\r\nHost: h\r\n\r\n")
	paths = append(paths, "/e", "/f")
	c.send(req.String())
	for _, p := range paths {
		res, body := c.read("GET")
		if res.StatusCode != 200 || body != p {
			t.Fatalf("response for %s = %d %q, want 200 %q", p, res.StatusCode, body, p)
		}
	}
}

// TestServerPipelinedNotHeldBack checks that the response to a pipelined
// request is sent when its handler returns, not held back until the next
// request's handler is done.
func TestServerPipelinedNotHeldBack(t *testing.T) {
	gotFirst := make(chan struct{})
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-gotFirst:
			case <-time.After(3 * time.Second):
			}
		}
		io.WriteString(w, r.URL.Path)
	}), ServerOptions{})
	c := hs.dial(t)
	c.send("GET /fast HTTP/1.1\r\nHost: h\r\n\r\nGET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
	c.nc.SetReadDeadline(time.Now().Add(time.Second))
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatalf("response to /fast while /slow's handler runs: %v; want it sent at once", err)
	}
	close(gotFirst)
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(res.Body)
	if string(b) != "/fast" {
		t.Errorf("first body = %q, want %q", b, "/fast")
	}
	if res, body := c.read("GET"); body != "/slow" {
		t.Errorf("second response = %d %q, want 200 %q", res.StatusCode, body, "/slow")
	}
}

// TestServerPipelinedAfterClose checks that requests pipelined after one
// with "Connection: close" are not served.
func TestServerPipelinedAfterClose(t *testing.T) {
	hs := startHarness(t, pathEcho, ServerOptions{})
	c := hs.dial(t)
	res, body := c.roundTrip("GET", "GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n")
	if body != "/a" || !res.Close {
		t.Errorf("response = %d %q (close %v), want 200 %q with Connection: close", res.StatusCode, body, res.Close, "/a")
	}
	c.wantClosed()
	if n := hs.calls.Load(); n != 1 {
		t.Errorf("handler called %d times, want 1", n)
	}
}

// TestServerHandlerConnectionClose checks that a handler setting
// "Connection: close" ends the connection after its response.
func TestServerHandlerConnectionClose(t *testing.T) {
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye")
	}), ServerOptions{})
	c := hs.dial(t)
	res, body := c.roundTrip("GET", "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	if body != "bye" || !res.Close {
		t.Errorf("response = %d %q (close %v), want 200 %q with Connection: close", res.StatusCode, body, res.Close, "bye")
	}
	c.wantClosed()
}

func TestServerConnectionClose(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		wantConn  string // Connection header of the response ("" = any)
		wantClose bool   // response says close, and the server closes
	}{
		{"HTTP/1.1 Connection: close", "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "", true},
		{"HTTP/1.1 connection: CLOSE", "GET / HTTP/1.1\r\nHost: h\r\nconnection: CLOSE\r\n\r\n", "", true},
		{"HTTP/1.0 default", "GET / HTTP/1.0\r\n\r\n", "", true},
		{"HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "keep-alive", false},
		{"HTTP/1.1 default", "GET / HTTP/1.1\r\nHost: h\r\n\r\n", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := startHarness(t, pathEcho, ServerOptions{})
			c := hs.dial(t)
			res, body := c.roundTrip("GET", tt.raw)
			if res.StatusCode != 200 || body != "/" {
				t.Fatalf("response = %d %q, want 200 %q", res.StatusCode, body, "/")
			}
			if got := res.Header.Get("Connection"); tt.wantConn != "" && !strings.EqualFold(got, tt.wantConn) {
				t.Errorf("Connection = %q, want %q", got, tt.wantConn)
			}
			// http.ReadResponse sets Close for "Connection: close" (and
			// for an HTTP/1.0 response without keep-alive), removing the field.
			if res.Close != tt.wantClose {
				t.Errorf("response Close = %v (Connection: close), want %v", res.Close, tt.wantClose)
			}
			if tt.wantClose {
				c.wantClosed()
				return
			}
			res, body = c.roundTrip("GET", strings.Replace(tt.raw, "GET / ", "GET /again ", 1))
			if res.StatusCode != 200 || body != "/again" {
				t.Errorf("second request = %d %q, want 200 %q", res.StatusCode, body, "/again")
			}
		})
	}
}

func TestServerWithHTTPClient(t *testing.T) {
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.Path, b)
	}), ServerOptions{})
	cl := hs.client(t)
	for i := range 3 {
		res, err := cl.Post(hs.url(fmt.Sprintf("/n%d", i)), "text/plain", strings.NewReader("body"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if want := fmt.Sprintf("POST /n%d body", i); err != nil || string(b) != want {
			t.Fatalf("body = %q, %v, want %q", b, err, want)
		}
	}
}

// echoBody answers with the request body, or 500 and the read error.
var echoBody = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(500)
		io.WriteString(w, err.Error())
		return
	}
	w.Write(b)
})
