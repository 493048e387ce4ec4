package observe

import (
	"context"
	"slices"
	"testing"
)

// tagObserver appends its tag and the event kind to a shared log.
func tagObserver(log *[]string, tag string) Func {
	return func(_ context.Context, e Event) {
		*log = append(*log, tag+":"+e.Kind.String())
	}
}

func TestMultiFansOutInOrder(t *testing.T) {
	var log []string
	a, b, c := tagObserver(&log, "a"), tagObserver(&log, "b"), tagObserver(&log, "c")
	o := Multi(a, nil, Multi(b, c))
	o.Observe(context.Background(), Event{Kind: RequestStarted})
	o.Observe(context.Background(), Event{Kind: UpstreamSucceeded})
	want := []string{
		"a:request_started", "b:request_started", "c:request_started",
		"a:upstream_succeeded", "b:upstream_succeeded", "c:upstream_succeeded",
	}
	if !slices.Equal(log, want) {
		t.Errorf("events seen = %q, want %q", log, want)
	}
	if m, ok := o.(multi); !ok || len(m) != 3 {
		t.Errorf("Multi(a, nil, Multi(b, c)) = %#v, want a flat list of 3", o)
	}
}

func TestMultiDegenerate(t *testing.T) {
	m := NewMetrics()
	tests := []struct {
		name string
		obs  []Observer
		want Observer
	}{
		{"no argument", nil, nil},
		{"only nils", []Observer{nil, nil}, nil},
		{"nested empty", []Observer{Multi(), nil}, nil},
		{"one observer", []Observer{nil, m, nil}, m},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Multi(tt.obs...); got != tt.want {
				t.Errorf("Multi(%v) = %#v, want %#v", tt.obs, got, tt.want)
			}
		})
	}
}

func TestMultiCopiesArguments(t *testing.T) {
	var log []string
	obs := []Observer{tagObserver(&log, "a"), tagObserver(&log, "b")}
	o := Multi(obs...)
	obs[0] = tagObserver(&log, "changed")
	o.Observe(context.Background(), Event{Kind: DispatchFailed})
	want := []string{"a:dispatch_failed", "b:dispatch_failed"}
	if !slices.Equal(log, want) {
		t.Errorf("events seen = %q, want %q", log, want)
	}
}
