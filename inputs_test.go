package apigate

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

type itemPath struct {
	ID   int    `path:"id"`
	Slug string `path:"slug"`
}

type searchQuery struct {
	Q     string   `query:"q,required"`
	Limit *int     `query:"limit"`
	Tags  []string `query:"tag"`
}

type lookupIn struct {
	Q     string `json:"q" apigate:"required"`
	Limit int    `json:"limit"`
}

// Validate rejects a limit over 100.
func (l lookupIn) Validate() error {
	if l.Limit > 100 {
		return errors.New("limit must be at most 100")
	}
	return nil
}

// pageQuery validates through a pointer receiver.
type pageQuery struct {
	Page int `query:"page"`
}

// Validate rejects a negative page.
func (q *pageQuery) Validate() error {
	if q.Page < 0 {
		return errors.New("page must not be negative")
	}
	return nil
}

type loginForm struct {
	User string `form:"user,required"`
	Age  int    `form:"age"`
}

func TestTypedInputs(t *testing.T) {
	up := newEcho(t)
	svc := Service("/api",
		GET("/items/:id/:slug", Path[itemPath]()),
		GET("/search", Query[searchQuery]()),
		GET("/pages", Query[pageQuery]()),
		POST("/lookup", JSON[lookupIn]()),
		POST("/strict", JSON[lookupIn](), Strict()),
		POST("/small", JSON[lookupIn](), BodyLimit(16)),
		POST("/login", Form[loginForm]()),
		GET("/login", Form[loginForm]()),
		POST("/upload", Multipart()),
	)
	_, gw := serveGateway(t, Mount(svc, up.URL))
	const js, form = "application/json", "application/x-www-form-urlencoded"
	tests := []struct {
		name, method, path, ctype, body string
		status                          int
		wantBody                        string // substring of the response body
	}{
		{"path ok", "GET", "/api/items/7/lamp", "", "", 200, ""},
		{"path escaped ok", "GET", "/api/items/7/a%2Fb", "", "", 200, ""},
		{"path not an int", "GET", "/api/items/x/lamp", "", "", 400, `invalid_path: invalid path parameter "id": not an integer`},
		{"path overflow", "GET", "/api/items/99999999999999999999/lamp", "", "", 400, `out of range`},
		{"query ok", "GET", "/api/search?q=lamp&limit=3&tag=a&tag=b", "", "", 200, ""},
		{"query missing required", "GET", "/api/search?limit=3", "", "", 400, `invalid_query: missing required query parameter "q"`},
		{"query bad int", "GET", "/api/search?q=x&limit=ten", "", "", 400, `invalid query parameter "limit": not an integer`},
		{"query validate (pointer receiver) ok", "GET", "/api/pages?page=2", "", "", 200, ""},
		{"query validate (pointer receiver)", "GET", "/api/pages?page=-1", "", "", 422, "validation_failed: page must not be negative"},
		{"json ok", "POST", "/api/lookup", js, `{"q":"lamp","limit":5}`, 200, ""},
		{"json charset ok", "POST", "/api/lookup", "application/json; charset=utf-8", `{"q":"lamp"}`, 200, ""},
		{"json +json ok", "POST", "/api/lookup", "application/vnd.api+json", `{"q":"lamp"}`, 200, ""},
		{"json unknown field allowed", "POST", "/api/lookup", js, `{"q":"lamp","x":1}`, 200, ""},
		{"json wrong content type", "POST", "/api/lookup", "text/plain", `{"q":"lamp"}`, 415, "unsupported_media_type"},
		{"json no content type", "POST", "/api/lookup", "", `{"q":"lamp"}`, 415, "unsupported_media_type"},
		{"json malformed", "POST", "/api/lookup", js, `{"q":`, 400, "invalid_json: malformed JSON body"},
		{"json trailing data", "POST", "/api/lookup", js, `{"q":"a"} {"q":"b"}`, 400, "invalid_json"},
		{"json type mismatch", "POST", "/api/lookup", js, `{"q":"a","limit":"x"}`, 400, `invalid JSON field "limit": expected an integer`},
		{"json empty", "POST", "/api/lookup", js, ``, 400, "empty JSON body"},
		{"json missing required", "POST", "/api/lookup", js, `{"limit":1}`, 400, `invalid_json: missing required field "q"`},
		{"json empty required", "POST", "/api/lookup", js, `{"q":""}`, 400, `missing required`},
		{"json validate", "POST", "/api/lookup", js, `{"q":"a","limit":500}`, 422, "validation_failed: limit must be at most 100"},
		{"json strict unknown", "POST", "/api/strict", js, `{"q":"a","x":1}`, 400, `unknown JSON field "x"`},
		{"json strict trailing", "POST", "/api/strict", js, `{"q":"a"}[]`, 400, "invalid_json"},
		{"json too large", "POST", "/api/small", js, `{"q":"` + strings.Repeat("a", 64) + `"}`, 413, "payload_too_large"},
		{"form ok", "POST", "/api/login", form, "user=ann&age=30", 200, ""},
		{"form wrong type", "POST", "/api/login", js, "user=ann", 415, "unsupported_media_type"},
		{"form missing", "POST", "/api/login", form, "age=3", 400, `invalid_form: missing required form field "user"`},
		{"form bad int", "POST", "/api/login", form, "user=a&age=x", 400, `invalid form field "age"`},
		{"form malformed", "POST", "/api/login", form, "user=%zz", 400, "invalid_form: malformed form body"},
		{"form on GET from query", "GET", "/api/login?user=ann", "", "", 200, ""},
		{"multipart ok", "POST", "/api/upload", "multipart/form-data; boundary=x", "--x--\r\n", 200, ""},
		{"multipart wrong type", "POST", "/api/upload", js, "{}", 415, "unsupported_media_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := up.count()
			req := newReq(t, tt.method, gw.URL+tt.path, tt.body)
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			res, body := do(t, req)
			if res.StatusCode != tt.status || !strings.Contains(body, tt.wantBody) {
				t.Fatalf("got %d %q, want %d containing %q", res.StatusCode, body, tt.status, tt.wantBody)
			}
			reached := up.count() > before
			if reached != (tt.status == 200) {
				t.Fatalf("upstream reached = %v for status %d", reached, tt.status)
			}
			if reached && tt.body != "" {
				got := up.last(t)
				if got.Body != tt.body || got.Length != int64(len(tt.body)) {
					t.Errorf("upstream body %q (length %d), want the original %q", got.Body, got.Length, tt.body)
				}
			}
		})
	}
}

func TestJSONBodyLimitChunked(t *testing.T) {
	up := newEcho(t)
	_, gw := serveGateway(t, Mount(Service("/", POST("/j", JSON[lookupIn](), BodyLimit(1024))), up.URL))
	// A chunked upload (no Content-Length) larger than the limit.
	body := `{"q":"` + strings.Repeat("a", 4096) + `"}`
	req := newReqBody(t, "POST", gw.URL+"/j", struct{ *strings.Reader }{strings.NewReader(body)})
	req.Header.Set("Content-Type", "application/json")
	res, _ := do(t, req)
	if res.StatusCode != 413 {
		t.Errorf("status = %d, want 413", res.StatusCode)
	}
	if up.count() != 0 {
		t.Errorf("upstream reached")
	}
	// Under the limit, chunked in, the upstream gets a Content-Length.
	small := `{"q":"abc"}`
	req = newReqBody(t, "POST", gw.URL+"/j", struct{ *strings.Reader }{strings.NewReader(small)})
	req.Header.Set("Content-Type", "application/json")
	if res, _ := do(t, req); res.StatusCode != 200 {
		t.Fatalf("status = %d", res.StatusCode)
	}
	got := up.last(t)
	if got.Length != int64(len(small)) || len(got.Encoding) != 0 || got.Body != small {
		t.Errorf("upstream got length %d encoding %v body %q", got.Length, got.Encoding, got.Body)
	}
}

type lookupOut struct {
	Query  string `json:"query"`
	Limit  int    `json:"limit"`
	Source string `json:"source"`
}

type pageIn struct {
	Page int    `query:"page"`
	Sort string `query:"sort"`
}

type pageOut struct {
	Offset int    `query:"offset"`
	Order  string `query:"order"`
}

type signupIn struct {
	Email string `form:"email,required"`
}

type signupOut struct {
	Email  string `form:"email"`
	Source string `form:"source"`
}

func TestMapModes(t *testing.T) {
	up := newEcho(t)
	remap := func(c *Ctx, in lookupIn) (lookupOut, error) {
		return lookupOut{Query: strings.TrimSpace(in.Q), Limit: 20, Source: "gateway"}, nil
	}
	paging := func(c *Ctx, in pageIn) (pageOut, error) {
		return pageOut{Offset: in.Page * 10, Order: strings.ToUpper(in.Sort)}, nil
	}
	signup := func(c *Ctx, in signupIn) (signupOut, error) {
		return signupOut{Email: strings.ToLower(in.Email), Source: "web"}, nil
	}
	svc := Service("/api",
		POST("/lookup", JSON[lookupIn](), Map(remap)),
		GET("/list", Query[pageIn](), Map(paging)),
		POST("/signup", Form[signupIn](), Map(signup)),
		GET("/signup", Form[signupIn](), Map(signup)),
	)
	_, gw := serveGateway(t, Mount(svc, up.URL))
	tests := []struct {
		name, method, path, ctype, body          string
		wantBody, wantQuery, wantCType, wantPath string
	}{
		{"json", "POST", "/api/lookup", "application/json", `{"q":"  lamp "}`,
			`{"query":"lamp","limit":20,"source":"gateway"}`, "", "application/json", "/lookup"},
		{"query", "GET", "/api/list?page=3&sort=name&junk=1", "", "",
			"", "offset=30&order=NAME", "", "/list"},
		{"form body", "POST", "/api/signup?keep=1", "application/x-www-form-urlencoded", "email=Ann%40X.org",
			"email=ann%40x.org&source=web", "keep=1", "application/x-www-form-urlencoded", "/signup"},
		{"form on GET to query", "GET", "/api/signup?email=Bob%40X.org", "", "",
			"", "email=bob%40x.org&source=web", "", "/signup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req *http.Request
			if tt.body != "" {
				// Chunked on the way in: the mapped body must go out with a
				// Content-Length.
				req = newReqBody(t, tt.method, gw.URL+tt.path, struct{ *strings.Reader }{strings.NewReader(tt.body)})
			} else {
				req = newReq(t, tt.method, gw.URL+tt.path, "")
			}
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			res, body := do(t, req)
			if res.StatusCode != 200 {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			got := up.last(t)
			if got.Body != tt.wantBody {
				t.Errorf("upstream body = %q, want %q", got.Body, tt.wantBody)
			}
			if got.Length != int64(len(tt.wantBody)) || len(got.Encoding) != 0 {
				t.Errorf("upstream Content-Length = %d encoding %v, want %d and none", got.Length, got.Encoding, len(tt.wantBody))
			}
			if got.Header.Get("Content-Length") != "" && got.Header.Get("Content-Length") != strconv.Itoa(len(tt.wantBody)) {
				t.Errorf("upstream Content-Length header = %q", got.Header.Get("Content-Length"))
			}
			if got.Query != tt.wantQuery {
				t.Errorf("upstream query = %q, want %q", got.Query, tt.wantQuery)
			}
			if ct := got.Header.Get("Content-Type"); ct != tt.wantCType {
				t.Errorf("upstream Content-Type = %q, want %q", ct, tt.wantCType)
			}
			if got.Path != tt.wantPath {
				t.Errorf("upstream path = %q, want %q", got.Path, tt.wantPath)
			}
		})
	}
}

func TestInputConfigErrors(t *testing.T) {
	ok := "http://127.0.0.1:1"
	wrong := func(c *Ctx, in searchQuery) (lookupOut, error) { return lookupOut{}, nil }
	right := func(c *Ctx, in lookupIn) (lookupOut, error) { return lookupOut{}, nil }
	type bad struct {
		M map[string]int `query:"m"`
	}
	tests := []struct {
		name  string
		route Route
		want  string
	}{
		{"map type mismatch", POST("/x", JSON[lookupIn](), Map(wrong)), "Map takes apigate.searchQuery but the route's input is JSON[apigate.lookupIn]"},
		{"map without input", POST("/x", Map(right)), "Map needs a Query, JSON or Form input"},
		{"map with multipart", POST("/x", Multipart(), Map(right)), "Map cannot be combined with Multipart"},
		{"multipart and map", POST("/x", Map(right), Multipart()), "Map cannot be combined with Multipart"},
		{"two body modes", POST("/x", JSON[lookupIn](), Form[loginForm]()), "two body modes (JSON and Form)"},
		{"path field not in route", GET("/x/:id", Path[itemPath]()), `path input apigate.itemPath: field names parameter "slug", which the route lacks`},
		{"unsupported field", GET("/x", Query[bad]()), "bad"},
		{"map query output not struct", GET("/x", Query[pageIn](), Map(func(*Ctx, pageIn) (string, error) { return "", nil })), "Map output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Mount(Service("/a", tt.route), ok))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %v, want it to contain %q", err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), " /a/x") {
				t.Errorf("error %q does not name the route", err)
			}
		})
	}
}

func TestValueReadsTypedInputs(t *testing.T) {
	up := newEcho(t)
	hook := func(c *Ctx) error {
		p, ok := Value[itemPath](c)
		if !ok {
			return errors.New("no path value")
		}
		return c.SetHeader("X-Item", fmt.Sprintf("%d/%s", p.ID, p.Slug))
	}
	_, gw := serveGateway(t, Mount(Service("/", GET("/items/:id/:slug", Path[itemPath](), Before(hook))), up.URL))
	if res, body := get(t, gw.URL+"/items/42/a%20b"); res.StatusCode != 200 {
		t.Fatalf("status %d %s", res.StatusCode, body)
	}
	if got := up.last(t).Header.Get("X-Item"); got != "42/a b" {
		t.Errorf("X-Item = %q, want 42/a b", got)
	}
}
