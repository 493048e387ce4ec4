package balancer

import (
	"math"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
)

// ConsistentHash is a [Factory] for a balancer that sends every request with
// the same affinity key to the same backend.
//
// The algorithm is weighted rendezvous hashing, also called
// highest-random-weight (HRW) hashing (Thaler and Ravishankar, "Using
// Name-Based Mappings to Increase Hit Rates", IEEE/ACM ToN 6(1), 1998),
// with the logarithmic method for weights (Schindelhauer and Schomaker,
// "Weighted Distributed Hash Tables", SPAA 2005): every candidate gets the
// score weight / -ln(u), where u in (0, 1) is a hash of the key and the
// backend's [Backend.Addr], and the highest score wins. It was chosen over
// a hash ring and Maglev because:
//
//   - Candidates may be any subset of the backends (a strategy may drop a
//     backend that is cooling down). Rendezvous ranks whatever candidates it
//     is given, so dropping a backend moves only the keys that backend
//     owned, each to its own runner-up, spread over the others by weight;
//     a ring or Maglev table would need rebuilding or probing per subset.
//   - Adding or removing one of N equal backends moves 1/N of the keys,
//     the minimum possible, and weights hold exactly in expectation, with
//     no virtual-node variance and no table to store.
//   - The price is O(len(candidates)) per pick: a 64-bit mix per candidate,
//     plus a logarithm when the candidates' weights differ. That is tens of
//     nanoseconds for a handful of backends and about a microsecond for 64
//     weighted ones (see the benchmarks).
//
// Keys are hashed with xxhash (XXH64, seed 0) and backends by Addr, with no
// per-process seed, so every gateway replica given the same backend list
// maps a key to the same backend. Equal scores (only possible for
// duplicate addresses) go to the lower [Backend.Index]. The mapping is part
// of the package's compatibility promise: it changes only in a major
// version.
//
// A request without a key ("") is not hashed: it is served in weighted
// round-robin order, as by [RoundRobin], so keyless traffic still spreads.
//
// The balancer is safe for concurrent use and does not lock or allocate in
// Pick.
func ConsistentHash(backends []Backend) Balancer {
	h := &consistentHash{
		rot:   newRotation(backends),
		addrs: make([]uint64, len(backends)),
	}
	for i, b := range backends {
		h.addrs[i] = xxhash.Sum64String(b.Addr)
	}
	return h
}

type consistentHash struct {
	rot   rotation
	addrs []uint64 // xxhash of Addr, by Index
	_     [cacheLine]byte
	next  atomic.Uint64 // keyless rotation
	_     [cacheLine - 8]byte
}

// Pick implements [Balancer].
func (h *consistentHash) Pick(candidates []Backend, key string) int {
	k := len(candidates)
	if k < 2 {
		return k - 1
	}
	if key == "" {
		return h.rot.pick(candidates, h.next.Add(1)-1)
	}
	kh := xxhash.Sum64String(key)
	w0 := weightOf(candidates[0])
	uniform := true
	for _, c := range candidates[1:] {
		if weightOf(c) != w0 {
			uniform = false
			break
		}
	}
	if uniform {
		// Equal weights: w/-ln(u) is increasing in u, so comparing the
		// raw hashes ranks candidates exactly like the weighted score,
		// without floating point.
		best, bestScore := 0, mix64(kh^h.addrHash(candidates[0]))
		for i := 1; i < k; i++ {
			s := mix64(kh ^ h.addrHash(candidates[i]))
			if s > bestScore || s == bestScore && candidates[i].Index < candidates[best].Index {
				best, bestScore = i, s
			}
		}
		return best
	}
	best, bestScore := 0, -1.0
	for i, c := range candidates {
		s := weightedScore(mix64(kh^h.addrHash(c)), weightOf(c))
		if s > bestScore || s == bestScore && c.Index < candidates[best].Index {
			best, bestScore = i, s
		}
	}
	return best
}

// addrHash returns the hash of c's address, precomputed when c.Index names
// one of the balancer's backends.
func (h *consistentHash) addrHash(c Backend) uint64 {
	if uint(c.Index) < uint(len(h.addrs)) {
		return h.addrs[c.Index]
	}
	return xxhash.Sum64String(c.Addr)
}

// weightedScore returns w / -ln(u) for u = (s>>11 + ½) / 2^53, which lies
// strictly inside (0, 1). The ranking only depends on which candidate
// scores highest, so last-bit differences between math.Log implementations
// can only matter for keys whose two best scores agree to 2^-52.
func weightedScore(s, w uint64) float64 {
	u := (float64(s>>11) + 0.5) * 0x1p-53
	return float64(w) / -math.Log(u)
}

// mix64 is the 64-bit finalizer of MurmurHash3 (fmix64): a bijection that
// makes every output bit depend on every input bit. Rendezvous hashing
// scores a key against a backend with mix64(hash(key) ^ hash(addr)).
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
