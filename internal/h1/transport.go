package h1

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a [Transport]. The zero value is useful: each zero
// field takes the default named on it. [New] copies the value.
type Options struct {
	// DialTimeout bounds establishing a connection (default 5s).
	DialTimeout time.Duration
	// IdleTimeout closes pooled connections idle this long (default 90s).
	IdleTimeout time.Duration
	// MaxIdlePerHost is how many idle connections are kept per upstream
	// host (default 256).
	MaxIdlePerHost int
	// ResponseHeaderTimeout bounds the wait for the response head after
	// the request was written, 0 for none (the request's context still
	// applies). Expiry is a timeout [net.Error].
	ResponseHeaderTimeout time.Duration
	// MaxResponseHeaderBytes bounds the bytes read for a response head,
	// 1xx responses included (default 1 MiB).
	MaxResponseHeaderBytes int64
	// DialContext, if set, dials plain connections instead of a
	// [net.Dialer] with DialTimeout and TCP keep-alives.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// DialTLSContext, if set, dials connections for https URLs; it must
	// return a connection that has completed (or will complete) its TLS
	// handshake. Without it, https URLs are refused.
	DialTLSContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Defaults for zero [Options] fields.
const (
	DefaultDialTimeout    = 5 * time.Second
	DefaultIdleTimeout    = 90 * time.Second
	DefaultMaxIdlePerHost = 256

	DefaultMaxResponseHeaderBytes = 1 << 20
)

// Transport is an HTTP/1.1 [http.RoundTripper] that exchanges each request
// on the calling goroutine over pooled connections. Create it with [New];
// it is safe for concurrent use.
type Transport struct {
	opts   Options
	dialer net.Dialer

	mu    sync.Mutex                    // serializes writers of pools
	pools atomic.Pointer[map[key]*pool] // copy on write

	readers sync.Pool // *bufio.Reader
	writers sync.Pool // *bufio.Writer
	resps   sync.Pool // *respAlloc, see Recycle
	bufs    sync.Pool // *[]byte for copying request bodies
}

// key names an upstream: its dial address and whether it speaks TLS.
type key struct {
	addr string
	tls  bool
}

// New returns a Transport configured by o.
func New(o Options) *Transport {
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxIdlePerHost <= 0 {
		o.MaxIdlePerHost = DefaultMaxIdlePerHost
	}
	if o.MaxResponseHeaderBytes <= 0 {
		o.MaxResponseHeaderBytes = DefaultMaxResponseHeaderBytes
	}
	t := &Transport{opts: o}
	t.dialer = net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}
	t.bufs.New = func() any { b := make([]byte, 32<<10); return &b }
	return t
}

// CloseIdleConnections closes every idle pooled connection. Connections
// in use are not interrupted; they return to the pool when done.
func (t *Transport) CloseIdleConnections() {
	m := t.pools.Load()
	if m == nil {
		return
	}
	for _, p := range *m {
		p.closeIdle()
	}
}

// RoundTrip sends req and returns the response with its headers read. It
// always closes req.Body. Errors caused by req's context satisfy
// errors.Is with [context.Canceled] or [context.DeadlineExceeded]; dial
// failures contain a [*net.OpError] with Op "dial". A 101 Switching
// Protocols response has a Body that is an [io.ReadWriteCloser] over the
// connection. Other 1xx responses are skipped, after being passed to the
// Got1xxResponse hook of the [net/http/httptrace.ClientTrace] in req's
// context, if any.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.RoundTripDeadline(req, time.Time{})
}

// RoundTripDeadline is RoundTrip with the whole exchange (dialing,
// writing the request, and reading the response, body included) bounded
// by deadline, unless it is zero. It bounds the exchange with the
// connection's deadlines rather than a derived context, so it costs no
// allocation; expiry is a timeout [net.Error].
func (t *Transport) RoundTripDeadline(req *http.Request, deadline time.Time) (*http.Response, error) {
	return t.RoundTripWith(req, RoundTripOptions{Deadline: deadline})
}

// RoundTripOptions are what [Transport.RoundTripWith] takes beyond the
// request. Passing them costs no allocation, where putting them in the
// request's context would cost a derived context (and, for the context
// of a request from this package's server, the free watch of its
// cancellation).
type RoundTripOptions struct {
	// Deadline bounds the whole exchange as in
	// [Transport.RoundTripDeadline], unless it is zero.
	Deadline time.Time
	// Got1xx, if set, is given each 1xx response other than 101, before
	// the Got1xxResponse hook of the [net/http/httptrace.ClientTrace] in
	// the request's context, if any; an error from either ends the
	// exchange. A 1xx response Got1xx is shown counts as delivered for
	// [Options.MaxResponseHeaderBytes]. The header it is given is the
	// 1xx response's, not to be kept or modified.
	Got1xx func(code int, header textproto.MIMEHeader) error
	// RawHead keeps the header fields of the final response raw, when
	// it has a body framed by a Content-Length, for the caller to relay
	// with a [RawHeaderWriter] (see [Transport.RawFields]); its header
	// map is then empty. A response that cannot be kept raw is read as
	// without RawHead.
	RawHead bool
}

// RoundTripWith is RoundTrip with the options of o.
func (t *Transport) RoundTripWith(req *http.Request, o RoundTripOptions) (*http.Response, error) {
	deadline := o.Deadline
	body := req.Body
	if body == http.NoBody {
		body = nil
	}
	fail := func(err error) (*http.Response, error) {
		if body != nil {
			body.Close()
		}
		return nil, err
	}
	if req.URL == nil {
		return fail(errors.New("h1: request has no URL"))
	}
	k, host, err := t.target(req)
	if err != nil {
		return fail(fmt.Errorf("h1: %w", err))
	}
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return fail(fmt.Errorf("h1: %w", err))
	}
	replayable := (body == nil || req.GetBody != nil) && idempotent(req)

	for attempt := 0; ; attempt++ {
		c, err := t.conn(ctx, k, attempt == 0, deadline)
		if err != nil {
			return fail(mapErr(ctx, err))
		}
		res, retry, err := t.exchange(ctx, c, req, host, body, o)
		if err == nil {
			return res, nil
		}
		if !retry || !replayable || attempt > 0 || ctx.Err() != nil {
			return nil, mapErr(ctx, err)
		}
		if body != nil {
			if body, err = req.GetBody(); err != nil {
				return nil, fmt.Errorf("h1: rewinding request body: %w", err)
			}
		}
	}
}

// target returns the pool key and the Host header for req.
func (t *Transport) target(req *http.Request) (key, string, error) {
	u := req.URL
	var k key
	var port string
	switch u.Scheme {
	case "http":
		port = ":80"
	case "https":
		if t.opts.DialTLSContext == nil {
			return k, "", errors.New("https needs Options.DialTLSContext")
		}
		k.tls, port = true, ":443"
	default:
		return k, "", fmt.Errorf("unsupported scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return k, "", errors.New("request URL has no host")
	}
	k.addr = u.Host
	if !hasPort(u.Host) {
		k.addr = u.Host + port
	}
	host := req.Host
	if host == "" {
		host = u.Host
	}
	if !validHost(host) {
		return k, "", fmt.Errorf("invalid Host %q", host)
	}
	return k, host, nil
}

// conn returns a pooled connection for k if reuse allows, else a new one.
// A pooled connection is probed first: one on which anything arrived
// while it was idle (a close, or bytes no request asked for) is closed.
func (t *Transport) conn(ctx context.Context, k key, reuse bool, deadline time.Time) (*conn, error) {
	p := t.pool(k)
	if reuse {
		for {
			c := p.get()
			if c == nil {
				break
			}
			if alive(c) {
				return c, nil
			}
			c.close()
		}
	}
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	return t.dial(ctx, p)
}

// pool returns the idle pool for k, creating it on first use.
func (t *Transport) pool(k key) *pool {
	if m := t.pools.Load(); m != nil {
		if p := (*m)[k]; p != nil {
			return p
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.pools.Load()
	if old != nil {
		if p := (*old)[k]; p != nil {
			return p
		}
	}
	m := make(map[key]*pool, 1+len(derefMap(old)))
	for kk, p := range derefMap(old) {
		m[kk] = p
	}
	p := &pool{t: t, key: k}
	m[k] = p
	t.pools.Store(&m)
	return p
}

func derefMap(m *map[key]*pool) map[key]*pool {
	if m == nil {
		return nil
	}
	return *m
}

// dial opens a new connection for p's upstream.
func (t *Transport) dial(ctx context.Context, p *pool) (*conn, error) {
	var nc net.Conn
	var err error
	switch {
	case p.key.tls:
		dctx, cancel := context.WithTimeout(ctx, t.opts.DialTimeout)
		nc, err = t.opts.DialTLSContext(dctx, "tcp", p.key.addr)
		cancel()
	case t.opts.DialContext != nil:
		dctx, cancel := context.WithTimeout(ctx, t.opts.DialTimeout)
		nc, err = t.opts.DialContext(dctx, "tcp", p.key.addr)
		cancel()
	default:
		nc, err = t.dialer.DialContext(ctx, "tcp", p.key.addr)
	}
	if err != nil {
		var oe *net.OpError
		if !errors.As(err, &oe) {
			err = &net.OpError{Op: "dial", Net: "tcp", Err: err}
		}
		return nil, err
	}
	return t.newConn(nc, p), nil
}

// mapErr wraps err with the package prefix; when ctx has ended, the
// result reports ctx's error so that callers can tell cancellation and
// deadlines from upstream failures.
func mapErr(ctx context.Context, err error) error {
	cerr := ctx.Err()
	if cerr == nil || errors.Is(err, cerr) {
		return fmt.Errorf("h1: %w", err)
	}
	return fmt.Errorf("h1: %w (%v)", cerr, err)
}

// idempotent reports whether req may be sent twice.
func idempotent(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	_, ok := req.Header["Idempotency-Key"]
	if !ok {
		_, ok = req.Header["X-Idempotency-Key"]
	}
	return ok
}

// hasPort reports whether hostport ends in a port.
func hasPort(hostport string) bool {
	return strings.LastIndexByte(hostport, ':') > strings.LastIndexByte(hostport, ']')
}

// CloseIdleHost closes the idle pooled connections to one plain-HTTP
// host ("host:port", or "host" for port 80), for a backend that is gone.
// Connections in use are not interrupted; they return to the pool when
// done and close when idle for the idle timeout.
func (t *Transport) CloseIdleHost(host string) {
	k := key{addr: host}
	if !hasPort(host) {
		k.addr += ":80"
	}
	if m := t.pools.Load(); m != nil {
		if p := (*m)[k]; p != nil {
			p.closeIdle()
		}
	}
}
