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
	c.readFn, c.writeFn = c.read, c.write
	return c
}

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
	err := c.rc.Read(c.readFn)
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

// Write writes like [net.TCPConn.Write]: all of p, unless it fails.
func (c *sockConn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
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
