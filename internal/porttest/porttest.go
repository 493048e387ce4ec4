// Package porttest gives tests a loopback address that refuses
// connections for as long as the test runs.
//
// The usual way, a listener closed at once, frees its port: another
// listener, in this test binary or in one running beside it, can be
// given that port, and a test that expected a refusal then waits on
// whatever answers there. On Unix, Refused holds the port with a socket
// bound without listening and without SO_REUSEADDR, which a listener
// would need to share the port; elsewhere it falls back to the usual
// way.
package porttest

import "testing"

// Refused returns a loopback address, "127.0.0.1:port", whose port
// refuses connections until t ends.
func Refused(t testing.TB) string {
	t.Helper()
	return refused(t)
}
