package apigate

import (
	"context"
	"fmt"
	"slices"

	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/observe"
)

// Source discovers the backends of a service, for [Discover]. The
// package discovery has one that reads DNS A, AAAA and SRV records.
type Source interface {
	// Watch reports the service's backends by calling update, at once
	// and then whenever they may have changed, until ctx is done; then it
	// returns. update applies a list like [Gateway.SetBackends] (an
	// unchanged list costs nothing); a call with a non-nil err (a failed
	// lookup) changes nothing and is reported to the observer, as is an
	// empty or invalid list: the service keeps its last good set. Watch
	// calls update from one goroutine at a time.
	Watch(ctx context.Context, update func(backends []Backend, err error))
}

// Discover takes the backends of the service named service from src,
// which [New] starts watching and [Gateway.Close] stops. Backends given to
// [Mount] or [Backends] are the set until src's first list; without them
// the service answers 503 "no_backend" until then. Discover twice for one
// service, or for a service that is not mounted, is an error from [New].
func Discover(service string, src Source) Option {
	return optionFunc(func(c *config) {
		switch {
		case src == nil:
			c.errs = append(c.errs, fmt.Errorf("apigate: Discover(%q): nil source", service))
		case c.sources[service] != nil:
			c.errs = append(c.errs, fmt.Errorf("apigate: Discover(%q): given twice", service))
		default:
			if c.sources == nil {
				c.sources = map[string]Source{}
			}
			c.sources[service] = src
		}
	})
}

// discovered is a service whose backends come from a Source.
type discovered struct {
	g   *Gateway
	svc *service
	src Source
}

// run watches the source until ctx is done.
func (d *discovered) run(ctx context.Context) {
	d.src.Watch(ctx, func(backends []Backend, err error) {
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			d.g.emitService(d.svc, observe.Event{Kind: observe.BackendsRefused, Backend: -1,
				Err: fmt.Errorf("apigate: service %q: discovery: %w", d.svc.name, err)})
			return
		}
		if d.same(backends) {
			return
		}
		d.g.setBackends(d.svc, backends) // a refusal is reported there
	})
}

// same reports whether backends is the service's current list.
func (d *discovered) same(backends []Backend) bool {
	all := d.svc.set.Load().all
	return slices.EqualFunc(all, backends, func(a balancer.Backend, b Backend) bool {
		return a.Addr == b.URL && a.Weight == max(b.Weight, 1)
	})
}
