package h1

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"
)

// sockPair returns a raw-I/O client connection and the server side of
// a loopback TCP connection.
func sockPair(t *testing.T) (*sockConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer := <-accepted
	if peer == nil {
		t.Fatal("accept failed")
	}
	sc, ok := rawConn(nc).(*sockConn)
	if !ok {
		t.Fatalf("rawConn(%T) is not a sockConn", nc)
	}
	t.Cleanup(func() { sc.Close(); peer.Close() })
	return sc, peer
}

func TestSockConnReadWrite(t *testing.T) {
	c, peer := sockPair(t)
	// A write larger than the socket buffers completes whole while the
	// peer reads: the writer waits for writability in between.
	big := make([]byte, 8<<20)
	for i := range big {
		big[i] = byte(i)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(peer, int64(len(big))))
		got <- b
	}()
	if n, err := c.Write(big); n != len(big) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if b := <-got; string(b) != string(big) {
		t.Fatalf("peer read %d bytes, not what was written", len(b))
	}
	// A read waits for data, then returns what is there.
	go func() {
		time.Sleep(20 * time.Millisecond)
		peer.Write([]byte("hello"))
	}()
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	if n, err := c.Read(nil); n != 0 || err != nil {
		t.Fatalf("Read(nil) = %d, %v", n, err)
	}
	if n, err := c.Write(nil); n != 0 || err != nil {
		t.Fatalf("Write(nil) = %d, %v", n, err)
	}
	// The peer's close is EOF, unwrapped, as from net.TCPConn.
	peer.Close()
	if n, err := c.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("Read after peer close = %d, %v; want 0, EOF", n, err)
	}
}

func TestSockConnDeadlines(t *testing.T) {
	c, _ := sockPair(t)
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := c.Read(make([]byte, 8))
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read past the deadline = %v; want a timeout", err)
	}
	// A write that cannot complete (nobody reads) ends at its deadline
	// with the count of what was written.
	// (The buffer is made first: zeroing it must not eat the deadline.)
	big := make([]byte, 64<<20)
	c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	n, err := c.Write(big)
	if !errors.Is(err, os.ErrDeadlineExceeded) || n <= 0 || n >= 64<<20 {
		t.Fatalf("Write past the deadline = %d, %v; want a partial count and a timeout", n, err)
	}
}

func TestSockConnErrors(t *testing.T) {
	c, peer := sockPair(t)
	// A reset from the peer is a *net.OpError wrapping ECONNRESET.
	peer.(*net.TCPConn).SetLinger(0)
	peer.Close()
	time.Sleep(20 * time.Millisecond)
	_, err := c.Read(make([]byte, 8))
	var oe *net.OpError
	if !errors.Is(err, syscall.ECONNRESET) || !errors.As(err, &oe) || oe.Op != "read" {
		t.Fatalf("Read after reset = %#v; want a read *net.OpError with ECONNRESET", err)
	}
	// After Close, reads and writes fail with net.ErrClosed.
	c.Close()
	if _, err := c.Read(make([]byte, 8)); !errors.Is(err, net.ErrClosed) || !errors.As(err, &oe) || oe.Op != "read" {
		t.Fatalf("Read after Close = %v; want a read *net.OpError with net.ErrClosed", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) || !errors.As(err, &oe) || oe.Op != "write" {
		t.Fatalf("Write after Close = %v; want a write *net.OpError with net.ErrClosed", err)
	}
}

func TestSockConnOnlyForTCP(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if rawConn(a) != a {
		t.Fatal("a pipe was wrapped")
	}
	c, _ := sockPair(t)
	if _, ok := plainConn(c).(*net.TCPConn); !ok {
		t.Fatalf("plainConn returned %T", plainConn(c))
	}
}

// TestHijackGivesPlainConn checks that a handler that takes the
// connection over gets net's own type, as from net/http.
func TestHijackGivesPlainConn(t *testing.T) {
	got := make(chan string, 1)
	s := NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		nc, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			got <- err.Error()
			return
		}
		defer nc.Close()
		_, ok := nc.(*net.TCPConn)
		if ok {
			got <- "tcp"
		} else {
			got <- "other"
		}
	}), ServerOptions{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Close()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	if g := <-got; g != "tcp" {
		t.Fatalf("hijacked connection: %s; want *net.TCPConn", g)
	}
}

// TestSockConnHeldWrite: a held write is not sent until the next Read,
// which sends it and returns the answer; a write since startMessage
// disarms the hold, and a held write larger than the socket buffers still
// goes out whole before the read.
func TestSockConnHeldWrite(t *testing.T) {
	c, peer := sockPair(t)
	answer := func(want string) {
		t.Helper()
		buf := make([]byte, len(want))
		peer.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(peer, buf); err != nil || string(buf) != want {
			t.Errorf("peer read %q, %v; want %q", buf, err, want)
		}
		peer.Write([]byte("re:" + want))
	}
	readAnswer := func(want string) {
		t.Helper()
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != want {
			t.Errorf("Read = %q, %v; want %q", buf[:n], err, want)
		}
	}

	// Held: nothing reaches the peer before the Read.
	startMessage(c)
	holdWrite(c)
	if n, err := c.Write([]byte("one")); n != 3 || err != nil {
		t.Fatalf("held Write = %d, %v", n, err)
	}
	peer.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := peer.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("peer read %d bytes (%v) of a held write", n, err)
	}
	go answer("one")
	readAnswer("re:one")

	// A write since startMessage: the hold is not armed, the next write
	// goes out at once.
	startMessage(c)
	c.Write([]byte("tw"))
	holdWrite(c)
	c.Write([]byte("o"))
	answer("two")
	readAnswer("re:two")

	// A held write larger than the socket buffers: sent partly without
	// blocking, then whole, then the answer is read.
	big := make([]byte, 8<<20)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	startMessage(c)
	holdWrite(c)
	c.Write(big)
	go answer(string(big))
	readAnswer("re:" + string(big[:61]))
	if c.held != nil || c.hold {
		t.Error("hold still armed after the read")
	}
}

// TestSockConnHeldWriteFails: a held write that cannot be sent fails the
// Read that sends it, as a *heldWriteError.
func TestSockConnHeldWriteFails(t *testing.T) {
	c, peer := sockPair(t)
	peer.(*net.TCPConn).SetLinger(0)
	peer.Close() // a reset: the send fails
	time.Sleep(20 * time.Millisecond)
	startMessage(c)
	holdWrite(c)
	c.Write([]byte("lost"))
	_, err := c.Read(make([]byte, 8))
	var hw *heldWriteError
	if !errors.As(err, &hw) {
		t.Fatalf("Read = %v (%T), want a *heldWriteError", err, err)
	}
}

// TestSockConnHeldWriteDeadline: a read deadline already passed fails the
// Read before the held write is sent: a write error, and the peer gets
// nothing.
func TestSockConnHeldWriteDeadline(t *testing.T) {
	c, peer := sockPair(t)
	startMessage(c)
	holdWrite(c)
	c.Write([]byte("late"))
	c.SetReadDeadline(time.Now().Add(-time.Second))
	_, err := c.Read(make([]byte, 8))
	var hw *heldWriteError
	var oe *net.OpError
	if !errors.As(err, &hw) || !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &oe) || oe.Op != "write" {
		t.Fatalf("Read = %v, want a held write's timeout", err)
	}
	peer.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := peer.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("peer read %d bytes (%v) of a write that timed out", n, err)
	}
}
