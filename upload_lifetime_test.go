package apigate

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests pin what happens to an upload the gateway stops needing
// before the client finished sending it: the upstream answered early,
// or the route timed out. The upstream client's body writer is still
// reading the request body when the gateway's handler returns; the
// server must wait for it, or stop it, before it reads the next request
// on the connection. They are run under -race by CI on both engines.

// uploadUpstream counts the requests it saw by the last element of their path. /early answers
// without reading the body (full duplex, so net/http does not read it
// first) and closes the connection; /slow reads it all first; /next
// answers "next".
type uploadUpstream struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]int
}

func newUploadUpstream(t *testing.T) *uploadUpstream {
	u := &uploadUpstream{seen: make(map[string]int)}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := path.Base(r.URL.Path) // whatever prefix the gateway forwards
		u.mu.Lock()
		u.seen[name]++
		u.mu.Unlock()
		switch name {
		case "early":
			http.NewResponseController(w).EnableFullDuplex()
			// Closing after the answer keeps net/http's server from
			// reading the next request while the unread upload is still
			// its body: it panics then, with "invalid concurrent
			// Body.Read call" (golang/go#68560), a fault of this test
			// upstream, not of the gateway.
			w.Header().Set("Connection", "close")
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "early")
			w.(http.Flusher).Flush()
		case "slow":
			io.Copy(io.Discard, r.Body)
			io.WriteString(w, "slow")
		case "next":
			io.WriteString(w, "next")
		}
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *uploadUpstream) count(name string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.seen[name]
}

// uploadConn is a raw client connection to the gateway.
type uploadConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialUpload(t *testing.T, url string) *uploadConn {
	t.Helper()
	nc, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { nc.Close() })
	return &uploadConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *uploadConn) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read reads one response and its body; ok is false when the connection
// closed first.
func (c *uploadConn) read() (status int, body string, ok bool) {
	c.t.Helper()
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		if ne, isNet := err.(net.Error); isNet && ne.Timeout() {
			c.t.Fatalf("no response and no close within 10s: %v", err)
		}
		return 0, "", false
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("reading the response body: %v", err)
	}
	return res.StatusCode, string(b), true
}

// uploads are a chunked and a Content-Length upload, each as the part
// sent before the gateway answers and the rest.
var uploads = []struct {
	name        string
	head, first string
	rest        string
}{
	{"chunked", "Transfer-Encoding: chunked\r\n",
		"1000\r\n" + strings.Repeat("a", 4096) + "\r\n",
		strings.Repeat("1000\r\n"+strings.Repeat("b", 4096)+"\r\n", 20) + "0\r\n\r\n"},
	{"Content-Length over 64 KiB", fmt.Sprintf("Content-Length: %d\r\n", 160<<10),
		strings.Repeat("a", 8<<10),
		strings.Repeat("b", 152<<10)},
}

// runUploadCase sends the first part of an upload to path, and the rest
// with a pipelined GET after the gateway had time to answer (net/http's
// server reads the rest of an upload before answering, the package h1
// server does not). The upload and the GET must each get their own
// answer, or the connection must close after the upload's. A
// wantStatus of 0 accepts 200 with wantBody or a route timeout.
func runUploadCase(t *testing.T, front, path, head, first, rest string, wantStatus int, wantBody string) {
	c := dialUpload(t, front)
	c.send("POST " + path + " HTTP/1.1\r\nHost: gw\r\n" + head + "\r\n" + first)
	go func() {
		time.Sleep(300 * time.Millisecond)
		io.WriteString(c.nc, rest+"GET /api/next HTTP/1.1\r\nHost: gw\r\n\r\n")
	}()
	status, body, ok := c.read()
	timeoutOK := wantStatus == 0
	switch {
	case timeoutOK && (status == http.StatusGatewayTimeout || status == http.StatusBadGateway):
		// Under stress an upload may time out, or meet a pooled upstream
		// connection the upstream is closing (a POST is not retried):
		// either is an answer of its own, never another request's.
		wantStatus, wantBody = status, ""
	case timeoutOK:
		wantStatus = 200
	}
	if !ok || status != wantStatus || !strings.HasPrefix(body, wantBody) {
		t.Fatalf("upload: got %d %q (answered: %v), want %d %q", status, body, ok, wantStatus, wantBody)
	}
	status, body, ok = c.read()
	if timeoutOK && (status == http.StatusGatewayTimeout || status == http.StatusBadGateway) {
		return
	}
	if ok && (status != 200 || body != "next") {
		t.Fatalf("the request after the upload got %d %q, want 200 %q", status, body, "next")
	}
}

// TestUploadAnsweredEarly has the upstream answer before reading the
// upload.
func TestUploadAnsweredEarly(t *testing.T) {
	for _, u := range uploads {
		t.Run(u.name, func(t *testing.T) {
			up := newUploadUpstream(t)
			_, front := serveGateway(t, Mount(Service("/api", POST("/early"), GET("/next")), up.URL))
			runUploadCase(t, front.URL, "/api/early", u.head, u.first, u.rest, 200, "early")
			if n := up.count("early"); n != 1 {
				t.Errorf("upstream saw the upload %d times, want 1", n)
			}
		})
	}
}

// TestUploadRouteTimeout has the route time out while the client is
// still uploading.
func TestUploadRouteTimeout(t *testing.T) {
	for _, u := range uploads {
		t.Run(u.name, func(t *testing.T) {
			up := newUploadUpstream(t)
			_, front := serveGateway(t, Mount(Service("/api", POST("/slow"), GET("/next")), up.URL),
				WithRequestTimeout(200*time.Millisecond))
			runUploadCase(t, front.URL, "/api/slow", u.head, u.first, u.rest, http.StatusGatewayTimeout, "")
			if n := up.count("slow"); n != 1 {
				t.Errorf("upstream saw the upload %d times, want 1", n)
			}
		})
	}
}

// TestUploadEarlyAnswerStress runs the early answer and the route
// timeout on many connections at once: no crash, no hang, and each
// answer is the request's own.
func TestUploadEarlyAnswerStress(t *testing.T) {
	up := newUploadUpstream(t)
	_, front := serveGateway(t, Mount(Service("/api", POST("/early"), POST("/slow"), GET("/next")), up.URL),
		WithRequestTimeout(200*time.Millisecond))
	const conns = 200
	var wg sync.WaitGroup
	sem := make(chan struct{}, 40)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			u := uploads[i%len(uploads)]
			// Under load either may time out; what must never happen is
			// an answer that belongs to another request.
			path, want := "/api/early", "early"
			if i%3 == 0 {
				path, want = "/api/slow", "slow"
			}
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				runUploadCase(t, front.URL, path, u.head, u.first, u.rest, 0, want)
			})
		}()
	}
	wg.Wait()
}
