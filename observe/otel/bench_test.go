package otel_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/apigate-go/apigate"
	apigateotel "github.com/apigate-go/apigate/observe/otel"
)

// BenchmarkTracing shows what tracing adds to a passthrough request, with
// an in-memory upstream so that only the gateway's work is measured:
// none, and the observer with an SDK tracer provider that samples every
// request (spans are built and ended, then dropped: no exporter).
func BenchmarkTracing(b *testing.B) {
	rt := fakeRoundTripper(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/plain"}},
			Body: io.NopCloser(strings.NewReader("ok")), ContentLength: 2}, nil
	})
	svc := apigate.Service("/api", apigate.GET("/items/:id"))
	tracing, err := apigateotel.New(apigateotel.Options{TracerProvider: sdktrace.NewTracerProvider()})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		opts []apigate.Option
	}{
		{"none", nil},
		{"otel", []apigate.Option{apigate.WithObserver(tracing)}},
	} {
		b.Run(c.name, func(b *testing.B) {
			gw, err := apigate.New(append([]apigate.Option{apigate.Mount(svc, "http://192.0.2.10:8080"), apigate.WithRoundTripper(rt)}, c.opts...)...)
			if err != nil {
				b.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/api/items/7", nil)
			req.Header.Set("Traceparent", incoming)
			b.ReportAllocs()
			for b.Loop() {
				gw.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}

type fakeRoundTripper func(*http.Request) (*http.Response, error)

func (f fakeRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
