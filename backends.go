package apigate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/internal/h1"
	"github.com/apigate-go/apigate/internal/resilience"
	"github.com/apigate-go/apigate/observe"
)

// backendSet is one immutable version of a service's backends with
// everything indexed by backend: parsed URLs, the list balancers and
// strategies see, per-backend health, and each route's balancer. A
// request loads the service's current set once and uses it to the end, so
// it never sees half of an update.
type backendSet struct {
	backends []upstream
	all      []balancer.Backend
	health   *health
	bals     []routeBalancer // by route slot
	stop     context.CancelFunc
}

// routeBalancer is one route's balancer for one backend set.
type routeBalancer struct {
	bal     balancer.Balancer
	tracker balancer.Tracker
}

// ErrNoBackends is returned (wrapped) by [Gateway.SetBackends] and
// reported by discovery when an update would leave a service without
// backends. The update is refused: the service keeps its last good set.
var ErrNoBackends = errors.New("no backends")

// SetBackends replaces the backends (and weights) of the service named
// name, atomically: a request uses either the old set or the new one,
// never a mix, at the cost of one atomic load per request. Requests in
// flight to a backend that left complete on it; no new request goes
// there.
//
// State is keyed by backend URL, so a backend in both sets keeps its
// outlier-detection and health-check state and its in-flight cap, and
// consistent hashing ([balancer.ConsistentHash]) moves only the keys of
// backends that left or joined. Balancers start afresh with each set
// (least-request and least-time relearn within a few requests). The
// idle connections to a backend that left are closed at once on
// EngineHTTP1, and those of its exchanges still in flight as each ends;
// net/http's Transport has no per-host close, so there they close after
// [UpstreamOptions.IdleConnTimeout].
//
// An empty list, an invalid URL or a negative weight is refused: the
// service keeps its set, the observer gets a BackendsRefused event and
// the error is returned. A Weight of 0 counts as 1.
func (g *Gateway) SetBackends(name string, backends ...Backend) error {
	svc := g.service(name)
	if svc == nil {
		return fmt.Errorf("apigate: SetBackends: no service %q", name)
	}
	return g.setBackends(svc, backends)
}

// Backends returns the current backends of the service named name, nil
// if there is no such service.
func (g *Gateway) Backends(name string) []Backend {
	svc := g.service(name)
	if svc == nil {
		return nil
	}
	set := svc.set.Load()
	out := make([]Backend, len(set.all))
	for i, b := range set.all {
		out[i] = Backend{URL: b.Addr, Weight: b.Weight}
	}
	return out
}

func (g *Gateway) service(name string) *service {
	for _, s := range g.services {
		if s.name == name {
			return s
		}
	}
	return nil
}

// setBackends builds and publishes a new set for svc, or reports why not.
func (g *Gateway) setBackends(svc *service, backends []Backend) error {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	old := svc.set.Load()
	var set *backendSet
	err := ErrNoBackends
	if len(backends) > 0 {
		set, err = g.newSet(svc, backends, old)
	}
	if err != nil {
		err = fmt.Errorf("apigate: service %q: %w", svc.name, err)
		g.emitService(svc, observe.Event{Kind: observe.BackendsRefused, Backend: -1, Err: err})
		return err
	}
	svc.set.Store(set)
	g.startSet(set)
	g.retire(svc, old, set)
	g.emitService(svc, observe.Event{Kind: observe.BackendsChanged, Backend: -1})
	return nil
}

// retire stops old's health checks and closes the idle connections of
// the backends that are not in set.
func (g *Gateway) retire(svc *service, old, set *backendSet) {
	if old.stop != nil {
		old.stop()
		old.health.ck.Wait()
	}
	t, ok := g.ownTransport.(*h1.Transport)
	if !ok {
		return
	}
	keep := make(map[string]bool, len(set.backends))
	for _, u := range set.backends {
		keep[u.host] = true
	}
	for _, u := range old.backends {
		if !keep[u.host] && u.scheme == "http" {
			t.CloseIdleHost(u.host)
		}
	}
}

// closeIfRetired closes the idle connections to host unless a backend of
// set is there: an exchange that was in flight on a backend when it left
// returns its connection to the pool after retire closed the idle ones.
func (g *Gateway) closeIfRetired(set *backendSet, host string) {
	t, ok := g.ownTransport.(*h1.Transport)
	if !ok {
		return
	}
	for _, u := range set.backends {
		if u.host == host {
			return
		}
	}
	t.CloseIdleHost(host)
}

// startSet starts set's health checks.
func (g *Gateway) startSet(set *backendSet) {
	if set.health.ck == nil {
		return
	}
	ctx, cancel := context.WithCancel(g.bg.ctx)
	set.stop = cancel
	set.health.ck.Start(ctx)
}

// newSet builds a backend set for svc from backends, carrying the
// per-backend state of old (nil at build) for the URLs in both.
func (g *Gateway) newSet(svc *service, backends []Backend, old *backendSet) (*backendSet, error) {
	set := &backendSet{}
	var errs []error
	for _, b := range backends {
		u, err := parseBackend(b.URL)
		if err == nil && b.Weight < 0 {
			err = fmt.Errorf("backend %q: negative weight %d", b.URL, b.Weight)
		}
		if err == nil && u.scheme == "https" && svc.plainOnly {
			err = fmt.Errorf("backend %q: EngineHTTP1 speaks plain HTTP only", b.URL)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		set.all = append(set.all, balancer.Backend{Index: len(set.backends), Addr: b.URL, Weight: max(b.Weight, 1)})
		set.backends = append(set.backends, u)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	set.health = g.newHealth(svc, set)
	if old != nil {
		was := make(map[string]int, len(old.all))
		for i, b := range old.all {
			if _, dup := was[b.Addr]; !dup {
				was[b.Addr] = i
			}
		}
		h, oh := set.health, old.health
		for i, b := range set.all {
			j, ok := was[b.Addr]
			if !ok {
				continue
			}
			if h.ej != nil && oh.ej != nil {
				h.ej.Carry(oh.ej, j, i)
			}
			if h.ck != nil && oh.ck != nil {
				h.ck.Carry(oh.ck, j, i)
			}
			if h.limits != nil && oh.limits != nil {
				h.limits[i] = oh.limits[j] // the same cap, in-flight requests included
			}
		}
	}
	set.bals = make([]routeBalancer, len(svc.routes))
	for i, rt := range svc.routes {
		bal := rt.newBal(append([]balancer.Backend(nil), set.all...))
		if bal == nil {
			return nil, fmt.Errorf("%s %s: policy %q: its balancer factory returned nil", rt.method, rt.pattern, rt.polName)
		}
		set.bals[i].bal = bal
		set.bals[i].tracker, _ = bal.(balancer.Tracker)
	}
	return set, nil
}

// newHealth builds set's per-backend resilience state (outlier ejection,
// health checks, in-flight caps) from svc's settings; the circuit breaker
// and retry budget are the service's, shared by all its sets.
func (g *Gateway) newHealth(svc *service, set *backendSet) *health {
	spec := svc.res
	n := len(set.backends)
	h := &health{breaker: svc.breaker, budget: svc.budget}
	if o := spec.outlier; o == nil || !o.Disable {
		var opts OutlierOptions
		if o != nil {
			opts = *o
		}
		h.ej = resilience.NewEjector(n, opts.ejectorConfig())
		h.gatewayOnly, h.slowAfter = opts.GatewayErrorsOnly, opts.SlowAfter
		h.ej.OnChange = func(i int, ejected bool, d time.Duration) {
			kind := observe.BackendReadmitted
			if ejected {
				kind = observe.BackendEjected
			}
			g.emitSet(svc, set, observe.Event{Kind: kind, Backend: i, Duration: d})
		}
	}
	if hc := spec.health; hc != nil && !hc.Disable {
		h.ck = resilience.NewChecker(n, hc.checkerConfig(), g.prober(svc, set, *hc))
		h.ck.OnChange = func(i int, healthy bool) {
			kind := observe.BackendUnhealthy
			if healthy {
				kind = observe.BackendHealthy
			}
			g.emitSet(svc, set, observe.Event{Kind: kind, Backend: i})
		}
	}
	if spec.backendMax > 0 {
		h.limits = make([]*resilience.Limiter, n)
		for i := range h.limits {
			h.limits[i] = resilience.NewLimiter(spec.backendMax)
		}
	}
	return h
}
