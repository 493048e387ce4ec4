//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package h1

import (
	"errors"
	"syscall"
)

// alive reports whether an idle connection still looks usable: no EOF,
// error or unexpected data is pending on it. It does not block.
func alive(c *conn) bool {
	if c.probe == nil {
		sc, ok := c.nc.(syscall.Conn)
		if !ok {
			return true
		}
		rc, err := sc.SyscallConn()
		if err != nil {
			return false
		}
		p := &probe{rc: rc}
		p.fn = p.peek
		c.probe = p
	}
	p := c.probe
	p.ok = false
	return p.rc.Read(p.fn) == nil && p.ok
}

// probe is a connection's liveness check, built once so that each check
// allocates nothing.
type probe struct {
	rc  syscall.RawConn
	fn  func(fd uintptr) bool // peek, as a func value
	ok  bool
	buf [1]byte
}

func (p *probe) peek(fd uintptr) bool {
	n, _, err := syscall.Recvfrom(int(fd), p.buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	p.ok = n < 0 && errors.Is(err, syscall.EAGAIN)
	return true
}
