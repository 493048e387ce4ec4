package hop

import (
	"net/http"
	"reflect"
	"testing"
)

func TestRemove(t *testing.T) {
	tests := []struct {
		name    string
		in, out http.Header
	}{{
		name: "more fields than hop-by-hop names",
		in: http.Header{
			"Connection":          {"keep-alive, x-secret", "Upgrade"},
			"Proxy-Connection":    {"keep-alive"},
			"Keep-Alive":          {"timeout=5"},
			"Proxy-Authorization": {"Basic x"},
			"Te":                  {"trailers"},
			"Trailer":             {"X-T"},
			"Transfer-Encoding":   {"chunked"},
			"Upgrade":             {"websocket"},
			"X-Secret":            {"s"},
			"X-Keep":              {"k"},
			"Authorization":       {"Bearer t"},
		},
		out: http.Header{"X-Keep": {"k"}, "Authorization": {"Bearer t"}},
	}, {
		name: "fewer fields than hop-by-hop names",
		in: http.Header{
			"Connection": {"close, X-Secret"},
			"Te":         {"trailers"},
			"X-Secret":   {"s"},
			"X-Keep":     {"k"},
			"Host":       {"h"},
		},
		out: http.Header{"X-Keep": {"k"}, "Host": {"h"}},
	}, {
		name: "options named in any case, a field called Close",
		in: http.Header{
			"Connection": {"CLOSE, Keep-Alive,UPGRADE", "x-a"},
			"Close":      {"c"},
			"X-A":        {"a"},
			"X-Keep":     {"k"},
		},
		out: http.Header{"X-Keep": {"k"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			Remove(tt.in)
			if !reflect.DeepEqual(tt.in, tt.out) {
				t.Errorf("after Remove = %v, want %v", tt.in, tt.out)
			}
		})
	}
}

// TestRemoveListed checks the copy's half of Remove: the fields named in
// Connection values go, the hop-by-hop ones stay for the caller, and the
// usual options cost no allocation.
func TestRemoveListed(t *testing.T) {
	h := http.Header{"Keep-Alive": {"1"}, "Upgrade": {"u"}, "Close": {"c"}, "X-A": {"a"}, "X-B": {"b"}, "X-Keep": {"k"}}
	RemoveListed(h, []string{"keep-alive, close, upgrade", " x-a ,,X-B"})
	want := http.Header{"Keep-Alive": {"1"}, "Upgrade": {"u"}, "X-Keep": {"k"}}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("after RemoveListed = %v, want %v", h, want)
	}
	conn := []string{"keep-alive, Close, upgrade, X-Canonical"}
	if n := testing.AllocsPerRun(100, func() { RemoveListed(h, conn) }); n != 0 {
		t.Errorf("RemoveListed(%q) allocates %v times, want 0", conn, n)
	}
}

func BenchmarkRemove(b *testing.B) {
	// A typical response header, with nothing to remove: the map stays
	// as it is, so every iteration does the same work.
	h := http.Header{"Content-Type": {"application/json"}, "Content-Length": {"512"}, "Date": {"x"}}
	b.ReportAllocs()
	for b.Loop() {
		Remove(h)
	}
}

func TestUpgradeType(t *testing.T) {
	tests := []struct {
		h    http.Header
		want string
	}{
		{http.Header{"Connection": {"Upgrade"}, "Upgrade": {"WebSocket"}}, "websocket"},
		{http.Header{"Connection": {"keep-alive, upgrade"}, "Upgrade": {"h2c"}}, "h2c"},
		{http.Header{"Upgrade": {"websocket"}}, ""},
		{http.Header{}, ""},
	}
	for _, tt := range tests {
		if got := UpgradeType(tt.h); got != tt.want {
			t.Errorf("UpgradeType(%v) = %q, want %q", tt.h, got, tt.want)
		}
	}
}

func TestTE(t *testing.T) {
	if !TE(http.Header{"Te": {"gzip, Trailers"}}) {
		t.Error("TE(trailers) = false")
	}
	if TE(http.Header{"Te": {"gzip"}}) {
		t.Error("TE(gzip) = true")
	}
}

func TestRemoveAllocs(t *testing.T) {
	h := http.Header{"Connection": {"Keep-Alive"}, "X-A": {"1"}}
	n := testing.AllocsPerRun(100, func() {
		h["Connection"] = []string{"Keep-Alive"}
		Remove(h)
	})
	if n > 1 { // the slice literal above
		t.Errorf("Remove allocs = %v, want <= 1", n)
	}
}
