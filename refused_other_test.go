//go:build !unix

package apigate

import (
	"net"
	"testing"
)

// deadURL returns the URL of a loopback port nothing listens on: that of
// a listener closed at once.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}
