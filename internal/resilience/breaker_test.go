package resilience

import (
	"testing"
	"time"
)

func newTestBreaker(c BreakerConfig) (*Breaker, *[]State) {
	b := NewBreaker(c)
	var log []State
	b.OnChange = func(s State) { log = append(log, s) }
	return b, &log
}

func run(b *Breaker, o Outcome, now int64) bool {
	t, _, ok := b.Allow(now)
	if ok {
		b.Done(t, o, now)
	}
	return ok
}

func TestBreakerConsecutive(t *testing.T) {
	b, log := newTestBreaker(BreakerConfig{Consecutive: 3, OpenFor: 5 * time.Second, Probes: 2})
	run(b, Failure, 0)
	run(b, Failure, 0)
	run(b, Success, 0)
	run(b, Failure, 0)
	run(b, Failure, 0)
	if b.State() != Closed {
		t.Fatal("opened after 2 failures in a row, want 3")
	}
	run(b, Failure, 0)
	if b.State() != Open {
		t.Fatal("still closed after 3 failures in a row")
	}
	if _, wait, ok := b.Allow(2 * sec); ok || wait != 3*time.Second {
		t.Errorf("open: Allow = %v, wait %v; want refused, 3s to wait", ok, wait)
	}
	// Half-open: two trial requests, not three.
	t1, _, ok1 := b.Allow(5 * sec)
	t2, _, ok2 := b.Allow(5 * sec)
	_, _, ok3 := b.Allow(5 * sec)
	if !ok1 || !ok2 || ok3 || b.State() != HalfOpen {
		t.Fatalf("half-open admitted %v %v %v (state %v), want two trials", ok1, ok2, ok3, b.State())
	}
	b.Done(t1, Success, 5*sec)
	if b.State() != HalfOpen {
		t.Fatal("closed after one of two trials")
	}
	b.Done(t2, Success, 5*sec)
	if b.State() != Closed {
		t.Fatalf("state %v after both trials succeeded, want closed", b.State())
	}
	want := []State{Open, HalfOpen, Closed}
	if len(*log) != len(want) || (*log)[0] != want[0] || (*log)[1] != want[1] || (*log)[2] != want[2] {
		t.Errorf("transitions = %v, want %v", *log, want)
	}
}

func TestBreakerTrialFailureReopens(t *testing.T) {
	b, _ := newTestBreaker(BreakerConfig{Consecutive: 1, OpenFor: 5 * time.Second, Probes: 1})
	run(b, Failure, 0)
	// A neutral trial (client gone) gives its slot to the next request.
	tk, _, _ := b.Allow(5 * sec)
	b.Done(tk, Neutral, 5*sec)
	if b.State() != HalfOpen {
		t.Fatalf("state %v after a neutral trial, want half-open", b.State())
	}
	if !run(b, Failure, 6*sec) {
		t.Fatal("the trial slot freed by a neutral outcome was not given out")
	}
	if b.State() != Open {
		t.Fatalf("state %v after a failed trial, want open", b.State())
	}
	if _, wait, ok := b.Allow(6 * sec); ok || wait != 5*time.Second {
		t.Errorf("reopened: Allow = %v, wait %v; want refused for a full 5s", ok, wait)
	}
}

func TestBreakerRatio(t *testing.T) {
	b, _ := newTestBreaker(BreakerConfig{Ratio: 0.5, MinRequests: 10, Window: 10 * time.Second, OpenFor: time.Second})
	// 4 failures out of 8: half, but under the minimum volume.
	for k := range 8 {
		o := Success
		if k%2 == 0 {
			o = Failure
		}
		run(b, o, int64(k)*sec/10)
	}
	if b.State() != Closed {
		t.Fatal("opened under MinRequests")
	}
	run(b, Success, sec)
	run(b, Failure, sec) // 5 of 10
	if b.State() != Open {
		t.Fatalf("state %v at 5 failures in 10, want open", b.State())
	}

	// Old exchanges leave the window.
	b2, _ := newTestBreaker(BreakerConfig{Ratio: 0.5, MinRequests: 4, Window: 10 * time.Second, OpenFor: time.Second})
	for range 3 {
		run(b2, Failure, 0)
	}
	for range 4 {
		run(b2, Success, 11*sec)
	}
	run(b2, Failure, 11*sec) // 1 failure in 5 once the old ones expired
	if b2.State() != Closed {
		t.Fatal("failures older than the window still counted")
	}
}

func TestBreakerLateResultIgnored(t *testing.T) {
	b, _ := newTestBreaker(BreakerConfig{Consecutive: 1, OpenFor: time.Second})
	early, _, _ := b.Allow(0)
	run(b, Failure, 0)
	b.Done(early, Success, 0) // started before the circuit opened
	if b.State() != Open {
		t.Errorf("state %v: a result from before the opening changed it", b.State())
	}
}

func BenchmarkBreakerClosed(b *testing.B) {
	br := NewBreaker(BreakerConfig{Consecutive: 5, Ratio: 0.5, MinRequests: 20, Window: 10 * time.Second, OpenFor: time.Second})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if t, _, ok := br.Allow(1); ok {
				br.Done(t, Success, 1)
			}
		}
	})
}

// TestBreakerLateTrials checks that a trial let through in one half-open
// period and ending in the next counts for nothing there: it used to
// free a trial slot (letting Probes+1 trials through) or count as one
// of the new period's successes (closing the circuit on fewer).
func TestBreakerLateTrials(t *testing.T) {
	name := map[Outcome]string{Success: "successful", Failure: "failed", Neutral: "neutral"}
	for _, o := range []Outcome{Neutral, Success, Failure} {
		late := name[o]
		b, _ := newTestBreaker(BreakerConfig{Consecutive: 1, OpenFor: 5 * time.Second, Probes: 2})
		run(b, Failure, 0) // open
		a, _, okA := b.Allow(5 * sec)
		f, _, okF := b.Allow(5 * sec)
		if !okA || !okF {
			t.Fatal("half-open refused its trials")
		}
		b.Done(f, Failure, 5*sec) // open again, a still out
		c, _, okC := b.Allow(10 * sec)
		d, _, okD := b.Allow(10 * sec)
		if !okC || !okD || b.State() != HalfOpen {
			t.Fatalf("second half-open period: trials %v %v, state %v", okC, okD, b.State())
		}
		b.Done(a, o, 10*sec) // the first period's trial ends now
		if _, _, ok := b.Allow(10 * sec); ok {
			t.Errorf("late %s trial: a third trial was let through (Probes 2)", late)
		}
		if b.State() != HalfOpen {
			t.Errorf("late %s trial: state %v, want half-open until this period's trials end", late, b.State())
		}
		b.Done(c, Success, 10*sec)
		if b.State() != HalfOpen {
			t.Errorf("late %s trial: closed after one of this period's two trials", late)
		}
		b.Done(d, Success, 10*sec)
		if b.State() != Closed {
			t.Errorf("late %s trial: state %v after both trials passed, want closed", late, b.State())
		}
	}
}
