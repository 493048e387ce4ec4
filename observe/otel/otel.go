package otel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/apigate-go/apigate/observe"
)

// ScopeName is the instrumentation scope of the tracer and meter the
// observer uses.
const ScopeName = "github.com/apigate-go/apigate/observe/otel"

// Attribute keys of apigate's own span and metric attributes, beside the
// semantic-convention ones.
const (
	// KeyService is the service's logical name.
	KeyService = attribute.Key("apigate.service")
	// KeyRequestID is the request's ID (apigate.WithRequestIDHeader).
	KeyRequestID = attribute.Key("apigate.request_id")
	// KeyBackend is the chosen backend's index on client spans, and its
	// URL (without user information) on metrics, like observe.Labels.
	KeyBackend = attribute.Key("apigate.backend")
	// KeyErrorCode is the stable error code on metrics, "" on success;
	// spans carry it as error.type.
	KeyErrorCode = attribute.Key("apigate.error_code")
)

// Trust says whose incoming trace context (traceparent, tracestate) the
// server span continues.
type Trust uint8

const (
	// TrustProxies continues the trace context of requests from the
	// addresses in [Options.TrustedProxies] only. It is the default; with
	// no proxies listed it trusts nobody.
	TrustProxies Trust = iota
	// TrustNever starts a new trace for every request.
	TrustNever
	// TrustAlways continues the trace context of every request, for a
	// gateway that only trusted clients can reach.
	TrustAlways
)

// Options configures the [Observer] that [New] returns. The zero value
// traces with the global tracer provider, records no metrics and trusts
// no incoming trace context.
type Options struct {
	// TracerProvider creates the tracer; nil means otel's global one
	// (otel.GetTracerProvider), read when New is called.
	TracerProvider trace.TracerProvider
	// MeterProvider, when set, records the gateway's metrics with
	// OpenTelemetry instruments (see [Observer]); nil records none.
	MeterProvider metric.MeterProvider
	// Propagator extracts incoming and injects outgoing trace context;
	// nil means W3C Trace Context only (propagation.TraceContext), so
	// baggage, which may carry anything, is not forwarded unless asked
	// for.
	Propagator propagation.TextMapPropagator
	// Trust chooses whose incoming trace context is continued; the
	// default is [TrustProxies]. An untrusted context is not continued,
	// nor forwarded upstream: the server span starts a new trace, with a
	// link to the client's context when it was valid.
	Trust Trust
	// TrustedProxies lists the addresses (CIDRs or single addresses) whose
	// trace context [TrustProxies] continues, usually the same list as
	// apigate.WithTrustedProxies.
	TrustedProxies []string
	// RecordErrorMessages adds each failure's error message to its span
	// as an exception event, and a recovered panic's value and stack. Off
	// by default: messages may quote request input or upstream addresses.
	// Spans always carry the stable error code as error.type.
	RecordErrorMessages bool
}

// Observer traces requests and records metrics with OpenTelemetry. It is
// an [observe.Tracer]: pass it to apigate.WithObserver, alone or in
// [observe.Multi]. Build it with [New]; it is safe for concurrent use.
//
// With a meter provider set, it records:
//
//   - apigate.requests, a counter of the requests that ended, and
//     apigate.upstream.duration, a histogram (seconds, the buckets of
//     observe.LatencyBuckets) of upstream latencies, both with the
//     attributes of observe.Labels: apigate.service, http.route,
//     http.request.method, apigate.backend, http.response.status_code and
//     apigate.error_code. They mirror observe.Metrics.
//   - http.server.request.duration, the semantic-convention histogram of
//     the whole request, from arrival to the end of the response body.
type Observer struct {
	tracer     trace.Tracer
	prop       propagation.TextMapPropagator
	fields     []string // the propagator's header names, canonical
	trust      Trust
	proxies    []netip.Prefix
	recordMsgs bool

	requests metric.Int64Counter     // nil without a meter provider
	upstream metric.Float64Histogram // upstream latency
	duration metric.Float64Histogram // whole request
	backends sync.Map                // backend URL → parsed backend
}

// New returns an [Observer] configured by opts. It reports an invalid
// trusted-proxy address or an instrument that cannot be created.
func New(opts Options) (*Observer, error) {
	o := &Observer{prop: opts.Propagator, trust: opts.Trust, recordMsgs: opts.RecordErrorMessages}
	tp := opts.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	o.tracer = tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL))
	if o.prop == nil {
		o.prop = propagation.TraceContext{}
	}
	for _, f := range o.prop.Fields() {
		o.fields = append(o.fields, http.CanonicalHeaderKey(f))
	}
	var errs []error
	for _, s := range opts.TrustedProxies {
		p, err := parsePrefix(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("apigate/otel: trusted proxy %q: %w", s, err))
			continue
		}
		o.proxies = append(o.proxies, p)
	}
	if opts.MeterProvider != nil {
		if err := o.instruments(opts.MeterProvider); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return o, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// state is one request's tracing state, kept in its context. Events of
// one request arrive in order from one goroutine at a time.
type state struct {
	ctx      context.Context // carries the server span
	server   trace.Span
	start    time.Time
	client   trace.Span // the current attempt's span, nil between attempts
	clientCx context.Context
	attempts int
	method   string // semantic-convention method
	route    string
	status   int
	errType  string
	ended    bool
}

type stateKey struct{}

func stateOf(ctx context.Context) *state {
	st, _ := ctx.Value(stateKey{}).(*state)
	return st
}

// StartRequest starts the request's server span and returns a context
// that carries it.
func (o *Observer) StartRequest(ctx context.Context, e observe.Event) context.Context {
	r := e.Request
	if r == nil {
		return ctx
	}
	parent := ctx
	var links []trace.Link
	if o.trusted(r.RemoteAddr) {
		parent = o.prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
	} else if sc := trace.SpanContextFromContext(o.prop.Extract(ctx, propagation.HeaderCarrier(r.Header))); sc.IsValid() {
		links = []trace.Link{{SpanContext: sc}}
	}
	method := semMethod(e.Method)
	name := method
	if method == "_OTHER" {
		name = "HTTP"
	}
	if e.Route != "" {
		name += " " + e.Route
	}
	attrs := make([]attribute.KeyValue, 0, 14)
	attrs = append(attrs, semconv.HTTPRequestMethodKey.String(method))
	if method == "_OTHER" {
		attrs = append(attrs, semconv.HTTPRequestMethodOriginal(e.Method))
	}
	if r.URL != nil {
		attrs = append(attrs, semconv.URLPath(r.URL.Path))
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	attrs = append(attrs, semconv.URLScheme(scheme))
	if e.Route != "" {
		attrs = append(attrs, semconv.HTTPRoute(e.Route))
	}
	if e.Service != "" {
		attrs = append(attrs, KeyService.String(e.Service))
	}
	if host, port := splitHostPort(r.Host); host != "" {
		attrs = append(attrs, semconv.ServerAddress(host))
		if port > 0 {
			attrs = append(attrs, semconv.ServerPort(port))
		}
	}
	if host, port := splitHostPort(r.RemoteAddr); host != "" {
		attrs = append(attrs, semconv.NetworkPeerAddress(host))
		if port > 0 {
			attrs = append(attrs, semconv.NetworkPeerPort(port))
		}
	}
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, semconv.UserAgentOriginal(ua))
	}
	if v := protoVersion(r); v != "" {
		attrs = append(attrs, semconv.NetworkProtocolVersion(v))
	}
	if e.RequestID != "" {
		attrs = append(attrs, KeyRequestID.String(e.RequestID))
	}
	st := &state{start: time.Now(), method: method, route: e.Route}
	st.ctx, st.server = o.tracer.Start(parent, name,
		trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...), trace.WithLinks(links...))
	return context.WithValue(st.ctx, stateKey{}, st)
}

// InjectHeader replaces the trace context headers in h with the current
// attempt's client span context.
func (o *Observer) InjectHeader(ctx context.Context, h http.Header) {
	for _, f := range o.fields {
		delete(h, f)
	}
	st := stateOf(ctx)
	if st == nil {
		return
	}
	c := st.clientCx
	if c == nil {
		c = st.ctx
	}
	o.prop.Inject(c, propagation.HeaderCarrier(h))
}

// Observe follows the request's events: client spans per attempt, the
// outcome on the server span, which ends with RequestEnded, and metrics.
func (o *Observer) Observe(ctx context.Context, e observe.Event) {
	if o.requests != nil && e.Kind.Terminal() {
		o.record(ctx, e)
	}
	st := stateOf(ctx)
	if st == nil || st.ended {
		return
	}
	switch e.Kind {
	case observe.BackendSelected:
		o.startAttempt(st, e)
	case observe.UpstreamSucceeded:
		o.endAttempt(st, e)
		st.status = e.Status
	case observe.RequestRetried, observe.UpstreamFailed:
		o.endAttempt(st, e)
		if e.Kind == observe.UpstreamFailed {
			st.status, st.errType = e.Status, e.Code
		}
	case observe.PipelineFailed, observe.DispatchFailed, observe.NoRoute:
		st.status = e.Status
		if st.errType == "" { // a recovered panic keeps its own type
			st.errType = e.Code
		}
		if e.Kind != observe.NoRoute {
			o.recordError(st.server, e.Err)
		}
	case observe.Responded: // a hook's deliberate answer, not an error
		st.status = e.Status
	case observe.PanicRecovered:
		st.errType = "panic"
		if e.Status != 0 {
			st.status = e.Status
		}
		st.server.SetStatus(codes.Error, "panic")
		if o.recordMsgs {
			if pe, ok := e.Err.(*observe.PanicError); ok {
				st.server.AddEvent(semconv.ExceptionEventName, trace.WithAttributes(
					semconv.ExceptionType("panic"),
					semconv.ExceptionMessage(fmt.Sprint(pe.Value)),
					semconv.ExceptionStacktrace(string(pe.Stack))))
			}
		}
	case observe.RequestEnded:
		o.end(st, e)
	}
}

// startAttempt starts a client span for the attempt on e's backend.
func (o *Observer) startAttempt(st *state, e observe.Event) {
	if st.client != nil { // an attempt that never reported: close it
		st.client.End()
	}
	st.attempts++
	b := o.backend(e.Addr)
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = append(attrs, semconv.HTTPRequestMethodKey.String(st.method), KeyBackend.Int(e.Backend))
	if b.host != "" {
		attrs = append(attrs, semconv.ServerAddress(b.host), semconv.ServerPort(b.port))
	}
	if st.attempts > 1 {
		attrs = append(attrs, semconv.HTTPRequestResendCount(st.attempts-1))
	}
	name := st.method
	if name == "_OTHER" {
		name = "HTTP"
	}
	st.clientCx, st.client = o.tracer.Start(st.ctx, name,
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
}

// endAttempt ends the current attempt's client span with e's outcome.
func (o *Observer) endAttempt(st *state, e observe.Event) {
	sp := st.client
	if sp == nil {
		return
	}
	st.client, st.clientCx = nil, nil
	if e.Status != 0 {
		sp.SetAttributes(semconv.HTTPResponseStatusCode(e.Status))
	}
	switch {
	case e.Code != "":
		sp.SetAttributes(semconv.ErrorTypeKey.String(e.Code))
		sp.SetStatus(codes.Error, e.Code)
		o.recordError(sp, e.Err)
	case e.Status >= 400:
		sp.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(e.Status)))
		sp.SetStatus(codes.Error, "")
	}
	sp.End()
}

// end ends the server span with the request's outcome.
func (o *Observer) end(st *state, e observe.Event) {
	st.ended = true
	if st.client != nil {
		st.client.End()
		st.client = nil
	}
	status := e.Status
	if status == 0 {
		status = st.status
	}
	sp := st.server
	if status != 0 {
		sp.SetAttributes(semconv.HTTPResponseStatusCode(status))
	}
	errType := st.errType
	if errType == "" && status >= 500 {
		errType = strconv.Itoa(status)
	}
	if e.Err != nil && errType == "" {
		errType = "response_cut"
	}
	if errType != "" {
		sp.SetAttributes(semconv.ErrorTypeKey.String(errType))
	}
	if status >= 500 || e.Err != nil || errType == "panic" {
		sp.SetStatus(codes.Error, errType)
	}
	if e.Err != nil {
		o.recordError(sp, e.Err)
	}
	sp.End()
	if o.duration != nil {
		attrs := []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(st.method)}
		if st.route != "" {
			attrs = append(attrs, semconv.HTTPRoute(st.route))
		}
		if status != 0 {
			attrs = append(attrs, semconv.HTTPResponseStatusCode(status))
		}
		if errType != "" {
			attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
		}
		o.duration.Record(st.ctx, time.Since(st.start).Seconds(), metric.WithAttributes(attrs...))
	}
}

// recordError adds err's message to sp when messages are recorded.
func (o *Observer) recordError(sp trace.Span, err error) {
	if o.recordMsgs && err != nil {
		sp.RecordError(err)
	}
}

// trusted reports whether incoming trace context from remoteAddr is
// continued.
func (o *Observer) trusted(remoteAddr string) bool {
	switch o.trust {
	case TrustAlways:
		return true
	case TrustNever:
		return false
	}
	if len(o.proxies) == 0 {
		return false
	}
	host, _ := splitHostPort(remoteAddr)
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range o.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// semMethod returns m if it is a standard HTTP method, else "_OTHER", as
// the semantic conventions ask.
func semMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

// splitHostPort splits "host:port" (or a bare host); port is 0 when
// absent or invalid.
func splitHostPort(hp string) (string, int) {
	host, p, err := net.SplitHostPort(hp)
	if err != nil {
		return strings.Trim(hp, "[]"), 0
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return host, 0
	}
	return host, port
}

func protoVersion(r *http.Request) string {
	switch {
	case r.ProtoMajor == 1 && r.ProtoMinor == 1:
		return "1.1"
	case r.ProtoMajor == 1 && r.ProtoMinor == 0:
		return "1.0"
	case r.ProtoMajor == 2:
		return "2"
	case r.ProtoMajor == 3:
		return "3"
	}
	return ""
}

// backendInfo is a backend URL, parsed once.
type backendInfo struct {
	host     string
	port     int
	redacted string // the URL without user information
}

// backend returns addr parsed, from a cache: backends are few and fixed.
func (o *Observer) backend(addr string) *backendInfo {
	if v, ok := o.backends.Load(addr); ok {
		return v.(*backendInfo)
	}
	b := &backendInfo{redacted: "(unparsable backend address)"}
	if u, err := url.Parse(addr); err == nil {
		b.host = u.Hostname()
		b.port, _ = strconv.Atoi(u.Port())
		if b.port == 0 {
			b.port = 80
			if u.Scheme == "https" {
				b.port = 443
			}
		}
		u.User = nil
		b.redacted = u.String()
	}
	v, _ := o.backends.LoadOrStore(addr, b)
	return v.(*backendInfo)
}

var _ observe.Tracer = (*Observer)(nil)
