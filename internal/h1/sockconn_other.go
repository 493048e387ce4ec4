//go:build !linux

package h1

import "net"

// rawConn returns nc: raw system calls are used on Linux only.
func rawConn(nc net.Conn) net.Conn { return nc }

// plainConn returns nc.
func plainConn(nc net.Conn) net.Conn { return nc }

// startMessage does nothing: writes are held on Linux only.
func startMessage(net.Conn) {}

// holdWrite does nothing: writes are held on Linux only.
func holdWrite(net.Conn) {}

// heldWriteError is never returned where writes are not held.
type heldWriteError struct{ err error }

func (e *heldWriteError) Error() string { return e.err.Error() }
func (e *heldWriteError) Unwrap() error { return e.err }
