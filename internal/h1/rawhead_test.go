package h1

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/apigate-go/apigate/internal/hop"
)

func TestScanRaw(t *testing.T) {
	const ct = "Content-Type: text/plain\n"
	tests := []struct {
		name      string
		fields    string
		minor     int
		ok        bool
		length    int64
		closeConn bool
	}{
		{"plain", ct + "Content-Length: 5\n", 1, true, 5, false},
		{"any case, spaces", "content-type:text/plain\ncontent-LENGTH:  12 \nX-A: b\n", 1, true, 12, false},
		{"empty body", ct + "Content-Length: 0\n", 1, true, 0, false},
		{"close", ct + "Content-Length: 5\nConnection: close\n", 1, true, 5, true},
		{"keep-alive and upgrade", ct + "Content-Length: 5\nConnection: keep-alive, Upgrade\nKeep-Alive: timeout=5\n", 1, true, 5, false},
		{"HTTP/1.0 closes", ct + "Content-Length: 5\n", 0, true, 5, true},
		{"HTTP/1.0 keep-alive", ct + "Content-Length: 5\nConnection: Keep-Alive\n", 0, true, 5, false},
		{"no Content-Length", ct, 1, false, 0, false},
		{"two Content-Lengths", ct + "Content-Length: 5\nContent-Length: 5\n", 1, false, 0, false},
		{"bad Content-Length", ct + "Content-Length: 5x\n", 1, false, 0, false},
		{"chunked", ct + "Transfer-Encoding: chunked\n", 1, false, 0, false},
		{"trailer", ct + "Content-Length: 5\nTrailer: X-T\n", 1, false, 0, false},
		{"no Content-Type", "Content-Length: 5\n", 1, false, 0, false},
		{"two Content-Types", ct + ct + "Content-Length: 5\n", 1, false, 0, false},
		{"event stream", "Content-Type: Text/Event-Stream; charset=utf-8\nContent-Length: 5\n", 1, false, 0, false},
		{"Connection names a field", ct + "Content-Length: 5\nConnection: X-Hop\nX-Hop: 1\n", 1, false, 0, false},
		{"bad name", ct + "Content-Length: 5\nX A: 1\n", 1, false, 0, false},
		{"no colon", ct + "Content-Length: 5\nXA\n", 1, false, 0, false},
		{"bad value", ct + "Content-Length: 5\nX-A: a\x01b\n", 1, false, 0, false},
		{"folded line", ct + "Content-Length: 5\nX-A: a\n b\n", 1, false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := scanRaw(tt.fields, tt.minor)
			if ok != tt.ok || ok && (f.length != tt.length || f.close != tt.closeConn) {
				t.Errorf("scanRaw = %+v, %v; want length %d close %v, %v", f, ok, tt.length, tt.closeConn, tt.ok)
			}
		})
	}
}

// rawResponses are an upstream's answers by request path, each followed
// by its body "hello".
var rawResponses = map[string]string{
	"/raw":      "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nContent-Length: 5\r\nX-A:  one \r\n\r\nhello",
	"/created":  "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello",
	"/close":    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
	"/chunked":  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	"/untyped":  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
	"/listed":   "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: X-Hop\r\nX-Hop: 1\r\n\r\nhello",
	"/repeated": "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
}

// TestRawHeadRoundTrip reads responses with RawHead: those of the common
// shape come with their fields raw and an empty header map, the others
// with their fields in the map, and a connection that stays open is
// reused either way.
func TestRawHeadRoundTrip(t *testing.T) {
	u := startScripted(t, func(c net.Conn, req *http.Request) bool {
		res := rawResponses[req.URL.Path]
		if req.Method == http.MethodHead {
			res, _, _ = strings.Cut(res, "hello")
		}
		io.WriteString(c, res)
		return !strings.Contains(res, "close")
	}, true)
	tr := newTransport(t)
	tests := []struct {
		method, path string
		raw          string // the fields kept raw, "" for none
		header       http.Header
		closeConn    bool
	}{
		{"GET", "/raw", "content-type: text/plain\nContent-Length: 5\nX-A:  one \n",
			http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"5"}, "X-A": {"one"}}, false},
		{"GET", "/created", "Content-Type: text/plain\nContent-Length: 5\nConnection: keep-alive\n",
			http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"5"}, "Connection": {"keep-alive"}}, false},
		{"GET", "/chunked", "", http.Header{"Content-Type": {"text/plain"}}, false},
		{"GET", "/untyped", "", http.Header{"Content-Length": {"5"}}, false},
		{"GET", "/listed", "", http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"5"}, "Connection": {"X-Hop"}, "X-Hop": {"1"}}, false},
		{"GET", "/repeated", "", http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"5"}}, false},
		{"HEAD", "/raw", "", http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"5"}, "X-A": {"one"}}, false},
		{"GET", "/close", "Content-Type: text/plain\nContent-Length: 5\nConnection: close\n",
			http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"5"}, "Connection": {"close"}}, true},
	}
	for i, tt := range tests {
		req, _ := http.NewRequest(tt.method, u.url+tt.path, nil)
		res, err := tr.RoundTripWith(req, RoundTripOptions{RawHead: true})
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.path, err)
		}
		fields, ok := tr.RawFields(res)
		if fields != tt.raw || ok != (tt.raw != "") {
			t.Errorf("%s %s: RawFields = %q, %v; want %q", tt.method, tt.path, fields, ok, tt.raw)
		}
		if ok && len(res.Header) != 0 {
			t.Errorf("%s %s: a raw head's header map = %v, want empty", tt.method, tt.path, res.Header)
		}
		if res.Close != tt.closeConn {
			t.Errorf("%s %s: Close = %v, want %v", tt.method, tt.path, res.Close, tt.closeConn)
		}
		want := "hello"
		if tt.method == http.MethodHead {
			want = ""
		}
		if body := readAll(t, res); body != want {
			t.Errorf("%s %s: body %q, want %q", tt.method, tt.path, body, want)
		}
		tr.FillHeader(res)
		if !reflect.DeepEqual(res.Header, tt.header) {
			t.Errorf("%s %s: header after FillHeader = %v, want %v", tt.method, tt.path, res.Header, tt.header)
		}
		if _, ok := tr.RawFields(res); ok {
			t.Errorf("%s %s: still raw after FillHeader", tt.method, tt.path)
		}
		tr.Recycle(res)
		if got := u.conns.Load(); got != 1 {
			t.Fatalf("after request %d (%s %s), the upstream saw %d connections, want 1 reused", i, tt.method, tt.path, got)
		}
	}
	// The last answer closed its connection: the next request opens one.
	res, err := tr.RoundTripWith(mustRequest(t, u.url+"/raw"), RoundTripOptions{RawHead: true})
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, res); body != "hello" || u.conns.Load() != 2 {
		t.Errorf("after a close, got %q on the upstream's connection %d; want hello on a second one", body, u.conns.Load())
	}
	if got := len(u.requests()); got != len(tests)+1 {
		t.Errorf("the upstream saw %d requests, want %d", got, len(tests)+1)
	}
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestRawFieldsOutliveReuse checks that what a response kept raw hands
// out does not change when its connection carries the next response:
// the raw fields of a response without a body (which frees the
// connection at once) and the header map FillHeader fills. Both would
// if they shared the connection's buffer for response heads.
func TestRawFieldsOutliveReuse(t *testing.T) {
	heads := map[string]string{ // heads of the same length, byte for byte
		"/empty": "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\nX-Which: empty\r\n\r\n",
		"/a":     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Which: aaaaa\r\n\r\nhello",
		"/b":     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Which: bbbbb\r\n\r\nhello",
	}
	u := startScripted(t, func(c net.Conn, req *http.Request) bool {
		io.WriteString(c, heads[req.URL.Path])
		return true
	}, true)
	tr := newTransport(t)
	get := func(path string) *http.Response {
		t.Helper()
		res, err := tr.RoundTripWith(mustRequest(t, u.url+path), RoundTripOptions{RawHead: true})
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return res
	}

	empty := get("/empty")
	emptyFields, ok := tr.RawFields(empty)
	const wantEmpty = "Content-Type: text/plain\nContent-Length: 0\nX-Which: empty\n"
	if !ok || emptyFields != wantEmpty {
		t.Fatalf("/empty: RawFields = %q, %v; want %q kept raw", emptyFields, ok, wantEmpty)
	}
	a := get("/a")
	tr.FillHeader(a)
	if body := readAll(t, a); body != "hello" {
		t.Fatalf("/a: body %q", body)
	}
	b := get("/b")
	if fields, _ := tr.RawFields(b); !strings.Contains(fields, "X-Which: bbbbb") {
		t.Errorf("/b: RawFields = %q", fields)
	}
	if body := readAll(t, b); body != "hello" {
		t.Fatalf("/b: body %q", body)
	}
	if n := u.conns.Load(); n != 1 {
		t.Fatalf("the upstream saw %d connections, want the one reused", n)
	}
	if emptyFields != wantEmpty {
		t.Errorf("/empty's raw fields changed when the connection was reused: %q", emptyFields)
	}
	if got := a.Header["X-Which"]; len(got) != 1 || got[0] != "aaaaa" {
		t.Errorf("/a's header after FillHeader changed when the connection was reused: X-Which = %q", got)
	}
	if a.Status != "200 OK" || a.Proto != "HTTP/1.1" || b.Status != "200 OK" {
		t.Errorf("status lines %q %q, %q; want 200 OK on HTTP/1.1", a.Proto, a.Status, b.Status)
	}
}

// TestRawHeadDesync checks that a raw head frames its body as a mapped
// one does: bytes an upstream sends past the Content-Length are no one's
// answer, and each later caller gets its own response.
func TestRawHeadDesync(t *testing.T) {
	u := startRawUpstream(t, func(c net.Conn, req *http.Request) bool {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"+poison)
		return true
	})
	tr := newTransport(t)
	for _, path := range []string{"/first", "/second", "/third"} {
		res, err := tr.RoundTripWith(mustRequest(t, u.url+path), RoundTripOptions{RawHead: true})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		want := path
		if path == "/first" {
			want = "ok"
		}
		if body := readAll(t, res); body != want {
			t.Errorf("%s: got %q, want %q", path, body, want)
		}
	}
	if got := u.requests(); len(got) != 3 || !strings.HasPrefix(got[1], "conn 1:") {
		t.Errorf("upstream saw %q, want 3 requests with the second on a new connection", got)
	}
}

// rawHead reads a response head as lines, without canonicalizing, and
// the body of its Content-Length.
func rawHead(t *testing.T, c *rawClient) (lines []string, body string) {
	t.Helper()
	n := 0
	for {
		line, err := c.br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading head: %v", err)
		}
		line = strings.TrimSuffix(line, "\r\n")
		if line == "" {
			break
		}
		lines = append(lines, line)
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			fmt.Sscan(v, &n)
		}
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.br, b); err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return lines, string(b)
}

func TestWriteRawHeader(t *testing.T) {
	const up = "content-type: text/plain\nContent-Length: 5\nx-request-id: up\nSet-Cookie: b=2\n" +
		"cache-control: up\nKeep-Alive: timeout=5\nConnection: keep-alive\nproxy-authenticate: Basic\n" +
		"Upgrade: h2c\nx-multi-WORD: v\nX-Empty:\n"
	tests := []struct {
		name   string
		fields string
		mw     http.Header // what the handler set before
		want   []string    // the head's field lines, Date apart
		date   string      // the Date line, "" for the server's
		close  bool
	}{
		{"merged", up, http.Header{"X-Request-Id": {"gw"}, "Set-Cookie": {"a=1"}, "Cache-Control": {"mw"}, "X-Mw": {"1"}, "Content-Length": {"99"}},
			[]string{"X-Request-Id: gw", "Set-Cookie: a=1", "X-Mw: 1", "Content-Type: text/plain", "Content-Length: 5",
				"Set-Cookie: b=2", "Cache-Control: up", "X-Multi-Word: v", "X-Empty: "}, "", false},
		{"upstream date", "Content-Type: text/plain\nDate: Mon, 01 Jan 2024 00:00:00 GMT\nContent-Length: 5\n", nil,
			[]string{"Content-Type: text/plain", "Content-Length: 5"}, "Date: Mon, 01 Jan 2024 00:00:00 GMT", false},
		{"handler date", "Content-Type: text/plain\nContent-Length: 5\n", http.Header{"Date": {"Tue, 02 Jan 2024 00:00:00 GMT"}},
			[]string{"Content-Type: text/plain", "Content-Length: 5"}, "Date: Tue, 02 Jan 2024 00:00:00 GMT", false},
		{"handler closes", "Content-Type: text/plain\nContent-Length: 5\nConnection: keep-alive\n", http.Header{"Connection": {"close"}},
			[]string{"Connection: close", "Content-Type: text/plain", "Content-Length: 5"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var accepted bool
			hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.mw {
					w.Header()[k] = v
				}
				accepted = w.(RawHeaderWriter).WriteRawHeader(http.StatusCreated, tt.fields, 5, "X-Request-Id")
				io.WriteString(w, "hello")
			}), ServerOptions{})
			c := hs.dial(t)
			for round := range 2 {
				c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
				status, _ := c.br.ReadString('\n')
				lines, body := rawHead(t, c)
				if !accepted || status != "HTTP/1.1 201 Created\r\n" || body != "hello" {
					t.Fatalf("accepted %v, status %q, body %q; want true, 201, hello", accepted, status, body)
				}
				var dates, others []string
				for _, l := range lines {
					if strings.HasPrefix(l, "Date: ") {
						dates = append(dates, l)
					} else {
						others = append(others, l)
					}
				}
				if len(dates) != 1 || tt.date != "" && dates[0] != tt.date {
					t.Errorf("Date lines %q, want one (%q)", dates, tt.date)
				}
				if !sameLines(others, tt.want) {
					t.Errorf("fields %q, want %q (in any order, but Set-Cookie a before b)", others, tt.want)
				}
				if tt.close {
					c.wantClosed()
					return
				}
				if round == 1 && hs.calls.Load() != 2 {
					t.Errorf("handler calls = %d, want 2 on one connection", hs.calls.Load())
				}
			}
		})
	}
}

// sameLines reports whether got holds the lines of want in any order,
// with the Set-Cookie lines in want's order.
func sameLines(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	count := map[string]int{}
	for _, l := range want {
		count[l]++
	}
	var cookies []string
	for _, l := range got {
		count[l]--
		if strings.HasPrefix(l, "Set-Cookie: ") {
			cookies = append(cookies, l)
		}
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	for i := 1; i < len(cookies); i++ {
		if cookies[i-1] > cookies[i] {
			return false
		}
	}
	return true
}

// TestWriteRawHeaderRefused checks the responses WriteRawHeader leaves to
// WriteHeader, and that refusing changes nothing.
func TestWriteRawHeaderRefused(t *testing.T) {
	const fields = "Content-Type: text/plain\nContent-Length: 5\n"
	tests := []struct {
		name   string
		method string
		before func(w http.ResponseWriter)
		code   int
		length int64
	}{
		{"HEAD", "HEAD", nil, 200, 5},
		{"head written", "GET", func(w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) }, 200, 5},
		{"trailers declared", "GET", func(w http.ResponseWriter) { w.Header().Set("Trailer", "X-T") }, 200, 5},
		{"no body", "GET", nil, http.StatusNoContent, 0},
		{"1xx", "GET", nil, http.StatusEarlyHints, 5},
		{"unknown length", "GET", nil, 200, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var accepted bool
			hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.before != nil {
					tt.before(w)
				}
				accepted = w.(RawHeaderWriter).WriteRawHeader(tt.code, fields, tt.length, "")
				w.Header().Set("Content-Type", "text/x-map")
				io.WriteString(w, "hello")
			}), ServerOptions{})
			c := hs.dial(t)
			res, _ := c.roundTrip(tt.method, tt.method+" / HTTP/1.1\r\nHost: h\r\n\r\n")
			if accepted {
				t.Fatalf("WriteRawHeader accepted a %s response", tt.name)
			}
			if tt.name != "head written" && tt.name != "trailers declared" && res.Header.Get("Content-Type") != "text/x-map" {
				t.Errorf("Content-Type %q, want the map's text/x-map", res.Header.Get("Content-Type"))
			}
		})
	}
}

// BenchmarkRawHead reads an upstream's response head and writes it to a
// client, raw and through header maps, as a proxy does.
func BenchmarkRawHead(b *testing.B) {
	const head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Mon, 07 Dec 2026 00:00:00 GMT\r\n" +
		"Content-Length: 594\r\nCache-Control: no-store\r\n\r\n"
	req := &http.Request{Method: "GET"}
	for _, raw := range []bool{false, true} {
		b.Run(map[bool]string{false: "map", true: "raw"}[raw], func(b *testing.B) {
			t := New(Options{})
			c := &conn{pool: &pool{t: t}, br: bufio.NewReader(nil)}
			srv := &Server{}
			w := &response{c: &srvConn{srv: srv, bw: bufio.NewWriterSize(io.Discard, 4096), resHdr: http.Header{}}, req: req, length: -1, keep: true}
			src := strings.NewReader(head)
			body := &reqBody{}
			b.ReportAllocs()
			for b.Loop() {
				src.Reset(head)
				c.br.Reset(src)
				ra, err := c.readResponse(req, 1<<20, raw)
				if err != nil {
					b.Fatal(err)
				}
				res := &ra.res
				clear(w.c.resHdr)
				w.c.resHdr["X-Request-Id"] = []string{"id"}
				*w = response{c: w.c, req: req, length: -1, keep: true, body: body}
				if fields, ok := t.RawFields(res); ok {
					w.WriteRawHeader(res.StatusCode, fields, res.ContentLength, "X-Request-Id")
				} else {
					hop.Remove(res.Header)
					for k, vv := range res.Header {
						w.c.resHdr[k] = vv
					}
					w.WriteHeader(res.StatusCode)
				}
				w.commit(false, nil)
				t.Recycle(res)
			}
		})
	}
}

// FuzzRawHead checks that relaying an upstream's head raw gives the
// client what the header-map path gives: the fields of any head the
// client keeps raw, written by WriteRawHeader over a handler's fields,
// must read back (with http.ReadResponse) as the map path's do, where
// the map path removes the hop-by-hop fields and the skipped one, and
// the upstream's fields replace the handler's but for Set-Cookie.
func FuzzRawHead(f *testing.F) {
	f.Add("Content-Type: text/plain\r\nContent-Length: 2\r\n")
	f.Add("content-type: a\r\ncontent-length: 0\r\nx-request-id: up\r\nset-cookie: b=2\r\ncache-control: x\r\n")
	f.Add("Content-Type: a\r\nContent-Length: 2\r\nConnection: close, Upgrade\r\nUpgrade: h2c\r\nKeep-Alive: 5\r\nTe: x\r\n")
	f.Add("Content-Type: a\r\nContent-Length: 2\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nX-A: \t1 \r\nx-a: 2\r\n")
	f.Fuzz(func(t *testing.T, fields string) {
		head := "HTTP/1.1 200 OK\r\n" + fields + "\r\n"
		req := &http.Request{Method: "GET", ProtoMinor: 1}
		tr := New(Options{})
		read := func(raw bool) *http.Response {
			c := &conn{pool: &pool{t: tr}, br: bufio.NewReader(strings.NewReader(head))}
			ra, err := c.readResponse(req, 1<<20, raw)
			if err != nil {
				return nil
			}
			return &ra.res
		}
		res := read(true)
		if res == nil {
			return
		}
		raw, ok := tr.RawFields(res)
		if !ok {
			return
		}
		mapped := read(false)
		if mapped == nil {
			t.Fatalf("head %q kept raw, but refused without RawHead", head)
		}
		handler := http.Header{"X-Request-Id": {"gw"}, "Set-Cookie": {"a=1"}, "Cache-Control": {"mw"}}
		write := func(res *http.Response, raw string) http.Header {
			var out bytes.Buffer
			bw := bufio.NewWriter(&out)
			h := http.Header{}
			for k, v := range handler {
				h[k] = v
			}
			w := &response{c: &srvConn{srv: &Server{}, bw: bw, resHdr: h}, req: req, length: -1, keep: true, body: &reqBody{}}
			if raw != "" {
				if !w.WriteRawHeader(res.StatusCode, raw, res.ContentLength, "X-Request-Id") {
					t.Fatalf("WriteRawHeader refused %q", raw)
				}
			} else {
				hop.Remove(res.Header)
				delete(res.Header, "X-Request-Id")
				for k, vv := range res.Header {
					if k == "Set-Cookie" {
						vv = append(h[k][:len(h[k]):len(h[k])], vv...)
					}
					h[k] = vv
				}
				w.WriteHeader(res.StatusCode)
			}
			w.commit(false, nil)
			bw.Flush()
			got, err := http.ReadResponse(bufio.NewReader(&out), req)
			if err != nil {
				t.Fatalf("head %q: the client cannot read %q: %v", head, out.String(), err)
			}
			return got.Header
		}
		a, b := write(res, raw), write(mapped, "")
		// The server's own Date may tick between the two.
		if len(a["Date"]) != 1 || len(b["Date"]) != 1 || hasRawField(raw, "Date") && a["Date"][0] != b["Date"][0] {
			t.Fatalf("head %q: Date raw %q, maps %q; want one, the upstream's if it sent one", head, a["Date"], b["Date"])
		}
		delete(a, "Date")
		delete(b, "Date")
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("head %q:\nraw   %v\nmaps  %v", head, a, b)
		}
	})
}

// TestRawHeadLeavesHeaderMap checks that a response written raw leaves
// the handler's header map without a Content-Length: the raw field
// replaces the map's, and setting one there would cost the hot path two
// allocations for a field the writer skips.
func TestRawHeadLeavesHeaderMap(t *testing.T) {
	got := make(chan []string, 1)
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !w.(RawHeaderWriter).WriteRawHeader(http.StatusOK, "Content-Type: text/plain\nContent-Length: 5\n", 5, "") {
			t.Error("WriteRawHeader refused a plain response")
		}
		io.WriteString(w, "hello")
		got <- w.Header()["Content-Length"]
	}), ServerOptions{})
	c := hs.dial(t)
	c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	status, _ := c.br.ReadString('\n')
	lines, body := rawHead(t, c)
	if status != "HTTP/1.1 200 OK\r\n" || body != "hello" {
		t.Fatalf("status %q, body %q", status, body)
	}
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "Content-Length:") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d Content-Length fields in %q, want 1", n, lines)
	}
	if cl := <-got; cl != nil {
		t.Errorf("the header map got Content-Length %q", cl)
	}
}
