package resilience

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// scripted is a probe whose answers the test sets per backend, and which
// counts probes and the time each one came.
type scripted struct {
	mu    sync.Mutex
	pass  []bool
	hang  []bool
	times [][]time.Time
}

func newScripted(n int) *scripted {
	return &scripted{pass: make([]bool, n), hang: make([]bool, n), times: make([][]time.Time, n)}
}

func (s *scripted) set(i int, pass bool) {
	s.mu.Lock()
	s.pass[i] = pass
	s.mu.Unlock()
}

func (s *scripted) probe(ctx context.Context, i int) bool {
	s.mu.Lock()
	s.times[i] = append(s.times[i], time.Now())
	pass, hang := s.pass[i], s.hang[i]
	s.mu.Unlock()
	if hang {
		<-ctx.Done()
		return false
	}
	return pass
}

func (s *scripted) count(i int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.times[i])
}

func TestCheckerThresholds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newScripted(2)
		p.set(0, true)
		p.set(1, true)
		c := NewChecker(2, CheckerConfig{Interval: 10 * time.Second, Timeout: time.Second, Healthy: 2, Unhealthy: 3}, p.probe)
		var mu sync.Mutex
		var changes []string
		c.OnChange = func(i int, healthy bool) {
			mu.Lock()
			changes = append(changes, map[bool]string{true: "up", false: "down"}[healthy]+string(rune('0'+i)))
			mu.Unlock()
		}
		ctx, cancel := context.WithCancel(context.Background())
		c.Start(ctx)
		synctest.Wait()
		if p.count(0) != 1 || p.count(1) != 1 {
			t.Fatalf("probes at start: %d, %d; want one each at once", p.count(0), p.count(1))
		}
		p.set(1, false)
		// Two failed probes are not enough, the third takes it out.
		time.Sleep(20*time.Second + time.Millisecond)
		synctest.Wait()
		if !c.Healthy(1) {
			t.Fatal("unhealthy after 2 failed probes, want 3")
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if c.Healthy(1) || c.Unhealthy() != 1 {
			t.Fatalf("Healthy(1) = %v, Unhealthy() = %d after 3 failed probes", c.Healthy(1), c.Unhealthy())
		}
		if !c.Healthy(0) {
			t.Error("backend 0 passed every probe but is unhealthy")
		}
		// One pass is not enough, two bring it back.
		p.set(1, true)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if c.Healthy(1) {
			t.Fatal("healthy after 1 passed probe, want 2")
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if !c.Healthy(1) || c.Unhealthy() != 0 {
			t.Fatalf("Healthy(1) = %v, Unhealthy() = %d after 2 passed probes", c.Healthy(1), c.Unhealthy())
		}
		cancel()
		c.Wait()
		mu.Lock()
		defer mu.Unlock()
		if got := len(changes); got != 2 || changes[0] != "down1" || changes[1] != "up1" {
			t.Errorf("changes = %v, want [down1 up1]", changes)
		}
	})
}

func TestCheckerTimeoutAndJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newScripted(1)
		p.hang[0] = true
		c := NewChecker(1, CheckerConfig{Interval: 10 * time.Second, Jitter: 2 * time.Second, Timeout: time.Second, Healthy: 1, Unhealthy: 1}, p.probe)
		ctx, cancel := context.WithCancel(context.Background())
		c.Start(ctx)
		time.Sleep(time.Second + time.Millisecond) // the hanging probe times out
		synctest.Wait()
		if c.Healthy(0) {
			t.Fatal("a probe that hung past its timeout did not fail")
		}
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		cancel()
		c.Wait()
		times := p.times[0]
		if len(times) < 40 {
			t.Fatalf("%d probes in 10 minutes at 10s ± 2s (+1s timeout)", len(times))
		}
		distinct := map[time.Duration]bool{}
		for k := 1; k < len(times); k++ {
			gap := times[k].Sub(times[k-1]) - time.Second // minus the timeout
			if gap < 8*time.Second || gap > 12*time.Second {
				t.Errorf("gap %d = %v, want 10s ± 2s", k, gap)
			}
			distinct[gap] = true
		}
		if len(distinct) < 2 {
			t.Errorf("every gap was the same (%v): no jitter", times[1].Sub(times[0]))
		}
	})
}

func TestCheckerStopsWithoutLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	var probes atomic.Int32
	c := NewChecker(8, CheckerConfig{Interval: time.Millisecond, Timeout: time.Second, Healthy: 1, Unhealthy: 1},
		func(ctx context.Context, i int) bool { probes.Add(1); return true })
	ctx, cancel := context.WithCancel(context.Background())
	c.Start(ctx)
	for probes.Load() < 16 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	c.Wait()
	n := probes.Load()
	time.Sleep(10 * time.Millisecond)
	if probes.Load() != n {
		t.Error("probes went on after the context was done and Wait returned")
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines after Wait, %d before", after, before)
	}
}

func TestCheckerCloseMidProbeKeepsHealth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newScripted(1)
		p.hang[0] = true
		c := NewChecker(1, CheckerConfig{Interval: time.Second, Timeout: time.Minute, Healthy: 1, Unhealthy: 1}, p.probe)
		ctx, cancel := context.WithCancel(context.Background())
		c.Start(ctx)
		synctest.Wait() // the probe hangs
		cancel()
		c.Wait()
		if !c.Healthy(0) {
			t.Error("a probe cut by the shutdown marked the backend unhealthy")
		}
	})
}
