package balancer

import (
	"math/bits"
	"slices"
)

// maxSlots bounds the length of a precomputed weighted schedule, and
// maxScheduleWork the cost of building it (slots × backends). Weights
// beyond either are served through the golden-ratio sequence instead.
const (
	maxSlots        = 1 << 14
	maxScheduleWork = 1 << 22
)

// golden is 2^64 divided by the golden ratio: n*golden (mod 2^64) walks
// the Weyl sequence frac(n*φ), the best-spread sequence of points in [0, 1).
const golden = 0x9E3779B97F4A7C15

// cacheLine is the padding that keeps hot atomics on their own cache line.
const cacheLine = 64

// maxWeight caps [Backend.Weight] so that sums of weights cannot overflow.
const maxWeight = 1 << 30

// weightOf returns b's weight, counting values below 1 as 1 and values
// above maxWeight as maxWeight.
func weightOf(b Backend) uint64 {
	return uint64(min(max(b.Weight, 1), maxWeight))
}

// rotation is the weighted round-robin plan shared by the built-in
// balancers: [RoundRobin] uses it for every pick, [ConsistentHash] for
// keyless requests, and the least-* balancers to break ties. It is
// immutable once built; callers supply the sequence number n.
type rotation struct {
	// n is the number of backends the plan was built for.
	n int
	// weights are the backends' weights by Index, as given to the
	// factory (see weightOf).
	weights []uint64
	// uniform reports whether all weights are equal.
	uniform bool
	// slots is the smooth weighted schedule over the full backend list
	// (backend Index values), nil when uniform or too costly to build.
	slots []int32
	// cum holds the running totals of weights when there are no slots:
	// cum[i] is the sum of weights[:i+1].
	cum []uint64
}

// weight returns c's weight from the factory's backend list, or from c
// itself when its Index is not in that list.
func (r *rotation) weight(c Backend) uint64 {
	if uint(c.Index) < uint(len(r.weights)) {
		return r.weights[c.Index]
	}
	return weightOf(c)
}

// newRotation builds the plan for backends.
//
// Equal weights need no plan: turn n goes to backend n mod len(backends).
//
// Otherwise the schedule is built with nginx's smooth weighted round-robin
// (nginx 1.3.1, 2012, ngx_http_upstream_round_robin.c): at each step every
// backend's credit grows by its weight, the backend with the most credit
// (the lowest index on ties) takes the slot and gives back the total
// weight. Heavy backends are interleaved with light ones rather than
// served in bursts; over any stretch of the schedule each backend's picks
// stay within two of its exact weighted share (checked by the tests on
// random weight sets). The schedule has one slot per unit of weight, after
// dividing the weights by their greatest common divisor.
//
// When that schedule would exceed maxSlots slots or maxScheduleWork steps
// to build (many backends with disparate weights), turn n instead goes to
// the backend whose stretch of the cumulative weights contains
// frac(n·φ)·total, found by binary search: exact proportions, O(log N) per
// pick, a little less regular.
func newRotation(backends []Backend) rotation {
	n := len(backends)
	r := rotation{n: n, weights: make([]uint64, n), uniform: true}
	for i, b := range backends {
		r.weights[i] = weightOf(b)
		r.uniform = r.uniform && r.weights[i] == r.weights[0]
	}
	if r.uniform {
		return r
	}
	var g, total uint64
	for _, w := range r.weights {
		g = gcd(g, w)
	}
	for _, w := range r.weights {
		total += w / g
	}
	if total > maxSlots || total*uint64(n) > maxScheduleWork {
		r.cum = make([]uint64, n)
		var sum uint64
		for i, w := range r.weights {
			sum += w
			r.cum[i] = sum
		}
		return r
	}
	reduced := make([]int64, n)
	for i, w := range r.weights {
		reduced[i] = int64(w / g)
	}
	credit := make([]int64, n)
	r.slots = make([]int32, 0, total)
	for range total {
		best := 0
		for i, w := range reduced {
			credit[i] += w
			if credit[i] > credit[best] {
				best = i
			}
		}
		credit[best] -= int64(total)
		r.slots = append(r.slots, int32(best))
	}
	return r
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// pick returns the position in candidates of the n-th turn, or -1 when
// candidates is empty.
//
// When candidates is the full backend list in Index order, the n-th turn
// of the plan is used. Otherwise (a subset, or another order) the pick is
// made over candidates alone: plain rotation when the weights are equal,
// else the point frac(n·φ) of the Weyl sequence is located on the
// candidates' cumulative weights, which spreads picks in proportion to
// weight without any per-subset state. Every path is O(1) in memory; the
// weighted subset path is O(len(candidates)) in time.
func (r *rotation) pick(candidates []Backend, n uint64) int {
	k := len(candidates)
	if k < 2 {
		return k - 1
	}
	if k == r.n {
		if i := r.full(n); candidates[i].Index == i {
			return i
		}
	}
	if r.uniform {
		return int(n % uint64(k))
	}
	var total uint64
	for _, c := range candidates {
		total += r.weight(c)
	}
	t := weyl(n, total)
	for i, c := range candidates {
		w := r.weight(c)
		if t < w {
			return i
		}
		t -= w
	}
	return k - 1
}

// full returns the Index of the backend that takes turn n of the full
// list; r.n must be positive.
func (r *rotation) full(n uint64) int {
	switch {
	case r.uniform:
		return int(n % uint64(r.n))
	case r.slots != nil:
		return int(r.slots[n%uint64(len(r.slots))])
	}
	t := weyl(n, r.cum[len(r.cum)-1])
	i, _ := slices.BinarySearch(r.cum, t+1) // first running total above t
	return i
}

// weyl returns floor(frac(n·φ) · total), the n-th point of the golden-ratio
// Weyl sequence scaled to [0, total).
func weyl(n, total uint64) uint64 {
	t, _ := bits.Mul64(n*golden, total)
	return t
}
