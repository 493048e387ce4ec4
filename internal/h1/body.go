package h1

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// errBodyClosed is returned by reads after Close.
var errBodyClosed = errors.New("h1: read on closed response body")

// Body states.
const (
	bodyOpen int32 = iota
	bodyDone
	bodyClosed
)

// respBody is a response body. Reading it to EOF returns the connection to
// its pool; closing it earlier closes the connection rather than
// draining an unknown amount of data.
type respBody struct {
	f    framed
	c    *conn
	ctx  context.Context
	st   stopper
	keep bool
	// faulty is set when the response's framing is read as net/http
	// reads it but is suspect (RFC 9112, section 6.3): its connection is
	// not reused. readResponse sets it, for bodiless responses too.
	faulty bool
	state  atomic.Int32
	err    error // sticky, touched by Read only
}

func (b *respBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.state.Load() == bodyClosed {
		return 0, errBodyClosed
	}
	n, err := b.f.Read(p)
	if err == nil {
		return n, nil
	}
	if err == io.EOF {
		b.err = io.EOF
		if b.state.CompareAndSwap(bodyOpen, bodyDone) {
			b.c.finish(b.st.stop() && b.keep)
		}
		return n, io.EOF
	}
	if b.state.CompareAndSwap(bodyOpen, bodyDone) {
		b.st.stop()
		b.c.finish(false)
		b.err = mapErr(b.ctx, err)
	} else {
		b.err = errBodyClosed
	}
	return n, b.err
}

// Close closes the connection unless the body was read to its end. It
// may be called concurrently with Read, which it interrupts.
func (b *respBody) Close() error {
	if b.state.CompareAndSwap(bodyOpen, bodyClosed) {
		b.st.stop()
		// Buffers are not recycled: a concurrent Read may still use them.
		return b.c.nc.Close()
	}
	return nil
}

// upgradeBody is the body of a 101 Switching Protocols response: the raw
// connection, with any bytes read ahead served first.
type upgradeBody struct {
	br   *bufio.Reader
	nc   net.Conn
	st   stopper
	once sync.Once
}

func (u *upgradeBody) Read(p []byte) (int, error)  { return u.br.Read(p) }
func (u *upgradeBody) Write(p []byte) (int, error) { return u.nc.Write(p) }

// Close closes the connection; it is safe to call more than once and
// concurrently with Read and Write.
func (u *upgradeBody) Close() error {
	var err error
	u.once.Do(func() {
		u.st.stop()
		err = u.nc.Close()
	})
	return err
}
