package main

import (
	"crypto/tls"
	"net/http"
	"regexp"
	"testing"
)

func TestForwarded(t *testing.T) {
	tests := []struct {
		remote, host string
		tls          bool
		want         string
	}{
		{"127.0.0.1:5000", "127.0.0.1:8080", false, `for=127.0.0.1;host="127.0.0.1:8080";proto=http`},
		{"127.0.0.1:5000", "gw.example", false, `for=127.0.0.1;host=gw.example;proto=http`},
		{"[::1]:5000", "gw.example", true, `for="[::1]";host=gw.example;proto=https`},
		{"pipe", "", false, `for=unknown;proto=http`},
		{"192.0.2.1:1", `a"b`, false, `for=192.0.2.1;host="a\"b";proto=http`},
	}
	for _, tt := range tests {
		r := &http.Request{RemoteAddr: tt.remote, Host: tt.host}
		if tt.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if got := forwarded(r); got != tt.want {
			t.Errorf("forwarded(%s, %s) = %s, want %s", tt.remote, tt.host, got, tt.want)
		}
	}
}

func TestRequestIDs(t *testing.T) {
	ids := newRequestIDs()
	shape := regexp.MustCompile(`^[0-9a-f]{16}-[0-9a-f]{16}$`)
	seen := map[string]bool{}
	for range 1000 {
		v := ids.next()
		if len(v) != 1 || cap(v) != 1 || !shape.MatchString(v[0]) {
			t.Fatalf("id %q (cap %d), want one 33-byte hex ID", v, cap(v))
		}
		if seen[v[0]] {
			t.Fatalf("id %s made twice", v[0])
		}
		seen[v[0]] = true
	}
	if n := testing.AllocsPerRun(100, func() { ids.next() }); n > 1 {
		t.Errorf("%v allocations per ID, want 1", n)
	}
}
