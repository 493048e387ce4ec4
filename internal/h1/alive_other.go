//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package h1

import "net"

// alive reports whether an idle connection still looks usable. Without a
// non-blocking peek of the socket it checks that nothing is left in its
// read buffer or, for a TLS connection, in the TLS layer.
func alive(c *conn) bool {
	if c.br.Buffered() > 0 {
		return false
	}
	if _, ok := c.nc.(interface{ NetConn() net.Conn }); ok {
		return layerEmpty(c)
	}
	return true
}

// probe is unused without a non-blocking peek.
//
//lint:ignore U1000 the field that holds it is shared with unix builds
type probe struct{}
