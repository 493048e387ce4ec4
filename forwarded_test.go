package apigate

import "testing"

func TestForwardedElement(t *testing.T) {
	tests := []struct {
		name            string
		prior           []string
		ip, host, proto string
		want            string
	}{
		{"IPv4", nil, "192.0.2.1", "api.example", "https", "for=192.0.2.1;host=api.example;proto=https"},
		{"IPv6 quoted in brackets", nil, "2001:db8::1", "api.example", "http", `for="[2001:db8::1]";host=api.example;proto=http`},
		{"host with port quoted", nil, "192.0.2.1", "api.example:8080", "http", `for=192.0.2.1;host="api.example:8080";proto=http`},
		{"IPv6 host literal quoted", nil, "192.0.2.1", "[2001:db8::2]:8080", "http", `for=192.0.2.1;host="[2001:db8::2]:8080";proto=http`},
		{"quote and backslash escaped", nil, "192.0.2.1", `a"b\c`, "http", `for=192.0.2.1;host="a\"b\\c";proto=http`},
		{"no peer address", nil, "", "api.example", "http", "for=unknown;host=api.example;proto=http"},
		{"no host", nil, "192.0.2.1", "", "http", "for=192.0.2.1;proto=http"},
		{"prior values kept in order", []string{"for=198.51.100.7", `for="[2001:db8::9]"`}, "192.0.2.1", "a.example", "http",
			`for=198.51.100.7, for="[2001:db8::9]", for=192.0.2.1;host=a.example;proto=http`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := forwardedElement(tt.prior, tt.ip, tt.host, tt.proto); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	allocs := testing.AllocsPerRun(100, func() { forwardedElement(nil, "2001:db8::1", "api.example:8080", "http") })
	if allocs > 1 {
		t.Errorf("forwardedElement allocates %v times, want at most 1", allocs)
	}
}
