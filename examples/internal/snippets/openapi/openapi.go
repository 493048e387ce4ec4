// Package openapi holds the snippet of docs/openapi.md, compiled.
package openapi

import (
	"net/http"

	"github.com/apigate-go/apigate"
)

// ItemPath is the path of an item.
type ItemPath struct {
	ID int `path:"id"`
}

// Item is an item as the upstream answers it.
type Item struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// NewItem is the body that creates an item.
type NewItem struct {
	Name string `json:"name" apigate:"required"`
}

// Handler is the gateway of docs/openapi.md with its document served
// beside it.
func Handler() http.Handler {
	api := apigate.Service("/api",
		apigate.GET("/items/:id", apigate.Path[ItemPath](),
			apigate.Doc(apigate.RouteDoc{Summary: "Get an item", Responses: map[int]any{200: Item{ID: 7, Name: "lamp"}}})),
		apigate.POST("/items", apigate.JSON[NewItem](), apigate.Doc(apigate.RouteDoc{Summary: "Create an item"})),
	)
	gw := apigate.MustNew(apigate.Mount(api, "http://127.0.0.1:8081"),
		apigate.WithErrorRenderer(apigate.JSONErrors),
		apigate.WithOpenAPI(apigate.OpenAPIInfo{Title: "Shop", Version: "1.0.0"}))

	mux := http.NewServeMux()
	mux.Handle("GET /openapi.json", gw.OpenAPIHandler())
	mux.Handle("/", gw)
	return mux
}
