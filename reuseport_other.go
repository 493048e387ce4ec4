//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package apigate

import "errors"

func setReusePort(uintptr) error {
	return errors.New("apigate: SO_REUSEPORT is not supported on this platform")
}
