package h1

import (
	"errors"
	"os"
	"testing"
	"time"
)

// TestDeadlinesSkipKeepsBehaviour sets deadlines in sequences where a
// record that went stale would skip a change that matters, and checks
// that reads behave as the last deadline set says.
func TestDeadlinesSkipKeepsBehaviour(t *testing.T) {
	c, peer := sockPair(t)
	buf := make([]byte, 1)
	readTimesOut := func() bool {
		_, err := c.Read(buf)
		return errors.Is(err, os.ErrDeadlineExceeded)
	}
	future := time.Now().Add(time.Hour)
	past := time.Now().Add(-time.Hour)

	// future, then past: a read times out at once.
	c.SetReadDeadline(future)
	c.SetReadDeadline(past)
	if !readTimesOut() {
		t.Fatal("read after a past deadline did not time out")
	}
	// past again (skipped): still timed out.
	c.SetReadDeadline(past)
	if !readTimesOut() {
		t.Fatal("read after the same past deadline did not time out")
	}
	// The interrupt through SetDeadline, then the first deadline again:
	// it must be armed again, not skipped as already set.
	c.SetReadDeadline(future)
	c.SetDeadline(aLongTimeAgo)
	c.SetReadDeadline(future)
	peer.Write([]byte("x"))
	if _, err := c.Read(buf); err != nil {
		t.Fatalf("read after the deadline was moved back to the future: %v", err)
	}
	// The write side kept the interrupt.
	if _, err := c.Write([]byte("y")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write after SetDeadline(past): %v, want a timeout", err)
	}
	c.SetWriteDeadline(time.Time{})
	if _, err := c.Write([]byte("y")); err != nil {
		t.Fatalf("write after clearing its deadline: %v", err)
	}
	// A deadline armed again with the same value still fires.
	soon := time.Now().Add(30 * time.Millisecond)
	c.SetReadDeadline(soon)
	c.SetReadDeadline(soon)
	start := time.Now()
	if !readTimesOut() {
		t.Fatal("read did not time out at its deadline")
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("read timed out after %v", waited)
	}
}

// TestDeadlinesConcurrentInterrupt races an interrupt (a past deadline set
// by another goroutine, as a cancellation does) against the same future
// deadline set again and again: whatever the order, once both are done a
// final future deadline must be armed for real.
func TestDeadlinesConcurrentInterrupt(t *testing.T) {
	c, peer := sockPair(t)
	future := time.Now().Add(time.Hour)
	for range 200 {
		done := make(chan struct{})
		go func() {
			c.SetDeadline(aLongTimeAgo)
			close(done)
		}()
		c.SetReadDeadline(future)
		<-done
		c.SetReadDeadline(future)
		peer.Write([]byte("x"))
		buf := make([]byte, 1)
		if _, err := c.Read(buf); err != nil {
			t.Fatalf("read after the final future deadline: %v", err)
		}
	}
}

func BenchmarkCoarseDeadline(b *testing.B) {
	b.ReportAllocs()
	now := time.Now()
	for b.Loop() {
		now = now.Add(time.Microsecond)
		CoarseDeadline(now, 30*time.Second)
	}
}
