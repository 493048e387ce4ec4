package observe

import (
	"context"
	"fmt"
	"net/http"
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

// tagTracer is a Tracer that logs its calls and adds its tag to the
// context and to the injected header.
type tagTracer struct {
	tag string
	log *[]string
}

type tagKey struct{}

func (t tagTracer) Observe(ctx context.Context, e Event) {
	*t.log = append(*t.log, t.tag+":"+e.Kind.String()+":"+fmt.Sprint(ctx.Value(tagKey{})))
}

func (t tagTracer) StartRequest(ctx context.Context, e Event) context.Context {
	prev, _ := ctx.Value(tagKey{}).(string)
	return context.WithValue(ctx, tagKey{}, prev+t.tag)
}

func (t tagTracer) InjectHeader(ctx context.Context, h http.Header) {
	h.Add("X-Trace", t.tag)
}

func TestMultiPassesTracerCalls(t *testing.T) {
	var log []string
	a, b := tagTracer{"a", &log}, tagTracer{"b", &log}
	o := Multi(a, tagObserver(&log, "plain"), Multi(b, tagObserver(&log, "c")))
	tr, ok := o.(Tracer)
	if !ok {
		t.Fatalf("Multi of Tracers = %T, want a Tracer", o)
	}
	ctx := tr.StartRequest(context.Background(), Event{Kind: RequestStarted})
	if got := ctx.Value(tagKey{}); got != "ab" {
		t.Errorf("context after StartRequest carries %v, want \"ab\" (a then b)", got)
	}
	h := http.Header{}
	tr.InjectHeader(ctx, h)
	if got := h.Values("X-Trace"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("injected X-Trace = %q, want [a b]", got)
	}
	o.Observe(ctx, Event{Kind: UpstreamSucceeded})
	want := []string{"a:upstream_succeeded:ab", "plain:upstream_succeeded", "b:upstream_succeeded:ab", "c:upstream_succeeded"}
	if !slices.Equal(log, want) {
		t.Errorf("events seen = %q, want %q", log, want)
	}
}

func TestMultiWithoutTracersIsNoTracer(t *testing.T) {
	var log []string
	if o, ok := Multi(tagObserver(&log, "a"), NewMetrics()).(Tracer); ok {
		t.Errorf("Multi of plain observers = %T, a Tracer; want a plain Observer", o)
	}
	tr := tagTracer{"a", &log}
	if got := Multi(nil, tr); got != Observer(tr) {
		t.Errorf("Multi(nil, tracer) = %#v, want the tracer itself", got)
	}
}
