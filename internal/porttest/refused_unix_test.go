//go:build unix

package porttest

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

// TestRefused checks Refused's port: connections to it are refused, and
// no listener can take it while the test runs. Both fail for a listener
// closed at once.
func TestRefused(t *testing.T) {
	addr := Refused(t)
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatalf("dialing %s succeeded, want it refused", addr)
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dialing %s: %v, want connection refused", addr, err)
	}
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		t.Fatalf("a listener took %s from Refused", addr)
	}
}
