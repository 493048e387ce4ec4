package observe

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// latencyBounds are the upper bounds of the latency histogram buckets. It is
// never written; LatencyBuckets hands out copies.
var latencyBounds = [...]time.Duration{
	1 * time.Millisecond,
	2500 * time.Microsecond,
	5 * time.Millisecond,
	10 * time.Millisecond,
	25 * time.Millisecond,
	50 * time.Millisecond,
	100 * time.Millisecond,
	250 * time.Millisecond,
	500 * time.Millisecond,
	1 * time.Second,
	2500 * time.Millisecond,
	5 * time.Second,
	10 * time.Second,
}

// LatencyBuckets returns the upper bounds of the latency histogram buckets
// that [Metrics] keeps, ascending: 1ms, 2.5ms, 5ms, 10ms, 25ms, 50ms, 100ms,
// 250ms, 500ms, 1s, 2.5s, 5s and 10s. Slower observations count in an
// implicit last bucket (+Inf). The result is a fresh slice the caller may
// keep.
func LatencyBuckets() []time.Duration {
	return slices.Clone(latencyBounds[:])
}

// Labels identifies one series of [Metrics]. It is comparable.
type Labels struct {
	// Service, Route and Method are the event's. Route is the route
	// pattern ("" for a request that matched no route), and Method is
	// "OTHER" for a method outside the standard set (GET, HEAD, POST, PUT,
	// PATCH, DELETE, OPTIONS, CONNECT, TRACE), so that clients cannot grow
	// the number of series.
	Service, Route, Method string
	// Addr is the backend's URL without user information, "" when no
	// backend was chosen.
	Addr string
	// Status is the HTTP status the request ended with (499 when the
	// client went away).
	Status int
	// Code is the stable error code, "" on success.
	Code string
}

// Series is one series' values, as read by [Metrics.Snapshot].
type Series struct {
	Labels
	// Requests counts the requests that ended with these labels.
	Requests uint64
	// LatencyCount counts the upstream latencies observed (requests that
	// reached a backend); it is zero for series of pipeline and dispatch
	// failures, which have no upstream latency.
	LatencyCount uint64
	// LatencySum is the sum of the upstream latencies observed.
	LatencySum time.Duration
	// LatencyBuckets holds cumulative counts, like a Prometheus histogram:
	// LatencyBuckets[i] counts the latencies at or below
	// [LatencyBuckets]()[i]. Latencies above the last bound count in
	// LatencyCount only.
	LatencyBuckets []uint64
}

// Metrics is an [Observer] that keeps request counts and upstream latency
// histograms in memory, one series per distinct [Labels].
//
// Each request counts once, at its terminal event ([Kind.Terminal]);
// UpstreamSucceeded and UpstreamFailed events also record their latency in
// the series' histogram (buckets: [LatencyBuckets]). Resilience events
// ([Kind.Resilience]) are counted apart, per kind, service, backend and
// code; [Metrics.Events] reads them. RequestStarted and BackendSelected
// events are ignored.
//
// Observe takes no lock and allocates nothing once a series exists: a
// series is found in a [sync.Map] by its comparable Labels and updated with
// atomic adds. The first event of a series allocates it, and so does every
// event whose backend URL carries user information, which is stripped.
// Series are never removed, so backends that come and go leave their
// series behind.
//
// The zero value is ready to use. A Metrics must not be copied after first
// use. It is safe for concurrent use.
type Metrics struct {
	series sync.Map // Labels → *counters
	events sync.Map // EventLabels → *atomic.Uint64
}

// EventLabels identifies one count of resilience events in [Metrics]. It
// is comparable.
type EventLabels struct {
	// Kind is a resilience event kind ([Kind.Resilience]).
	Kind Kind
	// Service is the service's name; Addr the backend's URL without user
	// information, "" for service-wide events (the circuit breaker's).
	Service, Addr string
	// Code is the event's code: why a probe failed, or what a retried
	// attempt failed with; "" otherwise.
	Code string
}

// EventCount is one count of resilience events, as read by
// [Metrics.Events].
type EventCount struct {
	EventLabels
	Count uint64
}

// NewMetrics returns an empty [Metrics].
func NewMetrics() *Metrics {
	return &Metrics{}
}

// counters holds one series' live values, updated atomically.
type counters struct {
	requests atomic.Uint64
	// latencySum is in nanoseconds.
	latencySum atomic.Int64
	// buckets are per-bucket (not cumulative) counts; the last is +Inf.
	buckets [len(latencyBounds) + 1]atomic.Uint64
}

// Observe records e if it is terminal or a resilience event.
func (m *Metrics) Observe(_ context.Context, e Event) {
	if e.Kind.Resilience() {
		m.countEvent(EventLabels{Kind: e.Kind, Service: e.Service, Addr: redactAddr(e.Addr), Code: e.Code})
		return
	}
	if !e.Kind.Terminal() {
		return
	}
	c := m.counters(Labels{
		Service: e.Service,
		Route:   e.Route,
		Method:  knownMethod(e.Method),
		Addr:    redactAddr(e.Addr),
		Status:  e.Status,
		Code:    e.Code,
	})
	c.requests.Add(1)
	if e.Kind == UpstreamSucceeded || e.Kind == UpstreamFailed {
		d := max(e.Latency, 0)
		c.latencySum.Add(int64(d))
		c.buckets[bucket(d)].Add(1)
	}
}

// counters returns the series for k, creating it on first use.
func (m *Metrics) counters(k Labels) *counters {
	if v, ok := m.series.Load(k); ok {
		return v.(*counters)
	}
	v, _ := m.series.LoadOrStore(k, new(counters))
	return v.(*counters)
}

// countEvent adds one to the count of k.
func (m *Metrics) countEvent(k EventLabels) {
	v, ok := m.events.Load(k)
	if !ok {
		v, _ = m.events.LoadOrStore(k, new(atomic.Uint64))
	}
	v.(*atomic.Uint64).Add(1)
}

// Events returns the counts of resilience events (ejections,
// readmissions, health changes and probes, retries, circuit changes),
// sorted by kind, service, addr and code.
func (m *Metrics) Events() []EventCount {
	var out []EventCount
	m.events.Range(func(k, v any) bool {
		out = append(out, EventCount{EventLabels: k.(EventLabels), Count: v.(*atomic.Uint64).Load()})
		return true
	})
	slices.SortFunc(out, func(a, b EventCount) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Service, b.Service),
			cmp.Compare(a.Addr, b.Addr), cmp.Compare(a.Code, b.Code))
	})
	return out
}

// knownMethod returns m if it is a standard HTTP method, else "OTHER".
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// bucket returns the index of the bucket d falls in.
func bucket(d time.Duration) int {
	for i, b := range latencyBounds {
		if d <= b {
			return i
		}
	}
	return len(latencyBounds)
}

// Snapshot returns every series' current values, sorted by labels
// (service, route, method, addr, status, code). Each value is read
// atomically, but the series are not read at one instant: counts that
// change during the call may be off by the events in flight, and
// LatencySum may lag LatencyCount. LatencyCount always equals the
// histogram's total.
func (m *Metrics) Snapshot() []Series {
	var out []Series
	m.series.Range(func(k, v any) bool {
		c := v.(*counters)
		s := Series{
			Labels:         k.(Labels),
			Requests:       c.requests.Load(),
			LatencySum:     time.Duration(c.latencySum.Load()),
			LatencyBuckets: make([]uint64, len(latencyBounds)),
		}
		var cum uint64
		for i := range c.buckets {
			cum += c.buckets[i].Load()
			if i < len(latencyBounds) {
				s.LatencyBuckets[i] = cum
			}
		}
		s.LatencyCount = cum
		out = append(out, s)
		return true
	})
	slices.SortFunc(out, func(a, b Series) int { return compareLabels(a.Labels, b.Labels) })
	return out
}

// compareLabels orders labels field by field.
func compareLabels(a, b Labels) int {
	return cmp.Or(
		cmp.Compare(a.Service, b.Service),
		cmp.Compare(a.Route, b.Route),
		cmp.Compare(a.Method, b.Method),
		cmp.Compare(a.Addr, b.Addr),
		cmp.Compare(a.Status, b.Status),
		cmp.Compare(a.Code, b.Code),
	)
}
