package apigate

import (
	"sync/atomic"
	"time"

	"github.com/apigate-go/apigate/balancer"
)

// Passive health defaults: a backend that fails this many exchanges in a
// row (connection refused or reset, timeout, malformed response) is left
// out for the cool-down.
const (
	DefaultFailureThreshold = 3
	DefaultCoolDown         = 10 * time.Second
)

// WithPassiveHealth configures passive failure tracking: after failures
// consecutive transport failures (client cancellations do not count) a
// backend is taken out of every route's candidates for coolDown, then
// tried again; one success resets its count. failures <= 0 turns tracking
// off. The default is 3 failures and 10s. When every candidate is cooling
// down they are all tried anyway: a gateway that answers 503 to everything
// helps nobody. State is per gateway and per service backend.
func WithPassiveHealth(failures int, coolDown time.Duration) Option {
	return optionFunc(func(c *config) { c.failures, c.coolDown = failures, coolDown })
}

// health is the passive health state of one service's backends.
type health struct {
	threshold int32
	coolDown  int64 // nanoseconds
	down      atomic.Int32
	backends  []backendHealth
}

type backendHealth struct {
	fails     atomic.Int32
	downUntil atomic.Int64 // unix nanoseconds; 0 when up
}

func newHealth(n, threshold int, coolDown time.Duration) *health {
	if threshold <= 0 {
		return nil
	}
	return &health{threshold: int32(threshold), coolDown: int64(coolDown), backends: make([]backendHealth, n)}
}

// success records a good exchange with backend i.
func (h *health) success(i int) {
	if h == nil {
		return
	}
	b := &h.backends[i]
	if b.fails.Load() != 0 {
		b.fails.Store(0)
	}
	if b.downUntil.Load() != 0 && b.downUntil.Swap(0) != 0 {
		h.down.Add(-1)
	}
}

// failure records a failed exchange with backend i and starts its
// cool-down when it reaches the threshold.
func (h *health) failure(i int) {
	if h == nil {
		return
	}
	b := &h.backends[i]
	if b.downUntil.Load() != 0 {
		// Still marked down: a probe after the cool-down failed again.
		b.downUntil.Store(time.Now().UnixNano() + h.coolDown)
		return
	}
	if b.fails.Add(1) < h.threshold {
		return
	}
	b.fails.Store(0)
	if b.downUntil.Swap(time.Now().UnixNano()+h.coolDown) == 0 {
		h.down.Add(1)
	}
}

// filter returns the candidates that are not cooling down: cands itself
// when none is (without allocating), or all of them when all are.
func (h *health) filter(cands []balancer.Backend) []balancer.Backend {
	if h == nil || h.down.Load() == 0 {
		return cands
	}
	now := time.Now().UnixNano()
	var up []balancer.Backend
	for j, c := range cands {
		until := h.backends[c.Index].downUntil.Load()
		if until == 0 || until <= now {
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
	if len(up) == 0 { // none down now, or all down: try them all
		return cands
	}
	return up
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
