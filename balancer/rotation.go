package balancer

import (
	"cmp"
	"math/bits"
	"slices"
)

// maxSlots bounds the length of a precomputed weighted schedule. Weights
// whose reduced sum exceeds it are scaled down to fit, so ratios hold to
// within about one part in maxSlots.
const maxSlots = 1 << 14

// golden is 2^64 divided by the golden ratio: n*golden (mod 2^64) walks
// the Weyl sequence frac(n*φ), the best-spread sequence of points in [0, 1).
const golden = 0x9E3779B97F4A7C15

// cacheLine is the padding that keeps hot atomics on their own cache line.
const cacheLine = 64

// maxWeight caps [Backend.Weight] so that sums of weights cannot overflow.
const maxWeight = 1 << 32

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
	// slots is the smooth weighted schedule over the full backend list:
	// backend Index values, each appearing in proportion to its weight.
	slots []int32
	// n is the number of backends the plan was built for.
	n int
	// weights are the backends' weights by Index, as given to the
	// factory (see weightOf).
	weights []uint64
	// uniform reports whether all weights are equal.
	uniform bool
}

// weight returns c's weight from the factory's backend list, or from c
// itself when its Index is not in that list.
func (r *rotation) weight(c Backend) uint64 {
	if uint(c.Index) < uint(len(r.weights)) {
		return r.weights[c.Index]
	}
	return weightOf(c)
}

// newRotation builds the schedule for backends.
//
// The j-th turn (j = 0, 1, ...) of the backend at index i with weight w is
// placed at (j + φi)/w, with the phase φi = (i+½)/n for n backends, and the
// turns of all backends are merged in that order, ties in index order. This
// is the stride-scheduling order (Waldspurger and Weihl, "Stride
// Scheduling", MIT/LCS/TM-528, 1995) with staggered phases, a variant of
// the Sainte-Laguë (Webster) divisor sequence: over any stretch of the
// schedule each backend's picks stay within two of its exact weighted
// share, and backends of equal weight take turns instead of clustering. On the weight
// sets of its tests it is as smooth as nginx's smooth weighted
// round-robin. With equal weights it is plain rotation in index order.
func newRotation(backends []Backend) rotation {
	if len(backends) == 0 {
		return rotation{}
	}
	weights := make([]uint64, len(backends))
	w := make([]uint64, len(backends))
	var g, sum uint64
	uniform := true
	for i, b := range backends {
		weights[i] = weightOf(b)
		w[i] = weights[i]
		g = gcd(g, w[i])
		uniform = uniform && w[i] == w[0]
	}
	for i := range w {
		w[i] /= g
		sum += w[i]
	}
	if limit := uint64(max(maxSlots, len(backends))); sum > limit {
		total := sum
		g, sum = 0, 0
		for i := range w {
			hi, lo := bits.Mul64(w[i], limit) // hi < total: w[i] <= total, limit < 2^64
			q, _ := bits.Div64(hi, lo, total)
			w[i] = max(q, 1)
			g = gcd(g, w[i])
		}
		for i := range w {
			w[i] /= g
			sum += w[i]
		}
	}
	// A turn's position (j + (i+½)/n)/w is num/(2n·w) with
	// num = 2jn + 2i + 1; the common factor 2n cancels in comparisons.
	type turn struct {
		num, w uint64
		index  int32
	}
	n := uint64(len(backends))
	turns := make([]turn, 0, sum)
	for i, wi := range w {
		for j := range wi {
			turns = append(turns, turn{num: 2*j*n + 2*uint64(i) + 1, w: wi, index: int32(i)})
		}
	}
	slices.SortFunc(turns, func(a, b turn) int {
		// Reduced weights are at most max(maxSlots, n), so the products
		// stay far below 2^64 for any realistic backend count.
		if c := cmp.Compare(a.num*b.w, b.num*a.w); c != 0 {
			return c
		}
		return cmp.Compare(a.index, b.index)
	})
	slots := make([]int32, len(turns))
	for i, t := range turns {
		slots[i] = t.index
	}
	return rotation{slots: slots, n: len(backends), weights: weights, uniform: uniform}
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
// When candidates is the full backend list in Index order, the n-th slot
// of the schedule is used. Otherwise (a subset, or another order) the pick
// is made over candidates alone: plain rotation when the weights are
// equal, else the point frac(n·φ) of the Weyl sequence is located on the
// candidates' cumulative weights, which spreads picks in proportion to
// weight without any per-subset state. Both paths are O(1) in memory; the
// weighted subset path is O(len(candidates)) in time.
func (r *rotation) pick(candidates []Backend, n uint64) int {
	k := len(candidates)
	if k < 2 {
		return k - 1
	}
	if k == r.n {
		i := int(r.slots[n%uint64(len(r.slots))])
		if candidates[i].Index == i {
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
	t, _ := bits.Mul64(n*golden, total) // floor(frac(n·φ) · total)
	for i, c := range candidates {
		w := r.weight(c)
		if t < w {
			return i
		}
		t -= w
	}
	return k - 1
}
