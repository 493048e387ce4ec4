// Command basic runs a gateway in front of an embedded mock upstream and
// prints curl commands to try: a passthrough route, a static rewrite, a
// template rewrite, a catch-all and a streamed response.
//
//	go run ./examples/basic            # serve on 127.0.0.1:8080 until Ctrl-C
//	go run ./examples/basic -check     # send the printed requests itself and exit
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/internal/excheck"
	"github.com/apigate-go/apigate/examples/upstream"
)

func main() {
	excheck.Main(run)
}

func run(addr string, check bool) error {
	backend, stop, err := upstream.Start("items-v1")
	if err != nil {
		return err
	}
	defer stop()

	api := apigate.Service("/api",
		// Passthrough: /api/items/7 → /items/7 (the prefix is stripped).
		apigate.GET("/items/:id"),
		apigate.POST("/items"),
		// Static rewrite: /api/health → /status.
		apigate.GET("/health", apigate.To("/status")),
		// Template rewrite: /api/v2/items/7 → /items/7/details.
		apigate.GET("/v2/items/:id", apigate.To("/items/:id/details")),
		// Catch-all: /api/files/a/b.txt → /storage/a/b.txt.
		apigate.GET("/files/*path", apigate.To("/storage/*path")),
		// Streaming: no timeout, chunks arrive as the upstream sends them.
		apigate.GET("/feed", apigate.Timeout(0)),
	)
	gw, err := apigate.New(apigate.Mount(api, backend))
	if err != nil {
		return err
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ln, err := apigate.Listen(ctx, addr, apigate.ServeOptions{})
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	cmds := []string{
		"curl -s '" + base + "/api/items/7?expand=owner'",
		"curl -s -X POST -d '{\"name\":\"lamp\"}' -H 'Content-Type: application/json' '" + base + "/api/items'",
		"curl -s '" + base + "/api/health'",
		"curl -s '" + base + "/api/v2/items/7'",
		"curl -s '" + base + "/api/files/docs/readme.txt'",
		"curl -sN '" + base + "/api/feed?stream=5'",
		"curl -si '" + base + "/api/nope'",
	}
	fmt.Printf("gateway on %s in front of the mock upstream %s\ntry:\n", base, backend)
	for _, c := range cmds {
		fmt.Println("  " + c)
	}
	if check {
		go apigate.Serve(ctx, ln, gw, apigate.ServeOptions{})
		return selfCheck(base)
	}
	return apigate.Serve(ctx, ln, gw, apigate.ServeOptions{})
}

// selfCheck sends the example requests and fails unless each answers as
// the comments above say.
func selfCheck(base string) error {
	checks := excheck.Example{Calls: []excheck.Call{
		{Path: "/api/items/7?expand=owner", Status: 200, Want: []string{`"path": "/items/7"`}},
		{Method: "POST", Path: "/api/items", Header: []string{"Content-Type: application/json"}, Body: `{"name":"lamp"}`,
			Status: 200, Want: []string{`"body_size": 15`}},
		{Path: "/api/health", Status: 200, Want: []string{`"path": "/status"`}},
		{Path: "/api/v2/items/7", Status: 200, Want: []string{`"path": "/items/7/details"`}},
		{Path: "/api/files/docs/readme.txt", Status: 200, Want: []string{`"path": "/storage/docs/readme.txt"`}},
		{Path: "/api/feed?stream=2", Status: 200, Want: []string{`"chunk":1`}},
		{Path: "/api/nope", Status: 404, Want: []string{"not_found"}},
	}}
	return checks.Check(nil, base)
}
