package policy_test

import (
	"net/http/httptest"
	"testing"

	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/policy"
	"github.com/julienschmidt/httprouter"
)

func TestHeader(t *testing.T) {
	tests := []struct {
		name    string
		header  string   // the strategy's header name
		set     []string // name, value pairs set on the request
		host    string
		wantKey string
	}{
		{"present", "X-User-Id", []string{"X-User-Id", "u-1"}, "", "u-1"},
		{"absent", "X-User-Id", nil, "", ""},
		{"other header", "X-User-Id", []string{"X-Tenant", "t-1"}, "", ""},
		{"case-insensitive name", "x-user-id", []string{"X-USER-ID", "u-2"}, "", "u-2"},
		{"first of repeated", "X-User-Id", []string{"X-User-Id", "u-3", "X-User-Id", "u-4"}, "", "u-3"},
		{"empty value", "X-User-Id", []string{"X-User-Id", ""}, "", ""},
		{"host", "host", nil, "tenant.example.com", "tenant.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/api/cart", nil)
			for i := 0; i < len(tt.set); i += 2 {
				req.Header.Add(tt.set[i], tt.set[i+1])
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			all := backends(3)
			got, key := policy.Header(tt.header).Select(policy.Request{HTTP: req, Backends: all})
			if key != tt.wantKey {
				t.Errorf("key = %q, want %q", key, tt.wantKey)
			}
			if !sameSlice(got, all) {
				t.Errorf("candidates = %v, want r.Backends itself", got)
			}
		})
	}
}

func TestHeaderNilRequest(t *testing.T) {
	all := backends(2)
	got, key := policy.Header("X-User-Id").Select(policy.Request{Backends: all})
	if key != "" || !sameSlice(got, all) {
		t.Errorf("Select without an HTTP request = %v, %q; want all backends and no key", got, key)
	}
}

func TestPathParam(t *testing.T) {
	tests := []struct {
		name    string
		param   string
		params  httprouter.Params
		wantKey string
	}{
		{"present", "id", httprouter.Params{{Key: "id", Value: "42"}}, "42"},
		{"second of two", "file", httprouter.Params{{Key: "id", Value: "42"}, {Key: "file", Value: "a.txt"}}, "a.txt"},
		{"catch-all", "path", httprouter.Params{{Key: "path", Value: "/a/b"}}, "/a/b"},
		{"absent", "id", httprouter.Params{{Key: "uid", Value: "7"}}, ""},
		{"no params", "id", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := backends(3)
			got, key := policy.PathParam(tt.param).Select(policy.Request{Params: tt.params, Backends: all})
			if key != tt.wantKey {
				t.Errorf("key = %q, want %q", key, tt.wantKey)
			}
			if !sameSlice(got, all) {
				t.Errorf("candidates = %v, want r.Backends itself", got)
			}
		})
	}
}

func TestAll(t *testing.T) {
	all := backends(3)
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-User-Id", "u-1")
	got, key := policy.All().Select(policy.Request{HTTP: req, Backends: all})
	if key != "" || !sameSlice(got, all) {
		t.Errorf("All().Select = %v, %q; want all backends and no key", got, key)
	}
}

func TestStrategyFunc(t *testing.T) {
	all := backends(3)
	canary := []balancer.Backend{all[2]}
	stable := all[:2]
	s := policy.StrategyFunc(func(r policy.Request) ([]balancer.Backend, string) {
		if r.HTTP.Header.Get("X-Canary") == "1" {
			return canary, ""
		}
		return stable, r.HTTP.Header.Get("X-User-Id")
	})
	tests := []struct {
		name     string
		canary   bool
		wantAddr []string
		wantKey  string
	}{
		{"canary", true, []string{all[2].Addr}, ""},
		{"stable", false, []string{all[0].Addr, all[1].Addr}, "u-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("X-User-Id", "u-1")
			if tt.canary {
				req.Header.Set("X-Canary", "1")
			}
			got, key := s.Select(policy.Request{HTTP: req, Backends: all})
			var addrs []string
			for _, b := range got {
				addrs = append(addrs, b.Addr)
			}
			if key != tt.wantKey || len(addrs) != len(tt.wantAddr) || addrs[0] != tt.wantAddr[0] {
				t.Errorf("Select = %v, %q; want %v, %q", addrs, key, tt.wantAddr, tt.wantKey)
			}
		})
	}
}

func TestSelectDoesNotAllocate(t *testing.T) {
	all := backends(3)
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-User-Id", "u-1")
	r := policy.Request{HTTP: req, Backends: all, Params: httprouter.Params{{Key: "id", Value: "42"}}}
	strategies := []struct {
		name string
		s    policy.Strategy
	}{
		{"All", policy.All()},
		{"Header", policy.Header("x-user-id")},
		{"PathParam", policy.PathParam("id")},
	}
	for _, tt := range strategies {
		if allocs := testing.AllocsPerRun(100, func() { tt.s.Select(r) }); allocs != 0 {
			t.Errorf("%s: %.1f allocations per Select, want 0", tt.name, allocs)
		}
	}
}
