package balancer

import "sync/atomic"

// RoundRobin is a [Factory] for a smooth weighted round-robin balancer.
//
// It walks a schedule computed once from the backends' weights with nginx's
// smooth weighted round-robin algorithm: at each step every backend's
// credit grows by its weight and the one with the most credit takes the
// turn and gives back the total weight. Heavy backends are interleaved with
// light ones rather than served in bursts, so weights 5, 1, 1 give
// a a b a c a a rather than a a a a a b c, and over any stretch of the
// schedule each backend's picks stay within two of its exact share. Equal
// weights give plain rotation in [Backend.Index] order. A pick is one
// atomic increment and a slice load. When the schedule would be long (its
// length is the sum of the weights divided by their greatest common
// divisor; above 16,384 slots, or fewer with hundreds of backends), turns
// follow the golden-ratio sequence over the cumulative weights instead:
// exact proportions, O(log N) per pick, slightly less regular.
//
// When candidates is a subset of the backends, the balancer picks among
// candidates alone with the same counter: plain rotation when their weights
// are equal, else weighted through the golden-ratio (Weyl) sequence, so the
// share of a removed backend spreads over the others in proportion to
// their weights.
//
// The key is ignored. The balancer is safe for concurrent use and does not
// lock or allocate in Pick.
func RoundRobin(backends []Backend) Balancer {
	return &roundRobin{rot: newRotation(backends)}
}

type roundRobin struct {
	rot  rotation
	_    [cacheLine]byte
	next atomic.Uint64
	_    [cacheLine - 8]byte
}

// Pick implements [Balancer].
func (r *roundRobin) Pick(candidates []Backend, _ string) int {
	if len(candidates) < 2 {
		return len(candidates) - 1
	}
	return r.rot.pick(candidates, r.next.Add(1)-1)
}
