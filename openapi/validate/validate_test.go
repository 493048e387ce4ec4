package validate

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

type ItemPath struct {
	ID int `path:"id"`
}

type Search struct {
	Q     string   `query:"q,required"`
	Limit *int     `query:"limit"`
	Tag   []string `query:"tag"`
}

type Base struct {
	Created time.Time `json:"created"`
}

type NewItem struct {
	Base
	Name  string            `json:"name" apigate:"required"`
	Price *float64          `json:"price,omitempty"`
	Tags  []string          `json:"tags,omitempty"`
	Attrs map[string]string `json:"attrs,omitempty"`
	Next  *NewItem          `json:"next,omitempty"`
}

type Item struct {
	ID    int      `json:"id"`
	Name  string   `json:"name"`
	Price *float64 `json:"price"`
}

type Signup struct {
	Email string `form:"email,required"`
	Age   int    `form:"age"`
}

func engine() apigate.Engine {
	if os.Getenv("APIGATE_TEST_ENGINE") == "http1" {
		return apigate.EngineHTTP1
	}
	return apigate.EngineNetHTTP
}

// setup serves a gateway in front of an upstream that answers like the
// documented one, and returns the gateway's URL and a validator for its
// document.
func setup(t *testing.T, upstream string) (string, validator.Validator, []byte) {
	t.Helper()
	api := apigate.Service("/api",
		apigate.GET("/items/:id", apigate.Path[ItemPath](),
			apigate.Doc(apigate.RouteDoc{Summary: "Get an item", OperationID: "getItem",
				Responses: map[int]any{200: Item{ID: 7, Name: "lamp"}, 404: nil}})),
		apigate.GET("/search", apigate.Query[Search](), apigate.Doc(apigate.RouteDoc{Responses: map[int]any{200: []Item{}}})),
		apigate.POST("/items", apigate.JSON[NewItem](), apigate.Doc(apigate.RouteDoc{Example: NewItem{Name: "lamp"},
			Responses: map[int]any{201: Item{ID: 8, Name: "lamp"}}})),
		apigate.POST("/signup", apigate.Form[Signup]()),
		apigate.POST("/upload", apigate.Multipart()),
		apigate.GET("/files/*rest"),
	)
	gw, err := apigate.New(apigate.Mount(api, upstream), apigate.WithErrorRenderer(apigate.JSONErrors),
		apigate.WithUpstream(apigate.UpstreamOptions{Engine: engine()}),
		apigate.WithOpenAPI(apigate.OpenAPIInfo{Title: "Shop", Version: "1.0.0"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.CloseIdleConnections)
	front := httptest.NewServer(gw)
	t.Cleanup(front.Close)

	spec := gw.OpenAPI()
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatalf("libopenapi: %v", err)
	}
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Fatalf("libopenapi reads version %q", v)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("NewValidator: %v", errs)
	}
	return front.URL, v, spec
}

func shopUpstream(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "GET" && r.URL.Path == "/items/7":
			w.Write([]byte(`{"id":7,"name":"lamp","price":12.5}`))
		case r.Method == "GET" && r.URL.Path == "/search":
			w.Write([]byte(`[{"id":7,"name":"lamp","price":null}]`))
		case r.Method == "POST" && r.URL.Path == "/items":
			w.WriteHeader(201)
			w.Write([]byte(`{"id":8,"name":"lamp","price":null}`))
		default:
			w.WriteHeader(404)
			w.Write([]byte(`{"error":{"code":"not_found","message":"no such item"}}`))
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func TestDocumentIsValidOpenAPI31(t *testing.T) {
	_, v, spec := setup(t, "http://127.0.0.1:1")
	if ok, errs := v.ValidateDocument(); !ok {
		for _, e := range errs {
			t.Errorf("document: %s: %s", e.Message, e.Reason)
		}
		t.Logf("document:\n%s", spec)
	}
}

// exchange sends req to the gateway and validates the request and the
// response against the document.
func exchange(t *testing.T, v validator.Validator, req *http.Request, wantStatus int) {
	t.Helper()
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	resBody, _ := io.ReadAll(res.Body)
	if res.StatusCode != wantStatus {
		t.Fatalf("%s %s: status %d, want %d (%s)", req.Method, req.URL, res.StatusCode, wantStatus, resBody)
	}
	// Validate as a server would see them: the path relative to the
	// document's paths, the bodies readable again.
	vreq := req.Clone(req.Context())
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	if ok, errs := v.ValidateHttpRequestResponse(vreq, res); !ok {
		for _, e := range errs {
			t.Errorf("%s %s → %d: %s: %s", req.Method, req.URL.Path, res.StatusCode, e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  %s at %s", se.Reason, se.FieldPath)
			}
		}
	}
}

func newRequest(t *testing.T, method, url, contentType, body string) *http.Request {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

func TestExchangesMatchTheDocument(t *testing.T) {
	up := shopUpstream(t)
	base, v, _ := setup(t, up.URL)
	item, _ := json.Marshal(NewItem{Base: Base{Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, Name: "lamp",
		Tags: []string{"a"}, Attrs: map[string]string{"k": "v"}, Next: &NewItem{Name: "bulb"}})
	tests := []struct {
		name   string
		req    *http.Request
		status int
	}{
		{"typed path", newRequest(t, "GET", base+"/api/items/7", "", ""), 200},
		{"documented 404", newRequest(t, "GET", base+"/api/items/9", "", ""), 404},
		{"query", newRequest(t, "GET", base+"/api/search?q=lamp&limit=3&tag=a&tag=b", "", ""), 200},
		{"JSON body", newRequest(t, "POST", base+"/api/items", "application/json", string(item)), 201},
		{"gateway 400 on a bad path parameter", newRequest(t, "GET", base+"/api/items/x", "", ""), 400},
		{"gateway 400 on a missing field", newRequest(t, "POST", base+"/api/items", "application/json", `{"price":1}`), 400},
		{"gateway 415", newRequest(t, "POST", base+"/api/items", "text/plain", `{"name":"x"}`), 415},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.status == 200 || tt.status == 201 || tt.status == 404 {
				exchange(t, v, tt.req, tt.status)
				return
			}
			// Requests the gateway refuses: the document must refuse
			// them too, and the gateway's answer must match its
			// documented error response.
			body, _ := io.ReadAll(tt.req.Body)
			vreq := tt.req.Clone(tt.req.Context())
			vreq.Body = io.NopCloser(bytes.NewReader(body))
			if ok, _ := v.ValidateHttpRequest(vreq); ok {
				t.Errorf("the document accepts a request the gateway refuses with %d", tt.status)
			}
			tt.req.Body = io.NopCloser(bytes.NewReader(body))
			res, err := http.DefaultClient.Do(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			resBody, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%s)", res.StatusCode, tt.status, resBody)
			}
			res.Body = io.NopCloser(bytes.NewReader(resBody))
			vreq.Body = io.NopCloser(bytes.NewReader(body))
			if ok, errs := v.ValidateHttpResponse(vreq, res); !ok {
				for _, e := range errs {
					t.Errorf("error response %d: %s: %s", res.StatusCode, e.Message, e.Reason)
				}
			}
		})
	}
}

// TestGatewayErrorsMatchTheDocument checks the 502 the gateway sends
// when its upstream is down against the document.
func TestGatewayErrorsMatchTheDocument(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	url := down.URL
	down.Close()
	base, v, _ := setup(t, url)
	exchange(t, v, newRequest(t, "GET", base+"/api/items/7", "", ""), 502)
}

// TestValidatorNoticesAMismatch guards the tests above: an upstream
// answer that breaks the documented schema must fail validation.
func TestValidatorNoticesAMismatch(t *testing.T) {
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"seven","name":7}`))
	}))
	t.Cleanup(bad.Close)
	base, v, _ := setup(t, bad.URL)
	req := newRequest(t, "GET", base+"/api/items/7", "", "")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ok, _ := v.ValidateHttpResponse(req, res); ok {
		t.Error("a response with a string id and a numeric name passed validation")
	}
}
