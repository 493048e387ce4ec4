package otel_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/apigate-go/apigate/observe"
	apigateotel "github.com/apigate-go/apigate/observe/otel"
)

// newTracing returns an observer recording spans in memory.
func newTracing(t *testing.T, opts apigateotel.Options) (*apigateotel.Observer, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	opts.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	o, err := apigateotel.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return o, rec
}

// attrs returns a span's attributes as a map.
func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// event returns an event of kind k for r on GET /api/items/:id.
func event(k observe.Kind, r *http.Request) observe.Event {
	return observe.Event{Kind: k, Request: r, Service: "items", Route: "/api/items/:id", Method: r.Method, Backend: -1, RequestID: "req-1"}
}

// TestSyntheticRetry drives the observer with the events of a request
// retried once, and checks the spans and the injected headers.
func TestSyntheticRetry(t *testing.T) {
	o, rec := newTracing(t, apigateotel.Options{})
	r := httptest.NewRequest("GET", "http://gw.example/api/items/42?secret=1", nil)
	r.RemoteAddr = "192.0.2.7:5555"
	r.Header.Set("Traceparent", incoming)
	r.Header.Set("User-Agent", "test-agent")

	ctx := o.StartRequest(r.Context(), event(observe.RequestStarted, r))
	o.Observe(ctx, event(observe.RequestStarted, r))
	var injected []string
	for i, addr := range []string{"http://127.0.0.1:1", "http://user:pw@127.0.0.1:8081"} {
		e := event(observe.BackendSelected, r)
		e.Backend, e.Addr = i, addr
		o.Observe(ctx, e)
		h := http.Header{"Traceparent": {incoming}, "Tracestate": {"evil=1"}}
		o.InjectHeader(ctx, h)
		if len(h["Tracestate"]) != 0 {
			t.Errorf("attempt %d: tracestate %q forwarded from an untrusted client", i, h["Tracestate"])
		}
		injected = append(injected, h.Get("Traceparent"))
		e.Kind = observe.RequestRetried
		if i == 1 {
			e.Kind, e.Status = observe.UpstreamSucceeded, 200
		} else {
			e.Status, e.Code, e.Err = 502, "upstream_unavailable", errors.New("dial tcp 127.0.0.1:1: connection refused")
		}
		o.Observe(ctx, e)
	}
	end := event(observe.RequestEnded, r)
	end.Status = 200
	o.Observe(ctx, end)

	spans := rec.Ended()
	if len(spans) != 3 {
		t.Fatalf("got %d spans, want 3 (two attempts, one server)", len(spans))
	}
	a1, a2, srv := spans[0], spans[1], spans[2]
	if srv.Name() != "GET /api/items/:id" || srv.SpanKind() != trace.SpanKindServer {
		t.Errorf("server span = %q (%v), want \"GET /api/items/:id\" (server)", srv.Name(), srv.SpanKind())
	}
	if srv.Parent().IsValid() {
		t.Errorf("server span's parent = %v, want none: the client is not trusted", srv.Parent())
	}
	if len(srv.Links()) != 1 || srv.Links()[0].SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("server span links = %v, want one to the client's context", srv.Links())
	}
	sa := attrs(srv)
	for k, want := range map[attribute.Key]string{
		"http.request.method": "GET", "url.path": "/api/items/42", "http.route": "/api/items/:id",
		"server.address": "gw.example", "network.peer.address": "192.0.2.7", "user_agent.original": "test-agent",
		"apigate.service": "items", "apigate.request_id": "req-1", "url.scheme": "http",
	} {
		if got := sa[k].String(); got != want {
			t.Errorf("server span %s = %q, want %q", k, got, want)
		}
	}
	if got := sa["http.response.status_code"].AsInt64(); got != 200 {
		t.Errorf("server span status code = %d, want 200", got)
	}
	if srv.Status().Code == codes.Error {
		t.Errorf("server span status = %v, want unset after a successful retry", srv.Status())
	}
	for _, s := range []sdktrace.ReadOnlySpan{srv, a1, a2} {
		for _, kv := range s.Attributes() {
			if strings.Contains(kv.Value.String(), "secret") || strings.Contains(kv.Value.String(), "pw") {
				t.Errorf("span %q attribute %s = %q leaks the query or credentials", s.Name(), kv.Key, kv.Value.String())
			}
		}
		if len(s.Events()) != 0 {
			t.Errorf("span %q has events %v, want none without RecordErrorMessages", s.Name(), s.Events())
		}
	}
	for i, s := range []sdktrace.ReadOnlySpan{a1, a2} {
		if s.SpanKind() != trace.SpanKindClient || s.Parent().SpanID() != srv.SpanContext().SpanID() {
			t.Errorf("attempt %d: kind %v parent %v, want a client span under the server span", i, s.SpanKind(), s.Parent().SpanID())
		}
		want := "00-" + s.SpanContext().TraceID().String() + "-" + s.SpanContext().SpanID().String() + "-01"
		if injected[i] != want {
			t.Errorf("attempt %d: injected traceparent %q, want the attempt's own span %q", i, injected[i], want)
		}
	}
	if got := attrs(a1)["error.type"].AsString(); got != "upstream_unavailable" || a1.Status().Code != codes.Error {
		t.Errorf("failed attempt: error.type %q status %v, want upstream_unavailable and Error", got, a1.Status())
	}
	if got := attrs(a2)["http.request.resend_count"].AsInt64(); got != 1 {
		t.Errorf("second attempt resend_count = %d, want 1", got)
	}
	if got := attrs(a2)["server.port"].AsInt64(); got != 8081 {
		t.Errorf("second attempt server.port = %d, want 8081", got)
	}
}

func TestTrust(t *testing.T) {
	tests := []struct {
		name   string
		opts   apigateotel.Options
		remote string
		cont   bool
	}{
		{"default trusts nobody", apigateotel.Options{}, "127.0.0.1:1000", false},
		{"listed proxy", apigateotel.Options{TrustedProxies: []string{"127.0.0.0/8"}}, "127.0.0.1:1000", true},
		{"unlisted peer", apigateotel.Options{TrustedProxies: []string{"192.0.2.1"}}, "127.0.0.1:1000", false},
		{"always", apigateotel.Options{Trust: apigateotel.TrustAlways}, "198.51.100.9:1", true},
		{"never, even listed", apigateotel.Options{Trust: apigateotel.TrustNever, TrustedProxies: []string{"127.0.0.1"}}, "127.0.0.1:1000", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, rec := newTracing(t, tt.opts)
			r := httptest.NewRequest("GET", "/api/items/1", nil)
			r.RemoteAddr = tt.remote
			r.Header.Set("Traceparent", incoming)
			ctx := o.StartRequest(r.Context(), event(observe.RequestStarted, r))
			h := http.Header{}
			o.InjectHeader(ctx, h)
			o.Observe(ctx, event(observe.RequestEnded, r))
			srv := rec.Ended()[0]
			got := srv.SpanContext().TraceID().String() == "4bf92f3577b34da6a3ce929d0e0e4736"
			if got != tt.cont {
				t.Errorf("continued the incoming trace = %v, want %v", got, tt.cont)
			}
			if strings.Contains(h.Get("Traceparent"), "4bf92f3577b34da6a3ce929d0e0e4736") != tt.cont {
				t.Errorf("outbound traceparent %q: carries the incoming trace id = %v, want %v", h.Get("Traceparent"), !tt.cont, tt.cont)
			}
		})
	}
	if _, err := apigateotel.New(apigateotel.Options{TrustedProxies: []string{"not-an-address"}}); err == nil {
		t.Error("New with an invalid trusted proxy: nil error, want one")
	}
}

func TestServerErrors(t *testing.T) {
	tests := []struct {
		name      string
		events    func(r *http.Request) []observe.Event
		wantCode  codes.Code
		wantType  string
		wantState int64
	}{
		{"hook 401 leaves status unset", func(r *http.Request) []observe.Event {
			e := event(observe.PipelineFailed, r)
			e.Status, e.Code = 401, "unauthorized"
			return []observe.Event{e}
		}, codes.Unset, "unauthorized", 401},
		{"no backend 503", func(r *http.Request) []observe.Event {
			e := event(observe.DispatchFailed, r)
			e.Status, e.Code = 503, "no_backend"
			return []observe.Event{e}
		}, codes.Error, "no_backend", 503},
		{"upstream 500 response", func(r *http.Request) []observe.Event {
			s := event(observe.BackendSelected, r)
			s.Backend, s.Addr = 0, "http://127.0.0.1:9"
			u := s
			u.Kind, u.Status = observe.UpstreamSucceeded, 500
			return []observe.Event{s, u}
		}, codes.Error, "500", 500},
		{"panic", func(r *http.Request) []observe.Event {
			e := event(observe.PanicRecovered, r)
			e.Status, e.Err = 500, &observe.PanicError{Value: "token=abc", Stack: []byte("stack")}
			return []observe.Event{e}
		}, codes.Error, "panic", 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, rec := newTracing(t, apigateotel.Options{})
			r := httptest.NewRequest("GET", "/api/items/1", nil)
			ctx := o.StartRequest(r.Context(), event(observe.RequestStarted, r))
			for _, e := range tt.events(r) {
				o.Observe(ctx, e)
			}
			end := event(observe.RequestEnded, r)
			end.Status = int(tt.wantState)
			o.Observe(ctx, end)
			spans := rec.Ended()
			srv := spans[len(spans)-1]
			if srv.Status().Code != tt.wantCode {
				t.Errorf("status = %v, want %v", srv.Status(), tt.wantCode)
			}
			a := attrs(srv)
			if got := a["error.type"].AsString(); got != tt.wantType {
				t.Errorf("error.type = %q, want %q", got, tt.wantType)
			}
			if got := a["http.response.status_code"].AsInt64(); got != tt.wantState {
				t.Errorf("status code = %d, want %d", got, tt.wantState)
			}
			for _, ev := range srv.Events() {
				t.Errorf("event %q recorded without RecordErrorMessages", ev.Name)
			}
		})
	}
}

func TestRecordErrorMessages(t *testing.T) {
	o, rec := newTracing(t, apigateotel.Options{RecordErrorMessages: true})
	r := httptest.NewRequest("GET", "/api/items/1", nil)
	ctx := o.StartRequest(r.Context(), event(observe.RequestStarted, r))
	e := event(observe.PanicRecovered, r)
	e.Status, e.Err = 500, &observe.PanicError{Value: "boom", Stack: []byte("goroutine 7")}
	o.Observe(ctx, e)
	o.Observe(ctx, event(observe.RequestEnded, r))
	evs := rec.Ended()[0].Events()
	if len(evs) != 1 || evs[0].Name != "exception" {
		t.Fatalf("events = %v, want one exception", evs)
	}
	got := map[attribute.Key]string{}
	for _, kv := range evs[0].Attributes {
		got[kv.Key] = kv.Value.String()
	}
	if got["exception.message"] != "boom" || got["exception.stacktrace"] != "goroutine 7" {
		t.Errorf("exception attributes = %v, want the panic value and stack", got)
	}
}

func TestCustomPropagatorFields(t *testing.T) {
	o, _ := newTracing(t, apigateotel.Options{Propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}), Trust: apigateotel.TrustAlways})
	r := httptest.NewRequest("GET", "/api/items/1", nil)
	r.Header.Set("Traceparent", incoming)
	r.Header.Set("Baggage", "user=alice")
	ctx := o.StartRequest(r.Context(), event(observe.RequestStarted, r))
	h := http.Header{"Baggage": {"stale=1"}}
	o.InjectHeader(ctx, h)
	if got := h.Get("Baggage"); got != "user=alice" {
		t.Errorf("baggage = %q, want the trusted client's \"user=alice\" replacing the stale value", got)
	}
}

func TestEventsWithoutStartAreIgnored(t *testing.T) {
	o, rec := newTracing(t, apigateotel.Options{})
	r := httptest.NewRequest("GET", "/", nil)
	o.Observe(context.Background(), event(observe.BackendSelected, r))
	o.Observe(context.Background(), event(observe.RequestEnded, r))
	h := http.Header{"Traceparent": {incoming}}
	o.InjectHeader(context.Background(), h)
	if len(rec.Ended()) != 0 || h.Get("Traceparent") != "" {
		t.Errorf("spans %d, traceparent %q; want no span and the untrusted header removed", len(rec.Ended()), h.Get("Traceparent"))
	}
}
