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
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/upstream"
	"github.com/apigate-go/apigate/observe"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	check := flag.Bool("check", false, "send the example requests, verify the answers, and exit")
	flag.Parse()
	if err := run(*addr, *check); err != nil {
		log.Fatal(err)
	}
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
	err := errors.New("dial tcp 10.0.0.5:5432: connection refused")
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
	logs := &syncBuffer{}
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
	calls := []call{
		{note: "a valid order goes upstream",
			method: "POST", path: "/api/orders", header: []string{"Content-Type: application/json", "X-Tenant: globex"}, body: `{"sku":"LMP-0042","quantity":2}`,
			status: 200, want: []string{`"path": "/orders"`}},
		{note: "malformed JSON: 400 in the JSON envelope",
			method: "POST", path: "/api/orders", header: jsonCT, body: `{"sku":`,
			status: 400, want: []string{`{"error":{"code":"invalid_json","message":"malformed JSON body`}},
		{note: "Validate refuses it: 422 with the validator's message",
			method: "POST", path: "/api/orders", header: jsonCT, body: `{"sku":"LMP-0042","quantity":0}`,
			status: 422, want: []string{`{"error":{"code":"validation_failed","message":"quantity must be between 1 and 100"}}`}},
		{note: "over quota: the client sees the safe message, the log line (stderr) also has the detail",
			method: "POST", path: "/api/orders", header: []string{"Content-Type: application/json", "X-Tenant: acme"}, body: `{"sku":"LMP-0042","quantity":2}`,
			status: 429, want: []string{`{"error":{"code":"too_many_requests","message":"daily quota exceeded"}}`},
			deny: []string{"1000"}, logs: []string{"tenant acme used 1000 of 1000 requests"}},
		{note: "a hook's own JSON response (RespondJSON), not the renderer's envelope",
			path: "/api/billing", status: 402,
			want: []string{`"upgrade_url":"https://example.com/upgrade"`, `"code":"payment_required"`}},
		{note: "a plain Go error: 500 that reveals nothing; the cause is in the log",
			path: "/api/ledger", status: 500,
			want: []string{`{"error":{"code":"internal","message":"internal error"}}`},
			deny: []string{"ledger", "10.0.0.5"}, logs: []string{"dial tcp 10.0.0.5:5432: connection refused"}},
		{note: "an upstream that refuses connections: 502, the dial error is in the log",
			path: "/legacy/report", status: 502,
			want: []string{`{"error":{"code":"upstream_unavailable","message":"upstream unavailable"}}`},
			deny: []string{"refused"}, logs: []string{"event=upstream_failed", "connection refused"}},
		{note: "no such route: 404, also in the envelope",
			path: "/nope", status: 404, want: []string{`{"error":{"code":"not_found"`}},
	}

	base := "http://" + ln.Addr().String()
	fmt.Printf("gateway on %s in front of the mock upstream %s (and a dead one, %s)\ntry:\n", base, backend, dead)
	for _, c := range calls {
		fmt.Printf("  # %s\n  %s\n", c.note, c.curl(base))
	}
	if !check {
		return apigate.Serve(ctx, ln, gw, apigate.ServeOptions{})
	}
	go apigate.Serve(ctx, ln, gw, apigate.ServeOptions{})
	client := &http.Client{Timeout: 10 * time.Second}
	for _, c := range calls {
		before := len(logs.String())
		if err := c.check(client, base); err != nil {
			return err
		}
		got := logs.String()[before:] // what this request logged
		for _, want := range c.logs {
			if !strings.Contains(got, want) {
				return fmt.Errorf("%s: the log lacks %q; log:\n%s", c.path, want, got)
			}
		}
	}
	return nil
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

// syncBuffer keeps what the logger wrote, for -check; the observer writes
// from the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// call is one example request: main prints it as a curl command, and
// -check sends the same request and verifies the answer.
type call struct {
	note   string   // what the request shows
	method string   // GET when empty
	path   string   // path and query, appended to the gateway's base URL
	header []string // "Name: value"
	body   string   // sent as curl -d sends it
	status int      // the status the answer must have
	want   []string // text the answer (status line, headers, body) must hold
	deny   []string // text it must not hold
	logs   []string // text the operators' log must hold afterwards
}

// curl returns the call as a command line that works as printed.
func (c call) curl(base string) string {
	s := "curl -s"
	if c.status != http.StatusOK {
		s = "curl -si"
	}
	if c.method != "" && (c.method != http.MethodPost || c.body == "") {
		s += " -X " + c.method
	}
	for _, h := range c.header {
		s += " -H " + quote(h)
	}
	if c.body != "" {
		s += " -d " + quote(c.body)
	}
	return s + " " + quote(base+c.path)
}

// check sends the call as curl would and compares the answer.
func (c call) check(client *http.Client, base string) error {
	method := cmp.Or(c.method, http.MethodGet)
	req, err := http.NewRequest(method, base+c.path, strings.NewReader(c.body))
	if err != nil {
		return err
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // curl -d's default
	}
	for _, h := range c.header {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, c.path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, c.path, err)
	}
	var ans strings.Builder
	fmt.Fprintf(&ans, "%s %s\n", res.Proto, res.Status)
	res.Header.Write(&ans)
	ans.WriteString("\n")
	ans.Write(body)
	got := ans.String()
	if res.StatusCode != c.status {
		return fmt.Errorf("%s %s: status %d, want %d; answer:\n%s", method, c.path, res.StatusCode, c.status, got)
	}
	for _, w := range c.want {
		if !strings.Contains(got, w) {
			return fmt.Errorf("%s %s: answer lacks %q; answer:\n%s", method, c.path, w, got)
		}
	}
	for _, d := range c.deny {
		if strings.Contains(got, d) {
			return fmt.Errorf("%s %s: answer holds %q; answer:\n%s", method, c.path, d, got)
		}
	}
	fmt.Printf("ok  %s %s → %d\n", method, c.path, res.StatusCode)
	return nil
}

// quote quotes s for a POSIX shell.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
