package h1

import (
	"syscall"
	"unsafe"
)

// peekEmpty reports whether nothing (no data, no EOF, no error) is
// pending on socket fd. A non-blocking peek never blocks, so it is made
// without the scheduler's bookkeeping for blocking system calls.
func peekEmpty(fd uintptr, buf *[1]byte) bool {
	_, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(buf)), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	return errno == syscall.EAGAIN
}
