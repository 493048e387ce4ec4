package resilience

import "sync/atomic"

// Limiter caps work in flight. Its zero value is unusable; a nil
// *Limiter admits everything at no cost.
type Limiter struct {
	max int32
	n   atomic.Int32
}

// NewLimiter returns a limiter of max in flight (>= 1).
func NewLimiter(max int) *Limiter { return &Limiter{max: int32(max)} }

// Acquire reports whether one more may start, and counts it if so;
// [Limiter.Release] must follow an admitted one.
func (l *Limiter) Acquire() bool {
	if l == nil {
		return true
	}
	if l.n.Add(1) > l.max {
		l.n.Add(-1)
		return false
	}
	return true
}

// Release ends one admitted by [Limiter.Acquire].
func (l *Limiter) Release() {
	if l != nil {
		l.n.Add(-1)
	}
}

// InFlight returns how many are in flight.
func (l *Limiter) InFlight() int {
	if l == nil {
		return 0
	}
	return int(l.n.Load())
}
