package observe

import "context"

// Multi returns an [Observer] that passes each event to every non-nil
// observer in obs, in order. Observers that are themselves results of Multi
// are flattened. With one non-nil observer, Multi returns it unchanged; with
// none, it returns nil, which a gateway treats as observation off, so
// Multi(maybeNil...) costs nothing when every argument is nil.
//
// The result is safe for concurrent use if every observer is. Multi copies
// obs: later changes to the caller's slice do not affect it.
func Multi(obs ...Observer) Observer {
	var list multi
	for _, o := range obs {
		switch o := o.(type) {
		case nil:
		case multi:
			list = append(list, o...)
		default:
			list = append(list, o)
		}
	}
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
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
