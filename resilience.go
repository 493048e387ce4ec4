package apigate

import (
	"context"
	"errors"
	"fmt"

	"github.com/apigate-go/apigate/internal/resilience"
	"github.com/apigate-go/apigate/observe"
)

// resilienceSpec is the resilience configuration given at one level
// (gateway, service or route); nil and false fields inherit.
type resilienceSpec struct {
	outlier                       *OutlierOptions
	health                        *HealthCheckOptions
	retry                         *RetryOptions
	breaker                       *BreakerOptions
	maxInFlight, backendMax       int
	hasMaxInFlight, hasBackendMax bool
	checked                       bool // gateway level: validated once
}

// over returns r with what o sets replacing it.
func (r resilienceSpec) over(o resilienceSpec) resilienceSpec {
	if o.outlier != nil {
		r.outlier = o.outlier
	}
	if o.health != nil {
		r.health = o.health
	}
	if o.retry != nil {
		r.retry = o.retry
	}
	if o.breaker != nil {
		r.breaker = o.breaker
	}
	if o.hasMaxInFlight {
		r.maxInFlight, r.hasMaxInFlight = o.maxInFlight, true
	}
	if o.hasBackendMax {
		r.backendMax, r.hasBackendMax = o.backendMax, true
	}
	return r
}

// check validates the options set at one level, naming them with the
// option constructors of that level (prefix "With" at gateway level).
func (r *resilienceSpec) check(gateway bool) error {
	name := func(s string) string {
		if gateway {
			return "With" + s
		}
		return s
	}
	var errs []error
	add := func(opt string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", opt, err))
		}
	}
	if r.outlier != nil {
		add(name("OutlierDetection"), r.outlier.check())
	}
	if r.health != nil {
		add(name("HealthCheck"), r.health.check())
	}
	if r.retry != nil {
		add(name("Retries"), r.retry.check())
	}
	if r.breaker != nil {
		add(name("CircuitBreaker"), r.breaker.check())
	}
	if r.maxInFlight < 0 {
		add(name("MaxInFlight"), fmt.Errorf("negative limit %d", r.maxInFlight))
	}
	if r.backendMax < 0 {
		add(name("BackendMaxInFlight"), fmt.Errorf("negative limit %d", r.backendMax))
	}
	return errors.Join(errs...)
}

// compileService builds svc's resilience state (health, outlier
// ejection, circuit breaker, retry budget, backend limits) from the
// gateway's and the service's settings, and starts its health checker.
func (g *Gateway) compileService(c *config, s *ServiceSpec, svc *service) []error {
	var errs []error
	if !c.res.checked {
		c.res.checked = true
		if err := c.res.check(true); err != nil {
			errs = append(errs, fmt.Errorf("apigate: %w", err))
		}
	}
	if err := s.shared.res.check(false); err != nil {
		errs = append(errs, fmt.Errorf("apigate: service %q: %w", s.name, err))
	}
	if len(errs) > 0 {
		return errs
	}
	spec := c.res.over(s.shared.res)
	svc.res = spec
	if hc := spec.health; hc != nil && !hc.Disable && g.bg.ctx == nil {
		g.bg.ctx, g.bg.stop = context.WithCancel(context.Background())
	}
	if b := spec.breaker; b != nil && !b.Disable {
		svc.breaker = resilience.NewBreaker(b.breakerConfig())
		svc.breaker.OnChange = func(st resilience.State) {
			ev := observe.Event{Kind: observe.CircuitClosed, Backend: -1}
			switch st {
			case resilience.Open:
				ev.Kind, ev.Duration = observe.CircuitOpened, b.withDefaults().OpenFor
			case resilience.HalfOpen:
				ev.Kind = observe.CircuitHalfOpen
			}
			g.emitService(svc, ev)
		}
	}
	// The budget exists even when the service's retries are off: one of
	// its routes may turn them on.
	var budget RetryOptions
	if spec.retry != nil {
		budget = *spec.retry
	}
	budget = budget.withDefaults()
	svc.budget = resilience.NewBudget(budget.BudgetPercent, budget.MinConcurrency)
	return nil
}

// routeResilience is a route's compiled resilience plan.
type routeResilience struct {
	retry retryPlan
	limit *resilience.Limiter // nil: no cap
}

// compileRoute builds rt's retry plan and in-flight cap.
func (rt *route) compileResilience(c *config, s *ServiceSpec, rs *routeSpec) error {
	if err := rs.shared.res.check(false); err != nil {
		return err
	}
	spec := c.res.over(s.shared.res).over(rs.shared.res)
	if spec.retry != nil {
		rt.res.retry = spec.retry.plan()
	} else {
		rt.res.retry = RetryOptions{}.plan()
	}
	if spec.maxInFlight > 0 {
		rt.res.limit = resilience.NewLimiter(spec.maxInFlight)
	}
	return nil
}

// start starts the background work compiled into g.
func (g *Gateway) start() {
	for _, svc := range g.services {
		g.startSet(svc.set.Load())
	}
	for _, d := range g.bg.discover {
		g.bg.wg.Add(1)
		go func() {
			defer g.bg.wg.Done()
			d.run(g.bg.ctx)
		}()
	}
}
