package balancer

import "sync/atomic"

// RoundRobin is a [Factory] for a smooth weighted round-robin balancer.
//
// It walks a schedule computed once from the backends' weights, in which
// each backend appears in proportion to its weight and turns are
// interleaved: over any stretch of the schedule each backend's picks stay
// within two of its exact weighted share, so weights 5, 1, 1 give
// a a a b a a c rather than a a a a a b c. The schedule is stride
// scheduling with staggered phases (Waldspurger and Weihl, 1995), as smooth
// as nginx's smooth weighted round-robin on the tested weight sets. Equal
// weights give plain rotation in [Backend.Index] order. A pick is one
// atomic increment and a slice load.
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
