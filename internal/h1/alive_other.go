//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package h1

// alive reports whether an idle connection still looks usable. Without a
// non-blocking peek it assumes so.
func alive(*conn) bool { return true }

// probe is unused without a non-blocking peek.
//
//lint:ignore U1000 the field that holds it is shared with unix builds
type probe struct{}
