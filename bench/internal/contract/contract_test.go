package contract

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

func TestRoutes(t *testing.T) {
	tests := []struct {
		name          string
		gwHeader      []string // header keys at the gateway
		directHeader  []string // header keys sent direct
		gwBodyKeys    []string
		directBodyKey []string
	}{
		{"items", nil, nil, nil, nil},
		{"my-items", []string{"Authorization"}, []string{HeaderUserID, HeaderUserEmail}, nil, nil},
		{"search", []string{"Content-Type"}, []string{"Content-Type"}, []string{"category", "max_price"}, []string{"category", "max_price"}},
		{"lookup", []string{"Content-Type"}, []string{"Content-Type"}, []string{"q"}, []string{"limit", "query", "source"}},
	}
	routes := Routes()
	if len(routes) != len(tests) {
		t.Fatalf("%d routes, want %d", len(routes), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := routes[i]
			if r.Name != tt.name {
				t.Fatalf("route %d is %s, want %s", i, r.Name, tt.name)
			}
			gw, direct := r.Gateway("tok"), r.Direct()
			checkHeaders(t, "gateway", gw, tt.gwHeader)
			checkHeaders(t, "direct", direct, tt.directHeader)
			checkBody(t, "gateway", gw, tt.gwBodyKeys)
			checkBody(t, "direct", direct, tt.directBodyKey)
		})
	}
}

func checkHeaders(t *testing.T, which string, req Request, want []string) {
	t.Helper()
	var got []string
	for _, h := range req.Header {
		got = append(got, h.Key)
	}
	if len(got) != len(want) {
		t.Fatalf("%s headers %v, want %v", which, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s headers %v, want %v", which, got, want)
		}
	}
}

func checkBody(t *testing.T, which string, req Request, keys []string) {
	t.Helper()
	if keys == nil {
		if req.Body != nil {
			t.Errorf("%s body %s, want none", which, req.Body)
		}
		return
	}
	var m map[string]any
	if err := json.Unmarshal(req.Body, &m); err != nil {
		t.Fatalf("%s body %s: %v", which, req.Body, err)
	}
	if len(m) != len(keys) {
		t.Errorf("%s body %s, want keys %v", which, req.Body, keys)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s body %s lacks %q", which, req.Body, k)
		}
	}
}

func TestLookupDirectIsTheRewrite(t *testing.T) {
	r := Routes()[3]
	var in struct{ Q string }
	var out struct {
		Query  string
		Limit  int
		Source string
	}
	if err := json.Unmarshal(r.Gateway("").Body, &in); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(r.Direct().Body, &out); err != nil {
		t.Fatal(err)
	}
	if out.Query != "phone" || in.Q == out.Query || out.Limit != LookupLimit || out.Source != LookupSource {
		t.Errorf("gateway q %q, direct %+v: want the trimmed q, limit %d, source %q", in.Q, out, LookupLimit, LookupSource)
	}
}

func TestNewHTTPRequest(t *testing.T) {
	req := Request{Method: "POST", Path: "/x?y=1", Header: []Header{{"A", "b"}, {"Empty", ""}}, Body: []byte("hi")}
	hr, err := req.NewHTTPRequest("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(hr.Body)
	if hr.Method != http.MethodPost || hr.URL.String() != "http://127.0.0.1:1/x?y=1" ||
		hr.Header.Get("A") != "b" || len(hr.Header.Values("Empty")) != 0 || string(body) != "hi" {
		t.Errorf("got %s %s %v %q", hr.Method, hr.URL, hr.Header, body)
	}
}

func TestRejectionNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, rj := range Rejections("tok") {
		if seen[rj.Name] {
			t.Errorf("duplicate rejection %q", rj.Name)
		}
		seen[rj.Name] = true
		if rj.Status < 400 {
			t.Errorf("%s: status %d, want a 4xx", rj.Name, rj.Status)
		}
	}
}
