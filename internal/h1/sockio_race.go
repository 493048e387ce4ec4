//go:build linux && race

package h1

import "syscall"

// sysRead reads from the non-blocking socket fd into p (len(p) > 0).
// Under the race detector it goes through package syscall, whose reads
// and writes tell the detector that a write to a descriptor happens
// before the read that sees its bytes, as the network poller's do.
func sysRead(fd uintptr, p []byte) (uintptr, syscall.Errno) {
	n, err := syscall.Read(int(fd), p)
	return uintptr(max(n, 0)), errno(err)
}

// sysWrite writes p (len(p) > 0) to the non-blocking socket fd.
func sysWrite(fd uintptr, p []byte) (uintptr, syscall.Errno) {
	n, err := syscall.Write(int(fd), p)
	return uintptr(max(n, 0)), errno(err)
}

func errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	return err.(syscall.Errno)
}
