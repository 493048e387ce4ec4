package mock

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apigate-go/apigate/bench/internal/contract"
	"github.com/valyala/fasthttp"
)

// start serves h on an ephemeral loopback port for the test's duration.
func start(t *testing.T, h fasthttp.RequestHandler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return "http://" + ln.Addr().String()
}

func do(t *testing.T, method, url string, header map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// ids decodes a response's items and returns their ids, joined by commas.
func ids(t *testing.T, body string) string {
	t.Helper()
	var r struct {
		Items []Product
		Count int
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("response %q is not JSON: %v", body, err)
	}
	if r.Count != len(r.Items) {
		t.Errorf("count %d, %d items", r.Count, len(r.Items))
	}
	var s []string
	for _, p := range r.Items {
		s = append(s, p.ID)
	}
	return strings.Join(s, ",")
}

func TestData(t *testing.T) {
	base := start(t, NewData().Handle)
	user := map[string]string{"X-User-Id": "u-1", "X-User-Email": "u-1@example.com"}
	tests := []struct {
		name, method, path string
		header             map[string]string
		body               string
		wantStatus         int
		wantIDs            string // "-" for an error response
	}{
		{"items", "GET", "/items", nil, "", 200, "p-1,p-2,p-3,p-4,p-5,p-6,p-7"},
		{"my-items", "GET", "/my-items", user, "", 200, "p-1,p-3,p-6"},
		{"my-items other user", "GET", "/my-items", map[string]string{"X-User-Id": "u-3"}, "", 200, "p-4,p-7"},
		{"my-items anonymous", "GET", "/my-items", nil, "", 401, "-"},
		{"my-items with token", "GET", "/my-items", map[string]string{"X-User-Id": "u-1", "Authorization": "Bearer x"}, "", 400, "-"},
		{"search category and price", "POST", "/items/search", nil, `{"category":"electronics","max_price":500}`, 200, "p-3,p-5,p-7"},
		{"search price", "POST", "/items/search", nil, `{"max_price":20}`, 200, "p-2,p-4"},
		{"search nothing", "POST", "/items/search", nil, `{}`, 200, "p-1,p-2,p-3,p-4,p-5,p-6,p-7"},
		{"search malformed is no filter", "POST", "/items/search", nil, `{"max_price":"x"}`, 200, "p-1,p-2,p-3,p-4,p-5,p-6,p-7"},
		{"lookup", "POST", "/items/lookup", nil, `{"query":"phone","limit":20,"source":"gateway"}`, 200, "p-1,p-2,p-3,p-7"},
		{"lookup case", "POST", "/items/lookup", nil, `{"query":"LAMP","limit":20}`, 200, "p-6"},
		{"lookup limit", "POST", "/items/lookup", nil, `{"query":"phone","limit":2}`, 200, "p-1,p-2"},
		{"items by POST", "POST", "/items", nil, "", 405, "-"},
		{"unknown", "GET", "/nope", nil, "", 404, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := do(t, tt.method, base+tt.path, tt.header, tt.body)
			if status != tt.wantStatus {
				t.Fatalf("status %d (%s), want %d", status, body, tt.wantStatus)
			}
			if tt.wantIDs == "-" {
				var e struct{ Error string }
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
					t.Errorf("error body %q, want {\"error\":...}", body)
				}
				return
			}
			if got := ids(t, body); got != tt.wantIDs {
				t.Errorf("items %s, want %s", got, tt.wantIDs)
			}
		})
	}
}

func TestDataEchoes(t *testing.T) {
	base := start(t, NewData().Handle)
	_, body := do(t, "GET", base+"/my-items", map[string]string{"X-User-Id": "u-2", "X-User-Email": `a"b@example.com`}, "")
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	if m["user_id"] != "u-2" || m["email"] != `a"b@example.com` {
		t.Errorf("my-items echoed user_id %v, email %v", m["user_id"], m["email"])
	}
	_, body = do(t, "POST", base+"/items/lookup", nil, `{"query":"mug","limit":20,"source":"gateway"}`)
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	if m["query"] != "mug" || m["limit"] != 20.0 || m["source"] != "gateway" {
		t.Errorf("lookup echoed query %v, limit %v, source %v", m["query"], m["limit"], m["source"])
	}
}

func TestDataEchoesForwarding(t *testing.T) {
	base := start(t, NewData().Handle)
	sent := map[string]string{
		"X-Forwarded-For":   "192.0.2.1",
		"X-Forwarded-Host":  "gw.example",
		"X-Forwarded-Proto": "http",
		"X-Request-Id":      "abc-1",
		"X-Other":           "not echoed",
	}
	for _, path := range []string{"/items", "/my-items", "/items/search", "/items/lookup", "/nope"} {
		status, body := do(t, "POST", base+path+"?"+contract.EchoQuery, sent, `{"q":`)
		if status != 200 {
			t.Fatalf("%s: status %d (%s), want 200", path, status, body)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("%s: %v: %s", path, err, body)
		}
		want := map[string]string{
			"X-Forwarded-For":   "192.0.2.1",
			"X-Forwarded-Host":  "gw.example",
			"X-Forwarded-Proto": "http",
			"Forwarded":         "",
			"X-Request-Id":      "abc-1",
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s: echoed %v, want %v", path, got, want)
		}
	}
	// Another query is the route's ordinary answer.
	status, body := do(t, "GET", base+"/items?echo=other", nil, "")
	if status != 200 || ids(t, body) != "p-1,p-2,p-3,p-4,p-5,p-6,p-7" {
		t.Errorf("/items?echo=other answered %d %s, want the catalogue", status, body)
	}
}

func TestCatalogueSize(t *testing.T) {
	d := NewData()
	if n := len(d.all); n < 400 || n > 800 {
		t.Errorf("/items body is %d bytes, want about half a kilobyte", n)
	}
	var v struct{ Items []Product }
	if err := json.Unmarshal(d.all, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Items) != 7 {
		t.Errorf("%d products, want 7", len(v.Items))
	}
}

func TestAuth(t *testing.T) {
	a := NewAuth([]byte("test-secret"), time.Hour)
	base := start(t, a.Handle)
	good, err := a.Issue("u-1")
	if err != nil {
		t.Fatal(err)
	}
	expired, err := NewAuth([]byte("test-secret"), -time.Minute).Issue("u-1")
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := NewAuth([]byte("other-secret"), time.Hour).Issue("u-1")
	if err != nil {
		t.Fatal(err)
	}
	// An unsigned token (alg "none") with the same claims.
	parts := strings.Split(good, ".")
	unsigned := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."
	tests := []struct {
		name, method, path, authz string
		wantStatus                int
		wantBody                  string
	}{
		{"valid", "POST", "/verify", "Bearer " + good, 200, `{"user_id":"u-1","email":"u-1@example.com"}`},
		{"missing", "POST", "/verify", "", 401, ""},
		{"not bearer", "POST", "/verify", "Basic " + good, 401, ""},
		{"garbage", "POST", "/verify", "Bearer abc", 401, ""},
		{"expired", "POST", "/verify", "Bearer " + expired, 401, ""},
		{"other key", "POST", "/verify", "Bearer " + otherKey, 401, ""},
		{"alg none", "POST", "/verify", "Bearer " + unsigned, 401, ""},
		{"GET", "GET", "/verify", "Bearer " + good, 405, ""},
		{"token without user", "POST", "/token", "", 400, ""},
		{"unknown", "POST", "/nope", "", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.authz != "" {
				h["Authorization"] = tt.authz
			}
			status, body := do(t, tt.method, base+tt.path, h, "")
			if status != tt.wantStatus {
				t.Fatalf("status %d (%s), want %d", status, body, tt.wantStatus)
			}
			if tt.wantBody != "" && body != tt.wantBody {
				t.Errorf("body %s, want %s", body, tt.wantBody)
			}
		})
	}

	t.Run("issued token verifies", func(t *testing.T) {
		status, body := do(t, "POST", base+"/token?user_id=u-3", nil, "")
		if status != 200 {
			t.Fatalf("token: status %d (%s)", status, body)
		}
		var tok struct{ Token string }
		if err := json.Unmarshal([]byte(body), &tok); err != nil {
			t.Fatal(err)
		}
		c, err := a.Verify(tok.Token)
		if err != nil {
			t.Fatal(err)
		}
		if c.Subject != "u-3" || c.Email != "u-3@example.com" {
			t.Errorf("claims sub %q email %q, want u-3, u-3@example.com", c.Subject, c.Email)
		}
	})
}
