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

// pipelineSeeds are inputs of two or more requests, meant to desync a
// parser that frames a body differently from net/http.
var pipelineSeeds = []string{
	"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /1 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /1 HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabcGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabcGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=\"x\\\"y\";e2\r\nabc\r\n0;last\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /1 HTTP/1.1\nHost: h\nContent-Length: 2\n\nokGET /2 HTTP/1.1\nHost: h\n\n",
	"GET /1 HTTP/1.1\r\nHost: h\r\nX-Fold: a\r\n b\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX\r\n0\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: v\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\ngarbage\r\n\r\n",
	"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /1 HTTP/1.0\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \tchunked\r\n\r\n0\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /1 HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabcGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /1 HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
}

// seenRequest is what the pipelined fuzz handler records of a request.
type seenRequest struct {
	view    fuzzView
	body    string
	bodyErr bool
}

// FuzzServerPipelined writes arbitrary bytes, meant as several requests,
// to a server and half-closes. Each request a handler sees must be the
// one repeated http.ReadRequest calls parse from the same bytes, in
// order, with the same body: the server may stop earlier than net/http,
// but it never answers a request net/http would not have parsed at that
// position.
func FuzzServerPipelined(f *testing.F) {
	for _, s := range pipelineSeeds {
		f.Add([]byte(s))
	}
	for _, s := range serverFuzzSeeds[:12] {
		f.Add([]byte(s + s))
	}
	var mu sync.Mutex
	seen := make(map[string][]seenRequest) // by client address
	var logBuf syncbuf.Buffer
	hs := startHarness(f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := viewOf(r)
		b, err := io.ReadAll(r.Body)
		mu.Lock()
		seen[r.RemoteAddr] = append(seen[r.RemoteAddr], seenRequest{v, string(b), err != nil})
		mu.Unlock()
		io.WriteString(w, "ok")
	}), ServerOptions{MaxHeaderBytes: 64 << 10, ErrorLog: log.New(&logBuf, "", 0)})

	f.Fuzz(func(t *testing.T, data []byte) {
		nc, err := net.Dial("tcp", hs.addr)
		if err != nil {
			t.Fatal(err)
		}
		tc := nc.(*net.TCPConn)
		defer tc.Close()
		tc.SetLinger(0)
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		tc.Write(data)
		tc.CloseWrite()
		if _, err := io.Copy(io.Discard, tc); isTimeout(err) {
			t.Fatalf("input %.200q: server neither finished nor closed within 5s of the client's half-close", data)
		}
		mu.Lock()
		got := seen[tc.LocalAddr().String()]
		delete(seen, tc.LocalAddr().String())
		mu.Unlock()
		if d := diffPipeline(got, data); d != "" {
			t.Errorf("input %.300q: %s", data, d)
		}
		if l := logBuf.String(); strings.Contains(l, "panic") {
			t.Fatalf("input %.200q: server logged a panic: %.500s", data, l)
		}
	})
}

// diffPipeline compares the requests a handler saw on one connection
// with those repeated http.ReadRequest calls parse from data.
func diffPipeline(got []seenRequest, data []byte) string {
	br := bufio.NewReader(bytes.NewReader(data))
	for i, g := range got {
		// Skip the empty lines before a request line, as the server does.
		for {
			b, err := br.Peek(1)
			if err != nil || (b[0] != '\n' && b[0] != '\r') {
				break
			}
			if b[0] == '\r' {
				if b2, err := br.Peek(2); err != nil || b2[1] != '\n' {
					break
				}
				br.Discard(1)
			}
			br.Discard(1)
		}
		ref, err := http.ReadRequest(br)
		if err != nil {
			return fmt.Sprintf("request %d: the handler saw %s %s, but http.ReadRequest fails there: %v",
				i+1, g.view.Method, g.view.RequestURI, err)
		}
		body, berr := io.ReadAll(ref.Body)
		if d := diffViews(g.view, viewOf(ref)); d != "" {
			return fmt.Sprintf("request %d: %s", i+1, d)
		}
		if g.bodyErr {
			// The server stops at a body it cannot read: so must the rest.
			if i != len(got)-1 {
				return fmt.Sprintf("request %d: body failed, but %d more requests were served", i+1, len(got)-1-i)
			}
			return ""
		}
		if berr != nil {
			return fmt.Sprintf("request %d: the handler read its body %q, but net/http fails: %v", i+1, g.body, berr)
		}
		if string(body) != g.body {
			return fmt.Sprintf("request %d: the handler read the body %q, net/http %q", i+1, g.body, body)
		}
	}
	return ""
}
