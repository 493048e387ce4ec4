package h1

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// maxDiscard is the most unread request body the server reads and drops
// after the handler returns, to keep the connection; a longer rest closes
// it.
const maxDiscard = 256 << 10

// Request body states.
const (
	reqBodyOpen     uint32 = iota
	reqBodyClosed          // closed by the handler (or whoever it gave it to)
	reqBodyReleased        // the handler returned: the body is the server's
)

// reqBody is a request body as the handler reads it. It sends the
// interim "100 Continue" on the first read when the client waits for one.
//
// A handler may hand its body to another goroutine (a proxy's upload
// writer does), which may still read it when the handler returns. mu is
// held by every read, and by the server from the handler's return on
// (see release): a read in flight then is waited for, and later reads
// fail with [http.ErrBodyReadAfterClose] without touching the
// connection's reader, which the server reuses or pools.
type reqBody struct {
	mu sync.Mutex
	framed
	c      *srvConn
	w      *response
	expect bool          // 100 Continue not sent yet
	state  atomic.Uint32 // reqBodyOpen, reqBodyClosed or reqBodyReleased
}

func (b *reqBody) Read(p []byte) (int, error) {
	if b.state.Load() != reqBodyOpen {
		return 0, http.ErrBodyReadAfterClose
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state.Load() != reqBodyOpen {
		return 0, http.ErrBodyReadAfterClose
	}
	return b.read(p)
}

// Close marks the body closed; the server drains what is left after the
// handler returns. It may be called concurrently with Read.
func (b *reqBody) Close() error {
	b.state.CompareAndSwap(reqBodyOpen, reqBodyClosed)
	return nil
}

// read reads the body; b.mu is held.
func (b *reqBody) read(p []byte) (int, error) {
	if b.expect && !b.eof {
		b.expect = false
		if err := b.c.writeContinue(b.w); err != nil {
			b.err = err
			return 0, err
		}
	}
	n, err := b.framed.Read(p)
	if err == io.EOF && b.c.gone() {
		b.w.ctx.cancel() // the client sent its body and hung up
	}
	if err != nil && err != io.EOF {
		var ne net.Error
		if err == io.ErrUnexpectedEOF || errors.As(err, &ne) {
			b.w.ctx.cancel() // the client is gone
		}
	}
	return n, err
}

// release takes the body back when the handler has returned: later reads
// fail at once, and a read in flight on a goroutine the handler left
// behind is waited for. When keep is set the rest of the body is then
// drained, bounded by a read deadline d from now (none for d <= 0: the
// one already set holds), and release reports whether the connection
// can carry another request; otherwise a read in flight is interrupted.
// The body is never read again, so the connection's reader is the
// server's once release returns.
func (b *reqBody) release(keep bool, d time.Duration) bool {
	b.state.Store(reqBodyReleased)
	deadline := false
	if !b.mu.TryLock() {
		// Another goroutine is reading the body.
		switch {
		case !keep:
			b.c.nc.SetReadDeadline(aLongTimeAgo)
			b.c.rdl = true
		case d > 0:
			b.c.nc.SetReadDeadline(time.Now().Add(d))
			b.c.rdl, deadline = true, true
		}
		b.mu.Lock()
	}
	defer b.mu.Unlock()
	if !keep || !b.drainable() {
		return false
	}
	if !b.eof && d > 0 && !deadline {
		b.c.nc.SetReadDeadline(time.Now().Add(d))
		b.c.rdl = true
	}
	return b.drain()
}

// drainFirst is release for a body taken back before its response is
// committed: only when no other goroutine is reading it and some of it
// is left (ok false otherwise, and nothing done). keep reports whether
// the rest was drained and the connection can carry another request.
func (b *reqBody) drainFirst(d time.Duration) (ok, keep bool) {
	if !b.mu.TryLock() {
		return false, true
	}
	defer b.mu.Unlock()
	if b.eof {
		return false, true
	}
	b.state.Store(reqBodyReleased)
	if !b.drainable() {
		return true, false
	}
	if !b.eof && d > 0 {
		b.c.nc.SetReadDeadline(time.Now().Add(d))
		b.c.rdl = true
	}
	return true, b.drain()
}

// drainable reports whether what is left of the body may be drained to
// keep the connection; b.mu is held.
func (b *reqBody) drainable() bool {
	// A client waiting for 100 Continue may not send the body.
	return b.eof || b.err == nil && !b.expect && !(b.mode == framedLength && b.n > maxDiscard)
}

// drain reads and drops what the handler left of the body, up to
// maxDiscard, and reports whether it reached the end; b.mu is held.
func (b *reqBody) drain() bool {
	if b.eof {
		return true
	}
	n, _ := io.CopyN(io.Discard, readerFunc(b.read), maxDiscard+1)
	return b.eof && n <= maxDiscard
}

// remainsLarge reports whether what is left unread of the body is known
// to be too long to be drained, or will not be sent. A chunked rest is
// hoped to be short: if draining it fails, the connection closes after a
// response that did not announce it. It is false while another goroutine
// reads the body: release decides then.
func (b *reqBody) remainsLarge() bool {
	if !b.mu.TryLock() {
		return false
	}
	defer b.mu.Unlock()
	return !b.eof && (b.expect || b.err != nil || b.mode == framedLength && b.n > maxDiscard)
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
