package apigate

import (
	"errors"
	"fmt"
	"time"

	"github.com/apigate-go/apigate/internal/resilience"
)

// CodeCircuitOpen is the code of the 503 a request gets while its
// service's circuit is open (see [BreakerOptions]).
const CodeCircuitOpen = "circuit_open"

// Circuit breaker defaults.
const (
	DefaultBreakerRatio       = 0.5
	DefaultBreakerMinRequests = 20
	DefaultBreakerWindow      = 10 * time.Second
	DefaultBreakerOpenFor     = 5 * time.Second
	DefaultBreakerProbes      = 3
)

// BreakerOptions configures a service's circuit breaker. While the
// circuit is closed, every request goes through and the breaker counts
// the service's failures: transport errors (refused, reset, timed out)
// and 502, 503 and 504 answers, after retries. When FailureRatio of the
// requests in the last Window failed (once there were MinRequests), or
// ConsecutiveFailures failed in a row, the circuit opens: for OpenFor,
// every request of the service gets 503 "circuit_open" with a
// Retry-After header at once, and no upstream is contacted. Then the
// circuit is half-open: Probes requests go through as trials; if they
// all succeed the circuit closes, if one fails it opens again.
//
// Other 5xx answers (an application error) and 4xx answers count as
// successes: the service answered. Clients that go away count as
// neither.
//
// The circuit breaker is off by default: configure it with
// [WithCircuitBreaker] or [CircuitBreaker]. The zero value then uses the
// defaults documented on each field.
type BreakerOptions struct {
	// Disable turns the breaker off (for a service, when the gateway sets
	// one for all).
	Disable bool
	// FailureRatio opens the circuit when this share of the requests in
	// Window failed, 0–1 (default 0.5; negative leaves this criterion
	// off).
	FailureRatio float64
	// MinRequests is how many requests Window must hold before
	// FailureRatio is judged (default 20).
	MinRequests int
	// Window is the span FailureRatio looks back over (default 10s).
	Window time.Duration
	// ConsecutiveFailures, if positive, opens the circuit after that many
	// failed requests in a row (default 0: off).
	ConsecutiveFailures int
	// OpenFor is how long the circuit stays open (default 5s).
	OpenFor time.Duration
	// Probes is how many trial requests a half-open circuit lets through
	// (default 3).
	Probes int
}

// WithCircuitBreaker gives every service that does not set its own
// ([CircuitBreaker]) a circuit breaker.
func WithCircuitBreaker(b BreakerOptions) Option {
	return optionFunc(func(c *config) { c.res.breaker = &b })
}

// CircuitBreaker sets a service's circuit breaker, replacing the
// gateway's ([WithCircuitBreaker]).
func CircuitBreaker(b BreakerOptions) ServiceOption {
	return serviceFunc(func(s *ServiceSpec) { s.shared.res.breaker = &b })
}

func (b BreakerOptions) withDefaults() BreakerOptions {
	if b.FailureRatio == 0 {
		b.FailureRatio = DefaultBreakerRatio
	}
	b.FailureRatio = max(b.FailureRatio, 0)
	if b.MinRequests == 0 {
		b.MinRequests = DefaultBreakerMinRequests
	}
	if b.Window == 0 {
		b.Window = DefaultBreakerWindow
	}
	if b.OpenFor == 0 {
		b.OpenFor = DefaultBreakerOpenFor
	}
	if b.Probes == 0 {
		b.Probes = DefaultBreakerProbes
	}
	return b
}

func (b BreakerOptions) check() error {
	if b.Disable {
		return nil
	}
	var errs []error
	if b.FailureRatio > 1 {
		errs = append(errs, fmt.Errorf("failure ratio %v above 1", b.FailureRatio))
	}
	if b.MinRequests < 0 || b.ConsecutiveFailures < 0 || b.Probes < 0 {
		errs = append(errs, errors.New("negative MinRequests, ConsecutiveFailures or Probes"))
	}
	if b.Window < 0 || b.OpenFor < 0 {
		errs = append(errs, errors.New("negative Window or OpenFor"))
	}
	if b.FailureRatio < 0 && b.ConsecutiveFailures == 0 {
		errs = append(errs, errors.New("no criterion to open the circuit (FailureRatio off and no ConsecutiveFailures)"))
	}
	return errors.Join(errs...)
}

func (b BreakerOptions) breakerConfig() resilience.BreakerConfig {
	b = b.withDefaults()
	return resilience.BreakerConfig{Consecutive: b.ConsecutiveFailures, Ratio: b.FailureRatio, MinRequests: b.MinRequests,
		Window: b.Window, OpenFor: b.OpenFor, Probes: b.Probes}
}

// retryAfter returns the Retry-After value for a wait: whole seconds,
// rounded up, at least 1.
func retryAfter(wait time.Duration) int {
	return max(int((wait+time.Second-1)/time.Second), 1)
}
