package policy_test

import (
	"strings"
	"testing"

	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/policy"
)

// wrapper is a custom strategy that forwards Check to the one it wraps.
type wrapper struct{ inner policy.Strategy }

func (w wrapper) Select(r policy.Request) ([]balancer.Backend, string) { return w.inner.Select(r) }

func (w wrapper) Check(route string, params []string) error {
	if c, ok := w.inner.(policy.Checker); ok {
		return c.Check(route, params)
	}
	return nil
}

func TestPolicyCheck(t *testing.T) {
	tests := []struct {
		name    string
		p       policy.Policy
		route   string
		wantErr string // substring; "" for no error
	}{
		{"zero policy", policy.Policy{}, "/api/users/:id", ""},
		{"round robin", policy.RoundRobin(), "/api/items", ""},
		{"least time", policy.LeastTime(), "/api/items", ""},
		{"path sticky ok", policy.PathSticky("id"), "/api/users/:id", ""},
		{"path sticky catch-all", policy.PathSticky("path"), "/files/*path", ""},
		{"path sticky missing param", policy.PathSticky("id"), "/api/users/:uid", `policy: route /api/users/:uid has no path parameter "id"`},
		{"path sticky static route", policy.PathSticky("id"), "/api/users", `no path parameter "id"`},
		{"header sticky ok", policy.HeaderSticky("X-User-Id"), "/api/cart", ""},
		{"header sticky empty name", policy.HeaderSticky(""), "/api/cart", `policy: route /api/cart: invalid header name ""`},
		{"header sticky bad name", policy.HeaderSticky("X User"), "/api/cart", `invalid header name "X User"`},
		{"header sticky colon", policy.HeaderSticky("X-User:"), "/api/cart", `invalid header name`},
		{"func strategy", policy.New(policy.StrategyFunc(nil), balancer.RoundRobin), "/x", ""},
		{"wrapped path param", policy.New(wrapper{policy.PathParam("id")}, nil), "/a/:b", `no path parameter "id"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Check(tt.route)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Check(%q) = %v, want nil", tt.route, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Check(%q) = %v, want an error containing %q", tt.route, err, tt.wantErr)
			}
		})
	}
}
