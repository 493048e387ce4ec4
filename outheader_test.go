package apigate

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

// TestOutHeader checks the outbound copy of a request header directly:
// hop-by-hop fields and those Connection names left out, a trusted peer's
// forwarding headers extended, anyone else's replaced, the inbound header
// untouched.
func TestOutHeader(t *testing.T) {
	in := func() http.Header {
		return http.Header{
			"Accept":            {"application/json"},
			"Cookie":            {"a=1", "b=2"},
			"Connection":        {"keep-alive, X-Private", "X-Forwarded-Host"},
			"X-Private":         {"secret"},
			"Keep-Alive":        {"timeout=5"},
			"Te":                {"trailers, gzip"},
			"Proxy-Connection":  {"keep-alive"},
			"X-Forwarded-For":   {"203.0.113.9"},
			"X-Forwarded-Host":  {"listed.example"},
			"X-Forwarded-Proto": {"https"},
			"Forwarded":         {"for=203.0.113.9"},
		}
	}
	// What reaches the upstream besides the forwarding headers: the
	// end-to-end fields, TE cut to trailers, no Go User-Agent.
	want := func(xff, xfh, xfp, fwd string) http.Header {
		h := http.Header{
			"Accept":            {"application/json"},
			"Cookie":            {"a=1", "b=2"},
			"Te":                {"trailers"},
			"User-Agent":        nil,
			"X-Forwarded-For":   {xff},
			"X-Forwarded-Host":  {xfh},
			"X-Forwarded-Proto": {xfp},
			"Forwarded":         {fwd},
		}
		if fwd == "" {
			delete(h, "Forwarded")
		}
		return h
	}
	tests := []struct {
		name string
		opts []Option
		want http.Header
	}{
		{"untrusted peer", nil,
			want("192.0.2.1", "gw.example", "http", "for=192.0.2.1;host=gw.example;proto=http")},
		{"untrusted peer, no Forwarded", []Option{WithoutForwardedHeader()},
			want("192.0.2.1", "gw.example", "http", "")},
		// X-Forwarded-Host is named in Connection: dropped as hop-by-hop,
		// then set by this hop.
		{"trusted peer", []Option{WithTrustedProxies("192.0.2.0/24")},
			want("203.0.113.9, 192.0.2.1", "gw.example", "https", "for=203.0.113.9, for=192.0.2.1;host=gw.example;proto=http")},
		{"trusted peer, no Forwarded", []Option{WithTrustedProxies("192.0.2.1"), WithoutForwardedHeader()},
			want("203.0.113.9, 192.0.2.1", "gw.example", "https", "for=203.0.113.9")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := MustNew(append([]Option{Mount(Service("/", GET("/x")), "http://192.0.2.10")}, tt.opts...)...)
			r := httptest.NewRequest("GET", "http://gw.example/x", nil)
			r.RemoteAddr = "192.0.2.1:4321"
			r.Header = in()
			for _, buf := range []*headerBuf{nil, {}} {
				got, up := g.outHeader(r, buf)
				if up != "" {
					t.Errorf("upgrade %q, want none", up)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("outHeader (buf %v) =\n%v\nwant\n%v", buf != nil, got, tt.want)
				}
			}
			if !reflect.DeepEqual(r.Header, in()) {
				t.Errorf("inbound header changed to %v", r.Header)
			}
		})
	}
}

// BenchmarkOutHeader measures the outbound copy of a browser's request
// header from an untrusted peer, storage reused as the exchange reuses it.
func BenchmarkOutHeader(b *testing.B) {
	g := MustNew(Mount(Service("/", GET("/items")), "http://192.0.2.10"))
	r := httptest.NewRequest("GET", "http://gw.example/items", nil)
	r.RemoteAddr = "192.0.2.1:4321"
	r.Header = http.Header{
		"Accept":          {"application/json"},
		"Accept-Encoding": {"gzip, deflate, br"},
		"Accept-Language": {"en-GB,en;q=0.9"},
		"Connection":      {"keep-alive"},
		"Cookie":          {"session=0123456789abcdef"},
		"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64)"},
	}
	var buf headerBuf
	b.ReportAllocs()
	for b.Loop() {
		g.outHeader(r, &buf)
	}
}
