package resilience

import (
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// Budget bounds retries as a share of the requests in flight, as Envoy's
// retry budget does (budget_percent, min_retry_concurrency): a retry may
// start while the retries in flight stay within Percent of the active
// requests, or within Min whatever the traffic, so retries cannot
// multiply the load on a failing service.
type Budget struct {
	percent, min int32
	active       atomic.Int32
	retries      atomic.Int32
}

// NewBudget returns a budget of percent (0–100) of active requests, and
// at least minRetries retries in flight.
func NewBudget(percent, minRetries int) *Budget {
	return &Budget{percent: int32(percent), min: int32(minRetries)}
}

// Begin records a request that may retry; End must follow.
func (b *Budget) Begin() { b.active.Add(1) }

// End records the end of a request recorded with Begin.
func (b *Budget) End() { b.active.Add(-1) }

// Retry reports whether a retry may start now, and reserves it if so;
// [Budget.RetryDone] must follow a reserved retry.
func (b *Budget) Retry() bool {
	n := b.retries.Add(1)
	if n <= b.min || int64(n)*100 <= int64(b.active.Load())*int64(b.percent) {
		return true
	}
	b.retries.Add(-1)
	return false
}

// RetryDone releases a retry reserved with [Budget.Retry].
func (b *Budget) RetryDone() { b.retries.Add(-1) }

// InFlight returns the active requests and the retries in flight.
func (b *Budget) InFlight() (active, retries int) {
	return int(b.active.Load()), int(b.retries.Load())
}

// Backoff returns the wait before retry number n (1 for the first):
// exponential from base, capped at ceil, with "equal jitter": a random
// wait between half the step and the step, so retries from many clients
// spread out but never fire at once.
func Backoff(n int, base, ceil time.Duration) time.Duration {
	if base <= 0 {
		return 0
	}
	d := max(ceil, base)
	if n >= 1 && n < 32 {
		if s := base << (n - 1); s > 0 && s < d {
			d = s
		}
	}
	half := d / 2
	return half + rand.N(d-half+1)
}
