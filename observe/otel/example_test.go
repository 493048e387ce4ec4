package otel_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/observe"
	apigateotel "github.com/apigate-go/apigate/observe/otel"
)

// A gateway traced with OpenTelemetry, its spans printed by the stdout
// exporter as they end: first the client span of the upstream attempt
// (SpanKind 3), then the server span (SpanKind 2), which continues the
// trusted proxy's trace (its parent is the remote span 00f067aa0ba902b7).
// The backend received the client span's context in its traceparent.
// The IDs, timestamps and the backend are made deterministic for the
// example's sake: a real program keeps the SDK's defaults and real
// backends.
func Example() {
	exporter, err := stdouttrace.New(stdouttrace.WithWriter(os.Stdout), stdouttrace.WithoutTimestamps())
	if err != nil {
		log.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSyncer(exporter),
		sdktrace.WithResource(resource.Empty()),
		sdktrace.WithIDGenerator(&sequentialIDs{}),
	)
	defer tp.Shutdown(context.Background())

	tracing, err := apigateotel.New(apigateotel.Options{
		TracerProvider: tp,
		TrustedProxies: []string{"192.0.2.0/24"}, // whose traceparent to continue
	})
	if err != nil {
		log.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	api := apigate.Service("/api", apigate.GET("/items/:id"))
	gw, err := apigate.New(
		apigate.Mount(api, "http://192.0.2.10:8080"),
		apigate.WithTrustedProxies("192.0.2.0/24"),
		apigate.WithObserver(observe.Multi(tracing, observe.Slog(logger))),
		apigate.WithRoundTripper(fakeBackend{}),
	)
	if err != nil {
		log.Fatal(err)
	}

	// A request from a trusted proxy (192.0.2.1) that started a trace.
	req := httptest.NewRequest("GET", "http://gw.example/api/items/42", nil)
	req.RemoteAddr = "192.0.2.1:40000"
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	req.Header.Set("X-Request-Id", "req-42")
	req.Header.Set("User-Agent", "example/1.0")
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, req)
	fmt.Println("status:", rec.Code, "X-Request-Id:", rec.Header().Get("X-Request-Id"))
	fmt.Println("backend received:", rec.Body.String())
	// Output:
	// {"Name":"GET","SpanContext":{"TraceID":"4bf92f3577b34da6a3ce929d0e0e4736","SpanID":"0000000000000002","TraceFlags":"01","TraceState":"","Remote":false},"Parent":{"TraceID":"4bf92f3577b34da6a3ce929d0e0e4736","SpanID":"0000000000000001","TraceFlags":"01","TraceState":"","Remote":false},"SpanKind":3,"StartTime":"0001-01-01T00:00:00Z","EndTime":"0001-01-01T00:00:00Z","Attributes":[{"Key":"http.request.method","Value":{"Type":"STRING","Value":"GET"}},{"Key":"apigate.backend","Value":{"Type":"INT64","Value":0}},{"Key":"server.address","Value":{"Type":"STRING","Value":"192.0.2.10"}},{"Key":"server.port","Value":{"Type":"INT64","Value":8080}},{"Key":"http.response.status_code","Value":{"Type":"INT64","Value":200}}],"Events":null,"Links":null,"Status":{"Code":"Unset","Description":""},"DroppedAttributes":0,"DroppedEvents":0,"DroppedLinks":0,"ChildSpanCount":0,"Resource":null,"InstrumentationScope":{"Name":"github.com/apigate-go/apigate/observe/otel","Version":"","SchemaURL":"https://opentelemetry.io/schemas/1.40.0","Attributes":null},"InstrumentationLibrary":{"Name":"github.com/apigate-go/apigate/observe/otel","Version":"","SchemaURL":"https://opentelemetry.io/schemas/1.40.0","Attributes":null}}
	// {"Name":"GET /api/items/:id","SpanContext":{"TraceID":"4bf92f3577b34da6a3ce929d0e0e4736","SpanID":"0000000000000001","TraceFlags":"01","TraceState":"","Remote":false},"Parent":{"TraceID":"4bf92f3577b34da6a3ce929d0e0e4736","SpanID":"00f067aa0ba902b7","TraceFlags":"01","TraceState":"","Remote":true},"SpanKind":2,"StartTime":"0001-01-01T00:00:00Z","EndTime":"0001-01-01T00:00:00Z","Attributes":[{"Key":"http.request.method","Value":{"Type":"STRING","Value":"GET"}},{"Key":"url.path","Value":{"Type":"STRING","Value":"/api/items/42"}},{"Key":"url.scheme","Value":{"Type":"STRING","Value":"http"}},{"Key":"http.route","Value":{"Type":"STRING","Value":"/api/items/:id"}},{"Key":"apigate.service","Value":{"Type":"STRING","Value":"api"}},{"Key":"server.address","Value":{"Type":"STRING","Value":"gw.example"}},{"Key":"network.peer.address","Value":{"Type":"STRING","Value":"192.0.2.1"}},{"Key":"network.peer.port","Value":{"Type":"INT64","Value":40000}},{"Key":"user_agent.original","Value":{"Type":"STRING","Value":"example/1.0"}},{"Key":"network.protocol.version","Value":{"Type":"STRING","Value":"1.1"}},{"Key":"apigate.request_id","Value":{"Type":"STRING","Value":"req-42"}},{"Key":"http.response.status_code","Value":{"Type":"INT64","Value":200}}],"Events":null,"Links":null,"Status":{"Code":"Unset","Description":""},"DroppedAttributes":0,"DroppedEvents":0,"DroppedLinks":0,"ChildSpanCount":1,"Resource":null,"InstrumentationScope":{"Name":"github.com/apigate-go/apigate/observe/otel","Version":"","SchemaURL":"https://opentelemetry.io/schemas/1.40.0","Attributes":null},"InstrumentationLibrary":{"Name":"github.com/apigate-go/apigate/observe/otel","Version":"","SchemaURL":"https://opentelemetry.io/schemas/1.40.0","Attributes":null}}
	// status: 200 X-Request-Id: req-42
	// backend received: traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000002-01 x-request-id=req-42
}

// fakeBackend stands in for the service behind the gateway: it answers
// with the trace headers it received.
type fakeBackend struct{}

func (fakeBackend) RoundTrip(r *http.Request) (*http.Response, error) {
	body := "traceparent=" + r.Header.Get("Traceparent") + " x-request-id=" + r.Header.Get("X-Request-Id")
	return &http.Response{
		StatusCode:    200,
		Header:        http.Header{"Content-Type": {"text/plain"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}, nil
}

// sequentialIDs makes predictable span and trace IDs, for the example's
// output only.
type sequentialIDs struct{ n uint64 }

func (g *sequentialIDs) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	var tid trace.TraceID
	binary.BigEndian.PutUint64(tid[8:], 0xaaaa)
	return tid, g.NewSpanID(ctx, tid)
}

func (g *sequentialIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	g.n++
	var sid trace.SpanID
	binary.BigEndian.PutUint64(sid[:], g.n)
	return sid
}
