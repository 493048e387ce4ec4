package mock

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// NewServer returns a fasthttp server for h, tuned for the benchmark:
// keep-alive, no Server header, bounded read, write and idle times.
func NewServer(h fasthttp.RequestHandler) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:               h,
		NoDefaultServerHeader: true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           60 * time.Second,
		MaxRequestBodySize:    1 << 20,
	}
}

// Serve serves h on ln until ctx is done, then shuts down gracefully
// (waiting at most five seconds for open requests).
func Serve(ctx context.Context, ln net.Listener, h fasthttp.RequestHandler) error {
	srv := NewServer(h)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("mock: serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.ShutdownWithContext(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, net.ErrClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("mock: shutdown %s: %w", ln.Addr(), err)
	}
	return nil
}
