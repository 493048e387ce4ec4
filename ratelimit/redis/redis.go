// Package redis is a [ratelimit.Limiter] that keeps its state in Redis,
// so that every gateway replica using the same Redis shares one budget
// per key.
//
// It is a separate module so that the gateway itself does not depend on
// a Redis client:
//
//	go get github.com/apigate-go/apigate/ratelimit/redis
//
// Each decision is one round trip: a Lua script, sent once and then run
// by its hash (EVALSHA, with EVAL when Redis has forgotten it, after a
// restart), reads and updates the key's one GCRA timestamp atomically
// and sets its expiry to the moment its budget is full again, so idle
// keys vanish from Redis on their own. Time is Redis's clock (the TIME
// command), so replicas whose clocks disagree still agree on limits.
//
// When Redis cannot answer in time (down, unreachable, slow), the
// limiter fails open by default, letting requests through; set
// [Options.FailClosed] to refuse them instead (the gateway answers 503
// "limiter_unavailable"). Either way the error goes to [Options.OnError],
// and with FailClosed to the gateway's observer as well.
package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/apigate-go/apigate/ratelimit"
	goredis "github.com/redis/go-redis/v9"
)

// DefaultPrefix is the key prefix when [Options.Prefix] is empty.
const DefaultPrefix = "apigate:rl:"

// DefaultTimeout bounds one decision when [Options.Timeout] is zero.
const DefaultTimeout = 100 * time.Millisecond

// Options configures a [Limiter]. The zero value is usable.
type Options struct {
	// Prefix starts every key the limiter writes (DefaultPrefix when
	// empty); the rest is the limit's name, ":", and the request's key.
	Prefix string
	// Timeout bounds one decision, round trip included (DefaultTimeout
	// when zero). Past it the decision fails as when Redis is down.
	Timeout time.Duration
	// FailClosed refuses requests when Redis cannot decide; by default
	// they are allowed (fail open).
	FailClosed bool
	// OnError, if set, is called with every failure, wrapping
	// [ratelimit.ErrUnavailable], on the request's goroutine: it must be
	// fast and safe for concurrent use.
	OnError func(error)
}

// Limiter is a [ratelimit.Limiter] backed by Redis. It is safe for
// concurrent use.
type Limiter struct {
	client goredis.Scripter
	o      Options
}

// New returns a limiter that runs its script through client: a
// *redis.Client, a *redis.ClusterClient (a decision touches one key) or
// a *redis.Ring. Keep the client's retries low (MaxRetries) so that a
// failing Redis costs requests little time; Options.Timeout bounds it in
// any case.
func New(client goredis.Scripter, o Options) *Limiter {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return &Limiter{client: client, o: o}
}

// gcra is [ratelimit.Limit.Apply] in Lua, in microseconds on Redis's
// clock. KEYS[1] holds the theoretical arrival time; ARGV[1] is the
// emission interval and ARGV[2] the burst. It returns {allowed,
// remaining, retry after, reset}. Lua numbers are doubles: microseconds
// since 1970 stay exact (below 2^53) for centuries.
var gcra = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local nxt = tat + interval
local allow_at = nxt - burst * interval
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.ceil((nxt - now) / 1000))
return {1, math.floor((now - allow_at) / interval), 0, nxt - now}
`)

// Allow counts one request for key under l, in one round trip. It
// ignores now: Redis's clock decides. On failure it returns an error
// wrapping [ratelimit.ErrUnavailable] with a decision that allows the
// request unless Options.FailClosed is set.
func (r *Limiter) Allow(ctx context.Context, l ratelimit.Limit, key string, _ time.Time) (ratelimit.Decision, error) {
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	k := r.o.Prefix + l.PolicyName() + ":" + key
	res, err := gcra.Run(ctx, r.client, []string{k}, int64(l.Interval()/time.Microsecond), l.Capacity()).Int64Slice()
	if err == nil && len(res) != 4 {
		err = fmt.Errorf("script returned %d values, want 4", len(res))
	}
	if err != nil {
		err = fmt.Errorf("%w: %w", ratelimit.ErrUnavailable, err)
		if r.o.OnError != nil {
			r.o.OnError(err)
		}
		return ratelimit.Decision{Allowed: !r.o.FailClosed}, err
	}
	return ratelimit.Decision{
		Allowed:    res[0] == 1,
		Remaining:  int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond,
		Reset:      time.Duration(res[3]) * time.Microsecond,
	}, nil
}
