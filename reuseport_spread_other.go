//go:build !linux

package apigate

// reusePortSpreads: see reuseport_spread_linux.go.
const reusePortSpreads = false
