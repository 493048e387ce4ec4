//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package apigate

const soReusePort = 0x200 // SO_REUSEPORT on Darwin and the BSDs
