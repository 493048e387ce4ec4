package hop

import (
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// FuzzRemove checks that after Remove no hop-by-hop header and no header
// named in Connection is left, and every other header is untouched.
func FuzzRemove(f *testing.F) {
	for _, s := range []string{"keep-alive", "X-A, x-b", " , ,Upgrade", "close", "X-Keep", "te,TRAILER", "\tx-a\t,", ""} {
		f.Add(s, "X-Keep")
	}
	f.Fuzz(func(t *testing.T, conn, other string) {
		other = textproto.CanonicalMIMEHeaderKey(other)
		h := http.Header{"Connection": {conn}, "Keep-Alive": {"1"}, "Te": {"trailers"}, "Upgrade": {"x"}}
		if other != "" {
			h[other] = []string{"v"}
		}
		named := map[string]bool{}
		for _, n := range strings.Split(conn, ",") {
			if n = textproto.TrimString(n); n != "" {
				named[textproto.CanonicalMIMEHeaderKey(n)] = true
			}
		}
		Remove(h)
		for _, k := range headers {
			if _, ok := h[k]; ok {
				t.Fatalf("hop-by-hop %s left after Remove (Connection %q)", k, conn)
			}
		}
		for k := range h {
			if named[k] {
				t.Fatalf("%s is named in Connection %q but was kept", k, conn)
			}
		}
		isHop := false
		for _, k := range headers {
			isHop = isHop || k == other
		}
		if other != "" && !named[other] && !isHop {
			if got := h[other]; len(got) != 1 || got[0] != "v" {
				t.Fatalf("unrelated header %s changed to %v", other, got)
			}
		}
	})
}
