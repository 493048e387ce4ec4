// Command quickstart is the README's first gateway: two routes with a hook
// and a map, in front of two backends on 127.0.0.1:9001 and :9002. Start
// them first (or try examples/basic, which embeds a mock upstream).
package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"strings"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/policy"
)

type LookupIn struct {
	Q string `json:"q" apigate:"required"`
}
type LookupOut struct {
	Query string `json:"query"`
	Limit int    `json:"limit"`
}

func auth(c *apigate.Ctx) error {
	if c.Header("Authorization") == "" {
		return apigate.Unauthorized("missing authorization")
	}
	return c.SetHeader("X-User-Id", "u-1")
}

func main() {
	api := apigate.Service("/api",
		apigate.GET("/items/:id", apigate.Before(auth), apigate.To("/v2/items/:id")),
		apigate.POST("/items/lookup", apigate.JSON[LookupIn](), apigate.Map(
			func(c *apigate.Ctx, in LookupIn) (LookupOut, error) {
				return LookupOut{Query: strings.TrimSpace(in.Q), Limit: 20}, nil
			})),
		apigate.GET("/users/:id", apigate.Policy("sticky")),
	)
	gw, err := apigate.New(
		apigate.Mount(api, "http://127.0.0.1:9001", "http://127.0.0.1:9002"),
		apigate.WithPolicy("sticky", policy.PathSticky("id")),
	)
	if err != nil {
		log.Fatal(err) // every misconfiguration, each naming its route
	}
	// Ctrl-C shuts down gracefully: ListenAndServe returns nil, exit 0.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := apigate.ListenAndServe(ctx, "127.0.0.1:8080", gw, apigate.ServeOptions{}); err != nil {
		log.Fatal(err)
	}
}
