package observe

import (
	"context"
	"net/http"
)

// Multi returns an [Observer] that passes each event to every non-nil
// observer in obs, in order. Observers that are themselves results of Multi
// are flattened. With one non-nil observer, Multi returns it unchanged; with
// none, it returns nil, which a gateway treats as observation off, so
// Multi(maybeNil...) costs nothing when every argument is nil.
//
// When some of the observers are [Tracer]s, the result is a Tracer too: it
// passes StartRequest (threading the context from one to the next) and
// InjectHeader to those, in order. Otherwise it is not a Tracer, and costs
// the gateway nothing a plain observer does not.
//
// The result is safe for concurrent use if every observer is. Multi copies
// obs: later changes to the caller's slice do not affect it.
func Multi(obs ...Observer) Observer {
	var list multi
	var tracers []Tracer
	for _, o := range obs {
		switch o := o.(type) {
		case nil:
		case multi:
			list = append(list, o...)
		case *multiTracer:
			list = append(list, o.multi...)
			tracers = append(tracers, o.tracers...)
		default:
			list = append(list, o)
			if t, ok := o.(Tracer); ok {
				tracers = append(tracers, t)
			}
		}
	}
	switch {
	case len(list) == 0:
		return nil
	case len(list) == 1:
		return list[0]
	case len(tracers) > 0:
		return &multiTracer{multi: list, tracers: tracers}
	}
	return list
}

// multi fans events out to its observers.
type multi []Observer

// Observe passes e to each observer in order.
func (m multi) Observe(ctx context.Context, e Event) {
	for _, o := range m {
		o.Observe(ctx, e)
	}
}

// multiTracer is a multi with Tracers among its observers.
type multiTracer struct {
	multi
	tracers []Tracer
}

// StartRequest passes ctx through each Tracer's StartRequest in order.
func (m *multiTracer) StartRequest(ctx context.Context, e Event) context.Context {
	for _, t := range m.tracers {
		ctx = t.StartRequest(ctx, e)
	}
	return ctx
}

// InjectHeader passes h to each Tracer in order.
func (m *multiTracer) InjectHeader(ctx context.Context, h http.Header) {
	for _, t := range m.tracers {
		t.InjectHeader(ctx, h)
	}
}
