package apigate

import (
	"net/http"
	"testing"
)

// TestServiceRootRoute checks that a route "/" on a service with a prefix
// answers the bare prefix as well as the prefix with a trailing slash,
// without a redirect, and what the upstream receives for each.
func TestServiceRootRoute(t *testing.T) {
	up := newEcho(t)
	other := newEcho(t)
	type Order struct {
		Item string `json:"item" apigate:"required"`
	}
	orders := Service("/orders",
		POST("/", JSON[Order]()),
		GET("/", To("/v1/orders")),
		GET("/:id"),
	)
	// An explicit route for the bare path wins over the service root route.
	carts := Service("/carts", Name("carts"), GET("/"))
	root := Service("/", Name("root"), GET("/carts"))
	_, gw := serveGateway(t, Mount(orders, up.URL), Mount(carts, up.URL), Mount(root, other.URL))

	tests := []struct {
		method, path, body string
		status             int
		upstream           *echoUpstream
		wantURI            string
	}{
		{"POST", "/orders", `{"item":"a"}`, 200, up, "/"},
		{"POST", "/orders/", `{"item":"a"}`, 200, up, "/"},
		{"POST", "/orders?x=1", `{"item":"a"}`, 200, up, "/?x=1"},
		{"POST", "/orders", `{}`, 400, nil, ""},
		{"GET", "/orders", "", 200, up, "/v1/orders"},
		{"GET", "/orders/", "", 200, up, "/v1/orders"},
		{"GET", "/orders/7", "", 200, up, "/7"},
		{"GET", "/carts/", "", 200, up, "/"},
		{"GET", "/carts", "", 200, other, "/carts"},
	}
	for _, tt := range tests {
		before := up.count() + other.count()
		req := newReq(t, tt.method, gw.URL+tt.path, tt.body)
		if tt.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, body := do(t, req)
		if res.StatusCode != tt.status {
			t.Errorf("%s %s: status = %d, want %d (%s)", tt.method, tt.path, res.StatusCode, tt.status, body)
			continue
		}
		if tt.upstream == nil {
			if n := up.count() + other.count(); n != before {
				t.Errorf("%s %s: an upstream was called", tt.method, tt.path)
			}
			continue
		}
		got := tt.upstream.last(t)
		if got.URI != tt.wantURI || got.Method != tt.method {
			t.Errorf("%s %s: upstream got %s %s, want %s %s", tt.method, tt.path, got.Method, got.URI, tt.method, tt.wantURI)
		}
		if tt.body != "" && got.Body != tt.body {
			t.Errorf("%s %s: upstream body = %q, want %q", tt.method, tt.path, got.Body, tt.body)
		}
	}

	res, _ := do(t, newReq(t, http.MethodOptions, gw.URL+"/orders", ""))
	if got, want := res.Header.Get("Allow"), "POST, GET, HEAD, OPTIONS"; got != want {
		t.Errorf("OPTIONS /orders: Allow = %q, want %q", got, want)
	}
	res, _ = do(t, newReq(t, http.MethodDelete, gw.URL+"/orders", ""))
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /orders: status = %d, want 405", res.StatusCode)
	}
}
