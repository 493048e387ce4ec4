// Package ratelimit decides whether a request may go ahead under a rate
// limit: the [Limiter] interface a gateway asks, the GCRA arithmetic every
// store shares ([Limit.Apply]), and [Local], a bounded in-memory store.
//
// The algorithm is the generic cell rate algorithm (GCRA), a token bucket
// that keeps one number per key: the theoretical arrival time (TAT) of
// the next request when the client sends at exactly the allowed rate. A
// request is allowed when it does not arrive more than Burst intervals
// before that time. One timestamp per key is what makes the algorithm
// cheap to share: a store such as Redis updates it atomically in one
// script (see the nested module github.com/apigate-go/apigate/ratelimit/redis).
//
// The package speaks standard-library types only and never imports the
// gateway package.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limit is a rate limit: Rate requests per Per, with bursts of up to
// Burst requests at once. State is kept per Name and key, so two routes
// that use the same Name share their budget.
type Limit struct {
	// Name identifies the limit: it names the policy in the RateLimit and
	// RateLimit-Policy response headers and separates its state from other
	// limits' in a shared store. It is made of letters, digits and
	// "-_.:" ("" means "default").
	Name string
	// Rate is the number of requests allowed per Per, in the long run.
	Rate int
	// Per is the period Rate counts over (a second, a minute).
	Per time.Duration
	// Burst is the most requests a client may send at once after being
	// idle; 0 means Rate.
	Burst int
}

// Interval returns the emission interval, Per/Rate: the time one request
// costs.
func (l Limit) Interval() time.Duration { return l.Per / time.Duration(l.Rate) }

// Capacity returns the effective burst: Burst, or Rate when Burst is 0.
func (l Limit) Capacity() int {
	if l.Burst > 0 {
		return l.Burst
	}
	return l.Rate
}

// PolicyName returns Name, or "default" when it is empty.
func (l Limit) PolicyName() string {
	if l.Name == "" {
		return "default"
	}
	return l.Name
}

// maxCapacity bounds Burst so that Capacity*Interval cannot overflow.
const maxCapacity = 1 << 30

// Check reports whether the limit is usable: a positive rate and period,
// an interval of at least a microsecond (stores count in microseconds), a
// burst that is not negative, and a name made of safe characters.
func (l Limit) Check() error {
	switch {
	case l.Rate <= 0:
		return fmt.Errorf("ratelimit: rate must be positive, got %d", l.Rate)
	case l.Per <= 0:
		return fmt.Errorf("ratelimit: period must be positive, got %v", l.Per)
	case l.Interval() < time.Microsecond:
		return fmt.Errorf("ratelimit: %d per %v is more than one request per microsecond", l.Rate, l.Per)
	case l.Burst < 0 || l.Burst > maxCapacity:
		return fmt.Errorf("ratelimit: burst %d out of range [0, %d]", l.Burst, maxCapacity)
	case time.Duration(l.Capacity()) > (1<<62)/l.Interval():
		return fmt.Errorf("ratelimit: burst %d of %v each is too long a window", l.Capacity(), l.Interval())
	}
	for i := 0; i < len(l.Name); i++ {
		c := l.Name[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':' {
			continue
		}
		return fmt.Errorf("ratelimit: name %q: character %q not allowed (use letters, digits and -_.:)", l.Name, c)
	}
	return nil
}

// Decision is a limiter's answer for one request.
type Decision struct {
	// Allowed reports whether the request may go ahead.
	Allowed bool
	// Remaining is how many more requests the key may send right now.
	Remaining int
	// RetryAfter is, for a refused request, how long until one request
	// would be allowed; 0 when allowed.
	RetryAfter time.Duration
	// Reset is how long until the key's full burst is available again (0
	// when it already is).
	Reset time.Duration
}

// Limiter is a rate-limit store. Allow counts one request for key under l
// at time now and reports whether it may go ahead; a store that keeps
// shared state may use its own clock instead of now, and should answer in
// one round trip.
//
// When Allow cannot decide (a store is unreachable), it returns a non-nil
// error together with the Decision to act on: Allowed true to fail open,
// false to fail closed. A gateway refuses a request that failed closed
// with 503, not 429.
//
// Implementations must be safe for concurrent use.
type Limiter interface {
	Allow(ctx context.Context, l Limit, key string, now time.Time) (Decision, error)
}

// ErrUnavailable is the error a store wraps when it cannot reach its
// state.
var ErrUnavailable = errors.New("ratelimit: store unavailable")

// Apply is GCRA: given the key's stored theoretical arrival time tat (0
// for a key without state) and the time now, both in nanoseconds on any
// common clock, it returns the decision and the TAT to store (unchanged
// when refused). State older than now is the same as no state, so a store
// may forget a key once now passes its TAT.
func (l Limit) Apply(tat, now int64) (Decision, int64) {
	t := int64(l.Interval())
	if tat < now {
		tat = now
	}
	next := tat + t
	allowAt := next - int64(l.Capacity())*t
	if now < allowAt {
		return Decision{RetryAfter: time.Duration(allowAt - now), Reset: time.Duration(tat - now)}, tat
	}
	return Decision{Allowed: true, Remaining: int((now - allowAt) / t), Reset: time.Duration(next - now)}, next
}
