package h1

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ServerOptions configures a [Server]. The zero value is usable: zero
// durations mean no limit. The waits for a head and WriteTimeout are
// coarse: they may expire up to a 64th of their length late (see
// [CoarseDeadline]). A TLS handshake is bounded by the shortest of
// ReadHeaderTimeout, ReadTimeout and WriteTimeout, as in net/http.
type ServerOptions struct {
	// ReadHeaderTimeout bounds reading a request head, from its first
	// byte (or from the end of the previous request, when its bytes were
	// read ahead).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included. Without
	// it, the rest of a body the handler left unread is drained under
	// the head's deadline.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response, from the end of the head.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a connection
	// (ReadTimeout when zero), and a head when neither ReadHeaderTimeout
	// nor ReadTimeout is set.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and header fields, and a
	// request's trailer section (default 1 MiB); a larger head is
	// answered 431.
	MaxHeaderBytes int
	// ErrorLog receives handler panics and accept errors; nil means the
	// standard logger.
	ErrorLog *log.Logger
}

// Server serves HTTP/1.1 and HTTP/1.0 with an [http.Handler]: one
// goroutine per connection reads a request, runs the handler and writes
// the response on it, with no background reader. Create it with
// [NewServer].
type Server struct {
	h           http.Handler
	opts        ServerOptions
	maxHeader   int
	headTimeout time.Duration // the shorter of the read timeouts
	headWait    time.Duration // bounds reading a head: headTimeout, else IdleTimeout
	tlsWait     time.Duration // bounds a TLS handshake: the shortest of headTimeout and WriteTimeout
	drainWait   time.Duration // bounds draining a body after its handler, without ReadTimeout
	logger      *log.Logger

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*srvConn]struct{}
	done      chan struct{} // closed by Shutdown and Close
	closing   atomic.Bool

	hangups hangups
	date    atomic.Pointer[dateStamp]
	readers sync.Pool // *bufio.Reader
	writers sync.Pool // *bufio.Writer
}

// NewServer returns a server for h.
func NewServer(h http.Handler, o ServerOptions) *Server {
	s := &Server{
		h:         h,
		opts:      o,
		maxHeader: o.MaxHeaderBytes,
		logger:    o.ErrorLog,
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*srvConn]struct{}),
		done:      make(chan struct{}),
	}
	if s.maxHeader <= 0 {
		s.maxHeader = http.DefaultMaxHeaderBytes
	}
	if s.logger == nil {
		s.logger = log.Default()
	}
	if s.opts.IdleTimeout <= 0 {
		s.opts.IdleTimeout = o.ReadTimeout
	}
	s.headTimeout = o.ReadHeaderTimeout
	if rt := o.ReadTimeout; rt > 0 && (s.headTimeout <= 0 || rt < s.headTimeout) {
		s.headTimeout = rt
	}
	s.tlsWait = s.headTimeout
	if wt := o.WriteTimeout; wt > 0 && (s.tlsWait <= 0 || wt < s.tlsWait) {
		s.tlsWait = wt // as net/http bounds a handshake
	}
	s.headWait = s.headTimeout
	if s.headWait <= 0 {
		s.headWait = s.opts.IdleTimeout
	}
	if o.ReadTimeout <= 0 {
		// The rest of a body left unread is read on the way to the next
		// head, and bounded like it.
		s.drainWait = s.headWait
	}
	return s
}

// Serve accepts connections on ln and serves each on its own goroutine.
// It returns [http.ErrServerClosed] after [Server.Shutdown] or
// [Server.Close], and otherwise the accept error.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		ln.Close()
	}()

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.logger.Printf("h1: accept error: %v; retrying in %v", err, backoff)
				select {
				case <-time.After(backoff):
				case <-s.done:
				}
				continue
			}
			return err
		}
		backoff = 0
		c := s.newConn(nc)
		if c == nil {
			nc.Close()
			return http.ErrServerClosed
		}
		go c.serve()
	}
}

// Shutdown stops accepting, closes idle connections, and waits for the
// active ones to finish their request (their responses say
// "Connection: close"), or for ctx to end, whose error it then returns.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop()
	defer s.hangups.close() // requests still running keep their hang-up watch
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		if s.closeIdle() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Close stops accepting and closes every connection at once.
func (s *Server) Close() error {
	s.stop()
	s.hangups.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.state.Store(stateClosed)
		c.nc.Close()
	}
	return nil
}

// stop marks the server closing and closes its listeners.
func (s *Server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Swap(true) {
		return
	}
	close(s.done)
	for ln := range s.listeners {
		ln.Close()
	}
}

// closeIdle closes the idle connections and reports whether none is left.
func (s *Server) closeIdle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.state.CompareAndSwap(stateIdle, stateClosed) {
			c.nc.Close()
		}
	}
	return len(s.conns) == 0
}

// Connection states.
const (
	stateIdle   = iota // waiting for a request
	stateActive        // reading a request or serving it
	stateClosed        // closed by the server; the conn's goroutine ends
)

// srvConn is one client connection.
type srvConn struct {
	srv    *Server
	nc     net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	local  net.Addr
	remote string
	tls    *tls.ConnectionState
	state  atomic.Int32
	rdl    bool                   // a read deadline is set
	fd     int                    // the descriptor watched for hang-ups, or -1
	cur    atomic.Pointer[reqCtx] // the context of the request being served
	// rdhup is set when the hang-up watcher saw the client hang up with
	// bytes still pending, which were not a hang-up yet (see gone).
	rdhup atomic.Bool
	// handlerDL is set when a handler set a deadline (through
	// http.ResponseController): it bounds that request only, as in
	// net/http, and is cleared before the next.
	handlerDL atomic.Bool

	head     []byte      // the request head being read
	pending  []byte      // response body held back to compute its length
	resHdr   http.Header // the response header, cleared per request
	hijacked bool
	// An upstream's raw head for the response being written and the
	// field to leave out of it (see WriteRawHeader), until the head is
	// written; raw is "" otherwise. They live here rather than in the
	// response to keep the per-request allocation in its size class.
	raw, rawSkip string
}

func (s *Server) newConn(nc net.Conn) *srvConn {
	c := &srvConn{srv: s, nc: rawConn(nc), local: nc.LocalAddr(), remote: nc.RemoteAddr().String(), fd: -1}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return nil
	}
	s.conns[c] = struct{}{}
	return c
}

// hangup cancels the request c serves, if any: its client is gone.
//
//lint:ignore U1000 called by the hang-up watcher, which exists on Linux only
func (c *srvConn) hangup() {
	if rc := c.cur.Load(); rc != nil {
		rc.cancel()
	}
}

// forget stops tracking c.
func (s *Server) forget(c *srvConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) getReader(nc net.Conn) *bufio.Reader {
	if br, ok := s.readers.Get().(*bufio.Reader); ok {
		br.Reset(nc)
		return br
	}
	return bufio.NewReaderSize(nc, 4<<10)
}

func (s *Server) getWriter(nc net.Conn) *bufio.Writer {
	if bw, ok := s.writers.Get().(*bufio.Writer); ok {
		bw.Reset(nc)
		return bw
	}
	return bufio.NewWriterSize(nc, 4<<10)
}

// serve reads and answers requests on c until the connection ends.
func (c *srvConn) serve() {
	s := c.srv
	c.br, c.bw = s.getReader(c.nc), s.getWriter(c.nc)
	s.hangups.add(c)
	defer func() {
		s.forget(c)
		if c.hijacked {
			return
		}
		s.hangups.remove(c)
		c.nc.Close()
		c.br.Reset(nil)
		c.bw.Reset(nil)
		s.readers.Put(c.br)
		s.writers.Put(c.bw)
	}()
	if tc, ok := c.nc.(*tls.Conn); ok {
		if d := s.tlsWait; d > 0 {
			tc.SetDeadline(time.Now().Add(d))
			c.rdl = true
		}
		if err := tc.HandshakeContext(context.Background()); err != nil {
			return
		}
		tc.SetWriteDeadline(time.Time{}) // the read side is set below
		cs := tc.ConnectionState()
		c.tls = &cs
	}
	for first := true; ; first = false {
		if c.br.Buffered() == 0 {
			// The wait for a connection's first request is bounded like
			// its head; later waits by IdleTimeout. Bytes read ahead
			// skip this wait, but not the deadline on reading the head
			// they begin (serveOne).
			d := s.opts.IdleTimeout
			if first {
				d = s.headWait
			} else {
				// Let the goroutines that are ready run first: a client
				// answered a moment ago has rarely sent its next request
				// yet, and a read now would fail (EAGAIN) and park. After
				// them, it often has. With nothing else ready this costs
				// a trip through the scheduler; under load it saves two
				// in three of the read attempts that fail, and their
				// parking (failed reads per request 0.95 -> 0.32; 11% of
				// the gateway's CPU per request in the load benchmark).
				runtime.Gosched()
			}
			c.setReadDeadline(d)
			if _, err := c.br.Peek(1); err != nil {
				return
			}
		}
		if !c.state.CompareAndSwap(stateIdle, stateActive) {
			return // closed by Shutdown
		}
		if !c.serveOne() {
			return
		}
		if c.handlerDL.Swap(false) {
			c.nc.SetDeadline(time.Time{})
			c.rdl = false
		}
		if s.closing.Load() || !c.state.CompareAndSwap(stateActive, stateIdle) {
			return
		}
	}
}

// headBuffered reports whether a whole request head is already read
// ahead, so reading it cannot block and needs no deadline of its own.
// It follows readLines: empty lines ("\n" or "\r\n") before the
// request line are skipped, and the head ends at the next empty line.
func (c *srvConn) headBuffered() bool {
	b, _ := c.br.Peek(c.br.Buffered())
	for {
		if len(b) > 0 && b[0] == '\n' {
			b = b[1:]
		} else if len(b) > 1 && b[0] == '\r' && b[1] == '\n' {
			b = b[2:]
		} else {
			break
		}
	}
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return false
		}
		b = b[i+1:]
		if len(b) > 0 && b[0] == '\n' || len(b) > 1 && b[0] == '\r' && b[1] == '\n' {
			return true
		}
	}
}

// setReadDeadline sets the read deadline d from now, or clears it for
// d <= 0. The deadline is coarse (see [CoarseDeadline]): a connection
// carrying request after request keeps the one it has armed for a 64th
// of d.
func (c *srvConn) setReadDeadline(d time.Duration) {
	switch {
	case d > 0:
		c.nc.SetReadDeadline(CoarseDeadline(time.Now(), d))
		c.rdl = true
	case c.rdl:
		c.nc.SetReadDeadline(time.Time{})
		c.rdl = false
	}
}

// exchange is what one request needs beyond the connection, allocated
// together.
type exchange struct {
	req  http.Request
	ctx  reqCtx
	url  url.URL
	body reqBody
	w    response
	info reqInfo
}

// serveOne reads one request and answers it; it reports whether the
// connection can carry another.
func (c *srvConn) serveOne() bool {
	s := c.srv
	var start time.Time
	if s.opts.ReadTimeout > 0 {
		start = time.Now()
	}
	// Every wait for a head is bounded, whatever was read ahead: only a
	// head already whole in the buffer needs no deadline.
	headSet := false
	if !c.headBuffered() {
		c.setReadDeadline(s.headWait)
		headSet = true
	}
	ex := &exchange{}
	var tmpl http.Request
	if err := c.readRequest(&tmpl, &ex.url, &ex.info); err != nil {
		var re *reqError
		if errors.As(err, &re) {
			c.reject(re)
		}
		return false
	}
	// The body is bounded by ReadTimeout from the start of the request,
	// or not at all.
	// (Without a body, nothing is read before the next request's wait
	// sets its own deadline.)
	switch rt := s.opts.ReadTimeout; {
	case rt > 0 && (rt != s.headWait || !headSet):
		c.nc.SetReadDeadline(start.Add(rt))
		c.rdl = true
	case rt <= 0 && ex.info.length != 0:
		c.setReadDeadline(0)
	}
	if d := s.opts.WriteTimeout; d > 0 {
		c.nc.SetWriteDeadline(CoarseDeadline(time.Now(), d))
	}
	tmpl.RemoteAddr, tmpl.TLS = c.remote, c.tls
	ex.ctx.local = c.local
	c.cur.Store(&ex.ctx)
	defer func() {
		c.cur.Store(nil)
		ex.ctx.cancel()
	}()
	// WithContext is inlined and its copy stays on the stack: the request
	// lives in the exchange, with no allocation of its own.
	ex.req = *tmpl.WithContext(&ex.ctx)
	req := &ex.req

	b := &ex.body
	b.c = c
	b.init(c.br, ex.info.length, &req.Trailer, s.maxHeader)
	if b.eof {
		req.Body = http.NoBody
		if c.gone() {
			ex.ctx.cancel()
		}
	} else {
		b.expect = ex.info.expect
		req.Body = b
	}
	if c.resHdr == nil {
		c.resHdr = make(http.Header, 8)
	} else {
		clear(c.resHdr)
	}
	c.raw, c.rawSkip = "", ""
	w := &ex.w
	w.c, w.req, w.body, w.ctx = c, req, b, &ex.ctx
	b.w = w
	w.keep = ex.info.keepAlive
	w.head = req.Method == http.MethodHead
	w.length = -1
	if b.expect {
		w.canContinue.Store(true)
	}

	if !c.call(w, req) {
		b.release(false, 0) // nothing may read the connection once it closes
		return false
	}
	if c.hijacked {
		return false
	}
	return w.finish()
}

// gone reports whether the client hung up after sending what has now
// been read: the watcher saw it hang up while bytes were pending (a
// request, or a body), and nothing is left. Hang-ups then raise no new
// event, so the server asks once a request is read whole.
func (c *srvConn) gone() bool {
	return c.rdhup.Load() && c.br.Buffered() == 0 && c.srv.hangups.recheck(c)
}

// call runs the handler, recovering a panic: it reports false when the
// handler panicked, and the connection must close unanswered.
func (c *srvConn) call(w *response, req *http.Request) (ok bool) {
	defer func() {
		if ok {
			return
		}
		v := recover()
		if v != http.ErrAbortHandler {
			buf := make([]byte, 64<<10)
			buf = buf[:runtime.Stack(buf, false)]
			c.srv.logger.Printf("h1: panic serving %s: %v\n%s", c.remote, v, buf)
		}
	}()
	c.srv.h.ServeHTTP(w, req)
	return true
}

// reject answers a request refused before its handler and ends the
// connection.
func (c *srvConn) reject(re *reqError) {
	// The body is net/http's: the status, and the reason for a 4xx or 5xx
	// other than 431.
	status := fmt.Sprintf("%d %s", re.status, http.StatusText(re.status))
	body := status
	if re.status != http.StatusRequestHeaderFieldsTooLarge {
		body += ": " + re.msg
	}
	fmt.Fprintf(c.bw, "HTTP/1.1 %s\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		status, len(body), body)
	if c.bw.Flush() == nil {
		c.closeWriteAndWait()
	}
}

// writeContinue sends "100 Continue" unless the response has begun.
// It runs on the goroutine reading the body, which may not be the
// handler's.
func (c *srvConn) writeContinue(w *response) error {
	w.contMu.Lock()
	defer w.contMu.Unlock()
	if !w.canContinue.Load() {
		return nil
	}
	w.canContinue.Store(false)
	if _, err := c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
		return err
	}
	return c.bw.Flush()
}

// dateStamp is the Date header value for one second.
type dateStamp struct {
	unix  int64
	value []byte
}

// dateValue returns the current Date header value, formatted once a
// second.
func (s *Server) dateValue() []byte {
	now := time.Now()
	if d := s.date.Load(); d != nil && d.unix == now.Unix() {
		return d.value
	}
	d := &dateStamp{unix: now.Unix(), value: now.UTC().AppendFormat(nil, http.TimeFormat)}
	s.date.Store(d)
	return d.value
}
