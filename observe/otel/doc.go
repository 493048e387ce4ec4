// Package otel traces an apigate gateway's requests with OpenTelemetry
// and, optionally, records its metrics with OpenTelemetry instruments.
//
// It is a separate module so that the gateway itself does not depend on
// OpenTelemetry:
//
//	go get github.com/apigate-go/apigate/observe/otel
//
// [New] returns an [Observer], an [observe.Tracer] that the gateway takes
// as its observer:
//
//	tracing, err := apigateotel.New(apigateotel.Options{TracerProvider: tp})
//	gw, err := apigate.New(..., apigate.WithObserver(observe.Multi(tracing, observe.Slog(logger))))
//
// Each request routed by the gateway becomes a server span named after
// its method and route pattern ("GET /api/items/:id"), with the HTTP
// semantic-convention attributes. Each upstream attempt becomes a client
// span, a child of the server span; an attempt that failed and was retried
// on another backend is a span of its own. The client span's context goes
// upstream in the W3C traceparent and tracestate headers, replacing any
// the client sent, so the services behind the gateway continue the trace.
//
// Incoming trace context is used only from peers the [Options.Trust]
// setting trusts; by default that is the proxies listed in
// [Options.TrustedProxies], so with none listed every request starts a
// new trace (linked to the client's context when it sent a valid one).
//
// Errors are recorded by their stable apigate code (error.type) and HTTP
// status. Error messages, which may quote request input, are left out
// unless [Options.RecordErrorMessages] is set; bodies, query strings and
// header values never go into a span.
package otel
