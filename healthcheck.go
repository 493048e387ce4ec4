package apigate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/apigate-go/apigate/internal/resilience"
	"github.com/apigate-go/apigate/internal/rewrite"
	"github.com/apigate-go/apigate/observe"
)

// Active health check defaults.
const (
	DefaultHealthInterval  = 10 * time.Second
	DefaultHealthTimeout   = 2 * time.Second
	DefaultHealthyAfter    = 2
	DefaultUnhealthyAfter  = 2
	DefaultHealthStatusMin = 200
	DefaultHealthStatusMax = 399
)

// HealthCheckOptions configures active health checks: the gateway sends
// GET Path to every backend of the service every Interval (give or take
// Jitter) and reads the answer. A backend that fails UnhealthyAfter
// probes in a row (no answer within Timeout, or a status outside
// StatusMin–StatusMax) gets no traffic until it passes HealthyAfter
// probes in a row. Every backend starts healthy and is probed as soon as
// the gateway is built; [Gateway.Close] stops the probes.
//
// Active checks are off unless Path is set. Probes are observer events
// (HealthChecked, and BackendUnhealthy / BackendHealthy on changes). If
// every candidate of a request is out they are all tried anyway.
type HealthCheckOptions struct {
	// Disable turns active checks off (for a service, when the gateway
	// sets them for all).
	Disable bool
	// Path is the path probed, such as "/healthz", sent as is (the
	// backend's base path is not added). Required.
	Path string
	// Host, if set, is the Host header of probes; by default the
	// backend's host.
	Host string
	// Interval is the time between probes of one backend (default 10s).
	Interval time.Duration
	// Jitter varies each interval by up to this much either way, so the
	// probes of many gateways do not fall in step (default Interval/10;
	// negative for none).
	Jitter time.Duration
	// Timeout bounds one probe (default 2s, or Interval if shorter). The
	// interval runs from the end of one probe to the start of the next,
	// so probes of one backend never overlap.
	Timeout time.Duration
	// HealthyAfter is how many passed probes in a row bring a backend
	// back (default 2); UnhealthyAfter how many failed ones take it out
	// (default 2).
	HealthyAfter, UnhealthyAfter int
	// StatusMin and StatusMax bound the statuses that pass (defaults 200
	// and 399, each on its own).
	StatusMin, StatusMax int
}

// WithHealthCheck sets the active health checks of every service that
// does not set its own with [HealthCheck].
func WithHealthCheck(h HealthCheckOptions) Option {
	return optionFunc(func(c *config) { c.res.health = &h })
}

// HealthCheck sets a service's active health checks, replacing the
// gateway's ([WithHealthCheck]).
func HealthCheck(h HealthCheckOptions) ServiceOption {
	return serviceFunc(func(s *ServiceSpec) { s.shared.res.health = &h })
}

func (h HealthCheckOptions) withDefaults() HealthCheckOptions {
	if h.Interval == 0 {
		h.Interval = DefaultHealthInterval
	}
	if h.Jitter == 0 {
		h.Jitter = h.Interval / 10
	}
	h.Jitter = max(h.Jitter, 0)
	if h.Timeout == 0 {
		h.Timeout = min(DefaultHealthTimeout, h.Interval)
	}
	if h.HealthyAfter == 0 {
		h.HealthyAfter = DefaultHealthyAfter
	}
	if h.UnhealthyAfter == 0 {
		h.UnhealthyAfter = DefaultUnhealthyAfter
	}
	if h.StatusMin == 0 {
		h.StatusMin = DefaultHealthStatusMin
	}
	if h.StatusMax == 0 {
		h.StatusMax = DefaultHealthStatusMax
	}
	return h
}

func (h HealthCheckOptions) check() error {
	if h.Disable {
		return nil
	}
	var errs []error
	switch {
	case h.Path == "":
		errs = append(errs, errors.New("no Path (set one, or Disable)"))
	case h.Path[0] != '/':
		errs = append(errs, fmt.Errorf("path %q must start with /", h.Path))
	default:
		p, _, _ := strings.Cut(h.Path, "?")
		if err := rewrite.Check(p); err != nil {
			errs = append(errs, fmt.Errorf("path %q: %w", h.Path, err))
		} else if u, err := url.Parse("http://host" + h.Path); err != nil || u.Fragment != "" || strings.ContainsAny(h.Path, " #\r\n") {
			errs = append(errs, fmt.Errorf("path %q is not a valid request target", h.Path))
		}
	}
	if strings.ContainsAny(h.Host, " /\r\n") {
		errs = append(errs, fmt.Errorf("invalid Host %q", h.Host))
	}
	if h.Interval < 0 || h.Timeout < 0 {
		errs = append(errs, errors.New("negative Interval or Timeout"))
	}
	d := h.withDefaults()
	if d.Interval > 0 && d.Interval < time.Millisecond {
		errs = append(errs, fmt.Errorf("interval %v below 1ms", d.Interval))
	}
	if d.Jitter >= d.Interval && d.Interval > 0 {
		errs = append(errs, fmt.Errorf("jitter %v not below the interval %v", d.Jitter, d.Interval))
	}
	if h.HealthyAfter < 0 || h.UnhealthyAfter < 0 {
		errs = append(errs, errors.New("negative HealthyAfter or UnhealthyAfter"))
	}
	if d.StatusMin < 100 || d.StatusMax > 599 || d.StatusMin > d.StatusMax {
		errs = append(errs, fmt.Errorf("status range %d–%d is not within 100–599", d.StatusMin, d.StatusMax))
	}
	return errors.Join(errs...)
}

// checkerConfig returns the state machine's configuration.
func (h HealthCheckOptions) checkerConfig() resilience.CheckerConfig {
	h = h.withDefaults()
	return resilience.CheckerConfig{Interval: h.Interval, Jitter: h.Jitter, Timeout: h.Timeout,
		Healthy: h.HealthyAfter, Unhealthy: h.UnhealthyAfter}
}

// CodeHealthCheckFailed is the code of HealthChecked events whose probe
// failed (observers only; clients never see it).
const CodeHealthCheckFailed = "health_check_failed"

// probeBodyLimit is how much of a probe's answer the gateway reads, so
// the connection can be reused; a longer answer closes it.
const probeBodyLimit = 64 << 10

// prober returns the probe of svc's backends.
func (g *Gateway) prober(svc *service, set *backendSet, h HealthCheckOptions) resilience.Probe {
	h = h.withDefaults()
	target, _ := url.Parse("http://host" + h.Path) // checked in New
	return func(ctx context.Context, i int) bool {
		be := &set.backends[i]
		u := *target
		u.Scheme, u.Host = be.scheme, be.host
		req := (&http.Request{Method: http.MethodGet, URL: &u, Host: h.Host, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"User-Agent": {"apigate-health-check"}}}).WithContext(ctx)
		start := time.Now()
		o := g.eng.acquire(req)
		deadline, _ := ctx.Deadline()
		res, err := g.eng.roundTrip(o, deadline)
		ev := observe.Event{Kind: observe.HealthChecked, Backend: i, Latency: time.Since(start), Err: err}
		if err == nil {
			ev.Status = res.StatusCode
			io.Copy(io.Discard, io.LimitReader(res.Body, probeBodyLimit))
			res.Body.Close()
			if ev.Status < h.StatusMin || ev.Status > h.StatusMax {
				ev.Err = fmt.Errorf("apigate: health check %s: status %d outside %d–%d", h.Path, ev.Status, h.StatusMin, h.StatusMax)
			}
		}
		g.eng.release(o)
		if ev.Err != nil {
			ev.Code = CodeHealthCheckFailed
		}
		g.emitSet(svc, set, ev)
		return ev.Err == nil
	}
}

// emitService tells the observer of an event of svc that no request
// caused and that names no backend.
func (g *Gateway) emitService(svc *service, ev observe.Event) {
	g.emitSet(svc, nil, ev)
}

// emitSet tells the observer of an event of svc that no request caused,
// naming backend ev.Backend of set.
func (g *Gateway) emitSet(svc *service, set *backendSet, ev observe.Event) {
	if g.obs == nil || ctxErr(g) {
		return
	}
	ev.Service = svc.name
	if set != nil && ev.Backend >= 0 && ev.Backend < len(set.all) {
		ev.Addr = set.all[ev.Backend].Addr
	} else {
		ev.Backend = -1
	}
	g.obs.Observe(context.Background(), ev)
}

// ctxErr reports whether the gateway is closed.
func ctxErr(g *Gateway) bool { return g.bg.ctx != nil && g.bg.ctx.Err() != nil }

// background is the gateway's background work: the health checkers of
// each service's current backend set, and discovery.
type background struct {
	ctx      context.Context
	stop     context.CancelFunc
	discover []*discovered
	wg       sync.WaitGroup // discovery goroutines
}

// Close stops the gateway's background work (active health checks and
// discovery, see [Discover]),
// waiting for it to end, and closes the idle upstream connections of its
// own transport. Requests in flight are not interrupted; use
// [http.Server.Shutdown] to drain them first. Close is safe to call more
// than once; the gateway still serves requests after it, without health
// checks: a backend they had taken out counts as healthy again.
func (g *Gateway) Close() error {
	if g.bg.stop != nil {
		g.bg.stop()
		g.bg.wg.Wait() // no update after this
		for _, svc := range g.services {
			svc.mu.Lock()
			if ck := svc.set.Load().health.ck; ck != nil {
				ck.Wait()
			}
			svc.mu.Unlock()
		}
	}
	g.CloseIdleConnections()
	return nil
}
