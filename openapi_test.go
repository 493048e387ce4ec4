package apigate

import (
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apigate-go/apigate/internal/decode"
)

type oaBase struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
}

type oaItem struct {
	oaBase
	Name    string            `json:"name" apigate:"required"`
	Price   *float64          `json:"price,omitempty"`
	Tags    []string          `json:"tags"`
	Attrs   map[string]string `json:"attrs"`
	Secret  string            `json:"-"`
	Count   int64             `json:"count,string"`
	Parent  *oaItem           `json:"parent"`
	Raw     json.RawMessage   `json:"raw"`
	Data    []byte            `json:"data"`
	Any     any               `json:"any"`
	Untaged uint16
	hidden  int
}

var _ = oaItem{hidden: 1} // unexported fields are left out of the schema

type oaValidated struct {
	Name string `json:"name"`
}

func (v oaValidated) Validate() error { return nil }

type oaPath struct {
	ID int `path:"id"`
}

type oaQuery struct {
	Q     string        `query:"q,required"`
	Limit *int          `query:"limit"`
	Tag   []string      `query:"tag"`
	Wait  time.Duration `query:"wait"`
	Skip  string        `query:"-"`
}

type oaForm struct {
	Email string `form:"email,required"`
	Age   int    `form:"age"`
}

type oaOut struct {
	ID string `json:"id"`
}

// openAPIOf builds a gateway from opts and returns its document decoded.
func openAPIOf(t *testing.T, opts ...Option) map[string]any {
	t.Helper()
	g, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(g.OpenAPI(), &doc); err != nil {
		t.Fatalf("document is not JSON: %v", err)
	}
	return doc
}

// at walks a decoded JSON document by keys and indexes.
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for i, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %v: not an object", path[:i+1])
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("at %v: no key %q (have %v)", path[:i+1], k, slices.Sorted(maps.Keys(m)))
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("at %v: not an array of %d", path[:i+1], k+1)
			}
			v = a[k]
		}
	}
	return v
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func statuses(t *testing.T, doc map[string]any, path, method string) []string {
	t.Helper()
	return slices.Sorted(maps.Keys(at(t, doc, "paths", path, method, "responses").(map[string]any)))
}

func TestOpenAPIDocument(t *testing.T) {
	auth := func(c *Ctx) error { return nil }
	api := Service("/api",
		GET("/health"),
		GET("/items/:id", Path[oaPath](), Query[oaQuery](), Doc(RouteDoc{Summary: "Get an item", Description: "By ID.",
			Tags: []string{"items"}, OperationID: "getItem", Responses: map[int]any{200: oaOut{ID: "7"}, 404: nil}})),
		POST("/items", JSON[oaItem](), Doc(RouteDoc{Example: map[string]any{"name": "lamp"}, Deprecated: true})),
		PUT("/items/:id", JSON[oaValidated](), Before(auth)),
		POST("/signup", Form[oaForm]()),
		GET("/search", Form[oaForm]()),
		POST("/upload", Multipart()),
		GET("/files/*rest"),
		DELETE("/items/:id"),
	)
	doc := openAPIOf(t, Mount(api, "http://127.0.0.1:1"), WithErrorRenderer(JSONErrors),
		WithOpenAPI(OpenAPIInfo{Title: "Shop", Version: "1.2.0", Description: "The shop.", Servers: []string{"https://api.example.com"}}))

	checks := []struct {
		name string
		path []any
		want string
	}{
		{"version", []any{"openapi"}, `"3.1.0"`},
		{"info", []any{"info"}, `{"description":"The shop.","title":"Shop","version":"1.2.0"}`},
		{"servers", []any{"servers"}, `[{"url":"https://api.example.com"}]`},
		{"typed path parameter", []any{"paths", "/api/items/{id}", "get", "parameters", 0},
			`{"in":"path","name":"id","required":true,"schema":{"format":"int64","type":"integer"}}`},
		{"required query", []any{"paths", "/api/items/{id}", "get", "parameters", 1},
			`{"in":"query","name":"q","required":true,"schema":{"type":"string"}}`},
		{"optional query", []any{"paths", "/api/items/{id}", "get", "parameters", 2},
			`{"in":"query","name":"limit","schema":{"format":"int64","type":"integer"}}`},
		{"repeated query", []any{"paths", "/api/items/{id}", "get", "parameters", 3, "schema"}, `{"items":{"type":"string"},"type":"array"}`},
		{"duration query", []any{"paths", "/api/items/{id}", "get", "parameters", 4, "schema", "type"}, `"string"`},
		{"doc", []any{"paths", "/api/items/{id}", "get", "summary"}, `"Get an item"`},
		{"tags", []any{"paths", "/api/items/{id}", "get", "tags"}, `["items"]`},
		{"default tag", []any{"paths", "/api/health", "get", "tags"}, `["api"]`},
		{"operation ID", []any{"paths", "/api/items/{id}", "get", "operationId"}, `"getItem"`},
		{"documented response", []any{"paths", "/api/items/{id}", "get", "responses", "200", "content", "application/json"},
			`{"example":{"id":"7"},"schema":{"$ref":"#/components/schemas/oaOut"}}`},
		{"response without body", []any{"paths", "/api/items/{id}", "get", "responses", "404"}, `{"description":"Not Found"}`},
		{"untyped path parameter", []any{"paths", "/api/items/{id}", "delete", "parameters", 0, "schema"}, `{"type":"string"}`},
		{"catch-all", []any{"paths", "/api/files/{rest}", "get", "parameters", 0, "description"}, `"The rest of the path; it may contain /."`},
		{"JSON body", []any{"paths", "/api/items", "post", "requestBody"},
			`{"content":{"application/json":{"example":{"name":"lamp"},"schema":{"$ref":"#/components/schemas/oaItem"}}},"required":true}`},
		{"deprecated", []any{"paths", "/api/items", "post", "deprecated"}, `true`},
		{"form body", []any{"paths", "/api/signup", "post", "requestBody", "content", "application/x-www-form-urlencoded", "schema"},
			`{"properties":{"age":{"format":"int64","type":"integer"},"email":{"type":"string"}},"required":["email"],"type":"object"}`},
		{"form on GET is the query", []any{"paths", "/api/search", "get", "parameters", 0, "in"}, `"query"`},
		{"multipart", []any{"paths", "/api/upload", "post", "requestBody", "content", "multipart/form-data", "schema"}, `{"type":"object"}`},
		{"error component", []any{"components", "responses", "PayloadTooLarge", "content", "application/json", "schema"}, `{"$ref":"#/components/schemas/Error"}`},
		{"error envelope", []any{"components", "schemas", "Error", "required"}, `["error"]`},
	}
	for _, c := range checks {
		if got := asJSON(at(t, doc, c.path...)); got != c.want {
			t.Errorf("%s: %v = %s, want %s", c.name, c.path, got, c.want)
		}
	}

	// The item schema follows encoding/json: the embedded struct's fields
	// are flattened, "-" and unexported fields left out, ",string"
	// quoted, pointers nullable, recursion through a $ref.
	item := at(t, doc, "components", "schemas", "oaItem").(map[string]any)
	props := item["properties"].(map[string]any)
	wantProps := []string{"id", "created", "name", "price", "tags", "attrs", "count", "parent", "raw", "data", "any", "Untaged"}
	if got := slices.Sorted(maps.Keys(props)); !slices.Equal(got, slices.Sorted(slices.Values(wantProps))) {
		t.Errorf("oaItem properties %v, want %v", got, wantProps)
	}
	for name, want := range map[string]string{
		"created": `{"format":"date-time","type":"string"}`,
		"price":   `{"format":"double","type":["number","null"]}`,
		"attrs":   `{"additionalProperties":{"type":"string"},"type":"object"}`,
		"count":   `{"type":"string"}`,
		"parent":  `{"anyOf":[{"$ref":"#/components/schemas/oaItem"},{"type":"null"}]}`,
		"raw":     `{}`,
		"data":    `{"contentEncoding":"base64","type":"string"}`,
		"any":     `{}`,
		"Untaged": `{"minimum":0,"type":"integer"}`,
	} {
		if got := asJSON(props[name]); got != want {
			t.Errorf("oaItem.%s = %s, want %s", name, got, want)
		}
	}
	if got := asJSON(item["required"]); got != `["name"]` {
		t.Errorf("oaItem required = %s", got)
	}

	// The gateway's own errors, route by route: only what it can send.
	for _, c := range []struct{ path, method, want string }{
		{"/api/health", "get", "502 503 504 default"},
		{"/api/items/{id}", "get", "200 400 404 502 503 504"},
		{"/api/items", "post", "400 413 415 502 503 504 default"},
		{"/api/items/{id}", "put", "400 413 415 422 500 502 503 504 default"},
		{"/api/signup", "post", "400 413 415 502 503 504 default"},
		{"/api/search", "get", "400 502 503 504 default"},
		{"/api/upload", "post", "400 415 502 503 504 default"},
		{"/api/items/{id}", "delete", "400 502 503 504 default"},
	} {
		if got := strings.Join(statuses(t, doc, c.path, c.method), " "); got != c.want {
			t.Errorf("%s %s responses: %s, want %s", c.method, c.path, got, c.want)
		}
	}
}

func TestOpenAPIRenderers(t *testing.T) {
	svc := Service("/api", POST("/x", JSON[oaOut]()))
	text := openAPIOf(t, Mount(svc, "http://127.0.0.1:1"))
	if got := asJSON(at(t, text, "components", "responses", "BadGateway", "content")); got != `{"text/plain":{"schema":{"description":"code: message","type":"string"}}}` {
		t.Errorf("TextErrors: %s", got)
	}
	if _, ok := at(t, text, "components").(map[string]any)["schemas"].(map[string]any)["Error"]; ok {
		t.Error("TextErrors: the document has the JSON Error schema")
	}
	custom := openAPIOf(t, Mount(svc, "http://127.0.0.1:1"), WithErrorRenderer(func(w http.ResponseWriter, r *http.Request, e *Error) {}))
	if got := asJSON(at(t, custom, "components", "responses", "BadGateway")); strings.Contains(got, "content") {
		t.Errorf("custom renderer: %s claims a body format", got)
	}
}

// TestOpenAPIFieldsMatchEncodingJSON checks the schema's property names
// against what encoding/json really writes, for embedding and name
// conflicts.
func TestOpenAPIFieldsMatchEncodingJSON(t *testing.T) {
	type Inner struct {
		A, B string
		C    string `json:"c"`
	}
	type Other struct {
		A string
		B string `json:"B"`
		D string
	}
	type Deep struct{ Inner }
	type conflict struct {
		Inner
		Other
		E string `json:"e,omitempty"`
	}
	type shallowWins struct {
		Deep
		A int
	}
	type tagged struct {
		Inner `json:"inner"`
		*Other
		F string `json:"f,omitempty"`
	}
	for _, v := range []any{conflict{E: "x"}, shallowWins{}, tagged{Other: &Other{}, F: "x"}, oaItem{Price: new(float64)}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		want := slices.Sorted(maps.Keys(m))
		var got []string
		for _, f := range decode.JSONFields(reflect.TypeOf(v)) {
			got = append(got, f.Name)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%T: schema fields %v, encoding/json writes %v", v, got, want)
		}
	}
}

type oaPage[T any] struct {
	Items []T `json:"items"`
}

func TestOpenAPIComponentNames(t *testing.T) {
	type item struct {
		A string `json:"a"`
	}
	first := reflect.TypeFor[item]()
	second := func() reflect.Type {
		type item struct {
			B string `json:"b"`
		}
		return reflect.TypeFor[item]()
	}()
	g := newSchemaGen()
	a := g.schema(first).Ref
	b := g.schema(second).Ref
	if a == b || a == "" || b == "" {
		t.Errorf("two types named item share or lack a component: %q %q", a, b)
	}
	p := g.schema(reflect.TypeFor[oaPage[oaOut]]()).Ref
	if p == "" || strings.ContainsAny(strings.TrimPrefix(p, "#/components/schemas/"), "[]/* ") {
		t.Errorf("generic type component %q", p)
	}
	if g.schema(reflect.TypeFor[chan int]()) != nil {
		t.Error("a channel has a schema")
	}
}

func TestOpenAPIDocErrors(t *testing.T) {
	up := "http://127.0.0.1:1"
	tests := []struct {
		name string
		svc  *ServiceSpec
		want []string
	}{
		{"duplicate operation ID", Service("/api", GET("/a", Doc(RouteDoc{OperationID: "x"})), GET("/b", Doc(RouteDoc{OperationID: "x"}))),
			[]string{`operation ID "x"`, "GET /api/a", "GET /api/b"}},
		{"Doc twice", Service("/api", GET("/a", Doc(RouteDoc{}), Doc(RouteDoc{}))), []string{"GET /api/a", "Doc given twice"}},
		{"example that does not encode", Service("/api", POST("/a", Doc(RouteDoc{Example: make(chan int)}))), []string{"POST /api/a", "example"}},
		{"bad status", Service("/api", GET("/a", Doc(RouteDoc{Responses: map[int]any{99: nil}}))), []string{"GET /api/a", "status 99"}},
	}
	for _, tt := range tests {
		_, err := New(Mount(tt.svc, up))
		for _, w := range tt.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: New error %v, want %q in it", tt.name, err, w)
			}
		}
	}
}

func TestOpenAPIHandler(t *testing.T) {
	up := newEcho(t)
	g, err := New(Mount(Service("/api", GET("/items/:id")), up.URL), WithUpstream(UpstreamOptions{Engine: testEngine()}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.CloseIdleConnections)
	mux := http.NewServeMux()
	mux.Handle("/openapi.json", g.OpenAPIHandler())
	mux.Handle("/", g)
	front := serveFront(t, mux)

	res, body := get(t, front.URL+"/openapi.json")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" || body != string(g.OpenAPI()) {
		t.Fatalf("GET: %d %q, body matches OpenAPI(): %v", res.StatusCode, res.Header.Get("Content-Type"), body == string(g.OpenAPI()))
	}
	res, body = do(t, newReq(t, "HEAD", front.URL+"/openapi.json", ""))
	if res.StatusCode != 200 || body != "" || res.ContentLength != int64(len(g.OpenAPI())) {
		t.Errorf("HEAD: %d, %d bytes, Content-Length %d", res.StatusCode, len(body), res.ContentLength)
	}
	res, _ = do(t, newReq(t, "POST", front.URL+"/openapi.json", "x"))
	if res.StatusCode != 405 || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
	// The caller's copy is its own.
	doc := g.OpenAPI()
	doc[0] = 'x'
	if g.OpenAPI()[0] != '{' {
		t.Error("modifying OpenAPI()'s result changed the gateway's document")
	}
	if up.count() != 0 {
		t.Errorf("upstream saw %d requests", up.count())
	}
}
