package h1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
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
		writeFields(bw, h)
		bw.Flush()
	}
}
