//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package h1

// alive reports whether an idle connection still looks usable. Without a
// non-blocking peek it can only check that nothing is left in its read
// buffer.
func alive(c *conn) bool { return c.br.Buffered() == 0 }

// probe is unused without a non-blocking peek.
//
//lint:ignore U1000 the field that holds it is shared with unix builds
type probe struct{}
