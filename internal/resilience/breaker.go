package resilience

import (
	"sync"
	"sync/atomic"
	"time"
)

// State is a circuit breaker's state.
type State int32

// The states of a [Breaker].
const (
	Closed State = iota
	Open
	HalfOpen
)

// String returns "closed", "open" or "half_open".
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half_open"
	}
	return "state(?)"
}

// BreakerConfig configures a [Breaker]. The caller applies defaults.
type BreakerConfig struct {
	// Consecutive opens the circuit after this many failures in a row; 0
	// leaves this criterion off.
	Consecutive int
	// Ratio opens the circuit when failures make up at least this share
	// (0–1] of the exchanges in the last Window, once there were at least
	// MinRequests of them; Ratio 0 leaves this criterion off.
	Ratio       float64
	MinRequests int
	Window      time.Duration
	// OpenFor is how long the circuit stays open before trial requests.
	OpenFor time.Duration
	// Probes is how many trial requests a half-open circuit lets through;
	// all must succeed to close it, one failure opens it again (>= 1).
	Probes int
}

// windowBuckets is how many slices a breaker's window is cut into: the
// ratio forgets old exchanges one slice at a time.
const windowBuckets = 10

// Breaker is a circuit breaker. Closed, it lets everything through and
// counts failures; when they cross a threshold it opens and refuses
// everything for OpenFor; then it lets Probes trial requests through
// (half-open) and closes if they all succeed, or opens again.
//
// A closed breaker costs an atomic load per admission and one or two
// atomic adds per result; transitions take a lock.
type Breaker struct {
	cfg       BreakerConfig
	bucketDur int64
	state     atomic.Int32
	openUntil atomic.Int64
	consec    atomic.Int32
	buckets   [windowBuckets]bucket
	admitted  atomic.Int32 // trial requests let through while half-open
	passed    atomic.Int32 // trial requests that succeeded
	// gen counts the half-open periods: a trial's ticket carries the
	// period it was let through in, and a trial of an earlier one that
	// ends late counts for nothing.
	gen atomic.Uint32
	mu  sync.Mutex
	// OnChange, if set before use, is called after each transition, on
	// the goroutine that caused it, under the breaker's lock; it must not
	// call the breaker.
	OnChange func(s State)
}

type bucket struct {
	epoch     atomic.Int64
	ok, fails atomic.Int32
}

// NewBreaker returns a closed breaker.
func NewBreaker(c BreakerConfig) *Breaker {
	c.Probes = max(c.Probes, 1)
	return &Breaker{cfg: c, bucketDur: max(int64(c.Window)/windowBuckets, 1)}
}

// State returns the breaker's state.
func (b *Breaker) State() State { return State(b.state.Load()) }

// Ticket is what [Breaker.Allow] hands out and [Breaker.Done] takes back.
// Its low two bits are its kind; a trial's other bits are its half-open
// period. The zero Ticket is none.
type Ticket uint32

const (
	noTicket Ticket = iota
	normal
	trial

	kindBits = 2
	kindMask = 1<<kindBits - 1
)

// Allow reports whether a request may go ahead at now. When it may not,
// wait is how long until the breaker lets trial requests through. An
// admitted request's outcome must be reported with [Breaker.Done] and the
// ticket.
func (b *Breaker) Allow(now int64) (t Ticket, wait time.Duration, ok bool) {
	switch State(b.state.Load()) {
	case Closed:
		return normal, 0, true
	case Open:
		until := b.openUntil.Load()
		if now < until {
			return noTicket, time.Duration(until - now), false
		}
		b.mu.Lock()
		if State(b.state.Load()) == Open {
			b.admitted.Store(0)
			b.passed.Store(0)
			b.gen.Add(1)
			b.transition(HalfOpen)
		}
		b.mu.Unlock()
		return b.Allow(now)
	default: // HalfOpen
		if b.admitted.Add(1) <= int32(b.cfg.Probes) {
			return trial | Ticket(b.gen.Load()<<kindBits), 0, true
		}
		b.admitted.Add(-1)
		// The trial requests are out; the next ones wait for their word.
		return noTicket, time.Duration(max(b.cfg.OpenFor/10, time.Second)), false
	}
}

// Outcome classifies an exchange for a breaker.
type Outcome uint8

// The outcomes [Breaker.Done] takes.
const (
	// Success: the service answered.
	Success Outcome = iota
	// Failure: the service could not answer.
	Failure
	// Neutral: nothing learnt (the client went away).
	Neutral
)

// Done reports the outcome of a request admitted with ticket t at now.
func (b *Breaker) Done(t Ticket, o Outcome, now int64) {
	switch t & kindMask {
	case normal:
		if State(b.state.Load()) != Closed {
			return // started before the circuit opened
		}
		switch o {
		case Success:
			if b.consec.Load() != 0 {
				b.consec.Store(0)
			}
			if b.cfg.Ratio > 0 {
				b.bucket(now).ok.Add(1)
			}
		case Failure:
			n := b.consec.Add(1)
			if b.cfg.Consecutive > 0 && int(n) >= b.cfg.Consecutive {
				b.trip(Closed, now)
				return
			}
			if b.cfg.Ratio > 0 {
				b.bucket(now).fails.Add(1)
				if b.ratioExceeded(now) {
					b.trip(Closed, now)
				}
			}
		}
	case trial:
		if uint32(t>>kindBits) != b.gen.Load()<<kindBits>>kindBits {
			return // a trial of an earlier half-open period
		}
		switch o {
		case Success:
			if b.passed.Add(1) >= int32(b.cfg.Probes) {
				b.mu.Lock()
				if State(b.state.Load()) == HalfOpen {
					b.reset()
					b.transition(Closed)
				}
				b.mu.Unlock()
			}
		case Failure:
			b.trip(HalfOpen, now)
		case Neutral:
			b.admitted.Add(-1) // the slot goes to another trial request
		}
	}
}

// trip opens the circuit if it is still in state from.
func (b *Breaker) trip(from State, now int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if State(b.state.Load()) != from {
		return
	}
	b.openUntil.Store(now + int64(b.cfg.OpenFor))
	b.reset()
	b.transition(Open)
}

func (b *Breaker) transition(s State) {
	b.state.Store(int32(s))
	if b.OnChange != nil {
		b.OnChange(s)
	}
}

// reset forgets the counts.
func (b *Breaker) reset() {
	b.consec.Store(0)
	for i := range b.buckets {
		b.buckets[i].epoch.Store(0)
		b.buckets[i].ok.Store(0)
		b.buckets[i].fails.Store(0)
	}
}

// bucket returns the window slice for now, emptied if it last served an
// older slice of time.
func (b *Breaker) bucket(now int64) *bucket {
	epoch := now/b.bucketDur + 1 // never 0, the value of a fresh bucket
	k := &b.buckets[epoch%windowBuckets]
	if old := k.epoch.Load(); old != epoch && k.epoch.CompareAndSwap(old, epoch) {
		k.ok.Store(0)
		k.fails.Store(0)
	}
	return k
}

// ratioExceeded reports whether the failures in the window reach the
// configured ratio.
func (b *Breaker) ratioExceeded(now int64) bool {
	epoch := now/b.bucketDur + 1
	var ok, fails int64
	for i := range b.buckets {
		k := &b.buckets[i]
		if e := k.epoch.Load(); e > epoch-windowBuckets && e <= epoch {
			ok += int64(k.ok.Load())
			fails += int64(k.fails.Load())
		}
	}
	total := ok + fails
	return total >= int64(b.cfg.MinRequests) && total > 0 && float64(fails) >= b.cfg.Ratio*float64(total)
}
