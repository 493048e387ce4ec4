package apigate

import (
	"errors"
	"fmt"
	"time"

	"github.com/apigate-go/apigate/internal/resilience"
)

// Outlier detection defaults, after Envoy's (consecutive_5xx,
// base_ejection_time, max_ejection_time), with a larger ejection cap: a
// gateway in front of a handful of backends must be able to take out
// one of two.
const (
	DefaultOutlierFailures   = 5
	DefaultBaseEjection      = 30 * time.Second
	DefaultMaxEjection       = 5 * time.Minute
	DefaultMaxEjectedPercent = 50
)

// OutlierOptions configures outlier detection: passive health checking
// on the traffic itself. A backend that fails Failures exchanges in a row
// is ejected (gets no traffic) for BaseEjection; each ejection in a row
// lasts BaseEjection longer, up to MaxEjection. A readmitted backend is
// on probation: its first failure ejects it again at once, its first
// success ends the probation. The multiplier starts over once a backend
// has stayed in for MaxEjection.
//
// A failure is a transport error (refused, reset, timed out, malformed
// answer) or a 5xx answer (only 502, 503 and 504 with GatewayErrorsOnly),
// or an answer slower than SlowAfter when it is set. 4xx answers and
// clients that go away never count: they say nothing of the backend.
//
// Never more than MaxEjectedPercent of a service's backends are out at
// once, at least one may be and never the last one, so a service-wide
// failure does not eject every backend into a storm of 503s. If every
// candidate of a request is out (ejected or failing health checks) they
// are all tried anyway.
//
// The zero value enables detection with the defaults documented on each
// field; outlier detection is on by default.
type OutlierOptions struct {
	// Disable turns outlier detection off.
	Disable bool
	// Failures is how many failures in a row eject a backend (default 5).
	Failures int
	// BaseEjection is the first ejection's length (default 30s).
	BaseEjection time.Duration
	// MaxEjection caps the length of an ejection (default 5m; at least
	// BaseEjection).
	MaxEjection time.Duration
	// MaxEjectedPercent caps the share of a service's backends ejected at
	// once, 1–100 (default 50).
	MaxEjectedPercent int
	// GatewayErrorsOnly counts only transport errors and 502, 503 and
	// 504 answers, not other 5xx (an application bug answering 500 to
	// some requests then ejects nobody).
	GatewayErrorsOnly bool
	// SlowAfter, if positive, counts an answer whose headers took longer
	// as a failure (default 0: latency is not judged).
	SlowAfter time.Duration
}

// WithOutlierDetection sets the outlier detection of every service that
// does not set its own with [OutlierDetection].
func WithOutlierDetection(o OutlierOptions) Option {
	return optionFunc(func(c *config) { c.res.outlier = &o })
}

// OutlierDetection sets a service's outlier detection, replacing the
// gateway's ([WithOutlierDetection]).
func OutlierDetection(o OutlierOptions) ServiceOption {
	return serviceFunc(func(s *ServiceSpec) { s.shared.res.outlier = &o })
}

// WithPassiveHealth is shorthand for outlier detection that ejects a
// backend after failures failures in a row for exactly coolDown each time;
// failures <= 0 turns outlier detection off. See [OutlierOptions].
func WithPassiveHealth(failures int, coolDown time.Duration) Option {
	return WithOutlierDetection(OutlierOptions{Disable: failures <= 0, Failures: failures,
		BaseEjection: coolDown, MaxEjection: coolDown})
}

// withDefaults fills zero fields.
func (o OutlierOptions) withDefaults() OutlierOptions {
	if o.Failures == 0 {
		o.Failures = DefaultOutlierFailures
	}
	if o.BaseEjection == 0 {
		o.BaseEjection = DefaultBaseEjection
	}
	if o.MaxEjection == 0 {
		o.MaxEjection = max(DefaultMaxEjection, o.BaseEjection)
	}
	if o.MaxEjectedPercent == 0 {
		o.MaxEjectedPercent = DefaultMaxEjectedPercent
	}
	return o
}

// check reports what is wrong with o.
func (o OutlierOptions) check() error {
	if o.Disable {
		return nil
	}
	var errs []error
	if o.Failures < 0 {
		errs = append(errs, fmt.Errorf("negative Failures %d", o.Failures))
	}
	if o.BaseEjection < 0 || o.MaxEjection < 0 || o.SlowAfter < 0 {
		errs = append(errs, errors.New("negative duration"))
	}
	if o.MaxEjection > 0 && o.MaxEjection < o.BaseEjection {
		errs = append(errs, fmt.Errorf("MaxEjection %v below BaseEjection %v", o.MaxEjection, o.BaseEjection))
	}
	if o.MaxEjectedPercent < 0 || o.MaxEjectedPercent > 100 {
		errs = append(errs, fmt.Errorf("MaxEjectedPercent %d outside 0–100", o.MaxEjectedPercent))
	}
	return errors.Join(errs...)
}

// ejectorConfig returns the state machine's configuration.
func (o OutlierOptions) ejectorConfig() resilience.EjectorConfig {
	o = o.withDefaults()
	return resilience.EjectorConfig{Failures: o.Failures, Base: o.BaseEjection, Max: o.MaxEjection,
		MaxEjectedPercent: o.MaxEjectedPercent}
}

// serviceFunc is a [ServiceOption] that only services take.
type serviceFunc func(*ServiceSpec)

func (f serviceFunc) applyService(s *ServiceSpec) { f(s) }
