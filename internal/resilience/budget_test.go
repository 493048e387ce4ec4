package resilience

import (
	"testing"
	"time"
)

func TestBudget(t *testing.T) {
	b := NewBudget(20, 3)
	// Idle: the floor of 3 retries in flight holds.
	for k := range 3 {
		if !b.Retry() {
			t.Fatalf("retry %d refused under the floor of 3", k+1)
		}
	}
	if b.Retry() {
		t.Fatal("a 4th retry with no active requests was allowed")
	}
	// 30 active requests: 20% is 6 retries in flight.
	for range 30 {
		b.Begin()
	}
	for k := 3; k < 6; k++ {
		if !b.Retry() {
			t.Fatalf("retry %d refused with 30 active requests (20%% = 6)", k+1)
		}
	}
	if b.Retry() {
		t.Fatal("a 7th retry in flight with 30 active requests was allowed")
	}
	b.RetryDone()
	if !b.Retry() {
		t.Fatal("a finished retry did not give its slot back")
	}
	for range 30 {
		b.End()
	}
	for range 6 {
		b.RetryDone()
	}
	if a, r := b.InFlight(); a != 0 || r != 0 {
		t.Errorf("InFlight() = %d, %d; want 0, 0", a, r)
	}
}

func TestBackoff(t *testing.T) {
	base, ceil := 25*time.Millisecond, 250*time.Millisecond
	for n, step := range []time.Duration{25, 50, 100, 200, 250, 250} {
		step *= time.Millisecond
		seen := map[time.Duration]bool{}
		for range 200 {
			d := Backoff(n+1, base, ceil)
			if d < step/2 || d > step {
				t.Fatalf("Backoff(%d) = %v, want within [%v, %v]", n+1, d, step/2, step)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("Backoff(%d): %d distinct values in 200, want jitter", n+1, len(seen))
		}
	}
	if d := Backoff(1000, base, ceil); d < ceil/2 || d > ceil {
		t.Errorf("Backoff(1000) = %v, want capped at %v", d, ceil)
	}
	if d := Backoff(3, 0, ceil); d != 0 {
		t.Errorf("Backoff with base 0 = %v, want 0", d)
	}
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(2)
	for k := range 2 {
		if !l.Acquire() {
			t.Fatalf("acquire %d refused under the limit of 2", k+1)
		}
	}
	if l.Acquire() {
		t.Fatal("admitted a third with a limit of 2")
	}
	if l.InFlight() != 2 {
		t.Errorf("InFlight() = %d after a refusal, want 2", l.InFlight())
	}
	l.Release()
	if !l.Acquire() {
		t.Fatal("a released slot did not come back")
	}
	var none *Limiter
	if !none.Acquire() || none.InFlight() != 0 {
		t.Error("a nil limiter must admit everything")
	}
	none.Release()
}

func BenchmarkLimiter(b *testing.B) {
	l := NewLimiter(1 << 30)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if l.Acquire() {
				l.Release()
			}
		}
	})
}
