package apigate_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"time"

	"github.com/apigate-go/apigate"
)

func ExampleCORS() {
	up := newUpstream()
	defer up.Close()

	api := apigate.Service("/api",
		apigate.CORS(apigate.CORSOptions{
			AllowOrigins:     []string{"https://app.example.com", "https://*.preview.example.com"},
			AllowHeaders:     []string{"Content-Type", "Authorization"},
			ExposeHeaders:    []string{"X-Request-Id"},
			AllowCredentials: true,
			MaxAge:           10 * time.Minute,
		}),
		apigate.GET("/items/:id"),
		apigate.PUT("/items/:id"),
	)
	gw := apigate.MustNew(apigate.Mount(api, up.URL))

	// A preflight: answered by the gateway, the upstream never sees it.
	pre := httptest.NewRequest("OPTIONS", "/api/items/7", nil)
	pre.Header.Set("Origin", "https://pr-12.preview.example.com")
	pre.Header.Set("Access-Control-Request-Method", "PUT")
	pre.Header.Set("Access-Control-Request-Headers", "content-type")
	w := httptest.NewRecorder()
	gw.ServeHTTP(w, pre)
	fmt.Println(w.Code, w.Header().Get("Access-Control-Allow-Origin"), w.Header().Get("Access-Control-Allow-Methods"),
		w.Header().Get("Access-Control-Max-Age"))

	// The actual request: the upstream answers, the gateway adds the
	// CORS headers.
	req := httptest.NewRequest("PUT", "/api/items/7", nil)
	req.Header.Set("Origin", "https://app.example.com")
	w = httptest.NewRecorder()
	gw.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Body.String())
	fmt.Println(w.Header().Get("Access-Control-Allow-Origin"), w.Header().Get("Access-Control-Allow-Credentials"),
		w.Header().Get("Access-Control-Expose-Headers"), w.Header().Get("Vary"))
	// Output:
	// 204 https://pr-12.preview.example.com PUT 600
	// 200 upstream saw PUT /items/7
	// https://app.example.com true X-Request-Id Origin
}

// ItemPath is the path of /items/:id in the OpenAPI example.
type ItemPath struct {
	ID int `path:"id"`
}

// NewItem is the body of POST /items in the OpenAPI example.
type NewItem struct {
	Name  string   `json:"name" apigate:"required"`
	Price *float64 `json:"price,omitempty"`
}

// Item is what the upstream answers, for the document.
type Item struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

func ExampleGateway_OpenAPI() {
	api := apigate.Service("/api",
		apigate.GET("/items/:id", apigate.Path[ItemPath](),
			apigate.Doc(apigate.RouteDoc{Summary: "Get an item", Responses: map[int]any{200: Item{ID: 7, Name: "lamp"}}})),
		apigate.POST("/items", apigate.JSON[NewItem](), apigate.Doc(apigate.RouteDoc{Summary: "Create an item"})),
	)
	gw := apigate.MustNew(apigate.Mount(api, "http://127.0.0.1:8081"),
		apigate.WithErrorRenderer(apigate.JSONErrors),
		apigate.WithOpenAPI(apigate.OpenAPIInfo{Title: "Shop", Version: "1.0.0"}))

	// Serve it beside the gateway.
	mux := http.NewServeMux()
	mux.Handle("GET /openapi.json", gw.OpenAPIHandler())
	mux.Handle("/", gw)

	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Summary   string                     `json:"summary"`
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	json.Unmarshal(gw.OpenAPI(), &doc)
	fmt.Println("openapi", doc.OpenAPI)
	for _, p := range []string{"/api/items", "/api/items/{id}"} {
		for m, op := range doc.Paths[p] {
			var codes []string
			for c := range op.Responses {
				codes = append(codes, c)
			}
			slices.Sort(codes)
			fmt.Println(m, p, op.Summary, codes)
		}
	}
	var schemas []string
	for s := range doc.Components.Schemas {
		schemas = append(schemas, s)
	}
	slices.Sort(schemas)
	fmt.Println(schemas)
	// Output:
	// openapi 3.1.0
	// post /api/items Create an item [400 413 415 502 503 504 default]
	// get /api/items/{id} Get an item [200 400 502 503 504]
	// [Error Item NewItem]
}
