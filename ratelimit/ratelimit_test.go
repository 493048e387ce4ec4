package ratelimit

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestApply(t *testing.T) {
	l := Limit{Rate: 10, Per: time.Second, Burst: 3} // 100ms a request
	type step struct {
		at        time.Duration // since t0
		allowed   bool
		remaining int
		retry     time.Duration
		reset     time.Duration
	}
	steps := []step{
		{0, true, 2, 0, 100 * time.Millisecond},
		{0, true, 1, 0, 200 * time.Millisecond},
		{0, true, 0, 0, 300 * time.Millisecond},
		{0, false, 0, 100 * time.Millisecond, 300 * time.Millisecond},
		{50 * time.Millisecond, false, 0, 50 * time.Millisecond, 250 * time.Millisecond},
		{100 * time.Millisecond, true, 0, 0, 300 * time.Millisecond},
		{1 * time.Second, true, 2, 0, 100 * time.Millisecond},
	}
	var tat int64
	for i, s := range steps {
		d, next := l.Apply(tat, t0.Add(s.at).UnixNano())
		want := Decision{Allowed: s.allowed, Remaining: s.remaining, RetryAfter: s.retry, Reset: s.reset}
		if d != want {
			t.Fatalf("step %d at %v: got %+v, want %+v", i, s.at, d, want)
		}
		if !d.Allowed && next != tat {
			t.Fatalf("step %d: a refusal changed the state from %d to %d", i, tat, next)
		}
		tat = next
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    Limit
		ok   bool
	}{
		{"ok", Limit{Name: "api-v1.read:x_y", Rate: 100, Per: time.Minute}, true},
		{"zero rate", Limit{Per: time.Second}, false},
		{"zero period", Limit{Rate: 1}, false},
		{"negative burst", Limit{Rate: 1, Per: time.Second, Burst: -1}, false},
		{"too fast", Limit{Rate: 2_000_000, Per: time.Second}, false},
		{"quote in name", Limit{Name: `a"b`, Rate: 1, Per: time.Second}, false},
		{"space in name", Limit{Name: "a b", Rate: 1, Per: time.Second}, false},
		{"window overflows", Limit{Rate: 1, Per: 100 * 365 * 24 * time.Hour, Burst: 1 << 30}, false},
	} {
		if err := tc.l.Check(); (err == nil) != tc.ok {
			t.Errorf("%s: Check() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestLocalLimitsPerKeyAndName(t *testing.T) {
	s := NewLocal(0)
	ctx := context.Background()
	a := Limit{Name: "a", Rate: 2, Per: time.Minute}
	b := Limit{Name: "b", Rate: 2, Per: time.Minute}
	allowed := func(l Limit, key string) bool {
		d, err := s.Allow(ctx, l, key, t0)
		if err != nil {
			t.Fatal(err)
		}
		return d.Allowed
	}
	for i := range 2 {
		if !allowed(a, "k1") {
			t.Fatalf("request %d of a/k1 refused within the burst", i)
		}
	}
	if allowed(a, "k1") {
		t.Fatal("third request of a/k1 allowed past a burst of 2")
	}
	if !allowed(a, "k2") {
		t.Fatal("a/k2 refused: keys share a budget")
	}
	if !allowed(b, "k1") {
		t.Fatal("b/k1 refused: limits with different names share a budget")
	}
	d, _ := s.Allow(ctx, a, "k1", t0.Add(30*time.Second))
	if !d.Allowed {
		t.Fatalf("a/k1 refused after one interval: %+v", d)
	}
}

// TestLocalConcurrentExactBurst: many goroutines on one key get exactly
// the burst, no more (the set lock makes read-modify-write atomic).
func TestLocalConcurrentExactBurst(t *testing.T) {
	s := NewLocal(64)
	l := Limit{Rate: 50, Per: time.Hour}
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if d, _ := s.Allow(context.Background(), l, "same", t0); d.Allowed {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := ok.Load(); got != 50 {
		t.Fatalf("allowed %d of 800 concurrent requests, want exactly the burst of 50", got)
	}
}

// TestLocalMemoryBound floods a small store with distinct keys: it never
// holds more than its capacity, its heap does not grow, and a key that
// stays active among a moderate number of others keeps its state.
func TestLocalMemoryBound(t *testing.T) {
	s := NewLocal(1024)
	if s.Cap() != 1024 {
		t.Fatalf("Cap() = %d, want 1024", s.Cap())
	}
	l := Limit{Rate: 1, Per: time.Hour}
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	buf := make([]byte, 0, 32)
	for i := range 300_000 {
		buf = strconv.AppendInt(buf[:0], int64(i), 10)
		s.Allow(ctx, l, string(buf), t0)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := s.Len(t0); n > s.Cap() {
		t.Fatalf("Len() = %d after a flood of 300,000 keys, more than Cap() = %d", n, s.Cap())
	}
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 1<<20 {
		t.Fatalf("heap grew by %d bytes over a flood of 300,000 keys", grew)
	}

	// A victim key exhausted, then 500 other keys (half the capacity): the
	// victim is still refused.
	s = NewLocal(1024)
	s.Allow(ctx, l, "victim", t0)
	for i := range 500 {
		s.Allow(ctx, l, "other-"+strconv.Itoa(i), t0)
	}
	if d, _ := s.Allow(ctx, l, "victim", t0); d.Allowed {
		t.Fatal("victim allowed again after 500 other keys in a store of 1024")
	}
}

// TestLocalExpiredSlotsReused: keys whose budget is full again free their
// slots, so old keys never crowd out new ones.
func TestLocalExpiredSlotsReused(t *testing.T) {
	s := NewLocal(8)
	l := Limit{Rate: 1, Per: time.Second}
	ctx := context.Background()
	for i := range 8 {
		s.Allow(ctx, l, "old-"+strconv.Itoa(i), t0)
	}
	if n := s.Len(t0); n == 0 {
		t.Fatal("no state kept")
	}
	later := t0.Add(2 * time.Second)
	if n := s.Len(later); n != 0 {
		t.Fatalf("Len after every window passed = %d, want 0", n)
	}
	s.Allow(ctx, l, "new", later)
	if d, _ := s.Allow(ctx, l, "new", later); d.Allowed {
		t.Fatal("second request of a new key allowed past a burst of 1")
	}
}

func TestLocalAllowDoesNotAllocate(t *testing.T) {
	s := NewLocal(0)
	l := Limit{Name: "api", Rate: 1000, Per: time.Second}
	ctx := context.Background()
	now := t0
	n := testing.AllocsPerRun(1000, func() {
		now = now.Add(time.Millisecond)
		s.Allow(ctx, l, "198.51.100.7", now)
	})
	if n != 0 {
		t.Fatalf("Allow allocates %v times per call, want 0", n)
	}
}

func BenchmarkLocalAllow(b *testing.B) {
	s := NewLocal(0)
	l := Limit{Name: "api", Rate: 1 << 20, Per: time.Second}
	ctx := context.Background()
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "198.51.100." + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			s.Allow(ctx, l, keys[i&1023], time.Now())
			i++
		}
	})
}
