package observe_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"time"

	"github.com/apigate-go/apigate/observe"
)

// Example_slog logs a gateway's events through a text handler. At the
// default Info level the debug records (request started, backend selected,
// 2xx responses) are skipped; failures are logged.
func Example_slog() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // keep the output stable
			}
			return a
		},
	}))
	obs := observe.Slog(logger)
	// apigate.New(..., apigate.WithObserver(obs)) emits these events.
	ctx := context.Background()
	req := httptest.NewRequest("GET", "/api/items/42?token=secret", nil)
	base := observe.Event{Request: req, Service: "items", Route: "/api/items/:id", Method: "GET", Backend: -1}

	started := base
	started.Kind = observe.RequestStarted
	obs.Observe(ctx, started)

	failed := base
	failed.Kind = observe.UpstreamFailed
	failed.Backend, failed.Addr = 0, "http://192.0.2.1:8080"
	failed.Status, failed.Code = 504, "upstream_timeout"
	failed.Latency, failed.Err = 2*time.Second, errors.New("timeout awaiting response headers")
	obs.Observe(ctx, failed)
	// Output:
	// level=WARN msg="upstream failed" event=upstream_failed service=items route=/api/items/:id method=GET path=/api/items/42 backend=0 addr=http://192.0.2.1:8080 status=504 code=upstream_timeout latency=2s error="timeout awaiting response headers"
}

// ExampleFunc counts finished requests per status with a plain function.
func ExampleFunc() {
	var ok, failed atomic.Int64 // events arrive from many requests at once
	obs := observe.Func(func(_ context.Context, e observe.Event) {
		if !e.Kind.Terminal() {
			return
		}
		if e.Status < 400 {
			ok.Add(1)
		} else {
			failed.Add(1)
		}
	})
	ctx := context.Background()
	obs.Observe(ctx, observe.Event{Kind: observe.RequestStarted})
	obs.Observe(ctx, observe.Event{Kind: observe.UpstreamSucceeded, Status: 200})
	obs.Observe(ctx, observe.Event{Kind: observe.RequestStarted})
	obs.Observe(ctx, observe.Event{Kind: observe.DispatchFailed, Status: 503, Code: "no_backend"})
	fmt.Println("ok:", ok.Load(), "failed:", failed.Load())
	// Output:
	// ok: 1 failed: 1
}

// ExampleMetrics counts requests in memory and reads them back.
func ExampleMetrics() {
	m := observe.NewMetrics()
	ctx := context.Background()
	for _, latency := range []time.Duration{800 * time.Microsecond, 4 * time.Millisecond, 30 * time.Millisecond} {
		m.Observe(ctx, observe.Event{
			Kind: observe.UpstreamSucceeded, Service: "items", Route: "/api/items/:id", Method: "GET",
			Addr: "http://192.0.2.1:8080", Status: 200, Latency: latency,
		})
	}
	for _, s := range m.Snapshot() {
		fmt.Printf("%s %s %s %d: %d requests, %v total\n", s.Method, s.Route, s.Addr, s.Status, s.Requests, s.LatencySum)
		bounds := observe.LatencyBuckets()
		for i, n := range s.LatencyBuckets[:6] {
			fmt.Printf("  <= %v: %d\n", bounds[i], n)
		}
	}
	// Output:
	// GET /api/items/:id http://192.0.2.1:8080 200: 3 requests, 34.8ms total
	//   <= 1ms: 1
	//   <= 2.5ms: 1
	//   <= 5ms: 2
	//   <= 10ms: 2
	//   <= 25ms: 2
	//   <= 50ms: 3
}

// ExampleMulti sends every event both to the log and to the metrics.
func ExampleMulti() {
	m := observe.NewMetrics()
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	obs := observe.Multi(observe.Slog(logger), m)
	obs.Observe(context.Background(), observe.Event{
		Kind: observe.DispatchFailed, Service: "items", Route: "/api/items/:id", Method: "GET",
		Backend: -1, Status: 503, Code: "no_backend",
	})
	fmt.Println("requests:", m.Snapshot()[0].Requests)
	// Output:
	// level=WARN msg="no backend available" event=dispatch_failed service=items route=/api/items/:id method=GET status=503 code=no_backend
	// requests: 1
}
