package h1

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigate-go/apigate/internal/syncbuf"
)

// serverFuzzSeeds are raw requests, valid and not, from the server tests.
var serverFuzzSeeds = []string{
	"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /p/q?x=1&y=%20 HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"GET /a%2Fb/c HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET http://example.com/x?y HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /old HTTP/1.0\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n",
	"GET / HTTP/1.2\r\nHost: h\r\n\r\n",
	"GET / HTTP/1.1\r\nhost: h\r\nx-multi: a\r\nX-MULTI: b\r\nX-Space: \t v \t \r\n\r\n",
	"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world",
	"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
	"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 42\r\n\r\n",
	"POST /skip HTTP/1.1\r\nHost: h\r\nContent-Length: 35\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 1048576\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello",
	"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	"HEAD / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
	"GARBAGE\r\n\r\n",
	"GET /\r\nHost: h\r\n\r\n",
	"GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
	"G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /a\x01b HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET / HTTP/2.0\r\nHost: h\r\n\r\n",
	"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nX-A : v\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nX(A): v\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nNoColonHere\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n  b\r\n\r\n",
	"GET / HTTP/1.1\r\n X-A: a\r\nHost: h\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x00b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\nb\r\n\r\n",
	"GET / HTTP/1.1\r\nX-A: a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
	"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
	"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nExpect: something-else\r\n\r\n",
	"GET / HTTP/1.1\nHost: h\n\n",
	"0 * HTTP/1.0\n0000:\r0\n\n",
	"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\r\n\r\n",
	"\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
	"",
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// requestProblems lists what a handler must never see in a request.
func requestProblems(r *http.Request) []string {
	var p []string
	if !isToken(r.Method) {
		p = append(p, fmt.Sprintf("Method %q is not a token", r.Method))
	}
	if r.URL == nil {
		p = append(p, "URL is nil")
	}
	if r.ProtoMajor != 1 {
		p = append(p, fmt.Sprintf("Proto %q: major version %d served", r.Proto, r.ProtoMajor))
	}
	if r.Body == nil {
		p = append(p, "Body is nil")
	}
	if r.ContentLength < -1 {
		p = append(p, fmt.Sprintf("ContentLength %d", r.ContentLength))
	}
	if len(r.TransferEncoding) > 0 && r.ContentLength != -1 {
		p = append(p, fmt.Sprintf("TransferEncoding %q with ContentLength %d", r.TransferEncoding, r.ContentLength))
	}
	for k, vv := range r.Header {
		if !isToken(k) {
			p = append(p, fmt.Sprintf("header name %q is not a token", k))
		}
		for _, v := range vv {
			if strings.ContainsAny(v, "\r\n\x00") {
				p = append(p, fmt.Sprintf("header %s value %q holds CR, LF or NUL", k, v))
			}
		}
	}
	return p
}

// fuzzView is what the fuzz target compares of a request.
type fuzzView struct {
	Method, RequestURI, Proto, Path, RawPath, RawQuery, URLHost, Host string
	ContentLength                                                     int64
	TransferEncoding                                                  []string
	Header                                                            http.Header
}

func viewOf(r *http.Request) fuzzView {
	v := fuzzView{
		Method: r.Method, RequestURI: r.RequestURI, Proto: r.Proto, Host: r.Host,
		ContentLength: r.ContentLength, TransferEncoding: r.TransferEncoding, Header: r.Header.Clone(),
	}
	if r.URL != nil {
		v.Path, v.RawPath, v.RawQuery, v.URLHost = r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.URL.Host
	}
	return v
}

// skipEmptyLines drops the empty lines a server skips before a request
// line.
func skipEmptyLines(data []byte) []byte {
	for {
		switch {
		case bytes.HasPrefix(data, []byte("\r\n")):
			data = data[2:]
		case bytes.HasPrefix(data, []byte("\n")):
			data = data[1:]
		default:
			return data
		}
	}
}

// diffReference compares the first request a handler saw on a connection
// with what http.ReadRequest parses from the same bytes; the server may
// refuse more than net/http, but what it accepts it must read the same.
func diffReference(got fuzzView, data []byte) string {
	ref, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(skipEmptyLines(data))))
	if err != nil {
		return fmt.Sprintf("the handler was called, but http.ReadRequest fails: %v", err)
	}
	return diffViews(got, viewOf(ref))
}

// diffViews describes how the view of a request the handler saw differs
// from net/http's, or returns "".
func diffViews(got, want fuzzView) string {
	got.Header, want.Header = got.Header.Clone(), want.Header.Clone()
	delete(want.Header, "Host")   // the server moves it to Host
	delete(got.Header, "Trailer") // net/http moves it to Trailer's keys when chunked
	delete(want.Header, "Trailer")
	if _, ok := got.Header["Cache-Control"]; !ok {
		delete(want.Header, "Cache-Control") // added by ReadRequest for Pragma: no-cache
	}
	if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want); g != w {
		return fmt.Sprintf("handler saw %s\nhttp.ReadRequest gives %s", g, w)
	}
	return ""
}

// FuzzServerRequest writes arbitrary bytes to a server as requests, then
// half-closes: the server must answer or close within 5s without
// panicking, a handler only ever sees well-formed requests, and the first
// request it sees on a connection reads as http.ReadRequest reads it.
func FuzzServerRequest(f *testing.F) {
	for _, s := range serverFuzzSeeds {
		f.Add([]byte(s))
	}
	var mu sync.Mutex
	var problems []string
	first := make(map[string]fuzzView) // by client address
	var logBuf syncbuf.Buffer
	hs := startHarness(f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := requestProblems(r)
		mu.Lock()
		problems = append(problems, p...)
		if _, ok := first[r.RemoteAddr]; !ok {
			first[r.RemoteAddr] = viewOf(r)
		}
		mu.Unlock()
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}), ServerOptions{MaxHeaderBytes: 64 << 10, ErrorLog: log.New(&logBuf, "", 0)})

	f.Fuzz(func(t *testing.T, data []byte) {
		nc, err := net.Dial("tcp", hs.addr)
		if err != nil {
			t.Fatal(err)
		}
		tc := nc.(*net.TCPConn)
		defer tc.Close()
		tc.SetLinger(0) // no TIME_WAIT pile-up across many executions
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		tc.Write(data) // fails if the server already refused and closed
		tc.CloseWrite()
		if _, err := io.Copy(io.Discard, tc); isTimeout(err) {
			t.Fatalf("input %.200q: server neither finished nor closed within 5s of the client's half-close", data)
		}
		mu.Lock()
		p := problems
		problems = nil
		v, called := first[tc.LocalAddr().String()]
		delete(first, tc.LocalAddr().String())
		mu.Unlock()
		if len(p) > 0 {
			t.Errorf("input %.200q: handler saw: %s", data, strings.Join(p, "; "))
		}
		if called {
			if d := diffReference(v, data); d != "" {
				t.Errorf("input %.200q: %s", data, d)
			}
		}
		if l := logBuf.String(); strings.Contains(l, "panic") {
			t.Fatalf("input %.200q: server logged a panic: %.500s", data, l)
		}
	})
}
