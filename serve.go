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

	"github.com/apigate-go/apigate/internal/h1"
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
	//
	// With EngineHTTP1, ReadHeaderTimeout, WriteTimeout and IdleTimeout
	// may expire up to a 64th of their length late (under 2s of the
	// default 120s): their deadlines are rounded up, so that a
	// connection carrying request after request keeps the one it has
	// armed instead of re-arming a timer for each.
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
	// Workers, above 1, serves with that many processes, as nginx's
	// worker_processes does ([ListenAndServe] only, on Unix). The process
	// that calls ListenAndServe opens the socket, starts Workers-1 copies
	// of the program (the same executable and arguments, marked by the
	// environment; see [IsWorker]) that accept on the same address,
	// serves its own share, and restarts a worker that dies. On Linux each
	// process listens with a socket of its own in one SO_REUSEPORT group,
	// which the kernel spreads connections over; elsewhere they share
	// the first process's socket. Cancelling ctx stops them
	// all gracefully; a worker whose first process is gone stops within
	// a second. Unless GOMAXPROCS is set in the environment, each process
	// runs with GOMAXPROCS/Workers (at least 1): with one per core, no
	// process hands goroutines between cores, which on a busy machine
	// costs a gateway about a sixth of its CPU per request (see the
	// README's Serving section).
	//
	// Each worker runs the program's main again and builds its own
	// gateway, so whatever a gateway keeps in memory is per process:
	// in-memory rate limits (use a shared store such as the Redis
	// adapter), load shedding, circuit breakers, outlier ejection, active
	// health checks (each process probes), discovery, and metrics. Keep
	// one-time work and listeners on fixed ports out of the workers with
	// [IsWorker].
	Workers int
	// TLSConfig, if set, serves HTTPS with it.
	TLSConfig *tls.Config
	// ErrorLog receives the server's internal errors; nil means the
	// standard logger, as in net/http.
	ErrorLog *log.Logger
	// Configure, if set, is called with the server before it starts, to
	// change anything else (EngineNetHTTP only).
	Configure func(*http.Server)
	// Engine selects the server (default EngineNetHTTP, the standard
	// library's). EngineHTTP1 serves with apigate's HTTP/1.1 server: one
	// goroutine per connection reads each request, runs the handler and
	// writes the response, with no background reader and under a third of
	// net/http's allocations; with EngineHTTP1 upstream too, a gateway
	// spends a third to two fifths of the CPU per request of a
	// hand-written net/http one (see the README's load benchmark). What
	// it does not do:
	//   - HTTP/2: TLS connections are served HTTP/1.1 only.
	//   - Configure, and ErrorLog beyond handler panics and accept errors.
	//   - http.ServerContextKey: there is no *http.Server (the request
	//     context carries http.LocalAddrContextKey).
	//   - Noticing a client that hangs up while the handler waits, outside
	//     Linux: there the request's context is cancelled when a read or
	//     write to the client fails or the handler returns. On Linux an
	//     epoll set watching the connections cancels it at once, as
	//     net/http does.
	// It refuses what net/http refuses (malformed heads, conflicting
	// Content-Length values, a missing Host) and is stricter in places:
	// obsolete line folding, Content-Length with Transfer-Encoding, and
	// Transfer-Encoding in HTTP/1.0 requests are refused too.
	Engine Engine
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
// limits set. It ignores Engine: the server it returns is net/http's.
func NewServer(h http.Handler, o ServeOptions) *http.Server {
	return netHTTPServer(h, o.withDefaults())
}

// netHTTPServer is NewServer for options with their defaults applied.
func netHTTPServer(h http.Handler, o ServeOptions) *http.Server {
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
// serving fails. Workers above 1 is an error: use [ListenAndServe].
func Serve(ctx context.Context, ln net.Listener, h http.Handler, o ServeOptions) error {
	if o.Workers > 1 {
		ln.Close()
		return errWorkersServe
	}
	o = o.withDefaults()
	var srv interface {
		Shutdown(context.Context) error
		Close() error
	}
	errc := make(chan error, 1)
	switch o.Engine {
	case EngineHTTP1:
		s := h1.NewServer(h, h1.ServerOptions{
			ReadHeaderTimeout: o.ReadHeaderTimeout,
			ReadTimeout:       o.ReadTimeout,
			WriteTimeout:      o.WriteTimeout,
			IdleTimeout:       o.IdleTimeout,
			MaxHeaderBytes:    o.MaxHeaderBytes,
			ErrorLog:          o.ErrorLog,
		})
		if o.TLSConfig != nil {
			cfg := o.TLSConfig.Clone()
			cfg.NextProtos = []string{"http/1.1"}
			ln = tls.NewListener(ln, cfg)
		}
		srv = s
		go func() { errc <- s.Serve(ln) }()
	default:
		s := netHTTPServer(h, o)
		srv = s
		go func() {
			if s.TLSConfig != nil {
				errc <- s.ServeTLS(ln, "", "")
			} else {
				errc <- s.Serve(ln)
			}
		}()
	}
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

// ListenAndServe listens on addr and calls [Serve]; with Workers above 1
// it serves with that many processes (see [ServeOptions]).
func ListenAndServe(ctx context.Context, addr string, h http.Handler, o ServeOptions) error {
	if o.Workers > 1 {
		return listenAndServe(ctx, addr, h, o.withDefaults())
	}
	ln, err := Listen(ctx, addr, o)
	if err != nil {
		return err
	}
	return Serve(ctx, ln, h, o)
}
