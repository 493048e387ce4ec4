package apigate

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestStreamingUpload proves the request body is streamed: the upstream
// reads the first part before the client has sent the rest.
func TestStreamingUpload(t *testing.T) {
	firstPart := strings.Repeat("a", 64<<10)
	gotFirst := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, len(firstPart)/2)
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			t.Errorf("upstream read: %v", err)
			return
		}
		close(gotFirst)
		rest, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%d", len(buf)+len(rest))
	}))
	defer up.Close()
	_, gw := serveGateway(t, Mount(Service("/", POST("/upload")), up.URL))

	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(firstPart))
		select {
		case <-gotFirst:
		case <-time.After(10 * time.Second):
			pw.CloseWithError(fmt.Errorf("upstream never saw the first part"))
			return
		}
		pw.Write([]byte("tail"))
		pw.Close()
	}()
	res, body := do(t, newReqBody(t, "POST", gw.URL+"/upload", pr))
	if res.StatusCode != 200 || body != fmt.Sprint(len(firstPart)+4) {
		t.Errorf("got %d %q, want 200 %d", res.StatusCode, body, len(firstPart)+4)
	}
}

// TestStreamingResponse proves the response is streamed: the client reads
// the first chunk before the upstream has written the second.
func TestStreamingResponse(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		io.WriteString(w, "second\n")
	}))
	defer up.Close()
	_, gw := serveGateway(t, Mount(Service("/", GET("/s")), up.URL))
	res, err := http.Get(gw.URL + "/s")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first line = %q, %v", line, err)
	}
	close(release)
	rest, _ := io.ReadAll(br)
	if string(rest) != "second\n" {
		t.Errorf("rest = %q", rest)
	}
}

func TestServerSentEvents(t *testing.T) {
	next := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Content-Length", "") // unknown length
		for i := range 3 {
			fmt.Fprintf(w, "data: event %d\n\n", i)
			w.(http.Flusher).Flush()
			select {
			case <-next:
			case <-time.After(10 * time.Second):
				return
			}
		}
	}))
	defer up.Close()
	_, gw := serveGateway(t, Mount(Service("/", GET("/events", Timeout(0))), up.URL))
	res, err := http.Get(gw.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	for i := range 3 {
		line, err := br.ReadString('\n')
		if err != nil || line != fmt.Sprintf("data: event %d\n", i) {
			t.Fatalf("event %d: got %q, %v", i, line, err)
		}
		br.ReadString('\n')
		next <- struct{}{}
	}
}

// TestLargeUploadDoesNotBuffer sends 64 MiB through the gateway and checks
// that the process allocated far less than the body.
func TestLargeUploadDoesNotBuffer(t *testing.T) {
	const size = 64 << 20
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, n)
	}))
	defer up.Close()
	_, gw := serveGateway(t, Mount(Service("/", POST("/big")), up.URL))
	// Warm up connections and pools.
	do(t, newReq(t, "POST", gw.URL+"/big", "warm"))

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	req := newReqBody(t, "POST", gw.URL+"/big", io.LimitReader(zeros{}, size))
	req.ContentLength = size
	res, body := do(t, req)
	runtime.ReadMemStats(&after)
	if res.StatusCode != 200 || body != fmt.Sprint(size) {
		t.Fatalf("got %d %q", res.StatusCode, body)
	}
	// Client, gateway and upstream all run in this process; together they
	// must allocate well under a quarter of the body.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > size/4 {
		t.Errorf("allocated %d bytes for a %d byte upload", grew, size)
	} else {
		t.Logf("allocated %d KiB for a %d MiB upload", grew>>10, size>>20)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func newReqBody(t testing.TB, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// wsAccept computes Sec-WebSocket-Accept (RFC 6455 section 4.2.2).
func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// wsEchoServer is a minimal WebSocket server: handshake, then it echoes
// each masked client text frame (payload < 126 bytes) as a server frame.
func wsEchoServer(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "want websocket", 400)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", wsAccept(r.Header.Get("Sec-WebSocket-Key")))
		brw.Flush()
		for {
			var hdr [2]byte
			if _, err := io.ReadFull(brw, hdr[:]); err != nil {
				return
			}
			n := int(hdr[1] & 0x7f)
			var mask [4]byte
			io.ReadFull(brw, mask[:])
			payload := make([]byte, n)
			io.ReadFull(brw, payload)
			for i := range payload {
				payload[i] ^= mask[i%4]
			}
			brw.Write([]byte{0x81, byte(n)})
			brw.Write(payload)
			brw.Flush()
		}
	}))
}

func TestWebSocketEcho(t *testing.T) {
	up := wsEchoServer(t)
	defer up.Close()
	_, gw := serveGateway(t, Mount(Service("/", GET("/ws")), up.URL))
	conn, err := net.Dial("tcp", gw.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", key)
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 101 || res.Header.Get("Sec-WebSocket-Accept") != wsAccept(key) {
		t.Fatalf("handshake: %d accept %q", res.StatusCode, res.Header.Get("Sec-WebSocket-Accept"))
	}
	for _, msg := range []string{"hello", "through the gateway"} {
		mask := [4]byte{1, 2, 3, 4}
		frame := []byte{0x81, 0x80 | byte(len(msg)), mask[0], mask[1], mask[2], mask[3]}
		for i := range len(msg) {
			frame = append(frame, msg[i]^mask[i%4])
		}
		conn.Write(frame)
		var hdr [2]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, hdr[1])
		io.ReadFull(br, got)
		if string(got) != msg {
			t.Errorf("echo = %q, want %q", got, msg)
		}
	}
}

func TestH2CUpgradeRefused(t *testing.T) {
	up := newEcho(t)
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), up.URL))
	resp := rawRequest(t, gw.Listener.Addr().String(),
		"GET /x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
	if !strings.HasPrefix(resp, "HTTP/1.1 200") {
		t.Fatalf("status line = %q, want 200 (upgrade ignored)", firstLine(resp))
	}
	h := up.last(t).Header
	for _, k := range []string{"Upgrade", "Http2-Settings"} {
		if v := h.Get(k); v != "" {
			t.Errorf("upstream received %s: %q", k, v)
		}
	}
}

// TestUnexpectedSwitchRefused: an upstream that answers 101 to a request
// that asked for no (allowed) upgrade is a bad gateway.
func TestUnexpectedSwitchRefused(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, _ := http.NewResponseController(w).Hijack()
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
	}))
	defer up.Close()
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), up.URL))
	res, _ := get(t, gw.URL+"/x")
	if res.StatusCode != http.StatusBadGateway {
		t.Errorf("status = %d, want 502", res.StatusCode)
	}
}

// TestUpstreamResetMidBody: the client sees a cut stream, not a clean end.
func TestUpstreamResetMidBody(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	}))
	defer up.Close()
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), up.URL))
	res, err := http.Get(gw.URL + "/x")
	if err != nil {
		return // cut before the head went out: also not a clean end
	}
	defer res.Body.Close()
	if b, err := io.ReadAll(res.Body); err == nil {
		t.Errorf("reading a cut response succeeded with %q, want an error", b)
	}
}
