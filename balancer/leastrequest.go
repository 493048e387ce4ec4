package balancer

import (
	"math/bits"
	"math/rand/v2"
	"sync/atomic"
)

// scanMax is the largest candidate count the least-* balancers scan in
// full; above it they sample two candidates (power of two choices).
const scanMax = 16

// LeastRequest is a [Factory] for a balancer that sends each request to the
// candidate with the fewest requests in flight. It implements [Tracker]:
// Start and Done keep one atomic counter per backend, and Done brings the
// counter back down whatever the [Result], errors and client cancellations
// included.
//
// Weights scale capacity: a candidate's load is in-flight/weight, so a
// backend of weight 2 is given about twice the concurrency of one of
// weight 1, and idle backends are shared in proportion to weight.
//
// With up to 16 candidates every one is compared (a full scan). With more,
// the balancer compares two candidates sampled in proportion to weight
// ("power of two choices", Mitzenmacher, "The Power of Two Choices in
// Randomized Load Balancing", IEEE TPDS 12(10), 2001), which keeps the
// maximum load within a small factor of optimal at O(1) cost.
//
// Ties go to the candidate that comes first in weighted round-robin order
// from a rotating start (the schedule of [RoundRobin]), so an idle or evenly
// loaded set of backends is served in weighted round-robin order rather
// than always the first candidate.
//
// The key is ignored. The balancer is safe for concurrent use and does not
// lock or allocate in Pick, Start or Done.
func LeastRequest(backends []Backend) Balancer {
	return &leastRequest{
		rot:  newRotation(backends),
		load: make([]paddedInt64, len(backends)),
	}
}

type leastRequest struct {
	rot  rotation
	load []paddedInt64 // in flight, by Index
	_    [cacheLine]byte
	next atomic.Uint64 // tie-break rotation
	_    [cacheLine - 8]byte
}

// paddedInt64 is an atomic counter alone on its cache line, so that
// counters of different backends do not contend.
type paddedInt64 struct {
	atomic.Int64
	_ [cacheLine - 8]byte
}

// Pick implements [Balancer].
func (l *leastRequest) Pick(candidates []Backend, _ string) int {
	k := len(candidates)
	if k < 2 {
		return k - 1
	}
	start := l.rot.pick(candidates, l.next.Add(1)-1)
	if k > scanMax {
		other := l.rot.pick(candidates, rand.Uint64())
		if other == start {
			other = (start + 1) % k
		}
		if lessLoaded(l.inflight(candidates[other]), l.rot.weight(candidates[other]),
			l.inflight(candidates[start]), l.rot.weight(candidates[start])) {
			return other
		}
		return start
	}
	best := start
	bestLoad, bestWeight := l.inflight(candidates[start]), l.rot.weight(candidates[start])
	for j := 1; j < k; j++ {
		i := start + j
		if i >= k {
			i -= k
		}
		load, w := l.inflight(candidates[i]), l.rot.weight(candidates[i])
		if lessLoaded(load, w, bestLoad, bestWeight) {
			best, bestLoad, bestWeight = i, load, w
		}
	}
	return best
}

// Start implements [Tracker].
func (l *leastRequest) Start(index int) {
	if uint(index) < uint(len(l.load)) {
		l.load[index].Add(1)
	}
}

// Done implements [Tracker].
func (l *leastRequest) Done(index int, _ Result) {
	if uint(index) < uint(len(l.load)) {
		l.load[index].Add(-1)
	}
}

// inflight returns c's in-flight count, 0 for an unknown backend.
func (l *leastRequest) inflight(c Backend) uint64 {
	if uint(c.Index) < uint(len(l.load)) {
		return uint64(max(l.load[c.Index].Load(), 0))
	}
	return 0
}

// lessLoaded reports whether a/wa < b/wb, computed exactly.
func lessLoaded(a, wa, b, wb uint64) bool {
	xh, xl := bits.Mul64(a, wb)
	yh, yl := bits.Mul64(b, wa)
	return xh < yh || xh == yh && xl < yl
}
