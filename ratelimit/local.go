package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
)

// DefaultMaxKeys is the capacity of a [Local] store made with
// NewLocal(0): 1.5 MiB of state.
const DefaultMaxKeys = 1 << 16

// ways is how many keys share one set of a [Local] table.
const ways = 8

// Local is an in-memory [Limiter] for one process: a fixed-size table
// allocated once, so a flood of distinct keys cannot grow its memory.
//
// A key is stored as a 64-bit hash of the limit's name and the key (a key
// shares its hash with another among a million stored keys with odds of
// about one in 10^13, and then shares its budget), together with its GCRA timestamp:
// 16 bytes a key. The table is split into sets of 8 keys, each behind its
// own lock. A new key takes the slot of its set whose state is the
// oldest: an empty or expired slot (one whose budget is full again, which
// loses nothing) when there is one, else the key closest to a full
// budget. When more keys are active than the table holds, evicted keys
// start again with a full budget: the store errs on the side of allowing.
//
// Local ignores ctx and never returns an error. It is safe for concurrent
// use.
type Local struct {
	sets []set
	mask uint64
}

type set struct {
	mu    sync.Mutex
	slots [ways]slot
	_     [64 - 8]byte // keep neighbouring sets' locks apart
}

type slot struct {
	hash uint64 // 0: empty
	tat  int64  // theoretical arrival time, Unix nanoseconds
}

// NewLocal returns a store for at least maxKeys keys (DefaultMaxKeys when
// maxKeys <= 0), rounded up to a power of two.
func NewLocal(maxKeys int) *Local {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	n := 1
	for n*ways < maxKeys {
		n <<= 1
	}
	return &Local{sets: make([]set, n), mask: uint64(n - 1)}
}

// Cap returns how many keys the store holds at most.
func (s *Local) Cap() int { return len(s.sets) * ways }

// Len returns how many keys hold state that has not yet expired at now.
func (s *Local) Len(now time.Time) int {
	t := now.UnixNano()
	n := 0
	for i := range s.sets {
		st := &s.sets[i]
		st.mu.Lock()
		for _, sl := range st.slots {
			if sl.hash != 0 && sl.tat > t {
				n++
			}
		}
		st.mu.Unlock()
	}
	return n
}

// Allow counts one request for key under l at now. It does not allocate.
func (s *Local) Allow(_ context.Context, l Limit, key string, now time.Time) (Decision, error) {
	var d xxhash.Digest
	d.Reset()
	d.WriteString(l.Name)
	d.WriteString("\x00")
	d.WriteString(key)
	h := d.Sum64()
	if h == 0 {
		h = 1
	}
	t := now.UnixNano()
	st := &s.sets[(h>>32^h)&s.mask]
	st.mu.Lock()
	defer st.mu.Unlock()
	victim := 0
	for i := range st.slots {
		sl := &st.slots[i]
		if sl.hash == h {
			dec, tat := l.Apply(sl.tat, t)
			sl.tat = tat
			return dec, nil
		}
		if sl.tat < st.slots[victim].tat { // empty slots have tat 0
			victim = i
		}
	}
	dec, tat := l.Apply(0, t)
	st.slots[victim] = slot{hash: h, tat: tat}
	return dec, nil
}
