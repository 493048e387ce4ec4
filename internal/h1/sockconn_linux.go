package h1

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// sockConn is a TCP connection whose reads and writes are raw system
// calls. Its socket is non-blocking, so a read or write returns at once
// (with EAGAIN when it would block) and needs none of the scheduler's
// bookkeeping for a blocking call: no entersyscall and exitsyscall, and
// no system monitor handing the goroutine's P to another thread when a
// loopback write, which also runs the peer's receive path, outlasts
// 20 µs. Waits for readiness and deadlines still go through the
// runtime's network poller, by way of [syscall.RawConn]. Everything
// else is the embedded connection's.
//
// A sockConn has one reader and one writer at a time, as the server and
// client use it: the scratch fields below belong to them.
type sockConn struct {
	*net.TCPConn
	rc syscall.RawConn
	dl deadlines

	rp     []byte
	rn     int
	rerr   error
	readFn func(fd uintptr) bool

	wp      []byte
	wn      int
	werr    error
	writeFn func(fd uintptr) bool

	// A held write (see holdWrite): fresh is set by startMessage and
	// cleared by any write; hold arms the next Write to be held in held,
	// which the next Read sends.
	fresh   bool
	hold    bool
	held    []byte
	heldErr error
	sendFn  func(fd uintptr) bool
}

// rawConn returns nc read and written with raw system calls when it is
// a plain TCP connection, and nc itself otherwise.
func rawConn(nc net.Conn) net.Conn {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nc
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nc
	}
	c := &sockConn{TCPConn: tc, rc: rc}
	c.readFn, c.writeFn, c.sendFn = c.read, c.write, c.sendThenRead
	return c
}

// startMessage marks the start of a message written to nc, for
// holdWrite. It is a no-op unless nc is a sockConn.
func startMessage(nc net.Conn) {
	if c, ok := nc.(*sockConn); ok {
		c.fresh, c.hold = true, false
	}
}

// holdWrite arms nc, a sockConn, to hold its next Write instead of
// sending it, when nothing was written since startMessage: that write
// then carries a whole message. The Read that must follow sends it and
// waits for the answer without first trying a read, which would find
// nothing (EAGAIN): one system call fewer per exchange. Waiting without
// a read attempt is safe because the answer cannot come before its
// question, and the wait watches for readiness from before the send
// (see sendThenRead). The held bytes are the caller's buffer: it must
// call Read next, and write nothing before.
func holdWrite(nc net.Conn) {
	if c, ok := nc.(*sockConn); ok && c.fresh {
		c.hold = true
	}
}

// heldWriteError is the failure to send a held write, as reported by the
// Read that sent it.
type heldWriteError struct{ err error }

func (e *heldWriteError) Error() string { return e.err.Error() }
func (e *heldWriteError) Unwrap() error { return e.err }

// plainConn returns the connection beneath a sockConn, for a caller that
// takes the connection over (Hijack), and nc itself otherwise.
func plainConn(nc net.Conn) net.Conn {
	if c, ok := nc.(*sockConn); ok {
		return c.TCPConn
	}
	return nc
}

// SetDeadline sets the read and write deadlines like
// [net.TCPConn.SetDeadline], skipping one already armed.
func (c *sockConn) SetDeadline(t time.Time) error {
	return c.dl.set(c.TCPConn, t, t, true, true)
}

// SetReadDeadline sets the read deadline like
// [net.TCPConn.SetReadDeadline], skipping one already armed.
func (c *sockConn) SetReadDeadline(t time.Time) error {
	return c.dl.set(c.TCPConn, t, time.Time{}, true, false)
}

// SetWriteDeadline sets the write deadline like
// [net.TCPConn.SetWriteDeadline], skipping one already armed.
func (c *sockConn) SetWriteDeadline(t time.Time) error {
	return c.dl.set(c.TCPConn, time.Time{}, t, false, true)
}

// Read reads like [net.TCPConn.Read].
func (c *sockConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rp, c.rn, c.rerr = p, 0, nil
	fn := c.readFn
	if c.held != nil {
		fn = c.sendFn
	}
	err := c.rc.Read(fn)
	if c.held != nil || c.heldErr != nil {
		// The held write was not sent whole: what is left goes the usual
		// way (waiting for the socket to drain, under the write
		// deadline), and then the read.
		switch {
		case err != nil:
			renameOp(err, "write") // a deadline or a close came first
		case c.heldErr == nil:
			b := c.held
			c.held = nil
			_, err = c.Write(b)
		}
		c.held = nil
		if err == nil {
			err = c.heldErr
		}
		c.heldErr = nil
		if err != nil {
			c.rp, c.rerr = nil, nil
			return 0, &heldWriteError{err}
		}
		err = c.rc.Read(c.readFn)
	}
	n := c.rn
	if err == nil {
		err = c.rerr
	} else {
		renameOp(err, "read")
	}
	c.rp, c.rerr = nil, nil
	return n, err
}

func (c *sockConn) read(fd uintptr) bool {
	for {
		n, e := sysRead(fd, c.rp)
		switch e {
		case 0:
			if n == 0 {
				c.rerr = io.EOF
			}
			c.rn = int(n)
			return true
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			c.rerr = c.opError("read", e)
			return true
		}
	}
}

// sendThenRead is read, first sending a held write: once that is sent
// whole, it waits for the answer without trying to read it. The wait
// started before the send (RawConn.Read resets the readiness it
// watches before calling this), so an answer arriving at any time after
// the send wakes it. A write that would block or fails ends the call,
// for Read to finish.
func (c *sockConn) sendThenRead(fd uintptr) bool {
	if c.held == nil {
		return c.read(fd)
	}
	c.wp, c.wn, c.werr = c.held, 0, nil
	sent := c.write(fd)
	c.held, c.heldErr = c.held[c.wn:], c.werr
	c.wp, c.werr = nil, nil
	if !sent || c.heldErr != nil {
		return true // it would block, or failed: Read finishes
	}
	c.held = nil
	return false
}

// Write writes like [net.TCPConn.Write]: all of p, unless it fails. A
// held write (see holdWrite) is kept, for the next Read to send.
func (c *sockConn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.fresh = false
	if c.hold {
		c.hold = false
		c.held = p
		return len(p), nil
	}
	c.wp, c.wn, c.werr = p, 0, nil
	err := c.rc.Write(c.writeFn)
	n := c.wn
	if err == nil {
		err = c.werr
	} else {
		renameOp(err, "write")
	}
	c.wp, c.werr = nil, nil
	return n, err
}

func (c *sockConn) write(fd uintptr) bool {
	for c.wn < len(c.wp) {
		b := c.wp[c.wn:]
		n, e := sysWrite(fd, b)
		switch e {
		case 0:
			c.wn += int(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			c.werr = c.opError("write", e)
			return true
		}
	}
	return true
}

// renameOp names a RawConn's error (a deadline, a closed connection) by
// the operation net.TCPConn would name: "read" rather than "raw-read".
func renameOp(err error, op string) {
	if oe, ok := err.(*net.OpError); ok {
		oe.Op = op
	}
}

// opError wraps a system call's error as net.TCPConn does.
func (c *sockConn) opError(op string, e syscall.Errno) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: os.NewSyscallError(op, e)}
}
