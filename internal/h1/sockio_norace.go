//go:build linux && !race

package h1

import (
	"syscall"
	"unsafe"
)

// sysRead reads from the non-blocking socket fd into p (len(p) > 0).
func sysRead(fd uintptr, p []byte) (uintptr, syscall.Errno) {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return n, e
}

// sysWrite writes p (len(p) > 0) to the non-blocking socket fd.
func sysWrite(fd uintptr, p []byte) (uintptr, syscall.Errno) {
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return n, e
}
