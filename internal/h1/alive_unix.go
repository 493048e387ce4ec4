//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package h1

import (
	"net"
	"syscall"
)

// alive reports whether an idle connection still looks usable: nothing is
// left in its read buffer and no EOF, error or data is pending on its
// socket. It does not block. On a TLS connection, the TLS layer is asked
// for what it holds too, and its socket is peeked beneath it (a record
// arriving while idle counts as data).
func alive(c *conn) bool {
	if c.br.Buffered() > 0 {
		return false
	}
	if c.probe == nil {
		c.probe = newProbe(c.nc)
	}
	p := c.probe
	if p.layered && !layerEmpty(c) {
		return false
	}
	if p.rc == nil {
		return !p.dead
	}
	p.ok = false
	// Control, unlike Read, runs fn whatever deadline is set on the
	// connection (an exchange's deadline stays on an idle connection).
	return p.rc.Control(p.fn) == nil && p.ok
}

// probe is a connection's liveness check, built once so that each check
// allocates nothing.
type probe struct {
	rc      syscall.RawConn  // nil when the connection cannot be peeked
	layered bool             // a connection over another, such as TLS
	dead    bool             // the connection failed to give its RawConn
	fn      func(fd uintptr) // peek, as a func value
	ok      bool
	buf     [1]byte
}

// newProbe returns the probe for nc, or for the connection beneath it
// when nc is a TLS connection.
func newProbe(nc net.Conn) *probe {
	p := &probe{}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		// Only a connection that names the one beneath it (as TLS does)
		// is asked for its read-ahead: the ask relies on its deadlines.
		w, ok := nc.(interface{ NetConn() net.Conn })
		if !ok {
			return p
		}
		p.layered = true
		if sc, ok = w.NetConn().(syscall.Conn); !ok {
			return p
		}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		p.dead = true
		return p
	}
	p.rc, p.fn = rc, p.peek
	return p
}

func (p *probe) peek(fd uintptr) {
	p.ok = peekEmpty(fd, &p.buf)
}
