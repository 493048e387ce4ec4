// Package resilience holds the gateway's resilience state machines:
// outlier ejection ([Ejector]), active health checking ([Checker]),
// retry budgets ([Budget]) and backoff, circuit breaking ([Breaker]) and
// in-flight limits ([Limiter]).
//
// Each one is safe for concurrent use and built for the request path:
// the common case (nothing failing, nothing over a limit) is a few atomic
// loads and adds, without locks or allocations. Rare transitions (an
// ejection, a circuit opening) may lock or allocate. Times are Unix
// nanoseconds passed in by the caller, so a caller reads the clock once
// per request and tests drive the machines with any clock.
//
// The package speaks standard-library types only and knows nothing of
// HTTP: callers classify each exchange as a success or a failure.
package resilience
