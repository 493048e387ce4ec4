package rewrite

import (
	"errors"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/julienschmidt/httprouter"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/a/b", "/a/b"},
		{"/a%41", "/aA"},
		{"/%2e%2e/x", "/../x"},
		{"/a%2fb", "/a%2Fb"},
		{"/a%2Fb", "/a%2Fb"},
		{"/sp%20ace", "/sp%20ace"},
		{"/bad%zz", "/bad%zz"},
		{"/trail%", "/trail%"},
		{"/%7e", "/~"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		in   string
		safe bool
	}{
		{"/", true},
		{"/a/b", true},
		{"/a/b/", true},
		{"/a%2Fb", true},
		{"/a..b/c.d", true},
		{"/...", true},
		{"", false},
		{"a/b", false},
		{"//evil.example/x", false},
		{"/a//b", false},
		{"/a/../b", false},
		{"/a/./b", false},
		{"/..", false},
		{"/a/..%2F..%2Fadmin", false},
		{"/a/..%2fx", false},
		{"/a/x%2F..", false},
		{"/a/%2Fx", false},
		{"/a/..%5Cx", false},
		{"/a/..\\x", false},
		{"/a/..;/admin", false},
		{"/a/..;x=1/b", false},
		{"/a/.;/b", false},
		{"/a/x;..", true},
		{"/a/b;c", true},
	}
	for _, tt := range tests {
		err := Check(tt.in)
		if (err == nil) != tt.safe {
			t.Errorf("Check(%q) = %v, want safe=%v", tt.in, err, tt.safe)
		}
		if err != nil && !errors.Is(err, ErrUnsafePath) {
			t.Errorf("Check(%q) error %v is not ErrUnsafePath", tt.in, err)
		}
	}
}

func TestTemplate(t *testing.T) {
	ps := func(kv ...string) httprouter.Params {
		var p httprouter.Params
		for i := 0; i < len(kv); i += 2 {
			p = append(p, httprouter.Param{Key: kv[i], Value: kv[i+1]})
		}
		return p
	}
	tests := []struct {
		name, pattern, tmpl string
		ps                  httprouter.Params
		want                string
	}{
		{"static", "/items/:id", "/static", ps("id", "7"), "/static"},
		{"param", "/items/:id", "/v2/items/:id", ps("id", "7"), "/v2/items/7"},
		{"two params reordered", "/u/:uid/p/:pid", "/p/:pid/u/:uid", ps("uid", "a", "pid", "b"), "/p/b/u/a"},
		{"param inside segment", "/items/:id", "/v2/item-:id.json", ps("id", "7"), "/v2/item-7.json"},
		{"catch-all", "/files/*rest", "/store/*rest", ps("rest", "/a/b"), "/store/a/b"},
		{"catch-all root", "/files/*rest", "/store/*rest", ps("rest", "/"), "/store/"},
		{"escaped value kept", "/files/:name", "/f/:name", ps("name", "a%2Fb"), "/f/a%2Fb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := Compile(tt.tmpl, Params(tt.pattern))
			if err != nil {
				t.Fatal(err)
			}
			if got := tp.Fill(tt.ps); got != tt.want {
				t.Errorf("Fill = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct{ tmpl, want string }{
		{"v2/x", "must start with /"},
		{"/v2/:nope", "lacks"},
		{"/v2/:", "without a name"},
	}
	for _, tt := range tests {
		_, err := Compile(tt.tmpl, []string{"id"})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Compile(%q) = %v, want error containing %q", tt.tmpl, err, tt.want)
		}
	}
}

// FuzzFillCheck fills a template with arbitrary values and checks that a
// path Check accepts never leaves the template's literal prefix once a
// decoding upstream cleans it.
func FuzzFillCheck(f *testing.F) {
	for _, s := range []string{"7", "..", "%2e%2e", "a%2Fb", "..%2F..%2Fadmin", "/", "", "a/../../b", "%5c..", "x%00y"} {
		f.Add(s)
	}
	tp, err := Compile("/v2/items/*rest", []string{"rest"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, v string) {
		v = Normalize(v)
		out := tp.Fill(httprouter.Params{{Key: "rest", Value: "/" + v}})
		if Check(out) != nil {
			return
		}
		dec, err := url.PathUnescape(out)
		if err != nil {
			return
		}
		dec = strings.ReplaceAll(dec, "\\", "/")
		clean := path.Clean(dec)
		if clean != "/v2/items" && !strings.HasPrefix(clean, "/v2/items/") {
			t.Fatalf("Fill(%q) = %q passes Check but cleans to %q", v, out, clean)
		}
	})
}

func BenchmarkFill(b *testing.B) {
	tp, _ := Compile("/v2/items/:id", []string{"id"})
	ps := httprouter.Params{{Key: "id", Value: "12345"}}
	b.ReportAllocs()
	for b.Loop() {
		if Check(tp.Fill(ps)) != nil {
			b.Fatal("unsafe")
		}
	}
}
