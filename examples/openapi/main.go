// Command openapi serves the OpenAPI 3.1 document apigate generates from
// its typed routes, beside the gateway itself, with CORS so that a browser
// app on another origin (or a Swagger UI) can call both.
//
//	go run ./examples/openapi                            # serve on 127.0.0.1:8080 until Ctrl-C
//	go run ./examples/openapi -check -addr 127.0.0.1:0   # send the printed requests itself and exit
package main

import (
	"net/http"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/internal/excheck"
	"github.com/apigate-go/apigate/examples/upstream"
)

func main() {
	excheck.Main(run)
}

// ItemPath is the path of /api/items/:id.
type ItemPath struct {
	ID int `path:"id"`
}

// Search is the query of GET /api/items.
type Search struct {
	Q     string   `query:"q,required"`
	Limit *int     `query:"limit"`
	Tags  []string `query:"tag"`
}

// NewItem is the body of POST /api/items.
type NewItem struct {
	Name  string    `json:"name" apigate:"required"`
	Price *float64  `json:"price,omitempty"`
	Tags  []string  `json:"tags,omitempty"`
	Sold  time.Time `json:"sold,omitzero"`
}

// Item is what the upstream answers, for the document only.
type Item struct {
	ID    int      `json:"id"`
	Name  string   `json:"name"`
	Price *float64 `json:"price"`
}

// Handler returns the gateway in front of backend, with its OpenAPI
// document at /openapi.json.
func Handler(backend string) (http.Handler, error) {
	api := apigate.Service("/api",
		// Browsers on the app's origins may call every route; the gateway
		// answers their preflights itself.
		apigate.CORS(apigate.CORSOptions{
			AllowOrigins:  []string{"https://app.example.com", "https://*.preview.example.com"},
			AllowHeaders:  []string{"Content-Type", "Authorization"},
			ExposeHeaders: []string{"X-Upstream"},
			MaxAge:        10 * time.Minute,
		}),
		apigate.GET("/items", apigate.Query[Search](), apigate.Doc(apigate.RouteDoc{
			Summary: "Search items", Tags: []string{"items"}, OperationID: "searchItems",
			Responses: map[int]any{200: []Item{{ID: 7, Name: "lamp"}}},
		})),
		apigate.GET("/items/:id", apigate.Path[ItemPath](), apigate.Doc(apigate.RouteDoc{
			Summary: "Get an item", Tags: []string{"items"}, OperationID: "getItem",
			Responses: map[int]any{200: Item{ID: 7, Name: "lamp"}, 404: nil},
		})),
		apigate.POST("/items", apigate.JSON[NewItem](), apigate.Doc(apigate.RouteDoc{
			Summary: "Create an item", Tags: []string{"items"}, OperationID: "createItem",
			Example:   NewItem{Name: "lamp"},
			Responses: map[int]any{201: Item{ID: 8, Name: "lamp"}},
		})),
	)
	gw, err := apigate.New(apigate.Mount(api, backend),
		apigate.WithErrorRenderer(apigate.JSONErrors),
		apigate.WithOpenAPI(apigate.OpenAPIInfo{Title: "Shop API", Version: "1.0.0",
			Description: "Items, behind apigate."}))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /openapi.json", gw.OpenAPIHandler())
	mux.Handle("/", gw)
	return mux, nil
}

// example lists the requests the program prints and -check sends.
var example = excheck.Example{
	About: "with its OpenAPI document at /openapi.json",
	Calls: []excheck.Call{
		{Note: "the generated OpenAPI 3.1 document", Path: "/openapi.json", Status: 200,
			Want: []string{`"openapi": "3.1.0"`, `"/api/items/{id}"`, `"operationId": "createItem"`}},
		{Note: "a typed path parameter", Path: "/api/items/7", Status: 200, Want: []string{`"path": "/items/7"`}},
		{Note: "the document says id is an integer: the gateway agrees", Path: "/api/items/seven", Status: 400,
			Want: []string{`"code":"invalid_path"`}},
		{Note: "q is required", Path: "/api/items?limit=3", Status: 400, Want: []string{`"code":"invalid_query"`}},
		{Note: "a JSON body", Method: "POST", Path: "/api/items", Header: []string{"Content-Type: application/json"},
			Body: `{"name":"lamp","price":12.5}`, Status: 200, Want: []string{`"method": "POST"`}},
		{Note: "a CORS preflight, answered by the gateway", Method: "OPTIONS", Path: "/api/items",
			Header: []string{"Origin: https://app.example.com", "Access-Control-Request-Method: POST",
				"Access-Control-Request-Headers: content-type"},
			Status: 204, Want: []string{"Access-Control-Allow-Origin: https://app.example.com", "Access-Control-Max-Age: 600"}},
		{Note: "a cross-origin call from a preview deployment", Path: "/api/items/7",
			Header: []string{"Origin: https://pr-12.preview.example.com"}, ShowHeaders: true, Status: 200,
			Want: []string{"Access-Control-Allow-Origin: https://pr-12.preview.example.com", "Access-Control-Expose-Headers: X-Upstream"}},
		{Note: "another origin gets no CORS headers", Path: "/api/items/7", Header: []string{"Origin: https://evil.test"},
			ShowHeaders: true, Status: 200, Deny: []string{"Access-Control-Allow-Origin"}},
	},
}

func run(addr string, check bool) error {
	backend, stop, err := upstream.Start("items")
	if err != nil {
		return err
	}
	defer stop()
	h, err := Handler(backend)
	if err != nil {
		return err
	}
	return example.ListenAndServe(addr, h, check)
}
