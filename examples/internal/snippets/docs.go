package snippets

import (
	"context"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/observe"
	"github.com/apigate-go/apigate/policy"
)

// Observability builds the gateway of docs/observability.md.
func Observability(api *apigate.ServiceSpec) (*apigate.Gateway, error) {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	metrics := observe.NewMetrics()

	gw, err := apigate.New(
		apigate.Mount(api, "http://192.0.2.1:8080", "http://192.0.2.2:8080"),
		apigate.WithObserver(observe.Multi(observe.Slog(logger), metrics)),
	)
	return gw, err
}

// CountFailures is the custom observer of docs/observability.md.
func CountFailures() (observe.Observer, *atomic.Int64) {
	var failures atomic.Int64
	count := observe.Func(func(ctx context.Context, e observe.Event) {
		if e.Kind.Terminal() && e.Status >= 500 {
			failures.Add(1)
		}
	})
	return count, &failures
}

// Policies builds the gateway of docs/policies.md.
func Policies(api *apigate.ServiceSpec) (*apigate.Gateway, error) {
	gw, err := apigate.New(
		apigate.Mount(api, "http://192.0.2.1:8080", "http://192.0.2.2:8080"),
		apigate.WithPolicy("sticky-user", policy.HeaderSticky("X-User-Id")),
		apigate.WithPolicy("fastest", policy.LeastTime()),
	)
	// ... apigate.GET("/users/:id", apigate.Policy("sticky-user"))
	return gw, err
}

// Canary is the custom strategy of docs/policies.md.
func Canary(backends []balancer.Backend) apigate.Option {
	canary, stable := backends[2:], backends[:2] // computed once
	split := policy.StrategyFunc(func(r policy.Request) ([]balancer.Backend, string) {
		if r.HTTP.Header.Get("X-Canary") == "always" {
			return canary, ""
		}
		return stable, r.HTTP.Header.Get("X-User-Id")
	})
	opt := apigate.WithPolicy("canary", policy.New(split, balancer.ConsistentHash)) // for New
	return opt
}
