//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package apigate

import "syscall"

func setReusePort(fd uintptr) error {
	return syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
}
