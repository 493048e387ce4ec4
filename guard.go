package apigate

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/internal/resilience"
	"github.com/apigate-go/apigate/observe"
)

// guard is an exchange's resilience bookkeeping: what it holds (a
// circuit breaker ticket, a place in the retry budget, a backend's
// in-flight slot) and how it ended, for the breaker.
type guard struct {
	ticket   resilience.Ticket
	outcome  resilience.Outcome
	budgeted bool // counted among the service's active requests
	retrying bool // holds a retry in the budget
	slot     int  // backend whose in-flight slot is held, plus one
	tryEnd   time.Time
	backoff  time.Duration // the wait before the retry mayRetry allowed
}

// shed answers 503 "overloaded" when the route has its maximum of
// requests in flight, and reports whether it did. Otherwise the request
// holds a slot until release.
func (x *exchange) shed() bool {
	if x.rt.res.limit.Acquire() {
		return false
	}
	x.fail(&Error{Status: http.StatusServiceUnavailable, Code: CodeOverloaded, Message: "overloaded"})
	return true
}

// admit passes the exchange through the service's circuit breaker and
// counts it in the retry budget; it returns the error to answer with when
// the circuit is open.
func (x *exchange) admit() *Error {
	h := x.bs.health
	x.guard.outcome = resilience.Neutral
	if h.breaker != nil {
		t, wait, ok := h.breaker.Allow(time.Now().UnixNano())
		if !ok {
			x.w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
			return &Error{Status: http.StatusServiceUnavailable, Code: CodeCircuitOpen, Message: "service unavailable, try again later"}
		}
		x.guard.ticket = t
	}
	if h.budget != nil && x.rt.res.retry.attempts > 1 {
		h.budget.Begin()
		x.guard.budgeted = true
	}
	return nil
}

// leave gives back what admit and the attempts took, and tells the
// breaker how the exchange ended.
func (x *exchange) leave() {
	h := x.bs.health
	x.releaseBackend()
	if x.guard.retrying {
		h.budget.RetryDone()
		x.guard.retrying = false
	}
	if x.guard.budgeted {
		h.budget.End()
		x.guard.budgeted = false
	}
	x.settle()
}

// settle tells the circuit breaker how the exchange ended, once: when
// the upstream's answer arrives (a long stream or upgraded connection
// must not hold a half-open circuit's trial until it ends), or when the
// exchange ends without one.
func (x *exchange) settle() {
	if x.guard.ticket != 0 {
		x.bs.health.breaker.Done(x.guard.ticket, x.guard.outcome, time.Now().UnixNano())
		x.guard.ticket = 0
	}
}

// takeBackend takes an in-flight slot on backend i, and reports whether
// one was free (always, without a cap).
func (x *exchange) takeBackend(i int) bool {
	lim := x.bs.health.limit(i)
	if lim == nil {
		return true
	}
	if !lim.Acquire() {
		return false
	}
	x.guard.slot = i + 1
	return true
}

// releaseBackend gives back the backend slot held, if any.
func (x *exchange) releaseBackend() {
	if x.guard.slot != 0 {
		x.bs.health.limit(x.guard.slot - 1).Release()
		x.guard.slot = 0
	}
}

// tryDeadline returns the deadline of the next attempt: the route's, or
// the per-try timeout's when it comes first.
func (x *exchange) tryDeadline() time.Time {
	x.guard.tryEnd = time.Time{}
	p := x.rt.res.retry.perTry
	if p <= 0 || x.upType != "" {
		return x.deadline
	}
	d := time.Now().Add(p)
	if !x.deadline.IsZero() && x.deadline.Before(d) {
		return x.deadline
	}
	x.guard.tryEnd = d
	return d
}

// classify says how an attempt that returned err failed.
func (x *exchange) classify(err error) failure {
	switch {
	case isDialError(err):
		return failConnect
	case isTimeout(x.o.req.Context(), err):
		if !x.guard.tryEnd.IsZero() && !time.Now().Before(x.guard.tryEnd) {
			return failReset // the per-try timeout, not the request's
		}
		return failTimeout
	case isReset(err):
		return failReset
	}
	return failProtocol
}

// isReset reports whether err is a connection reset or closed before the
// answer was complete (net/http reports a connection its reader saw
// reset as closed to its writer): the next connection may well do
// better. A malformed answer would not.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// mayRetry reports whether a request that made attempts attempts, the
// last of which failed with f, may make another, reserving a retry in the
// budget if so.
func (x *exchange) mayRetry(attempts int, f failure) bool {
	p := &x.rt.res.retry
	if attempts >= p.attempts || !mayRetry(f, x.o.req.Method, !x.streamed) {
		return false
	}
	if f == failConnect && len(x.cands) < 2 {
		return false // the only backend is down: trying it again now is no use
	}
	// A retry whose backoff runs to the deadline would be sent with no
	// time left: it would fail at once, charged to a backend that saw
	// nothing. The failure stands instead.
	x.guard.backoff = p.wait(attempts)
	if !x.deadline.IsZero() && !time.Now().Add(x.guard.backoff).Before(x.deadline) {
		return false
	}
	h := x.bs.health
	if x.guard.retrying {
		h.budget.RetryDone()
		x.guard.retrying = false
	}
	if h.budget != nil && !h.budget.Retry() {
		return false
	}
	x.guard.retrying = h.budget != nil
	return true
}

// retryAnswer reports whether the answer res of backend b is to be
// retried, and if so discards it and records the failure.
func (x *exchange) retryAnswer(b balancer.Backend, attempts int, res *http.Response, lat time.Duration) bool {
	p := &x.rt.res.retry
	if !p.retriesStatus(res.StatusCode) || x.upType != "" || !x.mayRetry(attempts, failStatus) {
		return false
	}
	res.Body.Close()
	rt := x.rt
	x.bs.health.answered(b.Index, res.StatusCode, lat)
	if tr := x.bs.bals[rt.slot].tracker; tr != nil {
		tr.Done(b.Index, balancer.Result{Status: res.StatusCode, Latency: lat})
	}
	return true
}

// again prepares retry number n (1 for the first) after a failure on
// backend b: another backend when there is one, the body rewound, the
// backoff waited. It reports false when the client left meanwhile.
func (x *exchange) again(b balancer.Backend, n, status int, code string, lat time.Duration) bool {
	x.releaseBackend()
	if len(x.cands) > 1 {
		x.cands = without(x.cands, b.Index)
	}
	x.o.rewind(x.c)
	d := x.guard.backoff
	if !x.deadline.IsZero() {
		d = min(d, time.Until(x.deadline))
	}
	g := x.rt.gw
	if g.obs != nil {
		x.emit(observe.Event{Kind: observe.RequestRetried, Backend: b.Index, Addr: b.Addr, Status: status, Code: code,
			Latency: lat, Attempt: n, Duration: d})
	}
	if d <= 0 {
		return x.r.Context().Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-x.r.Context().Done():
		return false
	}
}

// ended records how the exchange ended, for the circuit breaker: a
// transport failure or a gateway error (502, 503, 504) is a failure; a
// client that left or sent a bad body is neither; any other answer is a
// success.
func (x *exchange) ended(status int, transport bool) {
	switch {
	case status == StatusClientClosedRequest || transport && status < 500:
		x.guard.outcome = resilience.Neutral
	case transport || isGatewayError(status):
		x.guard.outcome = resilience.Failure
	default:
		x.guard.outcome = resilience.Success
	}
}
