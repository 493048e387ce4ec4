//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package h1

import (
	"errors"
	"syscall"
)

// peekEmpty reports whether nothing (no data, no EOF, no error) is
// pending on socket fd.
func peekEmpty(fd uintptr, buf *[1]byte) bool {
	n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return n < 0 && errors.Is(err, syscall.EAGAIN)
}
