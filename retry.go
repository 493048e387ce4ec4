package apigate

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/apigate-go/apigate/internal/resilience"
)

// Retry defaults: one retry, with Envoy's backoff (25ms base, ten times
// that at most) and retry budget (20% of active requests, at least 3
// retries in flight).
const (
	DefaultRetryAttempts       = 2
	DefaultRetryBackoff        = 25 * time.Millisecond
	DefaultRetryMaxBackoff     = 250 * time.Millisecond
	DefaultRetryBudgetPercent  = 20
	DefaultRetryMinConcurrency = 3
)

// RetryOptions configures retries: when an attempt fails, the gateway
// tries again, on another backend when the request has one, after a
// jittered backoff, as long as the request's timeout leaves time.
//
// What is retried:
//   - a connection that could not be made (the upstream saw nothing),
//     for any method whose body can be sent again, on another backend
//     (with a single candidate, a connection refused now would be
//     refused again);
//   - a connection reset or closed before the answer was complete, an
//     attempt that ran out its PerTryTimeout, and answers with a status
//     listed in Statuses, for idempotent methods only (GET, HEAD,
//     OPTIONS, TRACE, PUT, DELETE) whose body can be sent again.
//
// A body can be sent again when there is none, or when the gateway holds
// it in memory (a route with a [JSON], [Form] or [Map] input). A streamed
// body is never retried, and neither is a non-idempotent request that
// reached an upstream, nor an upgrade, nor a request whose answer has
// begun to reach the client. Malformed answers are not retried, nor is
// an attempt cut by the request timeout, which bounds all attempts
// together.
//
// The retry budget keeps retries from multiplying an outage: a retry
// starts only while the retries in flight stay within BudgetPercent of
// the service's active requests, or within MinConcurrency whatever the
// traffic (Envoy's retry budget). A retry refused by the budget leaves
// the failure as it was.
//
// The zero value enables retries with the defaults documented on each
// field; retries are on by default (one retry of connection failures and
// resets).
type RetryOptions struct {
	// Disable turns retries off.
	Disable bool
	// Attempts is the most attempts of one request, the first included
	// (default 2: one retry; at most 10).
	Attempts int
	// PerTryTimeout, if set, bounds each attempt, its answer's body
	// included, as the request timeout does; an attempt that runs out of
	// it before its answer began is cut and retried like a reset (default
	// 0: only the request timeout applies). Keep it above the slowest
	// answer's time: a long stream is cut at PerTryTimeout too.
	PerTryTimeout time.Duration
	// Backoff is the wait before the first retry, doubling for each next
	// one up to MaxBackoff; each wait is drawn between half and all of
	// that (defaults 25ms and 250ms; a negative Backoff retries at once).
	Backoff, MaxBackoff time.Duration
	// Statuses lists the answer statuses that are retried (for example
	// 503); by default none. Each must be 5xx or 429. An answer that is
	// not retried after all (no attempt, budget or time left) is passed
	// on as it was; once it is retried, the client gets what the last
	// attempt brought: its answer, or the gateway's error for its
	// failure.
	Statuses []int
	// BudgetPercent is the share of a service's active requests that may
	// be retries in flight, 1–100 (default 20).
	BudgetPercent int
	// MinConcurrency is how many retries may be in flight whatever the
	// traffic (default 3).
	MinConcurrency int
}

// WithRetries sets the retries of every route that does not set its own
// with [Retries].
func WithRetries(r RetryOptions) Option {
	r.Statuses = slices.Clone(r.Statuses)
	return optionFunc(func(c *config) { c.res.retry = &r })
}

// Retries sets the retries of a service's routes or of one route,
// replacing the gateway's ([WithRetries]). The retry budget is the
// service's, shared by its routes and sized by the service's setting (or
// the gateway's): BudgetPercent and MinConcurrency given on a route are
// ignored.
func Retries(r RetryOptions) SharedOption {
	r.Statuses = slices.Clone(r.Statuses)
	return SharedOption{func(s *sharedSpec) { s.res.retry = &r }}
}

func (r RetryOptions) withDefaults() RetryOptions {
	if r.Attempts == 0 {
		r.Attempts = DefaultRetryAttempts
	}
	if r.Backoff == 0 {
		r.Backoff = DefaultRetryBackoff
	}
	if r.MaxBackoff == 0 {
		r.MaxBackoff = max(DefaultRetryMaxBackoff, r.Backoff)
	}
	if r.BudgetPercent == 0 {
		r.BudgetPercent = DefaultRetryBudgetPercent
	}
	if r.MinConcurrency == 0 {
		r.MinConcurrency = DefaultRetryMinConcurrency
	}
	return r
}

func (r RetryOptions) check() error {
	if r.Disable {
		return nil
	}
	var errs []error
	if r.Attempts < 0 || r.Attempts > 10 {
		errs = append(errs, fmt.Errorf("attempts %d outside 1–10", r.Attempts))
	}
	if r.PerTryTimeout < 0 || r.MaxBackoff < 0 {
		errs = append(errs, errors.New("negative PerTryTimeout or MaxBackoff"))
	}
	if r.BudgetPercent < 0 || r.BudgetPercent > 100 {
		errs = append(errs, fmt.Errorf("budget percent %d outside 1–100", r.BudgetPercent))
	}
	if r.MinConcurrency < 0 {
		errs = append(errs, fmt.Errorf("negative MinConcurrency %d", r.MinConcurrency))
	}
	for _, s := range r.Statuses {
		if s != http.StatusTooManyRequests && (s < 500 || s > 599) {
			errs = append(errs, fmt.Errorf("status %d cannot be retried (only 5xx and 429)", s))
		}
	}
	return errors.Join(errs...)
}

// retryPlan is a route's compiled retry policy.
type retryPlan struct {
	attempts         int // 1: no retry
	perTry           time.Duration
	backoff, ceiling time.Duration
	statuses         [101]bool // 500–599 by status-500, 429 at 100
}

func (r RetryOptions) plan() retryPlan {
	if r.Disable {
		return retryPlan{attempts: 1}
	}
	r = r.withDefaults()
	p := retryPlan{attempts: r.Attempts, perTry: r.PerTryTimeout, backoff: max(r.Backoff, 0), ceiling: r.MaxBackoff}
	for _, s := range r.Statuses {
		if s == http.StatusTooManyRequests {
			p.statuses[100] = true
		} else {
			p.statuses[s-500] = true
		}
	}
	return p
}

// retriesStatus reports whether an answer with this status is retried.
func (p *retryPlan) retriesStatus(status int) bool {
	switch {
	case status == http.StatusTooManyRequests:
		return p.statuses[100]
	case status >= 500 && status <= 599:
		return p.statuses[status-500]
	}
	return false
}

// wait returns the backoff before retry n (1 for the first).
func (p *retryPlan) wait(n int) time.Duration {
	return resilience.Backoff(n, p.backoff, p.ceiling)
}

// idempotent reports whether a request with this method may be sent
// twice with the same effect (RFC 9110 section 9.2.2).
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// failure says how an attempt failed, for the retry decision.
type failure uint8

const (
	failConnect  failure = iota + 1 // no connection: the upstream saw nothing
	failReset                       // connection lost before an answer
	failStatus                      // an answer with a retried status
	failTimeout                     // the request's time is up
	failProtocol                    // a malformed answer: another try would get the same
)

// mayRetry reports whether an attempt that failed with f may be retried,
// for a request with this method whose body can (replayable) or cannot be
// sent again. The budget and the attempt count are checked apart.
func mayRetry(f failure, method string, replayable bool) bool {
	if !replayable {
		return false
	}
	switch f {
	case failConnect:
		return true
	case failReset, failStatus:
		return idempotent(method)
	}
	return false
}
