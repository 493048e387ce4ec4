package h1

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigate-go/apigate/internal/hop"
)

// clientFuzzSeeds are upstream byte streams, valid and not, with bytes
// after the response in the ways the desync tests use.
var clientFuzzSeeds = []string{
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nx-a:  b \r\n\r\nok" + poison,
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok" + poison,
	"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n" + poison,
	"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nPOISON",
	"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n" + poison,
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + poison,
	"HTTP/1.1 204 No Content\r\n\r\n" + poison,
	"HTTP/1.1 304 Not Modified\r\nContent-Length: 6\r\n\r\n" + poison,
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n" + poison,
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n" + poison,
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\nok\r\n0\r\n\r\n\r\n",
	"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + poison,
	"HTTP/1.1 103 Early Hints\r\n\r\nGARBAGE\r\n\r\n",
	"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
	"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.0 200 OK\r\n\r\nuntil close",
	"HTTP/1.1 200 OK\r\n\r\nuntil close",
	"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok" + poison,
	"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcd",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
	"HTTP/1.1 200 OK\r\nX-A: a\r\n  folded\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX A: a\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 600 High\r\nContent-Length: 0\r\n\r\n",
	"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
	"\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	"",
}

// respView is what a caller sees of a response.
type respView struct {
	Status           int
	Proto            string
	Header           http.Header
	ContentLength    int64
	TransferEncoding []string
	Close            bool
	Body             string
	BodyErr          bool
	Trailer          http.Header
}

// normalize prints v without the differences between this package and
// net/http that callers do not see through a proxy: the Connection field
// net/http drops once it has read "close" from it; the framing fields of
// responses that have no body (net/http keeps some); the Trailer field,
// and trailers declared but not sent (net/http lists them with no value).
func (v respView) normalize(bodiless bool) string {
	h := v.Header.Clone()
	if v.Close && v.Proto == "HTTP/1.1" && hop.HasToken(h["Connection"], "close") {
		delete(h, "Connection")
	}
	delete(h, "Trailer")
	if bodiless {
		delete(h, "Content-Length")
		delete(h, "Transfer-Encoding")
		v.ContentLength, v.TransferEncoding = 0, nil
	}
	tr := http.Header{}
	for k, vv := range v.Trailer {
		if len(vv) > 0 {
			tr[k] = vv
		}
	}
	v.Header, v.Trailer = h, tr
	return fmt.Sprintf("%+v", v)
}

// referenceResponse parses data as net/http's Transport does for a
// request with method: it skips 1xx responses other than 101 and reads
// the final one's body to its end. rest is how many bytes follow the
// response; untilClose reports a body that runs to the connection's end.
func referenceResponse(method string, data []byte) (v respView, rest int, untilClose bool, err error) {
	r := bytes.NewReader(data)
	br := bufio.NewReader(r)
	req := &http.Request{Method: method}
	var res *http.Response
	for {
		if res, err = http.ReadResponse(br, req); err != nil {
			return v, 0, false, err
		}
		if res.StatusCode >= 200 || res.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	v = respView{Status: res.StatusCode, Proto: res.Proto, Header: res.Header, ContentLength: res.ContentLength,
		TransferEncoding: res.TransferEncoding, Close: res.Close}
	untilClose = res.Body != http.NoBody && res.ContentLength == -1 && res.TransferEncoding == nil
	b, berr := io.ReadAll(res.Body)
	v.Body, v.BodyErr, v.Trailer = string(b), berr != nil, res.Trailer
	return v, br.Buffered() + r.Len(), untilClose, nil
}

// fresh is the honest answer to every request after the first.
const fresh = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nFRESH!"

// FuzzClientResponse sends arbitrary upstream bytes as the answer to a
// GET or HEAD: the client must read them as http.ReadResponse does
// (status, headers, body, trailers, and whether it fails), and whatever
// follows a complete response must never be read as the next request's
// answer: the next request gets its own response, and on a new
// connection whenever bytes were left over. Each input is read twice:
// into a header map, and with RoundTripOptions.RawHead, whose fields,
// once moved into the map with FillHeader, must read the same.
func FuzzClientResponse(f *testing.F) {
	for _, s := range clientFuzzSeeds {
		f.Add(false, []byte(s))
		f.Add(true, []byte(s))
	}
	f.Fuzz(func(t *testing.T, head bool, data []byte) {
		if len(data) > 16<<10 {
			return // sent in one write, so it arrives whole
		}
		fuzzClient(t, head, data, false)
		fuzzClient(t, head, data, true)
	})
}

// fuzzClient is one reading of FuzzClientResponse's input, raw or not.
func fuzzClient(t *testing.T, head bool, data []byte, raw bool) {
	method := http.MethodGet
	if head {
		method = http.MethodHead
	}
	want, rest, untilClose, wantErr := referenceResponse(method, data)
	if wantErr == nil && want.Status == http.StatusSwitchingProtocols {
		return // the connection is the caller's
	}
	// The upstream closes after data when the response has no end of
	// its own (or none at all), so that no read waits forever.
	closeAfter := wantErr != nil || want.BodyErr || untilClose

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go fuzzUpstream(ln, data, closeAfter)
	var dials atomic.Int32
	d := net.Dialer{}
	tr := New(Options{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		c, err := d.DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // no TIME_WAIT pile-up across many executions
		}
		return c, err
	}})
	defer tr.CloseIdleConnections()
	url := "http://" + ln.Addr().String() + "/"
	deadline := time.Now().Add(5 * time.Second)

	// The client may refuse what net/http accepts (it is stricter about
	// heads), but what it accepts it must read the same.
	req, _ := http.NewRequest(method, url, nil)
	res, err := tr.RoundTripWith(req, RoundTripOptions{Deadline: deadline, RawHead: raw})
	if err == nil {
		tr.FillHeader(res)
	}
	if err == nil && wantErr != nil {
		res.Body.Close()
		t.Fatalf("input %q: client accepts a response http.ReadResponse refuses: %v", data, wantErr)
	}
	if err == nil {
		b, berr := io.ReadAll(res.Body)
		res.Body.Close()
		got := respView{Status: res.StatusCode, Proto: res.Proto, Header: res.Header, ContentLength: res.ContentLength,
			TransferEncoding: res.TransferEncoding, Close: res.Close, Body: string(b), BodyErr: berr != nil, Trailer: res.Trailer}
		bodiless := head || got.Status == http.StatusNoContent || got.Status == http.StatusNotModified
		g, w := got.normalize(bodiless), want.normalize(bodiless)
		if g != w {
			t.Fatalf("input %q (raw %v):\nclient reads            %s (%v)\nhttp.ReadResponse reads %s", data, raw, g, berr, w)
		}
	}

	req, _ = http.NewRequest(http.MethodGet, url, nil)
	res, err = tr.RoundTripDeadline(req, deadline)
	if err != nil {
		t.Fatalf("input %q: next request: %v", data, err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || string(b) != "FRESH!" {
		t.Fatalf("input %q: next request got %q (%v), want its own response %q", data, b, err, "FRESH!")
	}
	if n := dials.Load(); rest > 0 && n != 2 {
		t.Fatalf("input %q: %d bytes followed the response, yet its connection was reused", data, rest)
	}
}

// fuzzUpstream answers the first request on its first connection with
// data, then every request with fresh.
func fuzzUpstream(ln net.Listener, data []byte, closeAfter bool) {
	for i := 0; ; i++ {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			br := bufio.NewReader(c)
			for j := 0; ; j++ {
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				io.Copy(io.Discard, req.Body)
				if i == 0 && j == 0 {
					c.Write(data)
					if closeAfter {
						return
					}
					continue
				}
				io.WriteString(c, fresh)
			}
		}()
	}
}
