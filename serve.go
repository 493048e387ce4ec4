package apigate

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"syscall"
	"time"
)

// ServeOptions configures [Serve] and [ListenAndServe]. The zero value is
// safe: every zero field takes the default named on it, chosen so that
// slow or hostile clients cannot hold connections open forever. The
// helpers copy the value and never write into yours.
type ServeOptions struct {
	// ReadHeaderTimeout bounds reading a request's headers (default 10s),
	// which stops slowloris-style header dribbling.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included (default
	// 0: none, so large uploads can stream; set it if you have no such
	// routes).
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response (default 0: none, so streams
	// and downloads can last; the gateway's request timeout still applies).
	WriteTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle this long (default
	// 120s).
	IdleTimeout time.Duration
	// MaxHeaderBytes caps request line plus headers (default 64 KiB);
	// larger requests get 431.
	MaxHeaderBytes int
	// ShutdownTimeout bounds the graceful shutdown after the context is
	// cancelled (default 30s); requests still running then are cut.
	ShutdownTimeout time.Duration
	// ReusePort sets SO_REUSEPORT on the listener (Linux and BSDs), so
	// several processes can share a port and the kernel spreads
	// connections among them.
	ReusePort bool
	// TLSConfig, if set, serves HTTPS with it.
	TLSConfig *tls.Config
	// ErrorLog receives the server's internal errors; nil means the
	// standard logger, as in net/http.
	ErrorLog *log.Logger
	// Configure, if set, is called with the server before it starts, to
	// change anything else.
	Configure func(*http.Server)
}

// Default serving limits.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultShutdownTimeout   = 30 * time.Second
)

func (o ServeOptions) withDefaults() ServeOptions {
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	return o
}

// NewServer returns an *http.Server for h with the options' timeouts and
// limits set.
func NewServer(h http.Handler, o ServeOptions) *http.Server {
	o = o.withDefaults()
	s := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    o.MaxHeaderBytes,
		TLSConfig:         o.TLSConfig,
		ErrorLog:          o.ErrorLog,
	}
	if o.Configure != nil {
		o.Configure(s)
	}
	return s
}

// Listen opens a TCP listener on addr, with SO_REUSEPORT when the options
// ask for it.
func Listen(ctx context.Context, addr string, o ServeOptions) (net.Listener, error) {
	lc := net.ListenConfig{}
	if o.ReusePort {
		lc.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) { serr = setReusePort(fd) })
			if err != nil {
				return err
			}
			return serr
		}
	}
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("apigate: listen %s: %w", addr, err)
	}
	return ln, nil
}

// Serve serves h on ln until ctx is cancelled, then shuts down
// gracefully: it stops accepting, lets in-flight requests finish (up to
// ShutdownTimeout), and returns nil. It returns early with the error if
// serving fails.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, o ServeOptions) error {
	o = o.withDefaults()
	srv := NewServer(h, o)
	errc := make(chan error, 1)
	go func() {
		var err error
		if srv.TLSConfig != nil {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("apigate: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc
	if err != nil {
		srv.Close()
		return fmt.Errorf("apigate: shutdown: %w", err)
	}
	return nil
}

// ListenAndServe listens on addr and calls [Serve].
func ListenAndServe(ctx context.Context, addr string, h http.Handler, o ServeOptions) error {
	ln, err := Listen(ctx, addr, o)
	if err != nil {
		return err
	}
	return Serve(ctx, ln, h, o)
}
