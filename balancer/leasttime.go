package balancer

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

const (
	// ewmaAlpha is the weight of a new latency sample in the estimate.
	ewmaAlpha = 0.25
	// minHalfLife is the least number of picks after which an estimate
	// that received no sample halves; it grows with the backend count.
	minHalfLife = 64
	// failureFloor is the least latency a failed exchange counts as.
	failureFloor = 100 * time.Millisecond
	// failureFactor multiplies the estimate of a backend that failed.
	failureFactor = 4
)

// LeastTime is a [Factory] for a balancer that prefers the candidate
// expected to answer soonest. It implements [Tracker].
//
// Each backend has a latency estimate, an exponentially weighted moving
// average (EWMA) of the [Result.Latency] values reported to Done: every
// sample moves the estimate a quarter of the way towards it (alpha = 0.25,
// so a sample's influence halves about every 2.4 samples). A candidate's
// score is estimate × (1 + in-flight/weight) and the lowest score wins, so
// a backend that is fast but busy shares traffic with a slower idle one,
// and a backend of weight 2 takes twice the concurrency for the same
// score. With equal weights of 1 the score is estimate × (in-flight+1).
// Ties go to the candidate that comes first in weighted round-robin order
// from a rotating start, as in [LeastRequest], which also describes the
// full scan (up to 16 candidates) and the power-of-two-choices sampling
// (above 16).
//
// Decay and recovery: an estimate that receives no sample halves every
// max(64, 16 × number of backends) picks of the balancer, but never drops
// below the lowest estimate among the candidates being compared. A backend
// that turned slow therefore loses its traffic at once, is retried now and
// then as its estimate decays to the level of the best one, and regains
// its share when those probes come back fast.
//
// New and unmeasured backends are scored with the lowest estimate among
// the candidates, so they are tried promptly without drawing a whole burst
// of requests before their first answer. Until any backend is measured the
// balancer behaves like [LeastRequest].
//
// Failures count as slow answers: an exchange with a transport error or a
// 5xx status is recorded as max(latency, 4 × estimate, 100ms). A request
// cancelled by its client ([context.Canceled]) only tells that the backend
// took at least that long: it raises a backend's estimate when it exceeds
// it and is ignored otherwise. Done brings the in-flight count back down
// in every case.
//
// The key is ignored. The balancer is safe for concurrent use and does not
// lock or allocate in Pick, Start or Done.
func LeastTime(backends []Backend) Balancer {
	return &leastTime{
		rot:      newRotation(backends),
		halfLife: uint32(max(minHalfLife, 16*len(backends))),
		state:    make([]timeState, len(backends)),
	}
}

type leastTime struct {
	rot      rotation
	halfLife uint32
	state    []timeState // by Index
	_        [cacheLine]byte
	seq      atomic.Uint64 // picks so far: tie-break rotation and clock
	_        [cacheLine - 8]byte
}

// timeState is one backend's live state, alone on its cache line.
type timeState struct {
	inflight atomic.Int64
	// est packs the latency estimate and the pick count at which it was
	// last updated: the float32 bits of the estimate in nanoseconds in the
	// high half, the low 32 bits of the pick count in the low half. Zero
	// means unmeasured; stored estimates are at least 1ns, so a measured
	// backend never packs to zero.
	est atomic.Uint64
	_   [cacheLine - 16]byte
}

func pack(est float64, at uint32) uint64 {
	return uint64(math.Float32bits(float32(max(est, 1))))<<32 | uint64(at)
}

// decayed returns the estimate packed in v as of pick count now, and
// whether there is one.
func (t *leastTime) decayed(v uint64, now uint32) (float64, bool) {
	if v == 0 {
		return 0, false
	}
	est := float64(math.Float32frombits(uint32(v >> 32)))
	if halvings := (now - uint32(v)) / t.halfLife; halvings > 0 {
		est = math.Ldexp(est, -int(min(halvings, 64)))
	}
	return est, true
}

// sample returns c's decayed estimate (0 when unmeasured), its stored
// estimate (+Inf when unmeasured) and its in-flight count, as of pick count
// now.
func (t *leastTime) sample(c Backend, now uint32) (est, stored float64, inflight int64) {
	if uint(c.Index) >= uint(len(t.state)) {
		return 0, math.Inf(1), 0
	}
	s := &t.state[c.Index]
	v := s.est.Load()
	inflight = max(s.inflight.Load(), 0)
	est, ok := t.decayed(v, now)
	if !ok {
		return 0, math.Inf(1), inflight
	}
	return est, float64(math.Float32frombits(uint32(v >> 32))), inflight
}

// Pick implements [Balancer].
func (t *leastTime) Pick(candidates []Backend, _ string) int {
	k := len(candidates)
	if k < 2 {
		return k - 1
	}
	n := t.seq.Add(1) - 1
	now := uint32(n)
	start := t.rot.pick(candidates, n)
	if k > scanMax {
		other := t.rot.pick(candidates, rand.Uint64())
		if other == start {
			other = (start + 1) % k
		}
		es, rs, fs := t.sample(candidates[start], now)
		eo, ro, fo := t.sample(candidates[other], now)
		floor := min(rs, ro)
		if t.score(eo, floor, fo, candidates[other]) < t.score(es, floor, fs, candidates[start]) {
			return other
		}
		return start
	}
	var (
		est      [scanMax]float64
		inflight [scanMax]int64
		floor    = math.Inf(1)
	)
	for i, c := range candidates {
		var stored float64
		est[i], stored, inflight[i] = t.sample(c, now)
		floor = min(floor, stored)
	}
	best := start
	bestScore := t.score(est[start], floor, inflight[start], candidates[start])
	for j := 1; j < k; j++ {
		i := start + j
		if i >= k {
			i -= k
		}
		if s := t.score(est[i], floor, inflight[i], candidates[i]); s < bestScore {
			best, bestScore = i, s
		}
	}
	return best
}

// score returns est × (1 + inflight/weight), with est raised to floor, the
// lowest stored estimate among the compared candidates (1 when none is
// measured).
func (t *leastTime) score(est, floor float64, inflight int64, c Backend) float64 {
	if math.IsInf(floor, 1) {
		floor = 1
	}
	return max(est, floor) * (1 + float64(inflight)/float64(t.rot.weight(c)))
}

// Start implements [Tracker].
func (t *leastTime) Start(index int) {
	if uint(index) < uint(len(t.state)) {
		t.state[index].inflight.Add(1)
	}
}

// Done implements [Tracker].
func (t *leastTime) Done(index int, r Result) {
	if uint(index) >= uint(len(t.state)) {
		return
	}
	s := &t.state[index]
	s.inflight.Add(-1)
	now := uint32(t.seq.Load())
	x := float64(max(r.Latency, 0))
	cancelled := r.Err != nil && errors.Is(r.Err, context.Canceled)
	failed := !cancelled && (r.Err != nil || r.Status >= 500)
	for {
		old := s.est.Load()
		base, measured := t.decayed(old, now)
		var next float64
		switch {
		case cancelled:
			if !measured || x <= base {
				return // a lower bound at or below the estimate tells nothing
			}
			next = base + ewmaAlpha*(x-base)
		case failed:
			y := max(x, failureFactor*base, float64(failureFloor))
			next = y
			if measured {
				next = base + ewmaAlpha*(y-base)
			}
		case measured:
			next = base + ewmaAlpha*(x-base)
		default:
			next = x
		}
		if s.est.CompareAndSwap(old, pack(next, now)) {
			return
		}
	}
}
