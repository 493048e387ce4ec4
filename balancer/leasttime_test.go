package balancer_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/apigate-go/apigate/balancer"
)

// drive makes n sequential picks among candidates, finishing each request
// at once with the result that result returns for the chosen backend
// Index. It returns how often each Index was chosen.
func drive(b balancer.Balancer, candidates []balancer.Backend, n int, result func(index int) balancer.Result) map[int]int {
	tr := b.(balancer.Tracker)
	got := make(map[int]int)
	for range n {
		c := candidates[b.Pick(candidates, "")]
		got[c.Index]++
		tr.Start(c.Index)
		tr.Done(c.Index, result(c.Index))
	}
	return got
}

// latencies returns a result function reporting a success after the
// latency of each backend Index in ms.
func latencies(ms ...int) func(int) balancer.Result {
	return func(i int) balancer.Result {
		return balancer.Result{Status: 200, Latency: time.Duration(ms[i]) * time.Millisecond}
	}
}

func TestLeastTimeFollowsLatency(t *testing.T) {
	tests := []struct {
		name string
		n    int // backends; above 16 the balancer samples two
	}{
		{"full scan", 3},
		{"two choices", 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := equal(tt.n)
			b := balancer.LeastTime(all)
			even := make([]int, tt.n)
			slow := make([]int, tt.n)
			for i := range even {
				even[i], slow[i] = 10, 10
			}
			slow[1] = 100

			got := drive(b, all, 100*tt.n, latencies(even...))
			for i := range tt.n {
				if !within(got[i], 100, 0.1) {
					t.Errorf("equal latencies: backend %d picked %d times, want 100±10%%", i, got[i])
				}
			}

			const phase = 3000
			drive(b, all, 200, latencies(slow...)) // let it notice
			got = drive(b, all, phase, latencies(slow...))
			t.Logf("backend 1 slow: picked %d of %d", got[1], phase)
			if limit := phase / tt.n / 10; got[1] > limit {
				t.Errorf("backend 1 at 10× the latency picked %d of %d times, want at most %d", got[1], phase, limit)
			}

			drive(b, all, phase, latencies(even...)) // let it recover
			got = drive(b, all, phase, latencies(even...))
			t.Logf("backend 1 recovered: picked %d of %d", got[1], phase)
			if limit := phase / tt.n / 2; got[1] < limit {
				t.Errorf("backend 1 recovered: picked %d of %d times, want at least %d", got[1], phase, limit)
			}
		})
	}
}

func TestLeastTimeWeightsAtEqualLatency(t *testing.T) {
	all := weighted(1, 3)
	b := balancer.LeastTime(all)
	got := drive(b, all, 4000, latencies(10, 10))
	if !within(got[0], 1000, 0.02) || !within(got[1], 3000, 0.02) {
		t.Errorf("picks = %v, want [1000 3000]±2%% (weighted round-robin at equal latency)", got)
	}
}

func TestLeastTimeTriesNewBackend(t *testing.T) {
	all := equal(3)
	b := balancer.LeastTime(all)
	tr := b.(balancer.Tracker)
	// Backends 0 and 1 are measured; backend 2 is new.
	for _, i := range []int{0, 1} {
		tr.Start(i)
		tr.Done(i, balancer.Result{Status: 200, Latency: 10 * time.Millisecond})
	}
	// A burst of 9 requests that do not finish: the new backend is tried
	// but does not draw the whole burst before its first answer.
	inflight := make([]int, 3)
	for range 9 {
		i := b.Pick(all, "")
		tr.Start(i)
		inflight[i]++
	}
	if inflight[2] != 3 {
		t.Errorf("burst of 9: in flight = %v, want 3 on the new backend 2", inflight)
	}
}

func TestLeastTimeAvoidsFailures(t *testing.T) {
	all := equal(3)
	b := balancer.LeastTime(all)
	refused := func(i int) balancer.Result {
		if i == 0 { // fails fast
			return balancer.Result{Err: errors.New("dial tcp: connection refused"), Latency: time.Millisecond}
		}
		return balancer.Result{Status: 200, Latency: 10 * time.Millisecond}
	}
	unavailable := func(i int) balancer.Result {
		if i == 0 {
			return balancer.Result{Status: 503, Latency: time.Millisecond}
		}
		return balancer.Result{Status: 200, Latency: 10 * time.Millisecond}
	}
	tests := []struct {
		name   string
		result func(int) balancer.Result
	}{
		{"transport error", refused},
		{"status 503", unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			drive(b, all, 100, tt.result)
			got := drive(b, all, 3000, tt.result)
			t.Logf("fast-failing backend picked %d of 3000", got[0])
			if got[0] > 100 {
				t.Errorf("fast-failing backend picked %d of 3000 times, want at most 100", got[0])
			}
		})
	}
}

func TestLeastTimeCancellation(t *testing.T) {
	tests := []struct {
		name      string
		latency   time.Duration // of the cancelled request to backend 0
		wantShare bool          // backend 0 keeps its share afterwards
	}{
		{"short cancel ignored", time.Millisecond, true},
		{"long cancel raises estimate", 10 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := equal(2)
			b := balancer.LeastTime(all)
			tr := b.(balancer.Tracker)
			drive(b, all, 10, latencies(10, 10))
			tr.Start(0)
			tr.Done(0, balancer.Result{Err: context.Canceled, Latency: tt.latency})
			got := drive(b, all, 10, latencies(10, 10))
			if gotShare := got[0] > 0; gotShare != tt.wantShare {
				t.Errorf("after a cancel at %v, backend 0 picked %d of 10 times; want picked: %t", tt.latency, got[0], tt.wantShare)
			}
		})
	}
}

func TestLeastTimeUnknownIndex(t *testing.T) {
	b := balancer.LeastTime(equal(2))
	tr := b.(balancer.Tracker)
	tr.Start(5) // must not panic
	tr.Done(-1, balancer.Result{Latency: time.Second})
	strangers := []balancer.Backend{{Index: 9}, {Index: -3}}
	if got := b.Pick(strangers, ""); got < 0 || got > 1 {
		t.Errorf("Pick(strangers) = %d, want 0 or 1", got)
	}
}
