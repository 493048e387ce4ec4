//go:build !linux

package h1

import "net"

// rawConn returns nc: raw system calls are used on Linux only.
func rawConn(nc net.Conn) net.Conn { return nc }

// plainConn returns nc.
func plainConn(nc net.Conn) net.Conn { return nc }
