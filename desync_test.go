package apigate

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The desync suite: raw sockets on both sides of the gateway, every
// pairing of server and client engine, under -race in CI. Each test
// checks the one property a proxy must never lose: every client gets the
// response to its own request, whatever the other side sends.

// enginePair is a server engine in front and a client engine behind.
type enginePair struct {
	name           string
	server, client Engine
}

var enginePairs = []enginePair{
	{"nethttp/nethttp", EngineNetHTTP, EngineNetHTTP},
	{"nethttp/http1", EngineNetHTTP, EngineHTTP1},
	{"http1/nethttp", EngineHTTP1, EngineNetHTTP},
	{"http1/http1", EngineHTTP1, EngineHTTP1},
}

// forEachPair runs f as a subtest for every engine pairing.
func forEachPair(t *testing.T, f func(t *testing.T, p enginePair)) {
	for _, p := range enginePairs {
		t.Run(p.name, func(t *testing.T) { f(t, p) })
	}
}

// serveDesync builds a gateway with the pair's client engine and serves
// it with the pair's server engine through the serving helpers.
func serveDesync(t *testing.T, p enginePair, so ServeOptions, opts ...Option) string {
	t.Helper()
	opts = append([]Option{WithUpstream(UpstreamOptions{Engine: p.client})}, opts...)
	g, err := New(opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(g.CloseIdleConnections)
	so.Engine = p.server
	return serveHelpers(t, g, so)
}

// keepAliveUpstream is a raw keep-alive upstream: it reads requests off
// each connection in a loop and writes what answer returns for each,
// verbatim. It counts connections and requests.
type keepAliveUpstream struct {
	url   string
	conns atomic.Int64
	reqs  atomic.Int64
}

func newKeepAliveUpstream(t *testing.T, answer func(r *http.Request) string) *keepAliveUpstream {
	t.Helper()
	u := &keepAliveUpstream{}
	u.url = tcpServer(t, func(c net.Conn) {
		u.conns.Add(1)
		br := bufio.NewReader(c)
		for {
			r, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, r.Body)
			u.reqs.Add(1)
			if _, err := io.WriteString(c, answer(r)); err != nil {
				return
			}
		}
	})
	return u
}

// poison is a complete, valid response: an upstream that sends it after
// its real answer tries to have it read as the answer to someone else's
// request.
const poison = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nPOISON"

// ownPath answers a request with its own path as the body.
func ownPath(r *http.Request) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(r.URL.Path), r.URL.Path)
}

// TestDesyncTrailingBytesFromUpstream: bytes an upstream sends after a
// complete response are never read as the response to a later request.
// As in TestDesyncTrailingBytesConcurrent, this is strict for EngineHTTP1
// and logged for net/http's Transport, whose pool can hand the connection
// out before it notices the stray bytes (seen under load).
func TestDesyncTrailingBytesFromUpstream(t *testing.T) {
	cases := []struct {
		name, method, path, answer string
	}{
		{"body on HEAD", http.MethodHead, "/bad/head", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n" + "POISON"},
		{"response after HEAD", http.MethodHead, "/bad/head2", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n" + poison},
		{"body on 204", http.MethodGet, "/bad/204", "HTTP/1.1 204 No Content\r\n\r\n" + poison},
		{"body on 304", http.MethodGet, "/bad/304", "HTTP/1.1 304 Not Modified\r\n\r\n" + poison},
		{"longer than Content-Length", http.MethodGet, "/bad/long", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + poison},
		// With a Content-Type, the HTTP/1.1 engines relay the head raw.
		{"longer than Content-Length, raw", http.MethodGet, "/bad/raw", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok" + poison},
		{"after the chunked terminator", http.MethodGet, "/bad/chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n" + poison},
		{"after trailers", http.MethodGet, "/bad/trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n" + poison},
	}
	forEachPair(t, func(t *testing.T, p enginePair) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				up := newKeepAliveUpstream(t, func(r *http.Request) string {
					if strings.HasPrefix(r.URL.Path, "/bad/") {
						return tc.answer
					}
					return ownPath(r)
				})
				addr := serveDesync(t, p, ServeOptions{}, Mount(Service("/", GET("/*p"), HEAD("/*p")), up.url))
				client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
				t.Cleanup(client.CloseIdleConnections)
				report := t.Errorf
				if p.client == EngineNetHTTP {
					report = t.Logf
				}

				req, _ := http.NewRequest(tc.method, "http://"+addr+tc.path, nil)
				if res, err := client.Do(req); err == nil {
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if strings.Contains(string(b), "POISON") && tc.method == http.MethodHead {
						t.Errorf("HEAD answered with a body: %q", b)
					}
				}
				// Other clients, one connection each: every one must get its
				// own path back, never POISON.
				for i := range 8 {
					path := "/id/" + strconv.Itoa(i)
					res, err := client.Get("http://" + addr + path)
					if err != nil {
						t.Fatalf("GET %s: %v", path, err)
					}
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != 200 || string(b) != path {
						report("GET %s: %d %q, want 200 %q", path, res.StatusCode, b, path)
					}
				}
				if got := up.reqs.Load(); got != 9 {
					t.Errorf("upstream saw %d requests, want 9", got)
				}
			})
		}
	})
}

// TestDesyncTrailingBytesConcurrent: the same under concurrency, poisoned
// answers interleaved with ordinary ones from many clients.
//
// net/http's Transport has a window between returning a connection to its
// pool and noticing unsolicited bytes on it, so with EngineNetHTTP as the
// upstream client a poisoned answer occasionally reaches another client
// (about one run in twenty here; SECURITY.md says so). The test logs that
// case and fails on it only for EngineHTTP1, which checks a connection's
// buffered and pending bytes before every reuse.
func TestDesyncTrailingBytesConcurrent(t *testing.T) {
	forEachPair(t, func(t *testing.T, p enginePair) {
		report := t.Errorf
		if p.client == EngineNetHTTP {
			report = t.Logf
		}
		up := newKeepAliveUpstream(t, func(r *http.Request) string {
			switch {
			case r.Method == http.MethodHead:
				return "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n" + poison
			case strings.HasPrefix(r.URL.Path, "/bad/"):
				return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + poison
			}
			return ownPath(r)
		})
		addr := serveDesync(t, p, ServeOptions{}, Mount(Service("/", GET("/*p"), HEAD("/*p")), up.url))
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
		t.Cleanup(client.CloseIdleConnections)
		var wg sync.WaitGroup
		var wrong, good atomic.Int64
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 30 {
					var req *http.Request
					switch i % 3 {
					case 0:
						req, _ = http.NewRequest(http.MethodHead, "http://"+addr+"/x", nil)
					case 1:
						req, _ = http.NewRequest(http.MethodGet, "http://"+addr+"/bad/x", nil)
					default:
						req, _ = http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/id/%d/%d", addr, w, i), nil)
					}
					res, err := client.Do(req)
					if err != nil {
						wrong.Add(1)
						t.Errorf("%s %s: %v", req.Method, req.URL.Path, err)
						continue
					}
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if req.Method == http.MethodGet && strings.HasPrefix(req.URL.Path, "/id/") {
						if res.StatusCode != 200 || string(b) != req.URL.Path {
							wrong.Add(1)
							report("GET %s: %d %q", req.URL.Path, res.StatusCode, b)
						} else {
							good.Add(1)
						}
					}
				}
			}()
		}
		wg.Wait()
		if good.Load() != 80 {
			report("%d of 80 clients got their own response (%d wrong)", good.Load(), wrong.Load())
		}
	})
}

// readResponses reads n responses off br in order, each with its body,
// stopping at the first error.
func readResponses(br *bufio.Reader, method string, n int) ([]string, error) {
	var out []string
	for range n {
		req := &http.Request{Method: method}
		res, err := http.ReadResponse(br, req)
		if err != nil {
			return out, err
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return out, err
		}
		out = append(out, fmt.Sprintf("%d %s", res.StatusCode, b))
	}
	return out, nil
}

// TestDesyncPipelinedRequests: requests pipelined on one client
// connection, with bodies framed every way, are answered in order, each
// with its own response.
func TestDesyncPipelinedRequests(t *testing.T) {
	forEachPair(t, func(t *testing.T, p enginePair) {
		up := newKeepAliveUpstream(t, ownPath)
		addr := serveDesync(t, p, ServeOptions{}, Mount(Service("/", GET("/*p"), POST("/*p")), up.url))
		big := strings.Repeat("b", 100<<10)
		in := "GET /id/1 HTTP/1.1\r\nHost: a\r\n\r\n" +
			"POST /id/2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" +
			"POST /id/3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
			"POST /id/4 HTTP/1.1\r\nHost: a\r\nContent-Length: " + strconv.Itoa(len(big)) + "\r\n\r\n" + big +
			"GET /id/5 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		go io.WriteString(c, in)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := readResponses(bufio.NewReader(c), http.MethodGet, 5)
		want := []string{"200 /id/1", "200 /id/2", "200 /id/3", "200 /id/4", "200 /id/5"}
		if err != nil || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("responses = %q (err %v), want %q", got, err, want)
		}
		if n := up.reqs.Load(); n != 5 {
			t.Errorf("upstream saw %d requests, want 5", n)
		}
	})
}

// TestDesyncEarlyAnswerToUpload: an upstream that answers before reading
// an upload (large, or chunked) leaves the client connection in sync: a
// request pipelined after the upload gets its own answer or a closed
// connection, never someone else's bytes. Many connections at once, for
// the race detector.
func TestDesyncEarlyAnswerToUpload(t *testing.T) {
	forEachPair(t, func(t *testing.T, p enginePair) {
		var early atomic.Int64
		up := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/early") {
				early.Add(1)
				w.Header().Set("Connection", "close")
				io.WriteString(w, "early")
				return
			}
			io.Copy(io.Discard, r.Body)
			io.WriteString(w, r.URL.Path)
		}))
		addr := serveDesync(t, p, ServeOptions{}, Mount(Service("/", GET("/*p"), POST("/*p")), up))
		big := strings.Repeat("u", 200<<10)
		uploads := []string{
			"POST /early/big HTTP/1.1\r\nHost: a\r\nContent-Length: " + strconv.Itoa(len(big)) + "\r\n\r\n" + big,
			"POST /early/chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
				strings.Repeat(fmt.Sprintf("%x\r\n%s\r\n", 8<<10, big[:8<<10]), 20) + "0\r\n\r\n",
		}
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				after := fmt.Sprintf("/id/%d", i)
				go io.WriteString(c, uploads[i%2]+"GET "+after+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
				c.SetReadDeadline(time.Now().Add(15 * time.Second))
				got, _ := readResponses(bufio.NewReader(c), http.MethodPost, 2)
				if len(got) == 0 {
					t.Errorf("conn %d: no response to the upload", i)
					return
				}
				if got[0] != "200 early" {
					t.Errorf("conn %d: upload answered %q, want 200 early", i, got[0])
				}
				if len(got) == 2 && got[1] != "200 "+after {
					t.Errorf("conn %d: request after the upload answered %q, want 200 %s", i, got[1], after)
				}
			}()
		}
		wg.Wait()
		if n := early.Load(); n != 40 {
			t.Errorf("upstream saw %d uploads, want 40", n)
		}
	})
}

// TestDesyncTimeoutMidUpload: a client that stalls an upload gets 504
// at the route timeout, whatever the body's size and framing, and the
// gateway keeps answering others correctly afterwards.
func TestDesyncTimeoutMidUpload(t *testing.T) {
	heads := []struct{ name, head, part string }{
		{"small, Content-Length", "POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n", "0123456789"},
		{"large, Content-Length", "POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n", strings.Repeat("x", 80<<10)},
		{"chunked", "POST /slow HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", "a\r\n0123456789\r\n"},
	}
	forEachPair(t, func(t *testing.T, p enginePair) {
		var saw atomic.Int64
		up := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/slow" {
				saw.Add(1)
			}
			n, _ := io.Copy(io.Discard, r.Body)
			fmt.Fprintf(w, "%s %d", r.URL.Path, n)
		}))
		addr := serveDesync(t, p, ServeOptions{}, Mount(Service("/", GET("/*p"), POST("/*p")), up),
			WithRequestTimeout(300*time.Millisecond))
		for _, h := range heads {
			t.Run(h.name, func(t *testing.T) {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				go io.WriteString(c, h.head+h.part)
				// The stall lasts 10 s; the answer must come long before.
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				got, err := readResponses(bufio.NewReader(c), http.MethodPost, 1)
				if len(got) != 1 || !strings.HasPrefix(got[0], "504 ") {
					t.Errorf("stalled upload answered %q (err %v), want 504 within the route timeout", got, err)
				}
				res, body := get(t, "http://"+addr+"/after")
				if res.StatusCode != 200 || body != "/after 0" {
					t.Errorf("next request: %d %q", res.StatusCode, body)
				}
			})
		}
		if n := saw.Load(); n > int64(len(heads)) {
			t.Errorf("upstream saw %d stalled uploads, want at most %d", n, len(heads))
		}
	})
}

// TestDesyncHeadWaitsHaveDeadlines: a connection that leaves a partial
// request head after a complete request, or only blank lines, is closed
// by the read-header timeout, on both servers.
func TestDesyncHeadWaitsHaveDeadlines(t *testing.T) {
	inputs := []struct{ name, in string }{
		{"partial head after a pipelined request", "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nA\r\n\r\nGET /x HTTP/1.1\r\nHo"},
		{"blank lines then a partial head", "\r\n\r\nGET /x HTTP/1.1\r\nHo"},
		{"partial chunked body", "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"},
	}
	for _, p := range []enginePair{enginePairs[0], enginePairs[2]} {
		t.Run(p.name, func(t *testing.T) { testHeadWaits(t, p, inputs) })
	}
}

func testHeadWaits(t *testing.T, p enginePair, inputs []struct{ name, in string }) {
	{
		up := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
		}))
		addr := serveDesync(t, p, ServeOptions{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: time.Second, IdleTimeout: 300 * time.Millisecond},
			Mount(Service("/", GET("/*p"), POST("/*p")), up))
		for _, in := range inputs {
			t.Run(in.name, func(t *testing.T) {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				io.WriteString(c, in.in)
				// The server must close the connection; the bound is generous.
				c.SetReadDeadline(time.Now().Add(8 * time.Second))
				_, err = io.Copy(io.Discard, c)
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Errorf("connection still open after 8 s with a 200 ms read-header timeout")
				}
			})
		}
	}
}

// TestDesyncEarlyAnswerWhileUploadStalls: an upstream answers before the
// client has sent its whole body, and the client then stalls. The answer
// reaches the client at once, and nothing reads the client's body once
// the handler has returned (the upstream client's writer is interrupted
// and joined), so the next request on the connection, or a closed
// connection, is all the client can see.
func TestDesyncEarlyAnswerWhileUploadStalls(t *testing.T) {
	forEachPair(t, func(t *testing.T, p enginePair) {
		// A raw upstream: net/http's server would wait for the rest of the
		// body before answering.
		up := rawUpstream(t, func(c net.Conn, _ *bufio.Reader) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nearly")
		})
		addr := serveDesync(t, p, ServeOptions{}, Mount(Service("/", POST("/*p")), up))
		for _, head := range []string{
			// Large enough to be streamed by both clients (EngineHTTP1
			// reads a body of up to 64 KiB whole before it sends the
			// request, as nginx buffers one).
			"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n",
			"POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\na\r\n",
		} {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, head+"0123456789")
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, err := readResponses(bufio.NewReader(c), http.MethodPost, 1)
			if len(got) != 1 || got[0] != "200 early" {
				t.Errorf("%q: answered %q (err %v), want 200 early while the upload stalls", head, got, err)
			}
			c.Close()
		}
	})
}

// TestDesyncUploadKeepsConnection: an upload the upstream reads whole
// leaves the client's connection open for the next request, on every
// pairing (only an answer that comes before the upload ends closes it).
func TestDesyncUploadKeepsConnection(t *testing.T) {
	forEachPair(t, func(t *testing.T, p enginePair) {
		up := newKeepAliveUpstream(t, ownPath)
		addr := serveDesync(t, p, ServeOptions{}, Mount(Service("/", POST("/*p")), up.url))
		for _, body := range []string{"small", strings.Repeat("b", 100<<10)} {
			for _, chunked := range []bool{false, true} {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				framed := "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
				if chunked {
					framed = "Transfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
				}
				go io.WriteString(c, "POST /one HTTP/1.1\r\nHost: a\r\n"+framed+"POST /two HTTP/1.1\r\nHost: a\r\n"+framed)
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				got, err := readResponses(bufio.NewReader(c), http.MethodPost, 2)
				if strings.Join(got, ",") != "200 /one,200 /two" {
					t.Errorf("%d bytes, chunked %v: responses %q (err %v), want both on one connection", len(body), chunked, got, err)
				}
				c.Close()
			}
		}
	})
}
