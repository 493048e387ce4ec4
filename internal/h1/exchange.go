package h1

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apigate-go/apigate/internal/hop"
)

// aLongTimeAgo is a deadline in the past: setting it interrupts blocked
// reads and writes.
var aLongTimeAgo = time.Unix(1, 0)

// stopper ends the watch of an exchange's context: stop reports false
// when the context was cancelled first (and the connection's deadline
// set in the past).
type stopper interface{ stop() bool }

// stopFunc is the stop function of [context.AfterFunc].
type stopFunc func() bool

func (f stopFunc) stop() bool { return f() }

// noStop is the stopper of a context that is never cancelled.
var noStop = stopFunc(func() bool { return true })

// stop ends the watch of a server request's context (see reqCtx.watch).
func (c *conn) stop() bool {
	rc := c.watched
	c.watched = nil
	return rc.unwatch(c.nc)
}

// watch arranges for c's exchange to be interrupted when ctx is
// cancelled. It returns false when ctx is cancelled already.
func (c *conn) watch(ctx context.Context) (stopper, bool) {
	if rc, ok := ctx.(*reqCtx); ok {
		ok, cancelled := rc.watch(c.nc)
		if cancelled {
			return nil, false
		}
		if ok {
			c.watched = rc
			return c, true
		}
	}
	if ctx.Done() == nil {
		return noStop, true
	}
	nc := c.nc
	return stopFunc(context.AfterFunc(ctx, func() { nc.SetDeadline(aLongTimeAgo) })), true
}

// exchange writes req on c and reads the response head, skipping 1xx
// informational responses other than 101. On error c is closed and retry
// reports whether c was a reused connection that failed before any byte
// of the response arrived. body is req's body (nil for none); exchange
// closes it. o holds the deadline, the 1xx callback and whether to keep
// the head raw.
func (t *Transport) exchange(ctx context.Context, c *conn, req *http.Request, host string, body io.ReadCloser, o RoundTripOptions) (res *http.Response, retry bool, err error) {
	deadline := o.Deadline
	c.setDeadline(deadline)
	st, ok := c.watch(ctx)
	if !ok {
		if body != nil {
			body.Close()
		}
		c.finish(false)
		return nil, false, ctx.Err()
	}
	fail := func(err error) (*http.Response, bool, error) {
		st.stop()
		c.finish(false)
		return nil, false, err
	}

	length := int64(0)
	if body != nil {
		length = req.ContentLength
		if length <= 0 || chunkedTE(req.TransferEncoding) {
			length = -1
		}
	}
	startMessage(c.nc)
	if err := writeHead(c.bw, req, host, length); err != nil {
		if body != nil {
			body.Close()
		}
		return fail(err)
	}
	var werr error
	switch {
	case body == nil:
		// The request goes out with the first read of its response
		// (see holdWrite), when it is written whole in one go.
		holdWrite(c.nc)
		werr = c.bw.Flush()
	case length >= 0 && length <= maxSyncBody:
		werr = t.writeBody(c.bw, body, length)
		body.Close()
		if werr == nil {
			holdWrite(c.nc)
			werr = c.bw.Flush()
		}
	default:
		// A streaming or large body is written by its own goroutine, so
		// that the response can be read while the body still flows.
		if werr = c.bw.Flush(); werr != nil {
			body.Close()
			break
		}
		c.startWrite(t, body, length)
	}
	if werr != nil {
		var be *bodyReadError
		if errors.As(werr, &be) {
			return fail(werr)
		}
		werr = fmt.Errorf("writing request: %w", werr)
		if body == nil {
			st.stop()
			c.finish(false)
			return nil, c.reused, werr
		}
		// The upstream may have answered early and stopped reading the
		// body: look for that answer before giving up.
	}
	c.lim.n = t.opts.MaxResponseHeaderBytes - int64(c.br.Buffered())
	if d := t.opts.ResponseHeaderTimeout; d > 0 {
		// The wait starts once the request is written whole, as in
		// net/http: a body still being written starts it when it ends.
		if aw := c.aw; aw == nil || !aw.deferHeadTimeout(ctx, d, deadline) {
			setHeadTimeout(ctx, c.nc, d, deadline)
		}
	}
	if _, err := c.br.Peek(1); err != nil {
		st.stop()
		aw, reused := c.aw, c.reused
		c.finish(false)
		// A timeout tells of a slow upstream, not of a connection that
		// went stale while idle: the request may be in its hands, and
		// is not sent again (net/http's rule too).
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			reused = false
		}
		switch {
		case werr != nil:
			err = werr
		case aw != nil && aw.bodyErr.Load() != nil:
			return nil, false, aw.bodyErr.Load()
		case errors.As(err, new(*heldWriteError)):
			err = fmt.Errorf("writing request: %w", err)
		default:
			err = fmt.Errorf("reading response: %w", err)
		}
		return nil, reused, err
	}
	var ra *respAlloc
	for {
		ra, err = c.readResponse(req, int(min(t.opts.MaxResponseHeaderBytes, math.MaxInt32)), o.RawHead)
		if err != nil {
			return fail(fmt.Errorf("reading response: %w", err))
		}
		res = &ra.res
		if res.StatusCode >= 200 || res.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		delivered, err := informational(ctx, res, o.Got1xx)
		if err != nil {
			return fail(err)
		}
		if delivered {
			// As net/http does: the hook's owner limits the 1xx
			// responses it was shown; undelivered ones share the
			// final head's budget.
			c.lim.n = t.opts.MaxResponseHeaderBytes - int64(c.br.Buffered())
		}
	}
	c.lim.n = math.MaxInt64
	if t.opts.ResponseHeaderTimeout > 0 {
		if aw := c.aw; aw != nil {
			aw.mu.Lock()
			aw.headTimeout = 0 // the head is read: the writer must not start its wait
			aw.mu.Unlock()
		}
		c.nc.SetReadDeadline(deadline)
		// A cancellation that set its deadline before this reset must
		// still interrupt the body.
		if ctx.Err() != nil {
			c.nc.SetDeadline(aLongTimeAgo)
		}
	}

	if res.StatusCode == http.StatusSwitchingProtocols {
		// The connection now belongs to the caller, read-ahead included.
		res.Body = &upgradeBody{br: c.br, nc: c.nc, st: st}
		if c.aw == nil {
			c.bw.Reset(nil)
			t.writers.Put(c.bw)
		}
		return res, false, nil
	}
	keep := werr == nil && !res.Close && !ra.body.faulty && !wantsClose(req)
	if res.Body == http.NoBody {
		c.finish(st.stop() && keep)
		return res, false, nil
	}
	b := &ra.body
	b.c, b.ctx, b.st, b.keep = c, ctx, st, keep
	res.Body = b
	return res, false, nil
}

// informational passes a 1xx response to got1xx, if set, and then to
// the Got1xxResponse hook of ctx's [httptrace.ClientTrace], as net/http's
// Transport does, and reports whether either was there. A hook's error
// ends the exchange.
func informational(ctx context.Context, res *http.Response, got1xx func(int, textproto.MIMEHeader) error) (bool, error) {
	h := textproto.MIMEHeader(res.Header)
	if got1xx != nil {
		if err := got1xx(res.StatusCode, h); err != nil {
			return true, err
		}
	}
	trace := httptrace.ContextClientTrace(ctx)
	if trace == nil || trace.Got1xxResponse == nil {
		return got1xx != nil, nil
	}
	return true, trace.Got1xxResponse(res.StatusCode, h)
}

// wantsClose reports whether req asks the upstream to close the
// connection after its response.
func wantsClose(req *http.Request) bool {
	if req.Close {
		return true
	}
	v, ok := req.Header["Connection"]
	return ok && hop.HasToken(v, "close")
}

// finish ends the reading side of c's exchange, once the response has
// ended: c goes back to the pool when keep allows, nothing is left unread
// in c's buffer (bytes after a complete response are no one's answer),
// and the request body, if written by its own goroutine, was sent whole;
// it is closed otherwise. While that goroutine still runs, the decision
// is left to it, and it gets maxWriteWait to finish before c is closed
// (at once when keep is false), as net/http does.
func (c *conn) finish(keep bool) {
	if keep && c.br.Buffered() > 0 {
		keep = false
	}
	if aw := c.aw; aw != nil {
		aw.mu.Lock()
		if !aw.writerDone {
			aw.readerDone, aw.keep = true, keep
			if keep {
				aw.timer = time.AfterFunc(maxWriteWait, func() { aw.expire(c.nc) })
			}
			aw.mu.Unlock()
			if !keep {
				c.nc.Close()
			}
			return
		}
		aw.mu.Unlock()
		keep = keep && aw.err == nil
		c.aw = nil
	}
	if keep {
		c.putBack()
		return
	}
	c.close()
}

// putBack returns c to its pool. The deadline of its last exchange stays
// (an idle connection reads nothing) until the next exchange replaces or
// clears it, which saves two timer updates per exchange.
func (c *conn) putBack() { c.pool.put(c) }

// setDeadline sets the exchange's deadline on c, or clears the last one
// for a zero deadline.
func (c *conn) setDeadline(d time.Time) {
	switch {
	case !d.IsZero():
		c.nc.SetDeadline(d)
		c.deadline = true
	case c.deadline:
		c.nc.SetDeadline(time.Time{})
		c.deadline = false
	}
}

// maxSyncBody is the largest request body written on the calling
// goroutine; larger bodies and those of unknown length are written
// concurrently with reading the response.
const maxSyncBody = 64 << 10

// maxWriteWait is how long a request body may still be written after
// its response ended before the connection is closed: an upstream that
// answered early and does not read the rest would hold the connection
// forever, and one that reads it later may answer it too.
const maxWriteWait = 50 * time.Millisecond

// asyncWrite tracks a request body written by its own goroutine. Of the
// reader (the exchange and then the response body) and the writer, the
// one that finishes last decides whether the connection is reused.
type asyncWrite struct {
	mu         sync.Mutex
	writerDone bool
	err        error // the writer's, once writerDone
	readerDone bool
	keep       bool        // the reader's verdict, once readerDone
	timer      *time.Timer // closes the connection if the writer lags
	// bodyErr is set when reading the request body failed; the writer
	// then closes the connection to end the wait for a response the
	// upstream will not send.
	bodyErr atomic.Pointer[bodyReadError]
	// headTimeout is the ResponseHeaderTimeout the writer starts when it
	// ends, while the reader still waits for the response head (0 once
	// the head is read); headCtx and headDeadline are the exchange's.
	headTimeout  time.Duration
	headCtx      context.Context
	headDeadline time.Time
}

// deferHeadTimeout leaves the ResponseHeaderTimeout d to the writer,
// which starts it when the body is written, and reports whether it did:
// false when the writer has ended already.
func (aw *asyncWrite) deferHeadTimeout(ctx context.Context, d time.Duration, deadline time.Time) bool {
	aw.mu.Lock()
	defer aw.mu.Unlock()
	if aw.writerDone {
		return false
	}
	aw.headTimeout, aw.headCtx, aw.headDeadline = d, ctx, deadline
	return true
}

// setHeadTimeout bounds the wait for a response head by d from now, or
// by the exchange's deadline if that comes first.
func setHeadTimeout(ctx context.Context, nc net.Conn, d time.Duration, deadline time.Time) {
	if hd := time.Now().Add(d); deadline.IsZero() || hd.Before(deadline) {
		nc.SetReadDeadline(hd)
	}
	if ctx.Err() != nil { // do not undo a cancellation's deadline
		nc.SetDeadline(aLongTimeAgo)
	}
}

// startWrite writes body on a new goroutine, which owns c.bw until it
// finishes.
func (c *conn) startWrite(t *Transport, body io.ReadCloser, length int64) {
	aw := &asyncWrite{}
	c.aw = aw
	go func() {
		err := t.writeBody(c.bw, body, length)
		if err == nil {
			err = c.bw.Flush()
		}
		body.Close()
		var be *bodyReadError
		if errors.As(err, &be) {
			aw.bodyErr.Store(be)
			c.nc.Close()
		}
		aw.mu.Lock()
		aw.writerDone, aw.err = true, err
		if aw.headTimeout > 0 {
			setHeadTimeout(aw.headCtx, c.nc, aw.headTimeout, aw.headDeadline)
			aw.headTimeout, aw.headCtx = 0, nil
		}
		readerDone, keep := aw.readerDone, aw.keep
		if aw.timer != nil {
			aw.timer.Stop()
		}
		aw.mu.Unlock()
		if readerDone {
			// The reader has let go of c.
			c.aw = nil
			if keep && err == nil {
				c.putBack()
			} else {
				c.close()
			}
		}
	}()
}

// expire ends a write that outlasted its response by maxWriteWait: the
// connection is closed, not reused.
func (aw *asyncWrite) expire(nc net.Conn) {
	aw.mu.Lock()
	late := !aw.writerDone
	if late {
		aw.keep = false
	}
	aw.mu.Unlock()
	if late {
		nc.Close()
	}
}

// chunkedTE reports whether te asks for chunked transfer coding.
func chunkedTE(te []string) bool {
	return len(te) > 0 && te[0] == "chunked"
}
