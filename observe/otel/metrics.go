package otel

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/apigate-go/apigate/observe"
)

// serverDurationBuckets are the semantic conventions' advised bucket
// boundaries for http.server.request.duration, in seconds.
var serverDurationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// instruments creates the metric instruments from mp.
func (o *Observer) instruments(mp metric.MeterProvider) error {
	m := mp.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))
	var bounds []float64
	for _, b := range observe.LatencyBuckets() {
		bounds = append(bounds, b.Seconds())
	}
	var err error
	o.requests, err = m.Int64Counter("apigate.requests",
		metric.WithDescription("Requests that ended, by outcome."), metric.WithUnit("{request}"))
	if err != nil {
		return fmt.Errorf("apigate/otel: apigate.requests: %w", err)
	}
	o.upstream, err = m.Float64Histogram("apigate.upstream.duration",
		metric.WithDescription("Time from sending a request upstream to its response headers or failure."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(bounds...))
	if err != nil {
		return fmt.Errorf("apigate/otel: apigate.upstream.duration: %w", err)
	}
	o.duration, err = m.Float64Histogram("http.server.request.duration",
		metric.WithDescription("Duration of HTTP server requests."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(serverDurationBuckets...))
	if err != nil {
		return fmt.Errorf("apigate/otel: http.server.request.duration: %w", err)
	}
	return nil
}

// record counts a terminal event, and its upstream latency, with the
// attributes of observe.Labels.
func (o *Observer) record(ctx context.Context, e observe.Event) {
	addr := ""
	if e.Addr != "" {
		addr = o.backend(e.Addr).redacted
	}
	attrs := metric.WithAttributes(
		KeyService.String(e.Service),
		semconv.HTTPRoute(e.Route),
		semconv.HTTPRequestMethodKey.String(semMethod(e.Method)),
		KeyBackend.String(addr),
		semconv.HTTPResponseStatusCode(e.Status),
		KeyErrorCode.String(e.Code),
	)
	o.requests.Add(ctx, 1, attrs)
	if e.Kind == observe.UpstreamSucceeded || e.Kind == observe.UpstreamFailed {
		o.upstream.Record(ctx, max(e.Latency, 0).Seconds(), attrs)
	}
}
