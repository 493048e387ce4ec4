// Command ratelimit shows rate limits in front of the mock upstream: per
// client address, per API key, per user established by an auth hook, and
// a route exempt from its service's limit. A refused request gets 429
// with Retry-After and the RateLimit and RateLimit-Policy headers
// (draft-ietf-httpapi-ratelimit-headers); allowed answers carry the
// latter two as well.
//
//	go run ./examples/ratelimit                            # serve on 127.0.0.1:8080 until Ctrl-C
//	go run ./examples/ratelimit -check -addr 127.0.0.1:0   # send the printed requests itself and exit
//
// The limits are small so that a few requests exhaust them; run the
// printed commands in order, within a minute. The state is in memory; see
// the Redis store (github.com/apigate-go/apigate/ratelimit/redis) to share
// it between replicas.
package main

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/internal/excheck"
	"github.com/apigate-go/apigate/examples/upstream"
	"github.com/apigate-go/apigate/ratelimit"
)

func main() {
	excheck.Main(run)
}

// userID is the authenticated user, stored by auth for the limit's key.
type userID string

// auth stands in for real authentication: the bearer token is the user.
func auth(c *apigate.Ctx) error {
	tok, ok := strings.CutPrefix(c.Header("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return apigate.Unauthorized("missing bearer token")
	}
	apigate.Set(c, userID(tok))
	return nil
}

// byUser is the rate-limit key of /api/me: it runs after auth.
func byUser(c *apigate.Ctx) string {
	u, _ := apigate.Value[userID](c)
	return string(u)
}

func run(addr string, check bool) error {
	backend, stop, err := upstream.Start("items-v1")
	if err != nil {
		return err
	}
	defer stop()

	// Small budgets, so that a few requests spend them, and long periods,
	// so that the printed commands show the same answers when run by hand.
	perIP := ratelimit.Limit{Name: "per-ip", Rate: 10, Per: time.Hour, Burst: 2}   // one every 6 minutes, bursts of 2
	perKey := ratelimit.Limit{Name: "per-key", Rate: 30, Per: time.Hour, Burst: 3} // one every 2 minutes, bursts of 3
	perUser := ratelimit.Limit{Name: "per-user", Rate: 1, Per: time.Hour}          // one an hour
	api := apigate.Service("/api",
		// Every route of the service shares the per-IP budget...
		apigate.RateLimit(perIP, apigate.LimitByIP()),
		apigate.GET("/items/:id"),
		// ...except those with a limit of their own,
		apigate.GET("/search", apigate.RateLimit(perKey, apigate.LimitByHeader("X-Api-Key"))),
		apigate.GET("/me", apigate.Before(auth), apigate.RateLimit(perUser, apigate.LimitByFunc(byUser))),
		// and those exempt.
		apigate.GET("/health", apigate.NoRateLimit()),
	)
	gw, err := apigate.New(apigate.Mount(api, backend), apigate.WithErrorRenderer(apigate.JSONErrors))
	if err != nil {
		return err
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ln, err := apigate.Listen(ctx, addr, apigate.ServeOptions{})
	if err != nil {
		return err
	}
	key := func(k string) []string { return []string{"X-Api-Key: " + k} }
	bearer := func(u string) []string { return []string{"Authorization: Bearer " + u} }
	calls := []excheck.Call{
		{Note: "per client address, bursts of 2: one more is allowed now, and the budget grows again in 360s",
			Path: "/api/items/7", ShowHeaders: true, Status: 200,
			Want: []string{`Ratelimit: "per-ip";r=1;t=360`, `Ratelimit-Policy: "per-ip";q=10;w=3600`}},
		{Note: "the last one of the burst",
			Path: "/api/items/8", ShowHeaders: true, Status: 200, Want: []string{`Ratelimit: "per-ip";r=0;t=360`}},
		{Note: "refused: 429 with Retry-After, never reaches the upstream",
			Path: "/api/items/9", Status: 429,
			Want: []string{"Retry-After: 360", `Ratelimit: "per-ip";r=0;t=360`, `Ratelimit-Policy: "per-ip";q=10;w=3600`,
				`"code":"too_many_requests"`}},
		{Note: "a route exempt from the service's limit",
			Path: "/api/health", Status: 200, Deny: []string{"Ratelimit"}},
		{Note: "per API key, bursts of 3: alice 1", Path: "/api/search?q=lamp", Header: key("alice"), Status: 200},
		{Note: "alice 2", Path: "/api/search?q=lamp", Header: key("alice"), Status: 200},
		{Note: "alice 3", Path: "/api/search?q=lamp", Header: key("alice"), Status: 200},
		{Note: "alice's burst is spent: one more every 2 minutes",
			Path: "/api/search?q=lamp", Header: key("alice"), Status: 429,
			Want: []string{"Retry-After: 120", `Ratelimit: "per-key";r=0;t=120`}},
		{Note: "bob has a budget of his own",
			Path: "/api/search?q=lamp", Header: key("bob"), ShowHeaders: true, Status: 200,
			Want: []string{`Ratelimit: "per-key";r=2;t=120`}},
		{Note: "per user, keyed after the auth hook: one an hour",
			Path: "/api/me", Header: bearer("u-1"), Status: 200},
		{Note: "u-1 again",
			Path: "/api/me", Header: bearer("u-1"), Status: 429,
			Want: []string{"Retry-After: 3600", `Ratelimit: "per-user";r=0;t=3600`}},
		{Note: "the hook refuses before the limit counts",
			Path: "/api/me", Status: 401, Deny: []string{"Ratelimit"}},
		{Note: "another user", Path: "/api/me", Header: bearer("u-2"), Status: 200},
	}
	ex := excheck.Example{About: "in front of the mock upstream " + backend, Calls: calls}
	return ex.Serve(ctx, ln, gw, check)
}
