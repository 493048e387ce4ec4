//go:build unix

package apigate

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// deadURL returns the URL of a loopback port that refuses connections
// for the rest of the test. A socket bound to the port without listening
// holds it: nothing listens there, and no other listener, in this test
// binary or another running beside it, can take the port over, as one
// could after a listener was closed (a test then waited on whatever
// answered there instead of being refused). The socket is bound without
// SO_REUSEADDR, which a later listener would need to share the port.
func deadURL(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.CloseOnExec(fd)
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return "http://127.0.0.1:" + strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
}

// TestDeadURL checks deadURL's port: connections to it are refused, and
// no listener can take it while the test runs.
func TestDeadURL(t *testing.T) {
	addr := strings.TrimPrefix(deadURL(t), "http://")
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatalf("dialing %s succeeded, want it refused", addr)
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dialing %s: %v, want connection refused", addr, err)
	}
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		t.Fatalf("a listener took %s from deadURL", addr)
	}
}
