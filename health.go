package apigate

import (
	"time"

	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/internal/resilience"
)

// health is a service's live resilience state: which backends may take
// traffic (outlier ejection and active health checks), its circuit
// breaker, retry budget and per-backend in-flight caps. Each part is nil
// when off.
type health struct {
	ej          *resilience.Ejector
	ck          *resilience.Checker
	gatewayOnly bool
	slowAfter   time.Duration
	breaker     *resilience.Breaker
	budget      *resilience.Budget
	limits      []*resilience.Limiter
}

// failure records a failed exchange with backend i (a transport error the
// client did not cause).
func (h *health) failure(i int) {
	if h != nil && h.ej != nil {
		h.ej.Failure(i, time.Now().UnixNano())
	}
}

// answered records an answer from backend i with its status and latency
// to headers: a failure for outlier detection if it is a 5xx (only 502,
// 503 and 504 with GatewayErrorsOnly) or slower than SlowAfter.
func (h *health) answered(i, status int, latency time.Duration) {
	if h == nil || h.ej == nil {
		return
	}
	if h.failedAnswer(status, latency) {
		h.ej.Failure(i, time.Now().UnixNano())
		return
	}
	h.ej.Success(i)
}

// failedAnswer reports whether an answer counts as a failure for outlier
// detection.
func (h *health) failedAnswer(status int, latency time.Duration) bool {
	if h.slowAfter > 0 && latency > h.slowAfter {
		return true
	}
	if status < 500 {
		return false
	}
	return !h.gatewayOnly || isGatewayError(status)
}

// isGatewayError reports whether status says the service could not
// answer (502, 503, 504), rather than that it answered with an error.
func isGatewayError(status int) bool { return status >= 502 && status <= 504 }

// out reports whether some backend may be out, so that filter has work.
func (h *health) out() bool {
	return h.ej != nil && h.ej.Ejected() != 0 || h.ck != nil && h.ck.Unhealthy() != 0
}

// available reports whether backend i may take traffic at now.
func (h *health) available(i int, now int64) bool {
	return (h.ck == nil || h.ck.Healthy(i)) && (h.ej == nil || h.ej.Available(i, now))
}

// filter returns the candidates that may take traffic: cands itself when
// all may (without allocating), or all of them when none may: a gateway
// that answers 503 to everything helps nobody.
func (h *health) filter(cands []balancer.Backend) []balancer.Backend {
	if h == nil || !h.out() {
		return cands
	}
	now := time.Now().UnixNano()
	var up []balancer.Backend
	for j, c := range cands {
		if h.available(c.Index, now) {
			if up != nil {
				up = append(up, c)
			}
			continue
		}
		if up == nil {
			up = make([]balancer.Backend, j, len(cands))
			copy(up, cands[:j])
		}
	}
	if up == nil { // none out
		return cands
	}
	if len(up) == 0 { // all out: try them all
		return cands
	}
	return up
}

// limit returns backend i's in-flight cap, nil for none.
func (h *health) limit(i int) *resilience.Limiter {
	if h == nil || h.limits == nil {
		return nil
	}
	return h.limits[i]
}

// ejected returns how many backends outlier detection holds out.
func (h *health) ejected() int {
	if h == nil || h.ej == nil {
		return 0
	}
	return h.ej.Ejected()
}

// fails returns backend i's failures in a row.
func (h *health) fails(i int) int {
	if h == nil || h.ej == nil {
		return 0
	}
	return h.ej.Failures(i)
}

// without returns cands minus the backend with index i, for a retry.
func without(cands []balancer.Backend, i int) []balancer.Backend {
	out := make([]balancer.Backend, 0, len(cands))
	for _, c := range cands {
		if c.Index != i {
			out = append(out, c)
		}
	}
	return out
}
