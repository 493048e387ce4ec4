// Command errors shows how failures reach clients and operators: the
// JSONErrors renderer for every error the gateway sends, a client-safe
// message with an internal Detail that only the observer logs, a Validate
// method (422), a custom JSON response from a hook (RespondJSON), a plain
// Go error that becomes a 500 revealing nothing, and an unreachable
// upstream (502).
//
//	go run ./examples/errors                            # serve on 127.0.0.1:8080 until Ctrl-C
//	go run ./examples/errors -check -addr 127.0.0.1:0   # send the printed requests itself and exit
//
// The operators' log (observe.Slog) goes to stderr: compare each line with
// what curl printed.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/internal/excheck"
	"github.com/apigate-go/apigate/examples/upstream"
	"github.com/apigate-go/apigate/observe"
)

func main() {
	excheck.Main(run)
}

// OrderIn is the body of POST /api/orders.
type OrderIn struct {
	SKU      string `json:"sku" apigate:"required"`
	Quantity int    `json:"quantity"`
}

// Validate runs after decoding; its error is a 422 "validation_failed"
// whose message is the error's text, so it must be safe to show.
func (o OrderIn) Validate() error {
	if o.Quantity < 1 || o.Quantity > 100 {
		return errors.New("quantity must be between 1 and 100")
	}
	return nil
}

// quota rejects tenants over their daily quota. The client sees the safe
// message; the detail, with the numbers, goes to the observer only.
func quota(c *apigate.Ctx) error {
	const limit = 1000
	tenant := c.Header("X-Tenant")
	if used := usage(tenant); used >= limit {
		return apigate.TooManyRequests("daily quota exceeded").
			WithDetail("tenant %s used %d of %d requests", tenant, used, limit)
	}
	return nil
}

// usage stands in for a lookup in a quota store.
func usage(tenant string) int {
	if tenant == "acme" {
		return 1000
	}
	return 12
}

// paymentRequired answers with a JSON body of its own instead of going
// upstream: a Response bypasses the error renderer.
func paymentRequired(c *apigate.Ctx) error {
	if c.Header("X-Plan") == "pro" {
		return nil
	}
	return apigate.RespondJSON(http.StatusPaymentRequired, map[string]any{
		"error":       map[string]string{"code": "payment_required", "message": "billing needs the pro plan"},
		"upgrade_url": "https://example.com/upgrade",
	})
}

// ledgerLookup fails the way real code fails: with a plain Go error full
// of internals. The gateway turns it into a 500 "internal error" and
// hands the cause to the observer.
func ledgerLookup(*apigate.Ctx) error {
	err := errors.New("dial tcp 192.0.2.5:5432: connection refused")
	return fmt.Errorf("ledger: query accounts: %w", err)
}

func run(addr string, check bool) error {
	backend, stop, err := upstream.Start("orders-v1")
	if err != nil {
		return err
	}
	defer stop()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ln, err := apigate.Listen(ctx, addr, apigate.ServeOptions{})
	if err != nil {
		return err
	}
	// Picked after our own listeners, which could otherwise be given the
	// same free port.
	dead, err := deadAddr()
	if err != nil {
		return err
	}

	// The operators' log: every failure with its code, detail and cause.
	logs := &excheck.Log{}
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(os.Stderr, logs), nil))

	api := apigate.Service("/api",
		apigate.POST("/orders", apigate.JSON[OrderIn](), apigate.Before(quota)),
		apigate.GET("/billing", apigate.Before(paymentRequired)),
		apigate.GET("/ledger", apigate.Before(ledgerLookup)),
	)
	legacy := apigate.Service("/legacy", apigate.GET("/*path"))
	gw, err := apigate.New(
		apigate.Mount(api, backend),
		apigate.Mount(legacy, dead),
		apigate.WithErrorRenderer(apigate.JSONErrors),
		apigate.WithObserver(observe.Slog(logger)),
	)
	if err != nil {
		return err
	}

	jsonCT := []string{"Content-Type: application/json"}
	calls := []excheck.Call{
		{Note: "a valid order goes upstream",
			Method: "POST", Path: "/api/orders", Header: []string{"Content-Type: application/json", "X-Tenant: globex"}, Body: `{"sku":"LMP-0042","quantity":2}`,
			Status: 200, Want: []string{`"path": "/orders"`}},
		{Note: "malformed JSON: 400 in the JSON envelope",
			Method: "POST", Path: "/api/orders", Header: jsonCT, Body: `{"sku":`,
			Status: 400, Want: []string{`{"error":{"code":"invalid_json","message":"malformed JSON body`}},
		{Note: "Validate refuses it: 422 with the validator's message",
			Method: "POST", Path: "/api/orders", Header: jsonCT, Body: `{"sku":"LMP-0042","quantity":0}`,
			Status: 422, Want: []string{`{"error":{"code":"validation_failed","message":"quantity must be between 1 and 100"}}`}},
		{Note: "over quota: the client sees the safe message, the log line (stderr) also has the detail",
			Method: "POST", Path: "/api/orders", Header: []string{"Content-Type: application/json", "X-Tenant: acme"}, Body: `{"sku":"LMP-0042","quantity":2}`,
			Status: 429, Want: []string{`{"error":{"code":"too_many_requests","message":"daily quota exceeded"}}`},
			Deny: []string{"1000"}, Logs: []string{"tenant acme used 1000 of 1000 requests"}},
		{Note: "a hook's own JSON response (RespondJSON), not the renderer's envelope",
			Path: "/api/billing", Status: 402,
			Want: []string{`"upgrade_url":"https://example.com/upgrade"`, `"code":"payment_required"`}},
		{Note: "a plain Go error: 500 that reveals nothing; the cause is in the log",
			Path: "/api/ledger", Status: 500,
			Want: []string{`{"error":{"code":"internal","message":"internal error"}}`},
			Deny: []string{"ledger", "192.0.2.5"}, Logs: []string{"dial tcp 192.0.2.5:5432: connection refused"}},
		{Note: "an upstream that refuses connections: 502, the dial error is in the log",
			Path: "/legacy/report", Status: 502,
			Want: []string{`{"error":{"code":"upstream_unavailable","message":"upstream unavailable"}}`},
			Deny: []string{"refused"}, Logs: []string{"event=upstream_failed", "connection refused"}},
		{Note: "no such route: 404, also in the envelope",
			Path: "/nope", Status: 404, Want: []string{`{"error":{"code":"not_found"`}},
	}

	ex := excheck.Example{
		About: fmt.Sprintf("in front of the mock upstream %s (and a dead one, %s)", backend, dead),
		Calls: calls,
		Log:   logs,
	}
	return ex.Serve(ctx, ln, gw, check)
}

// deadAddr returns the URL of a loopback port nobody listens on.
func deadAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return "http://" + ln.Addr().String(), nil
}
