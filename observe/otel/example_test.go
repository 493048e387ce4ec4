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
// exporter. The IDs, timestamps and the backend are made deterministic for
// the example's sake: a real program keeps the SDK's defaults and real
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
