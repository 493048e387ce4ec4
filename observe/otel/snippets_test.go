package otel_test

import (
	"log/slog"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/observe"
	apigateotel "github.com/apigate-go/apigate/observe/otel"
)

// tracedGateway holds the snippet of docs/observability.md, so that it
// compiles (the root module's TestDocSnippetsCompile finds it here).
func tracedGateway(tp trace.TracerProvider, mp metric.MeterProvider, api *apigate.ServiceSpec, logger *slog.Logger) (*apigate.Gateway, error) {
	tracing, err := apigateotel.New(apigateotel.Options{
		TracerProvider: tp,                       // nil: otel.GetTracerProvider()
		MeterProvider:  mp,                       // nil: no metrics
		TrustedProxies: []string{"192.0.2.0/24"}, // whose traceparent to continue
	})
	if err != nil {
		return nil, err
	}
	gw, err := apigate.New(
		apigate.Mount(api, "http://192.0.2.10:8080", "http://192.0.2.11:8080"),
		apigate.WithTrustedProxies("192.0.2.0/24"),
		apigate.WithObserver(observe.Multi(tracing, observe.Slog(logger))),
	)
	return gw, err
}

var _ = tracedGateway
