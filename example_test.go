package apigate_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/policy"
)

// newUpstream starts a backend that answers every request with a line
// saying what it received: the method and URI, then the X-User-Id header
// and the body when there are any.
func newUpstream() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "upstream saw %s %s", r.Method, r.URL.RequestURI())
		if id := r.Header.Get("X-User-Id"); id != "" {
			fmt.Fprintf(w, " X-User-Id=%s", id)
		}
		if len(body) > 0 {
			fmt.Fprintf(w, " body=%s", body)
		}
	}))
}

// newNamed starts a backend that answers every request with its name.
func newNamed(name string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, name)
	}))
}

// send serves r with h and returns the status and body the client gets.
func send(h http.Handler, r *http.Request) string {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return fmt.Sprintf("%d %s", w.Code, strings.TrimSpace(w.Body.String()))
}

// postJSON returns a POST request for target with a JSON body.
func postJSON(target, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func Example() {
	backend := newUpstream()
	defer backend.Close()

	api := apigate.Service("/api",
		// Passthrough: the service prefix is stripped.
		apigate.GET("/items/:id"),
		// A template fills the upstream path from the path parameters.
		apigate.GET("/v2/items/:id", apigate.To("/items/:id/details")),
	)
	gw, err := apigate.New(apigate.Mount(api, backend.URL))
	if err != nil {
		log.Fatal(err)
	}
	defer gw.CloseIdleConnections()

	// The gateway is an http.Handler: serve it with any server, or here a
	// recorder.
	fmt.Println(send(gw, httptest.NewRequest("GET", "/api/items/7?expand=owner", nil)))
	fmt.Println(send(gw, httptest.NewRequest("GET", "/api/v2/items/7", nil)))
	// Output:
	// 200 upstream saw GET /items/7?expand=owner
	// 200 upstream saw GET /items/7/details
}

func ExampleNew_errors() {
	api := apigate.Service("/api",
		apigate.GET("/items/:id", apigate.To("/v2/items/:item")), // the path has no :item
		apigate.GET("/users/:id", apigate.Policy("sticky-user")), // never registered
		apigate.GET("/orders/:id"),
		apigate.GET("/orders/:id"), // declared twice
	)
	// New reports every problem at once (joined with errors.Join), each
	// naming the service or route at fault.
	_, err := apigate.New(apigate.Mount(api)) // and no backends
	fmt.Println(err)
	// Output:
	// apigate: service "api" (/api): no backends (give Mount URLs or register Backends("api", ...))
	// apigate: GET /api/items/:id: To: template "/v2/items/:item" names :item, which the route pattern lacks (it has [id])
	// apigate: GET /api/users/:id: unknown policy "sticky-user" (register it with WithPolicy)
	// apigate: GET /api/orders/:id: route conflict: a handle is already registered for path '/api/orders/:id'
}

func ExampleTo() {
	backend := newUpstream()
	defer backend.Close()

	api := apigate.Service("/api",
		apigate.GET("/health", apigate.To("/status")),
		apigate.GET("/users/:user/orders/:id", apigate.To("/orders/:id/owner/:user")),
		apigate.GET("/files/*path", apigate.To("/storage/*path")),
	)
	gw := apigate.MustNew(apigate.Mount(api, backend.URL))
	defer gw.CloseIdleConnections()

	for _, target := range []string{
		"/api/health",
		"/api/users/ann/orders/7?full=1", // the query string is kept
		"/api/files/docs/read%20me.txt",  // values stay escaped
	} {
		fmt.Println(send(gw, httptest.NewRequest("GET", target, nil)))
	}
	// Output:
	// 200 upstream saw GET /status
	// 200 upstream saw GET /orders/7/owner/ann?full=1
	// 200 upstream saw GET /storage/docs/read%20me.txt
}

func ExampleBefore() {
	backend := newUpstream()
	defer backend.Close()

	auth := func(c *apigate.Ctx) error {
		token, ok := strings.CutPrefix(c.Header("Authorization"), "Bearer ")
		if !ok || token != "secret" {
			return apigate.Unauthorized("missing or bad token")
		}
		c.DelHeader("Authorization") // the upstream never sees the token
		return c.SetHeader("X-User-Id", "u-1")
	}
	api := apigate.Service("/api", apigate.Before(auth), apigate.GET("/me"))
	gw := apigate.MustNew(apigate.Mount(api, backend.URL))
	defer gw.CloseIdleConnections()

	fmt.Println(send(gw, httptest.NewRequest("GET", "/api/me", nil)))
	r := httptest.NewRequest("GET", "/api/me", nil)
	r.Header.Set("Authorization", "Bearer secret")
	fmt.Println(send(gw, r))
	// Output:
	// 401 unauthorized: missing or bad token
	// 200 upstream saw GET /me X-User-Id=u-1
}

func ExampleAfter() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=600")
		w.Header().Set("X-Powered-By", "legacy-app/2.3")
		if r.URL.Path == "/items/broken" {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "panic: nil map at items.go:42")
			return
		}
		io.WriteString(w, "item "+strings.TrimPrefix(r.URL.Path, "/items/"))
	}))
	defer backend.Close()

	// The gateway owns these headers: what an After hook sets wins over
	// the upstream's field of the same name.
	headers := func(c *apigate.Ctx, res *apigate.UpstreamResponse) error {
		res.Header.Set("Cache-Control", "no-store")
		res.Header.Del("X-Powered-By")
		return nil
	}
	// An upstream failure becomes the gateway's own 502: the renderer
	// writes it and the upstream's body is discarded.
	envelope := func(c *apigate.Ctx, res *apigate.UpstreamResponse) error {
		if res.Status >= 500 {
			return apigate.BadGateway("the catalog failed").WithDetail("upstream %d", res.Status)
		}
		return nil
	}
	api := apigate.Service("/api", apigate.After(headers),
		apigate.GET("/items/:id", apigate.After(envelope)),
	)
	gw := apigate.MustNew(apigate.Mount(api, backend.URL), apigate.WithErrorRenderer(apigate.JSONErrors))
	defer gw.CloseIdleConnections()

	for _, path := range []string{"/api/items/7", "/api/items/broken"} {
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		fmt.Printf("%d Cache-Control=%q X-Powered-By=%q %s\n", w.Code, w.Header().Get("Cache-Control"),
			w.Header().Get("X-Powered-By"), strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 200 Cache-Control="no-store" X-Powered-By="" item 7
	// 502 Cache-Control="" X-Powered-By="" {"error":{"code":"bad_gateway","message":"the catalog failed"}}
}

// Order is a public request body. The apigate tag makes sku required;
// Validate checks the rest after decoding.
type Order struct {
	SKU      string `json:"sku" apigate:"required"`
	Quantity int    `json:"quantity"`
}

// Validate implements apigate.Validator.
func (o Order) Validate() error {
	if o.Quantity < 1 || o.Quantity > 100 {
		return errors.New("quantity must be between 1 and 100")
	}
	return nil
}

func ExampleJSON() {
	backend := newUpstream()
	defer backend.Close()

	api := apigate.Service("/api", apigate.POST("/orders", apigate.JSON[Order]()))
	gw := apigate.MustNew(apigate.Mount(api, backend.URL))
	defer gw.CloseIdleConnections()

	for _, body := range []string{
		`{"sku":"LMP-1","quantity":2}`, // valid: forwarded byte for byte
		`{"quantity":2}`,
		`{"sku":"LMP-1","quantity":0}`,
		`{"sku":`,
	} {
		fmt.Println(send(gw, postJSON("/api/orders", body)))
	}
	// Output:
	// 200 upstream saw POST /orders body={"sku":"LMP-1","quantity":2}
	// 400 invalid_json: missing required field "sku"
	// 422 validation_failed: quantity must be between 1 and 100
	// 400 invalid_json: malformed JSON body at byte 7
}

// LookupIn is the public body: {"q":"lamp"}.
type LookupIn struct {
	Q string `json:"q" apigate:"required"`
}

// LookupOut is the body the backend wants.
type LookupOut struct {
	Query string `json:"query"`
	Limit int    `json:"limit"`
}

func ExampleMap() {
	backend := newUpstream()
	defer backend.Close()

	remap := func(_ *apigate.Ctx, in LookupIn) (LookupOut, error) {
		q := strings.TrimSpace(in.Q)
		if q == "" {
			return LookupOut{}, apigate.BadRequest("q is blank")
		}
		return LookupOut{Query: q, Limit: 20}, nil
	}
	api := apigate.Service("/api",
		apigate.POST("/lookup", apigate.JSON[LookupIn](), apigate.Map(remap), apigate.To("/v1/lookup")),
	)
	gw := apigate.MustNew(apigate.Mount(api, backend.URL))
	defer gw.CloseIdleConnections()

	fmt.Println(send(gw, postJSON("/api/lookup", `{"q":"  lamp "}`)))
	fmt.Println(send(gw, postJSON("/api/lookup", `{"q":"  "}`)))
	// Output:
	// 200 upstream saw POST /v1/lookup body={"query":"lamp","limit":20}
	// 400 bad_request: q is blank
}

// SearchIn is the public query: ?q=lamp&page=2.
type SearchIn struct {
	Q    string `query:"q,required"`
	Page int    `query:"page"`
}

// SearchOut is the query the backend wants.
type SearchOut struct {
	Term   string `query:"term"`
	Offset int    `query:"offset"`
}

func ExampleQuery() {
	backend := newUpstream()
	defer backend.Close()

	remap := func(_ *apigate.Ctx, in SearchIn) (SearchOut, error) {
		return SearchOut{Term: in.Q, Offset: max(in.Page-1, 0) * 20}, nil
	}
	api := apigate.Service("/api",
		apigate.GET("/search", apigate.Query[SearchIn](), apigate.Map(remap)),
	)
	gw := apigate.MustNew(apigate.Mount(api, backend.URL))
	defer gw.CloseIdleConnections()

	for _, target := range []string{"/api/search?q=lamp&page=3", "/api/search?page=3", "/api/search?q=lamp&page=x"} {
		fmt.Println(send(gw, httptest.NewRequest("GET", target, nil)))
	}
	// Output:
	// 200 upstream saw GET /search?offset=40&term=lamp
	// 400 invalid_query: missing required query parameter "q"
	// 400 invalid_query: invalid query parameter "page": not an integer
}

// OrderPath is the path of /orders/:id.
type OrderPath struct {
	ID int `path:"id"`
}

func ExamplePath() {
	backend := newUpstream()
	defer backend.Close()

	// Hooks read the decoded parameters with apigate.Value.
	tag := func(c *apigate.Ctx) error {
		p, _ := apigate.Value[OrderPath](c)
		return c.SetHeader("X-User-Id", fmt.Sprint("owner-of-", p.ID))
	}
	api := apigate.Service("/shop",
		apigate.GET("/orders/:id", apigate.Path[OrderPath](), apigate.Before(tag), apigate.To("/v1/orders/:id")),
	)
	gw := apigate.MustNew(apigate.Mount(api, backend.URL))
	defer gw.CloseIdleConnections()

	fmt.Println(send(gw, httptest.NewRequest("GET", "/shop/orders/42", nil)))
	fmt.Println(send(gw, httptest.NewRequest("GET", "/shop/orders/abc", nil)))
	// Output:
	// 200 upstream saw GET /v1/orders/42 X-User-Id=owner-of-42
	// 400 invalid_path: invalid path parameter "id": not an integer
}

func ExampleJSONErrors() {
	backend := newUpstream()
	defer backend.Close()

	quota := func(*apigate.Ctx) error {
		return apigate.TooManyRequests("daily quota exceeded").WithDetail("tenant acme: 1000 of 1000")
	}
	api := apigate.Service("/api", apigate.GET("/reports", apigate.Before(quota)))
	gw := apigate.MustNew(
		apigate.Mount(api, backend.URL),
		apigate.WithErrorRenderer(apigate.JSONErrors),
	)
	defer gw.CloseIdleConnections()

	// The detail goes to the observer, never to the client.
	fmt.Println(send(gw, httptest.NewRequest("GET", "/api/reports", nil)))
	fmt.Println(send(gw, httptest.NewRequest("GET", "/nope", nil)))
	// Output:
	// 429 {"error":{"code":"too_many_requests","message":"daily quota exceeded"}}
	// 404 {"error":{"code":"not_found","message":"no route for /nope"}}
}

// A 401 must name how to authenticate (RFC 9110): Error.Header carries
// WWW-Authenticate to the client with the rendered error.
func ExampleError_header() {
	backend := newUpstream()
	defer backend.Close()

	auth := func(c *apigate.Ctx) error {
		if c.Header("Authorization") == "" {
			e := apigate.Unauthorized("missing token")
			e.Header = http.Header{"WWW-Authenticate": {`Bearer realm="api"`}}
			return e
		}
		return nil
	}
	api := apigate.Service("/api", apigate.GET("/reports", apigate.Before(auth)))
	gw := apigate.MustNew(apigate.Mount(api, backend.URL))
	defer gw.CloseIdleConnections()

	w := httptest.NewRecorder()
	gw.ServeHTTP(w, httptest.NewRequest("GET", "/api/reports", nil))
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output:
	// 401 Bearer realm="api"
}

func ExampleRespondJSON() {
	backend := newUpstream()
	defer backend.Close()

	// A hook answers the client itself: nothing goes upstream, and the
	// error renderer is bypassed.
	billing := func(*apigate.Ctx) error {
		return apigate.RespondJSON(http.StatusPaymentRequired, map[string]string{
			"code":        "payment_required",
			"upgrade_url": "https://example.com/upgrade",
		})
	}
	api := apigate.Service("/api", apigate.GET("/invoices", apigate.Before(billing)))
	gw := apigate.MustNew(apigate.Mount(api, backend.URL))
	defer gw.CloseIdleConnections()

	w := httptest.NewRecorder()
	gw.ServeHTTP(w, httptest.NewRequest("GET", "/api/invoices", nil))
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Print(w.Body)
	// Output:
	// 402 application/json
	// {"code":"payment_required","upgrade_url":"https://example.com/upgrade"}
}

// Tenants stands in for a client of a tenant directory, shared by every
// request.
type Tenants struct {
	byHost map[string]string
}

func ExampleState() {
	backend := newUpstream()
	defer backend.Close()

	// Hooks find shared values by type.
	identify := func(c *apigate.Ctx) error {
		tenant, ok := apigate.State[*Tenants](c).byHost[c.Request().Host]
		if !ok {
			return apigate.Forbidden("unknown tenant")
		}
		return c.SetHeader("X-User-Id", tenant)
	}
	api := apigate.Service("/api", apigate.Before(identify), apigate.GET("/me"))
	gw := apigate.MustNew(
		apigate.Mount(api, backend.URL),
		apigate.WithState(&Tenants{byHost: map[string]string{"acme.example.com": "acme"}}),
	)
	defer gw.CloseIdleConnections()

	fmt.Println(send(gw, httptest.NewRequest("GET", "http://acme.example.com/api/me", nil)))
	fmt.Println(send(gw, httptest.NewRequest("GET", "http://other.example.com/api/me", nil)))
	// Output:
	// 200 upstream saw GET /me X-User-Id=acme
	// 403 forbidden: unknown tenant
}

func ExampleUse() {
	backend := newUpstream()
	defer backend.Close()

	// Ordinary net/http middleware.
	setHeader := func(key, value string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(key, value)
				next.ServeHTTP(w, r)
			})
		}
	}
	api := apigate.Service("/api",
		apigate.GET("/items/:id"),
		// Route middleware runs after routing, for this route only.
		apigate.GET("/catalog", apigate.Use(setHeader("Cache-Control", "max-age=60"))),
	)
	gw := apigate.MustNew(
		apigate.Mount(api, backend.URL),
		// Gateway middleware wraps everything, before routing.
		apigate.Use(setHeader("X-Gateway", "apigate")),
	)
	defer gw.CloseIdleConnections()

	for _, target := range []string{"/api/items/7", "/api/catalog", "/nope"} {
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		fmt.Printf("%s %d X-Gateway=%q Cache-Control=%q\n", target, w.Code, w.Header().Get("X-Gateway"), w.Header().Get("Cache-Control"))
	}
	// Output:
	// /api/items/7 200 X-Gateway="apigate" Cache-Control=""
	// /api/catalog 200 X-Gateway="apigate" Cache-Control="max-age=60"
	// /nope 404 X-Gateway="apigate" Cache-Control=""
}

func ExampleMountBackends() {
	big, small := newNamed("big"), newNamed("small")
	defer big.Close()
	defer small.Close()

	api := apigate.Service("/api", apigate.GET("/items/:id"))
	gw := apigate.MustNew(apigate.MountBackends(api,
		apigate.Backend{URL: big.URL, Weight: 3}, // three times the share of small
		apigate.Backend{URL: small.URL},
	))
	defer gw.CloseIdleConnections()

	var got []string
	for range 8 {
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, httptest.NewRequest("GET", "/api/items/7", nil))
		got = append(got, w.Body.String())
	}
	fmt.Println(strings.Join(got, " "))
	// Output:
	// big big small big big big small big
}

func ExampleWithPolicy() {
	var urls []string
	for _, name := range []string{"a", "b", "c"} {
		s := newNamed(name)
		defer s.Close()
		urls = append(urls, s.URL)
	}

	api := apigate.Service("/api",
		apigate.GET("/profile", apigate.Policy("by-user")),
		apigate.GET("/items/:id"), // the default: round-robin
	)
	gw := apigate.MustNew(
		apigate.Mount(api, urls...),
		apigate.WithPolicy("by-user", policy.HeaderSticky("X-User")),
	)
	defer gw.CloseIdleConnections()

	// Which backend a user lands on depends on the backends' addresses,
	// random here; that a user always lands on the same one does not.
	for _, user := range []string{"alice", "bob", "carol"} {
		var seen []string
		for range 5 {
			r := httptest.NewRequest("GET", "/api/profile", nil)
			r.Header.Set("X-User", user)
			w := httptest.NewRecorder()
			gw.ServeHTTP(w, r)
			if !slices.Contains(seen, w.Body.String()) {
				seen = append(seen, w.Body.String())
			}
		}
		fmt.Printf("%s: 5 requests, %d backend\n", user, len(seen))
	}
	var rr []string
	for range 3 {
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, httptest.NewRequest("GET", "/api/items/7", nil))
		rr = append(rr, w.Body.String())
	}
	fmt.Println("round-robin:", strings.Join(rr, " "))
	// Output:
	// alice: 5 requests, 1 backend
	// bob: 5 requests, 1 backend
	// carol: 5 requests, 1 backend
	// round-robin: a b c
}
