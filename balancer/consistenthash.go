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
//   - The price is O(len(candidates)) per pick: a 64-bit mix per
//     candidate, plus, when weights differ, a logarithm for the few
//     candidates (about ln N) that could still win. That is tens of
//     nanoseconds for a handful of backends and a few hundred for 64 (see
//     the benchmarks). A ring is O(log N) per pick but has to probe past
//     every backend missing from the candidates.
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
	if h.rot.uniform {
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
	best, bestScore := -1, 0.0
	for i, c := range candidates {
		s := mix64(kh ^ h.addrHash(c))
		w := float64(h.rot.weight(c))
		u := unitInterval(s)
		// -ln(u) > 1-u on (0, 1), so w/(1-u) bounds the score from
		// above (compared by multiplying out; the margin covers
		// rounding). Most candidates fail the bound once a good one is
		// found, which skips their logarithm.
		if best >= 0 && w*(1+1e-9) < bestScore*(1-u) {
			continue
		}
		score := w / -math.Log(u)
		if best < 0 || score > bestScore || score == bestScore && c.Index < candidates[best].Index {
			best, bestScore = i, score
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

// unitInterval maps a 64-bit hash to u = (s>>11 + ½) / 2^53, strictly
// inside (0, 1). The weighted ranking compares w / -ln(u) across
// candidates; last-bit differences between math.Log implementations could
// only matter for keys whose two best scores agree to about 2^-52.
func unitInterval(s uint64) float64 {
	return (float64(s>>11) + 0.5) * 0x1p-53
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
