package apigate

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/apigate-go/apigate/observe"
)

// BenchmarkObserver shows what observation costs on a passthrough route:
// none (one nil check per event site), a no-op observer, and the slog
// observer writing text to io.Discard at Info (success records disabled)
// and at Debug (every event written).
func BenchmarkObserver(b *testing.B) {
	up := benchUpstream(b)
	svc := Service("/api", GET("/items/:id"))
	cases := []struct {
		name string
		opts []Option
	}{
		{"none", nil},
		{"noop", []Option{WithObserver(observe.Func(func(context.Context, observe.Event) {}))}},
		{"slog-info", []Option{WithObserver(observe.Slog(slog.New(slog.NewTextHandler(io.Discard, nil))))}},
		{"slog-debug", []Option{WithObserver(observe.Slog(slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))))}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			g := MustNew(append([]Option{Mount(svc, up.URL)}, c.opts...)...)
			defer g.CloseIdleConnections()
			runBench(b, g, "GET", "/api/items/7", nil)
		})
	}
}
