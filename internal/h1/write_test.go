package h1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestPutField: a field comes out the same whether it fits the buffer's
// free space (one copy) or not (written piece by piece, flushing).
func TestPutField(t *testing.T) {
	long := strings.Repeat("v", 100)
	tests := []struct {
		name   string
		size   int // the writer's buffer
		filled int // bytes already buffered
		k, v   string
	}{
		{"fits", 64, 0, "X-A", "1"},
		{"fits exactly", 64, 64 - len("X-A: 1\r\n"), "X-A", "1"},
		{"one byte short", 64, 64 - len("X-A: 1\r\n") + 1, "X-A", "1"},
		{"longer than the buffer", 32, 5, "X-Long", long},
		{"empty value", 64, 10, "X-E", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			bw := bufio.NewWriterSize(&out, tt.size)
			pre := strings.Repeat("p", tt.filled)
			bw.WriteString(pre)
			putField(bw, tt.k, tt.v)
			bw.WriteString("|")
			if err := bw.Flush(); err != nil {
				t.Fatal(err)
			}
			if got, want := out.String(), pre+tt.k+": "+tt.v+"\r\n|"; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

// TestWriteFieldNeutralizesLineBreaks: a value with CR or LF cannot
// split the head, on either path.
func TestWriteFieldNeutralizesLineBreaks(t *testing.T) {
	for _, v := range []string{"a\r\nInjected: 1", "a\nb", "a\rb", "plain"} {
		var out bytes.Buffer
		bw := bufio.NewWriterSize(&out, 64)
		writeField(bw, "X-V", v)
		bw.Flush()
		want := "X-V: " + strings.NewReplacer("\r", " ", "\n", " ").Replace(v) + "\r\n"
		if got := out.String(); got != want {
			t.Errorf("value %q: got %q, want %q", v, got, want)
		}
	}
}

// benchHeader is a request header as the gateway forwards it.
func benchHeader() http.Header {
	return http.Header{
		"User-Agent":        {"bench/1.0"},
		"Accept":            {"application/json"},
		"X-Request-Id":      {"0123456789abcdef-0123456789abcdef"},
		"X-Forwarded-For":   {"127.0.0.1"},
		"X-Forwarded-Host":  {"127.0.0.1:8080"},
		"X-Forwarded-Proto": {"http"},
		"Forwarded":         {`for=127.0.0.1;host="127.0.0.1:8080";proto=http`},
	}
}

// BenchmarkWriteHead writes a forwarded GET's request head.
func BenchmarkWriteHead(b *testing.B) {
	req, _ := http.NewRequest("GET", "http://127.0.0.1:9001/items?page=2", nil)
	req.Header = benchHeader()
	bw := bufio.NewWriterSize(io.Discard, 4<<10)
	b.ReportAllocs()
	for b.Loop() {
		if err := writeHead(bw, req, "127.0.0.1:9001", 0); err != nil {
			b.Fatal(err)
		}
		bw.Flush()
	}
}

// BenchmarkWriteFields writes a response's header fields.
func BenchmarkWriteFields(b *testing.B) {
	h := benchHeader()
	bw := bufio.NewWriterSize(io.Discard, 4<<10)
	b.ReportAllocs()
	for b.Loop() {
		writeFields(bw, h, false)
		bw.Flush()
	}
}

// TestOpaqueTargetRefused checks that a request whose URL.Opaque holds a
// control character or a space is refused before anything is sent, as a
// path with one is: written, a CR LF would end the request line and
// start a header field of the caller's choosing, and a space would split
// it. net/http refuses the control characters too. The upstream counts
// what it saw.
func TestOpaqueTargetRefused(t *testing.T) {
	var seen atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
	}))
	defer up.Close()
	tr := New(Options{})
	defer tr.CloseIdleConnections()
	for _, opaque := range []string{"/a\r\nX-Injected: 1", "/a b", "/a\x00", "/a\x7f"} {
		req, err := http.NewRequest("GET", up.URL+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.Opaque = opaque
		if res, err := tr.RoundTrip(req); err == nil {
			res.Body.Close()
			t.Errorf("Opaque %q: sent, status %d; want an error", opaque, res.StatusCode)
		}
		if strings.ContainsAny(opaque, "\r\n\x00\x7f") {
			// net/http refuses control characters (a space it sends).
			if _, err := http.DefaultTransport.RoundTrip(req); err == nil {
				t.Errorf("Opaque %q: net/http sent it", opaque)
			}
		}
	}
	req, _ := http.NewRequest("GET", up.URL+"/", nil)
	req.URL.Opaque = "/fine%20path"
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("a valid Opaque target: %v", err)
	}
	res.Body.Close()
	if n := seen.Load(); n != 1 {
		t.Errorf("the upstream saw %d requests, want 1 (the valid one)", n)
	}
}
