package h1

import (
	"bufio"
	"errors"
	"io"
	"math"
	"net"
	"sync"
	"time"
)

// conn is one upstream connection with its buffers. It belongs to one
// exchange at a time, or to its pool while idle.
type conn struct {
	nc     net.Conn
	lim    limitReader // br's source: nc, limited while reading a head
	br     *bufio.Reader
	bw     *bufio.Writer
	pool   *pool
	idleAt time.Time
	reused bool
	aw     *asyncWrite // the body writer of the current exchange, if any
	// watched is the server request context the current exchange is
	// registered on, if any (see [conn.watch]).
	watched *reqCtx
	head    []byte // the response head being read
	//lint:ignore U1000 used by the liveness check where it can peek (unix)
	probe *probe // the liveness check; nil until needed
	// deadline is set while the exchange's deadline is on nc.
	deadline bool
}

// pool holds the idle connections to one upstream, newest last.
type pool struct {
	t   *Transport
	key key

	mu    sync.Mutex
	idle  []*conn
	timer *time.Timer // evicts connections idle too long
	armed bool
}

func (t *Transport) newConn(nc net.Conn, p *pool) *conn {
	nc = rawConn(nc)
	c := &conn{nc: nc, pool: p}
	c.lim = limitReader{r: nc, n: math.MaxInt64}
	if br, ok := t.readers.Get().(*bufio.Reader); ok {
		br.Reset(&c.lim)
		c.br = br
	} else {
		c.br = bufio.NewReaderSize(&c.lim, 4<<10)
	}
	if bw, ok := t.writers.Get().(*bufio.Writer); ok {
		bw.Reset(nc)
		c.bw = bw
	} else {
		c.bw = bufio.NewWriterSize(nc, 4<<10)
	}
	return c
}

// close closes the connection and recycles its buffers. The caller must
// be the connection's only user (see [conn.finish] while a body writer
// may run).
func (c *conn) close() {
	c.nc.Close()
	c.release()
}

// release recycles the buffers of a connection no one uses any more.
func (c *conn) release() {
	t := c.pool.t
	if c.br != nil {
		c.br.Reset(nil)
		t.readers.Put(c.br)
		c.br = nil
	}
	if c.bw != nil {
		c.bw.Reset(nil)
		t.writers.Put(c.bw)
		c.bw = nil
	}
}

// get pops the newest idle connection that has not timed out, or returns
// nil.
func (p *pool) get() *conn {
	p.mu.Lock()
	n := len(p.idle)
	if n == 0 {
		p.mu.Unlock()
		return nil
	}
	c := p.idle[n-1]
	p.idle[n-1] = nil
	p.idle = p.idle[:n-1]
	if time.Since(c.idleAt) < p.t.opts.IdleTimeout {
		p.mu.Unlock()
		c.reused = true
		return c
	}
	// The newest is stale, so all are.
	stale := append([]*conn{c}, p.idle...)
	clear(p.idle)
	p.idle = p.idle[:0]
	p.mu.Unlock()
	for _, c := range stale {
		c.close()
	}
	return nil
}

// put returns c to the pool, evicting the oldest idle connection when the
// pool is full.
func (p *pool) put(c *conn) {
	c.idleAt = time.Now()
	var evict *conn
	p.mu.Lock()
	if len(p.idle) >= p.t.opts.MaxIdlePerHost {
		evict = p.idle[0]
		n := copy(p.idle, p.idle[1:])
		p.idle[n] = nil
		p.idle = p.idle[:n]
	}
	p.idle = append(p.idle, c)
	if !p.armed {
		p.armed = true
		if p.timer == nil {
			p.timer = time.AfterFunc(p.t.opts.IdleTimeout, p.reap)
		} else {
			p.timer.Reset(p.t.opts.IdleTimeout)
		}
	}
	p.mu.Unlock()
	if evict != nil {
		evict.close()
	}
}

// reap closes connections idle longer than the idle timeout and re-arms
// the timer for the oldest remaining one.
func (p *pool) reap() {
	now := time.Now()
	timeout := p.t.opts.IdleTimeout
	p.mu.Lock()
	i := 0
	for i < len(p.idle) && now.Sub(p.idle[i].idleAt) >= timeout {
		i++
	}
	stale := append([]*conn(nil), p.idle[:i]...)
	n := copy(p.idle, p.idle[i:])
	clear(p.idle[n:])
	p.idle = p.idle[:n]
	if n > 0 {
		p.timer.Reset(timeout - now.Sub(p.idle[0].idleAt))
	} else {
		p.armed = false
	}
	p.mu.Unlock()
	for _, c := range stale {
		c.close()
	}
}

// closeIdle closes every idle connection.
func (p *pool) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

// errHeaderTooLarge reports a response head over the configured limit.
var errHeaderTooLarge = errors.New("response headers exceed Options.MaxResponseHeaderBytes")

// limitReader reads from r until n bytes have been read, then fails with
// errHeaderTooLarge.
type limitReader struct {
	r io.Reader
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errHeaderTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// layerEmpty reports whether a connection layered over another (TLS)
// holds no data it has read ahead of c's reader: with a read deadline in
// the past, a read returns only what the layer holds, and a timeout
// otherwise. It leaves no read deadline on the connection.
func layerEmpty(c *conn) bool {
	c.nc.SetReadDeadline(aLongTimeAgo)
	_, err := c.br.Peek(1)
	c.nc.SetReadDeadline(time.Time{})
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
