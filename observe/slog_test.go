package observe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingHandler is a slog.Handler that keeps the records it handles and
// counts the calls it receives.
type recordingHandler struct {
	min slog.Leveler

	mu      sync.Mutex
	enabled int
	records []slog.Record
}

func (h *recordingHandler) Enabled(_ context.Context, l slog.Level) bool {
	h.mu.Lock()
	h.enabled++
	h.mu.Unlock()
	return l >= h.min.Level()
}

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.records = append(h.records, r.Clone())
	h.mu.Unlock()
	return nil
}

func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

// attrs renders a record's attributes as "key=value" strings, in order.
func attrs(r slog.Record) []string {
	var out []string
	r.Attrs(func(a slog.Attr) bool {
		out = append(out, a.Key+"="+a.Value.Resolve().String())
		return true
	})
	return out
}

var errRefused = errors.New("dial tcp 192.0.2.1:8080: connect: connection refused")

// sampleEvent returns an event of the given kind for a request carrying
// secrets in its headers and query string.
func sampleEvent(kind Kind) Event {
	r := httptest.NewRequest("GET", "/api/items/42?token=s3cret", nil)
	r.Header.Set("Authorization", "Bearer s3cret")
	return Event{
		Kind:    kind,
		Request: r,
		Service: "items",
		Route:   "/api/items/:id",
		Method:  "GET",
		Backend: -1,
	}
}

func withBackend(e Event) Event {
	e.Backend, e.Addr = 1, "http://192.0.2.2:8080"
	return e
}

func TestSlogLevelsAndAttributes(t *testing.T) {
	base := []string{"event=%s", "service=items", "route=/api/items/:id", "method=GET", "path=/api/items/42"}
	tests := []struct {
		name      string
		event     Event
		wantLevel slog.Level
		wantMsg   string
		wantMore  []string
	}{
		{
			name:      "request started",
			event:     sampleEvent(RequestStarted),
			wantLevel: slog.LevelDebug,
			wantMsg:   "request started",
		},
		{
			name:      "backend selected",
			event:     withBackend(sampleEvent(BackendSelected)),
			wantLevel: slog.LevelDebug,
			wantMsg:   "backend selected",
			wantMore:  []string{"backend=1", "addr=http://192.0.2.2:8080"},
		},
		{
			name: "upstream 200",
			event: func() Event {
				e := withBackend(sampleEvent(UpstreamSucceeded))
				e.Status, e.Latency = 200, 1500*time.Microsecond
				return e
			}(),
			wantLevel: slog.LevelDebug,
			wantMsg:   "upstream responded",
			wantMore:  []string{"backend=1", "addr=http://192.0.2.2:8080", "status=200", "latency=1.5ms"},
		},
		{
			name: "upstream 503",
			event: func() Event {
				e := withBackend(sampleEvent(UpstreamSucceeded))
				e.Status, e.Latency = 503, 2*time.Millisecond
				return e
			}(),
			wantLevel: slog.LevelWarn,
			wantMsg:   "upstream responded",
			wantMore:  []string{"backend=1", "addr=http://192.0.2.2:8080", "status=503", "latency=2ms"},
		},
		{
			name: "pipeline 401",
			event: func() Event {
				e := sampleEvent(PipelineFailed)
				e.Status, e.Code, e.Err = 401, "unauthorized", errors.New("missing authorization")
				return e
			}(),
			wantLevel: slog.LevelInfo,
			wantMsg:   "request refused",
			wantMore:  []string{"status=401", "code=unauthorized", "error=missing authorization"},
		},
		{
			name: "pipeline 500",
			event: func() Event {
				e := sampleEvent(PipelineFailed)
				e.Status, e.Code, e.Err = 500, "internal", errors.New("hook: boom")
				return e
			}(),
			wantLevel: slog.LevelWarn,
			wantMsg:   "pipeline failed",
			wantMore:  []string{"status=500", "code=internal", "error=hook: boom"},
		},
		{
			name: "dispatch 503",
			event: func() Event {
				e := sampleEvent(DispatchFailed)
				e.Status, e.Code = 503, "no_backend"
				return e
			}(),
			wantLevel: slog.LevelWarn,
			wantMsg:   "no backend available",
			wantMore:  []string{"status=503", "code=no_backend"},
		},
		{
			name: "upstream refused 502",
			event: func() Event {
				e := withBackend(sampleEvent(UpstreamFailed))
				e.Status, e.Code, e.Latency, e.Err = 502, "upstream_unreachable", time.Millisecond, errRefused
				return e
			}(),
			wantLevel: slog.LevelWarn,
			wantMsg:   "upstream failed",
			wantMore: []string{"backend=1", "addr=http://192.0.2.2:8080", "status=502",
				"code=upstream_unreachable", "latency=1ms", "error=" + errRefused.Error()},
		},
		{
			name: "client gone 499",
			event: func() Event {
				e := withBackend(sampleEvent(UpstreamFailed))
				e.Status, e.Code, e.Latency, e.Err = 499, "client_closed", 3*time.Millisecond, context.Canceled
				return e
			}(),
			wantLevel: slog.LevelInfo,
			wantMsg:   "upstream failed",
			wantMore: []string{"backend=1", "addr=http://192.0.2.2:8080", "status=499",
				"code=client_closed", "latency=3ms", "error=context canceled"},
		},
		{
			name: "upstream failed without status",
			event: func() Event {
				e := withBackend(sampleEvent(UpstreamFailed))
				e.Err = errRefused
				return e
			}(),
			wantLevel: slog.LevelWarn,
			wantMsg:   "upstream failed",
			wantMore:  []string{"backend=1", "addr=http://192.0.2.2:8080", "latency=0s", "error=" + errRefused.Error()},
		},
		{
			name: "request ended",
			event: func() Event {
				e := sampleEvent(RequestEnded)
				e.Status, e.RequestID = 200, "req-1"
				return e
			}(),
			wantLevel: slog.LevelDebug,
			wantMsg:   "request ended",
			wantMore:  []string{"status=200", "request_id=req-1"},
		},
		{
			name: "panic recovered",
			event: func() Event {
				e := sampleEvent(PanicRecovered)
				e.Status, e.RequestID = 500, "req-2"
				e.Err = &PanicError{Value: "boom", Stack: []byte("goroutine 1 [running]:")}
				return e
			}(),
			wantLevel: slog.LevelError,
			wantMsg:   "panic recovered",
			wantMore:  []string{"status=500", "request_id=req-2", "error=panic: boom", "stack=goroutine 1 [running]:"},
		},
		{
			name:      "unknown kind",
			event:     sampleEvent(BackendsRefused + 1),
			wantLevel: slog.LevelDebug,
			wantMsg:   "event",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &recordingHandler{min: slog.LevelDebug}
			Slog(slog.New(h)).Observe(context.Background(), tt.event)
			if len(h.records) != 1 {
				t.Fatalf("got %d records, want 1", len(h.records))
			}
			r := h.records[0]
			if r.Level != tt.wantLevel {
				t.Errorf("level = %v, want %v", r.Level, tt.wantLevel)
			}
			if r.Message != tt.wantMsg {
				t.Errorf("message = %q, want %q", r.Message, tt.wantMsg)
			}
			if r.Time.IsZero() {
				t.Error("record time is zero, want the time of the event")
			}
			want := append([]string{fmt.Sprintf(base[0], tt.event.Kind)}, base[1:]...)
			want = append(want, tt.wantMore...)
			if got := attrs(r); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("attrs =\n\t%q\nwant\n\t%q", got, want)
			}
		})
	}
}

func TestSlogAttributeTypes(t *testing.T) {
	h := &recordingHandler{min: slog.LevelDebug}
	e := withBackend(sampleEvent(UpstreamFailed))
	e.Status, e.Code, e.Latency, e.Err = 504, "upstream_timeout", time.Second, errRefused
	Slog(slog.New(h)).Observe(context.Background(), e)
	want := map[string]slog.Kind{
		KeyEvent: slog.KindString, KeyService: slog.KindString, KeyRoute: slog.KindString,
		KeyMethod: slog.KindString, KeyPath: slog.KindString, KeyBackend: slog.KindInt64,
		KeyAddr: slog.KindString, KeyStatus: slog.KindInt64, KeyCode: slog.KindString,
		KeyLatency: slog.KindDuration, KeyError: slog.KindAny,
	}
	got := map[string]slog.Kind{}
	h.records[0].Attrs(func(a slog.Attr) bool {
		got[a.Key] = a.Value.Kind()
		return true
	})
	if len(got) != len(want) {
		t.Errorf("got %d attributes, want %d: %v", len(got), len(want), got)
	}
	for k, wk := range want {
		if gk, ok := got[k]; !ok || gk != wk {
			t.Errorf("attribute %q: kind %v (present %v), want %v", k, gk, ok, wk)
		}
	}
	var target error
	h.records[0].Attrs(func(a slog.Attr) bool {
		if a.Key == KeyError {
			target, _ = a.Value.Any().(error)
		}
		return true
	})
	if target != errRefused {
		t.Errorf("error attribute = %v, want the event's error value itself", target)
	}
}

func TestSlogNeverLogsSecrets(t *testing.T) {
	var out strings.Builder
	logger := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o := Slog(logger)
	for k := RequestStarted; k <= PanicRecovered; k++ {
		o.Observe(context.Background(), withBackend(sampleEvent(k)))
	}
	if got := strings.Count(out.String(), "\n"); got != int(PanicRecovered) {
		t.Fatalf("wrote %d lines, want %d:\n%s", got, PanicRecovered, out.String())
	}
	for _, secret := range []string{"s3cret", "token", "Authorization", "Bearer"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("output contains %q:\n%s", secret, out.String())
		}
	}
}

func TestSlogOptions(t *testing.T) {
	dynamic := new(slog.LevelVar)
	dynamic.Set(slog.LevelError)
	tests := []struct {
		name string
		opts SlogOptions
		kind Kind
		stat int
		want []slog.Level // nil: no record
	}{
		{"omit progress drops started", SlogOptions{OmitProgress: true}, RequestStarted, 0, nil},
		{"omit progress drops selected", SlogOptions{OmitProgress: true}, BackendSelected, 0, nil},
		{"omit progress drops ended", SlogOptions{OmitProgress: true}, RequestEnded, 200, nil},
		{"omit progress keeps panics", SlogOptions{OmitProgress: true}, PanicRecovered, 500, []slog.Level{slog.LevelError}},
		{"panic level", SlogOptions{Panic: slog.LevelWarn}, PanicRecovered, 500, []slog.Level{slog.LevelWarn}},
		{"omit progress keeps terminal", SlogOptions{OmitProgress: true}, UpstreamSucceeded, 200, []slog.Level{slog.LevelDebug}},
		{"progress level", SlogOptions{Progress: slog.LevelInfo}, BackendSelected, 0, []slog.Level{slog.LevelInfo}},
		{"success level", SlogOptions{Success: slog.LevelInfo}, UpstreamSucceeded, 204, []slog.Level{slog.LevelInfo}},
		{"client error level", SlogOptions{ClientError: slog.LevelDebug}, PipelineFailed, 422, []slog.Level{slog.LevelDebug}},
		{"no route level", SlogOptions{NoRoute: slog.LevelDebug}, NoRoute, 404, []slog.Level{slog.LevelDebug}},
		{"no route default", SlogOptions{}, NoRoute, 405, []slog.Level{slog.LevelInfo}},
		{"responded below 500", SlogOptions{Success: slog.LevelInfo}, Responded, 402, []slog.Level{slog.LevelInfo}},
		{"responded 5xx", SlogOptions{}, Responded, 503, []slog.Level{slog.LevelWarn}},
		{"server error level", SlogOptions{ServerError: dynamic}, DispatchFailed, 503, []slog.Level{slog.LevelError}},
		{"ejection warns", SlogOptions{}, BackendEjected, 0, []slog.Level{slog.LevelWarn}},
		{"unhealthy warns", SlogOptions{}, BackendUnhealthy, 0, []slog.Level{slog.LevelWarn}},
		{"circuit opened warns", SlogOptions{ServerError: dynamic}, CircuitOpened, 0, []slog.Level{slog.LevelError}},
		{"readmission informs", SlogOptions{}, BackendReadmitted, 0, []slog.Level{slog.LevelInfo}},
		{"healthy informs", SlogOptions{}, BackendHealthy, 0, []slog.Level{slog.LevelInfo}},
		{"circuit closed informs", SlogOptions{}, CircuitClosed, 0, []slog.Level{slog.LevelInfo}},
		{"recovery level", SlogOptions{Recovery: slog.LevelWarn}, CircuitHalfOpen, 0, []slog.Level{slog.LevelWarn}},
		{"probe is progress", SlogOptions{}, HealthChecked, 200, []slog.Level{slog.LevelDebug}},
		{"retry warns", SlogOptions{}, RequestRetried, 503, []slog.Level{slog.LevelWarn}},
		{"omit progress drops probes", SlogOptions{OmitProgress: true}, HealthChecked, 200, nil},
		{"omit progress keeps retries", SlogOptions{OmitProgress: true}, RequestRetried, 503, []slog.Level{slog.LevelWarn}},
		{"omit progress keeps ejections", SlogOptions{OmitProgress: true}, BackendEjected, 0, []slog.Level{slog.LevelWarn}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &recordingHandler{min: slog.LevelDebug}
			e := sampleEvent(tt.kind)
			e.Status = tt.stat
			NewSlog(slog.New(h), tt.opts).Observe(context.Background(), e)
			var got []slog.Level
			for _, r := range h.records {
				got = append(got, r.Level)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("levels = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSlogResilienceAttrs(t *testing.T) {
	h := &recordingHandler{min: slog.LevelDebug}
	o := Slog(slog.New(h))
	e := withBackend(sampleEvent(RequestRetried))
	e.Status, e.Code, e.Attempt, e.Duration = 503, "", 2, 30*time.Millisecond
	o.Observe(context.Background(), e)
	e = withBackend(sampleEvent(BackendEjected))
	e.Request, e.Route, e.Method, e.Duration = nil, "", "", 30*time.Second
	o.Observe(context.Background(), e)
	if len(h.records) != 2 {
		t.Fatalf("got %d records, want 2", len(h.records))
	}
	attrs := func(r slog.Record) map[string]slog.Value {
		m := map[string]slog.Value{}
		r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value; return true })
		return m
	}
	retry, eject := attrs(h.records[0]), attrs(h.records[1])
	if retry[KeyAttempt].Int64() != 2 || retry[KeyDuration].Duration() != 30*time.Millisecond || retry[KeyEvent].String() != "request_retried" {
		t.Errorf("retry record attrs = %v, want attempt 2, duration 30ms", retry)
	}
	if _, ok := eject[KeyAttempt]; ok {
		t.Errorf("ejection record has %s: %v", KeyAttempt, eject)
	}
	if _, ok := eject[KeyPath]; ok {
		t.Errorf("ejection record without a request has a path: %v", eject)
	}
	if eject[KeyDuration].Duration() != 30*time.Second || h.records[1].Message != "backend ejected" {
		t.Errorf("ejection record %q attrs = %v, want duration 30s", h.records[1].Message, eject)
	}
}

func TestSlogLevelVarChangesAtRunTime(t *testing.T) {
	lv := new(slog.LevelVar) // Info
	h := &recordingHandler{min: slog.LevelInfo}
	o := NewSlog(slog.New(h), SlogOptions{Success: lv})
	e := sampleEvent(UpstreamSucceeded)
	e.Status = 200
	o.Observe(context.Background(), e)
	lv.Set(slog.LevelDebug)
	o.Observe(context.Background(), e)
	if len(h.records) != 1 {
		t.Errorf("got %d records, want 1 (the second below the handler's level)", len(h.records))
	}
}

func TestSlogDisabledLevelBuildsNothing(t *testing.T) {
	h := &recordingHandler{min: slog.LevelWarn}
	o := Slog(slog.New(h))
	e := withBackend(sampleEvent(UpstreamSucceeded))
	e.Status, e.Latency = 200, time.Millisecond
	allocs := testing.AllocsPerRun(100, func() { o.Observe(context.Background(), e) })
	if allocs != 0 {
		t.Errorf("Observe at a disabled level: %v allocs, want 0", allocs)
	}
	if len(h.records) != 0 {
		t.Errorf("handled %d records, want 0", len(h.records))
	}
	if h.enabled == 0 {
		t.Error("Enabled was never called, want it asked before each record")
	}
}

func TestSlogOmittedProgressAsksNothing(t *testing.T) {
	h := &recordingHandler{min: slog.LevelDebug}
	NewSlog(slog.New(h), SlogOptions{OmitProgress: true}).Observe(context.Background(), sampleEvent(RequestStarted))
	if h.enabled != 0 || len(h.records) != 0 {
		t.Errorf("Enabled calls = %d, records = %d, want 0 and 0", h.enabled, len(h.records))
	}
}

func TestSlogUsesOnlyItsLogger(t *testing.T) {
	var def strings.Builder
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	slog.SetDefault(slog.New(slog.NewTextHandler(&def, &slog.HandlerOptions{Level: slog.LevelDebug})))

	h := &recordingHandler{min: slog.LevelDebug}
	Slog(slog.New(h)).Observe(context.Background(), sampleEvent(DispatchFailed))
	Slog(nil).Observe(context.Background(), sampleEvent(DispatchFailed))
	//lint:ignore SA1012 a nil context is tolerated, as slog.Logger tolerates it
	Slog(slog.New(h)).Observe(nil, sampleEvent(DispatchFailed))
	if def.Len() != 0 {
		t.Errorf("default logger received %q, want nothing", def.String())
	}
	if len(h.records) != 2 {
		t.Errorf("own logger received %d records, want 2", len(h.records))
	}
}

func BenchmarkSlog(b *testing.B) {
	e := withBackend(sampleEvent(UpstreamFailed))
	e.Status, e.Code, e.Latency, e.Err = 502, "upstream_unreachable", time.Millisecond, errRefused
	ctx := context.Background()
	b.Run("text", func(b *testing.B) {
		o := Slog(slog.New(slog.NewTextHandler(io.Discard, nil)))
		b.ReportAllocs()
		for b.Loop() {
			o.Observe(ctx, e)
		}
	})
	b.Run("disabled", func(b *testing.B) {
		o := Slog(slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError})))
		b.ReportAllocs()
		for b.Loop() {
			o.Observe(ctx, e)
		}
	})
	b.Run("logattrs-baseline", func(b *testing.B) {
		// The same record written with Logger.LogAttrs, for comparison.
		l := slog.New(slog.NewTextHandler(io.Discard, nil))
		b.ReportAllocs()
		for b.Loop() {
			l.LogAttrs(ctx, slog.LevelWarn, "upstream failed",
				slog.String(KeyEvent, e.Kind.String()), slog.String(KeyService, e.Service),
				slog.String(KeyRoute, e.Route), slog.String(KeyMethod, e.Method),
				slog.String(KeyPath, e.Request.URL.Path), slog.Int(KeyBackend, e.Backend),
				slog.String(KeyAddr, e.Addr), slog.Int(KeyStatus, e.Status),
				slog.String(KeyCode, e.Code), slog.Duration(KeyLatency, e.Latency),
				slog.Any(KeyError, e.Err))
		}
	})
}

func TestSlogDispatchMessages(t *testing.T) {
	h := &recordingHandler{min: slog.LevelDebug}
	o := Slog(slog.New(h))
	for _, code := range []string{"overloaded", "circuit_open", "no_backend"} {
		e := sampleEvent(DispatchFailed)
		e.Status, e.Code = 503, code
		o.Observe(context.Background(), e)
	}
	want := []string{"request shed", "circuit open", "no backend available"}
	for i, r := range h.records {
		if r.Message != want[i] || r.Level != slog.LevelWarn {
			t.Errorf("record %d: %s %q, want WARN %q", i, r.Level, r.Message, want[i])
		}
	}
}
