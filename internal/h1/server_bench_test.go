package h1

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// benchGETHandler sets Content-Type and Content-Length and writes 500
// bytes, with no allocation of its own.
func benchGETHandler() http.Handler {
	body := []byte(strings.Repeat("0123456789", 50))
	ct := []string{"text/plain; charset=utf-8"}
	cl := []string{strconv.Itoa(len(body))}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = ct
		h["Content-Length"] = cl
		w.Write(body)
	})
}

// readBenchResponse reads one response framed by Content-Length, without
// allocating, and returns its body length.
func readBenchResponse(br *bufio.Reader) (int, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
		return 0, fmt.Errorf("status line %q", line)
	}
	n := -1
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(line) <= 2 {
			break
		}
		const key = "content-length:"
		if len(line) > len(key) && bytes.EqualFold(line[:len(key)], []byte(key)) {
			n = 0
			for _, c := range bytes.TrimSpace(line[len(key):]) {
				n = n*10 + int(c-'0')
			}
		}
	}
	if n < 0 {
		return 0, fmt.Errorf("no Content-Length")
	}
	_, err = br.Discard(n)
	return n, err
}

// benchRequest is a GET as curl sends it; hostOnlyRequest is one as wrk
// sends it, with Host its only field.
var (
	benchRequest    = []byte("GET /bench?q=1 HTTP/1.1\r\nHost: bench.example\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	hostOnlyRequest = []byte("GET /bench?q=1 HTTP/1.1\r\nHost: bench.example\r\n\r\n")
)

// benchGET runs keep-alive GETs of req over one loopback connection to the
// server that serve starts on ln; serve returns its stop function.
func benchGET(b *testing.B, req []byte, serve func(ln net.Listener) (stop func())) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(serve(ln))
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReaderSize(nc, 4<<10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := nc.Write(req); err != nil {
			b.Fatal(err)
		}
		if n, err := readBenchResponse(br); err != nil || n != 500 {
			b.Fatalf("response: %d bytes, %v; want 500", n, err)
		}
	}
}

// BenchmarkServerGET is a keep-alive GET of a 500-byte response from
// [Server].
func BenchmarkServerGET(b *testing.B) {
	benchGET(b, benchRequest, serveBench)
}

// BenchmarkServerGETHostOnly is BenchmarkServerGET with a request whose
// only field is Host, as load generators send.
func BenchmarkServerGETHostOnly(b *testing.B) {
	benchGET(b, hostOnlyRequest, serveBench)
}

// serveBench serves [benchGETHandler] from [Server] on ln.
func serveBench(ln net.Listener) func() {
	s := NewServer(benchGETHandler(), ServerOptions{})
	go s.Serve(ln)
	return func() { s.Close() }
}

// BenchmarkNetHTTPServerGET is BenchmarkServerGET against net/http's
// http.Server, the baseline.
func BenchmarkNetHTTPServerGET(b *testing.B) {
	benchGET(b, benchRequest, func(ln net.Listener) func() {
		s := &http.Server{Handler: benchGETHandler()}
		go s.Serve(ln)
		return func() { s.Close() }
	})
}

// BenchmarkParseFields parses a browser's request header fields into a
// new header and an upstream's response fields into a reused one, as the
// server and the client do for each exchange.
func BenchmarkParseFields(b *testing.B) {
	const req = "Host: gw.example\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\nAccept: application/json\n" +
		"Accept-Language: en-GB,en;q=0.9\nAccept-Encoding: gzip, deflate, br\nConnection: keep-alive\n" +
		"Cookie: session=0123456789abcdef\nX-Request-Id: 4bf92f3577b34da6\n"
	const res = "Server: fasthttp\nDate: Sun, 06 Dec 2026 22:00:00 GMT\nContent-Type: application/json\nContent-Length: 594\n"
	h := make(http.Header)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseFields(req); err != nil {
			b.Fatal(err)
		}
		clear(h)
		if _, err := parseFieldsInto(h, res, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestExchangeSizeClass keeps the server's per-request allocation, the
// exchange, within the runtime's 768-byte size class: the next class is
// 896 bytes, 17% more for the collector to sweep on every request.
func TestExchangeSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(exchange{}); n > 768 {
		t.Errorf("exchange is %d bytes, over the 768-byte size class", n)
	}
}

// TestHostOnlyFieldsAllocs keeps a request head whose only field is Host
// to the header map's own allocation: Host goes to its own field, and
// the map gets no storage for it.
func TestHostOnlyFieldsAllocs(t *testing.T) {
	var h http.Header
	var host hostField
	allocs := testing.AllocsPerRun(100, func() {
		host = hostField{}
		var err error
		if h, err = parseFieldsInto(nil, "Host: bench.example\n", &host); err != nil {
			t.Fatal(err)
		}
	})
	if len(h) != 0 || host.n != 1 || host.value != "bench.example" {
		t.Fatalf("got header %v, host %+v; want an empty header and one Host", h, host)
	}
	if allocs > 1 {
		t.Errorf("%v allocations, want 1 (the map)", allocs)
	}
}
