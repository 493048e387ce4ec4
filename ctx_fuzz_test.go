package apigate

import (
	"bufio"
	"bytes"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// FuzzSetHeader checks the header setters hooks use: whatever they accept
// survives being written as HTTP/1.1 and parsed back unchanged, so no
// accepted value can split a header or smuggle a line upstream.
func FuzzSetHeader(f *testing.F) {
	for _, kv := range [][2]string{{"X-User", "u-1"}, {"X-A", "a\r\nX-Injected: 1"}, {"Bad Name", "v"}, {"X-T", "tab\there"}, {"X-N", "nul\x00"}, {"X-U", "ünïcode"}, {"", "v"}, {"X:Y", "v"}} {
		f.Add(kv[0], kv[1])
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		c := &Ctx{header: http.Header{}}
		err := c.SetHeader(key, value)
		if err != nil {
			if c.hdrErr == nil {
				t.Fatal("a refused header did not fail the request")
			}
			return
		}
		var buf bytes.Buffer
		if err := c.header.Write(&buf); err != nil {
			t.Fatal(err)
		}
		buf.WriteString("\r\n")
		got, err := textproto.NewReader(bufio.NewReader(&buf)).ReadMIMEHeader()
		if err != nil {
			t.Fatalf("accepted %q: %q does not parse back: %v", key, value, err)
		}
		if len(got) != 1 {
			t.Fatalf("accepted %q: %q became %d headers: %v", key, value, len(got), got)
		}
		want := strings.Trim(value, " \t")
		if v := got.Get(key); v != want {
			t.Fatalf("accepted %q: %q read back as %q", key, value, v)
		}
	})
}
