package apigate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// newGateway builds a gateway with the test engine's upstream client.
func newGateway(t *testing.T, opts ...Option) *Gateway {
	t.Helper()
	g, err := New(append([]Option{WithUpstream(UpstreamOptions{Engine: testEngine()})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.CloseIdleConnections)
	return g
}

func TestUpstreamResponseHeaderReplacesMiddleware(t *testing.T) {
	up := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Add("Set-Cookie", "up=1")
		io.WriteString(w, "ok")
	}))
	g := newGateway(t, Mount(Service("/", GET("/x")), up))
	mw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Add("Set-Cookie", "mw=1")
		g.ServeHTTP(w, r)
	})
	front := serveFront(t, mw)
	res, _ := get(t, front.URL+"/x")
	if got := res.Header.Values("Cache-Control"); len(got) != 1 || got[0] != "no-store" {
		t.Errorf("Cache-Control = %q, want the upstream's [no-store] alone", got)
	}
	if got := res.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q, want the middleware's DENY (the upstream sent none)", got)
	}
	if got := res.Header.Values("Set-Cookie"); strings.Join(got, ",") != "mw=1,up=1" {
		t.Errorf("Set-Cookie = %q, want both cookies, the middleware's first", got)
	}
}

// TestRawResponseHead sends an upstream's head, written in lower case
// with hop-by-hop fields, through every engine pairing: with the HTTP/1.1
// engine on both sides the fields are relayed raw (see
// h1.RawHeaderWriter), and the client must see what the header-map path
// gives: canonical names, no hop-by-hop fields, the gateway's request ID,
// the upstream's fields replacing the middleware's but for Set-Cookie.
func TestRawResponseHead(t *testing.T) {
	const answer = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n" +
		"connection: keep-alive\r\nkeep-alive: timeout=5\r\nproxy-authenticate: Basic\r\nupgrade: h2c\r\n" +
		"x-request-id: up\r\nset-cookie: up=1\r\ncache-control: no-store\r\nx-up: 1\r\n\r\nok"
	forEachPair(t, func(t *testing.T, p enginePair) {
		var ids []string
		var mu sync.Mutex
		up := newKeepAliveUpstream(t, func(r *http.Request) string {
			mu.Lock()
			ids = append(ids, r.Header.Get("X-Request-Id"))
			mu.Unlock()
			return answer
		})
		g := MustNew(Mount(Service("/", GET("/x")), up.url), WithUpstream(UpstreamOptions{Engine: p.client}))
		t.Cleanup(g.CloseIdleConnections)
		addr := serveHelpers(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "public, max-age=60")
			w.Header().Set("X-Frame-Options", "DENY")
			w.Header().Add("Set-Cookie", "mw=1")
			g.ServeHTTP(w, r)
		}), ServeOptions{Engine: p.server})
		client := &http.Client{Transport: &http.Transport{}}
		t.Cleanup(client.CloseIdleConnections)
		for i := range 3 {
			res, err := client.Get("http://" + addr + "/x")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			h := res.Header
			if res.StatusCode != 200 || string(b) != "ok" || h.Get("Content-Type") != "text/plain" || h.Get("X-Up") != "1" {
				t.Fatalf("request %d: %d %q with %v, want 200 ok with the upstream's fields", i, res.StatusCode, b, h)
			}
			for _, k := range []string{"Keep-Alive", "Proxy-Authenticate", "Upgrade"} {
				if v, ok := h[k]; ok {
					t.Errorf("hop-by-hop %s: %q reached the client", k, v)
				}
			}
			mu.Lock()
			id := ids[len(ids)-1]
			mu.Unlock()
			if got := h.Values("X-Request-Id"); len(got) != 1 || got[0] != id || id == "" {
				t.Errorf("X-Request-Id = %q, want the gateway's %q alone", got, id)
			}
			if got := h.Values("Cache-Control"); len(got) != 1 || got[0] != "no-store" {
				t.Errorf("Cache-Control = %q, want the upstream's alone", got)
			}
			if got := strings.Join(h.Values("Set-Cookie"), ","); got != "mw=1,up=1" {
				t.Errorf("Set-Cookie = %q, want mw=1,up=1", got)
			}
			if h.Get("X-Frame-Options") != "DENY" || len(h.Values("Date")) != 1 || len(h.Values("Content-Length")) != 1 {
				t.Errorf("header %v: want the middleware's X-Frame-Options, one Date, one Content-Length", h)
			}
		}
		if up.reqs.Load() != 3 || up.conns.Load() != 1 {
			t.Errorf("upstream saw %d requests on %d connections, want 3 on 1", up.reqs.Load(), up.conns.Load())
		}
	})
}

func TestInformationalResponsesForwarded(t *testing.T) {
	up := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.WriteHeader(http.StatusProcessing)
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "final")
	}))
	for _, se := range serverEngines {
		t.Run(se.name, func(t *testing.T) {
			g := newGateway(t, Mount(Service("/", GET("/x")), up))
			front := serveFrontWith(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Middleware", "1")
				g.ServeHTTP(w, r)
			}), se.engine)
			type info struct {
				code int
				h    textproto.MIMEHeader
			}
			var got []info
			trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
				got = append(got, info{code, h})
				return nil
			}}
			req := newReq(t, "GET", front.URL+"/x", "")
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
			res, body := do(t, req)
			if res.StatusCode != 200 || body != "final" {
				t.Fatalf("final response %d %q", res.StatusCode, body)
			}
			if len(got) != 2 || got[0].code != 103 || got[1].code != 102 {
				t.Fatalf("1xx responses = %v, want 103 then 102", got)
			}
			if l := got[0].h.Get("Link"); l != "</style.css>; rel=preload; as=style" {
				t.Errorf("103 Link = %q", l)
			}
			if v := got[0].h.Get("X-Middleware"); v != "" {
				t.Errorf("103 carries the final response's X-Middleware %q", v)
			}
			if v := res.Header.Get("Link"); v != "" {
				t.Errorf("final response carries the 103's Link %q", v)
			}
			if v := res.Header.Get("X-Middleware"); v != "1" {
				t.Errorf("final response lost the middleware's header: %q", v)
			}
		})
	}
}

// bodyRecorder is an upstream that reads each request body whole and
// records how many bytes arrived and how the read ended.
type bodyRecorder struct {
	url  string
	mu   sync.Mutex
	seen []bodySeen
	done chan struct{} // one value per request read
}

type bodySeen struct {
	n   int64
	err error
}

func newBodyRecorder(t *testing.T) *bodyRecorder {
	br := &bodyRecorder{done: make(chan struct{}, 16)}
	br.url = newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		br.mu.Lock()
		br.seen = append(br.seen, bodySeen{n, err})
		br.mu.Unlock()
		br.done <- struct{}{}
		fmt.Fprintf(w, "read %d", n)
	}))
	return br
}

// wait returns what the upstream saw of the next request, failing the
// test if none arrives in time.
func (br *bodyRecorder) wait(t *testing.T) bodySeen {
	t.Helper()
	select {
	case <-br.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream saw no request")
	}
	br.mu.Lock()
	defer br.mu.Unlock()
	return br.seen[len(br.seen)-1]
}

func (br *bodyRecorder) count() int {
	br.mu.Lock()
	defer br.mu.Unlock()
	return len(br.seen)
}

// unsized hides a reader's length, so the client sends it chunked.
type unsized struct{ io.Reader }

func TestStreamLimit(t *testing.T) {
	const limit = 4096
	up := newBodyRecorder(t)
	_, gw := serveGateway(t, Mount(Service("/", POST("/up"), POST("/form", Multipart())), up.url), WithStreamLimit(limit))
	small, big := strings.Repeat("s", limit), strings.Repeat("b", 4*limit)

	for _, path := range []string{"/up", "/form"} {
		// Content-Length known: refused before the upstream hears of it.
		req := newReq(t, "POST", gw.URL+path, big)
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		res, body := do(t, req)
		if res.StatusCode != 413 || !strings.Contains(body, CodePayloadTooLarge) {
			t.Errorf("%s Content-Length over the limit: %d %q, want 413 %s", path, res.StatusCode, body, CodePayloadTooLarge)
		}
		if n := up.count(); n != 0 {
			t.Fatalf("%s: the upstream saw %d requests, want 0", path, n)
		}
	}

	// Chunked over the limit: the upstream request is aborted past it.
	req := newReqBody(t, "POST", gw.URL+"/up", unsized{strings.NewReader(big)})
	res, body := do(t, req)
	if res.StatusCode != 413 || !strings.Contains(body, CodePayloadTooLarge) {
		t.Errorf("chunked over the limit: %d %q, want 413 %s", res.StatusCode, body, CodePayloadTooLarge)
	}
	if seen := up.wait(t); seen.err == nil || seen.n > limit {
		t.Errorf("upstream read %d bytes, err %v; want at most %d and a broken body", seen.n, seen.err, limit)
	}

	// At the limit, both ways: forwarded whole.
	for _, body := range []io.Reader{strings.NewReader(small), unsized{strings.NewReader(small)}} {
		res, got := do(t, newReqBody(t, "POST", gw.URL+"/up", body))
		if res.StatusCode != 200 || got != fmt.Sprintf("read %d", limit) {
			t.Errorf("body at the limit: %d %q", res.StatusCode, got)
		}
		if seen := up.wait(t); seen.err != nil || seen.n != limit {
			t.Errorf("upstream read %d bytes, err %v; want %d whole", seen.n, seen.err, limit)
		}
	}
}

func TestRequestTrailersDroppedOnHookRoutes(t *testing.T) {
	type seen struct{ header, trailer http.Header }
	got := make(chan seen, 1)
	up := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got <- seen{r.Header.Clone(), r.Trailer.Clone()}
	}))
	setUser := func(c *Ctx) error { return c.SetHeader("X-User-Id", "u-1") }
	_, gw := serveGateway(t, Mount(Service("/", POST("/hooked", Before(setUser)), POST("/plain")), up))

	send := func(path string) seen {
		t.Helper()
		req := newReqBody(t, "POST", gw.URL+path, unsized{strings.NewReader("payload")})
		req.Trailer = http.Header{"X-User-Id": {"admin"}}
		res, _ := do(t, req)
		if res.StatusCode != 200 {
			t.Fatalf("%s: status %d", path, res.StatusCode)
		}
		return <-got
	}
	s := send("/hooked")
	if v := s.header.Values("X-User-Id"); len(v) != 1 || v[0] != "u-1" {
		t.Errorf("X-User-Id header = %q, want the hook's [u-1]", v)
	}
	if v := s.trailer.Values("X-User-Id"); len(v) != 0 {
		t.Errorf("the client's trailer X-User-Id = %q reached the upstream past the hook", v)
	}
	if testEngine() == EngineNetHTTP {
		// Passthrough routes keep trailers (net/http's client sends them).
		if v := send("/plain").trailer.Get("X-User-Id"); v != "admin" {
			t.Errorf("passthrough trailer X-User-Id = %q, want admin", v)
		}
	}
}

func TestStalledUploadEndsAtRouteTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	const stall = 20 * time.Second
	for _, se := range serverEngines {
		t.Run(se.name, func(t *testing.T) {
			up := newBodyRecorder(t)
			g := newGateway(t, Mount(Service("/", POST("/up")), up.url), WithRequestTimeout(timeout))
			front := serveFrontWith(t, g, se.engine)
			conn, err := net.Dial("tcp", front.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// Headers and 100 of 1000 bytes, then nothing: the client
			// stalls for longer than the test waits.
			fmt.Fprintf(conn, "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n%s", strings.Repeat("a", 100))
			conn.SetReadDeadline(time.Now().Add(stall / 2))
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer while the client stalled: %v", err)
			}
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusGatewayTimeout {
				t.Errorf("status %d %q, want 504", res.StatusCode, body)
			}
			if seen := up.wait(t); seen.err == nil || seen.n >= 1000 {
				t.Errorf("upstream read %d bytes, err %v; want a broken body", seen.n, seen.err)
			}
		})
	}
}

// idleUpgradeUpstream completes an upgrade, echoes what it reads, and
// reports on closed when its connection ends.
func idleUpgradeUpstream(t *testing.T, closed chan<- error) string {
	return newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		// Nothing to read for much longer than the idle timeout: only the
		// gateway closing the connection ends this.
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		buf := make([]byte, 64)
		for {
			n, err := brw.Read(buf)
			if err != nil {
				closed <- err
				return
			}
			conn.Write(buf[:n])
		}
	}))
}

func TestUpgradeIdleTimeout(t *testing.T) {
	closed := make(chan error, 1)
	up := idleUpgradeUpstream(t, closed)
	_, gw := serveGateway(t, Mount(Service("/", GET("/ws")), up), WithUpgradeIdleTimeout(300*time.Millisecond))
	conn, err := net.Dial("tcp", gw.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != 101 {
		t.Fatalf("handshake: %v %v", res, err)
	}
	// Activity keeps it open: each message comes back, 150ms apart, for
	// longer than the idle timeout in all.
	for i := range 4 {
		msg := fmt.Sprintf("ping %d", i)
		io.WriteString(conn, msg)
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(br, got); err != nil || string(got) != msg {
			t.Fatalf("echo %d: %q, %v", i, got, err)
		}
		time.Sleep(150 * time.Millisecond)
	}
	// Then idle: the gateway closes both sides.
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("client side: read returned %v, want EOF from the gateway closing", err)
	}
	select {
	case err := <-closed:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("upstream side was never closed by the gateway (its own deadline passed)")
		}
	case <-time.After(20 * time.Second):
		t.Error("upstream side still open")
	}
}
