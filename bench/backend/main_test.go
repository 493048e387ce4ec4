package main

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestListenRetry checks that a port still held when the backend starts
// is retried, so that a killed service can be restarted on its port.
func TestListenRetry(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := held.Addr().String()
	time.AfterFunc(200*time.Millisecond, func() { held.Close() })
	ln, err := listen(context.Background(), addr, 5*time.Second)
	if err != nil {
		t.Fatalf("listen(%s) while held for 200ms: %v", addr, err)
	}
	ln.Close()

	held2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held2.Close()
	if ln, err := listen(context.Background(), held2.Addr().String(), 100*time.Millisecond); err == nil {
		ln.Close()
		t.Error("listen on a port held past the retry: no error")
	}
}

func TestRunNeedsAService(t *testing.T) {
	if err := run(context.Background(), "", "", []byte("s")); err == nil {
		t.Error("run with no address: no error")
	}
}
