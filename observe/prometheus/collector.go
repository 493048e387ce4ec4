// Package prometheus exposes the in-memory metrics of an apigate gateway,
// an [observe.Metrics], to Prometheus.
//
// It is a separate module so that the gateway itself does not depend on
// the Prometheus client:
//
//	go get github.com/apigate-go/apigate/observe/prometheus
//
// Wire it up with the same Metrics value as the gateway's observer:
//
//	m := observe.NewMetrics()
//	gw, err := apigate.New(..., apigate.WithObserver(m))
//	registry.MustRegister(apigateprom.NewCollector(m, apigateprom.Options{}))
//
// The collector reads [observe.Metrics.Snapshot] on each scrape; the
// request path only ever touches the Metrics' atomic counters.
package prometheus

import (
	"strconv"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/apigate-go/apigate/observe"
)

// labelNames are the variable labels of both metrics, in the order
// Collect passes their values.
var labelNames = []string{"service", "route", "method", "backend", "code", "error_code"}

// Options tunes the [Collector] that [NewCollector] builds. The zero value
// gives the defaults.
type Options struct {
	// Namespace prefixes the metric names; "" means "apigate".
	Namespace string
	// ConstLabels are added to every metric, for instance
	// {"gateway": "public"} to tell apart two gateways registered in one
	// registry. NewCollector copies the map.
	ConstLabels prom.Labels
}

// Collector is a [prom.Collector] that exposes an [observe.Metrics] as two
// metrics, each labelled service, route, method (see [observe.Labels]),
// backend (the backend's URL, "" when none was chosen), code (the HTTP
// status) and error_code (the stable error code, "" on success):
//
//   - apigate_requests_total, a counter of the requests that ended;
//   - apigate_upstream_latency_seconds, a histogram of the time from sending
//     a request upstream to its response headers or failure, with the
//     buckets of [observe.LatencyBuckets]. Series of requests that never
//     reached a backend (pipeline and dispatch failures) have no histogram.
//
// and a third, apigate_resilience_events_total, a counter of the
// resilience events ([observe.Metrics.Events]: ejections, readmissions,
// health changes and probes, retries, circuit changes) labelled event,
// service, backend and error_code.
//
// A Collector is safe for concurrent use.
type Collector struct {
	metrics  *observe.Metrics
	requests *prom.Desc
	latency  *prom.Desc
	events   *prom.Desc
	bounds   []float64 // bucket upper bounds, in seconds
}

// NewCollector returns a [Collector] that reads m on each scrape. A nil m
// yields a collector that exposes no series.
func NewCollector(m *observe.Metrics, opts Options) *Collector {
	ns := opts.Namespace
	if ns == "" {
		ns = "apigate"
	}
	constLabels := make(prom.Labels, len(opts.ConstLabels))
	for k, v := range opts.ConstLabels {
		constLabels[k] = v
	}
	c := &Collector{
		metrics: m,
		requests: prom.NewDesc(
			prom.BuildFQName(ns, "", "requests_total"),
			"Requests that ended, by service, route, method, backend URL, HTTP status and stable error code.",
			labelNames, constLabels),
		latency: prom.NewDesc(
			prom.BuildFQName(ns, "upstream", "latency_seconds"),
			"Time from sending a request to a backend to its response headers or failure.",
			labelNames, constLabels),
		events: prom.NewDesc(
			prom.BuildFQName(ns, "resilience", "events_total"),
			"Resilience decisions and state changes, by event, service, backend URL and stable code.",
			[]string{"event", "service", "backend", "error_code"}, constLabels),
	}
	for _, b := range observe.LatencyBuckets() {
		c.bounds = append(c.bounds, b.Seconds())
	}
	return c
}

// Describe sends the descriptors of the three metrics.
func (c *Collector) Describe(ch chan<- *prom.Desc) {
	ch <- c.requests
	ch <- c.latency
	ch <- c.events
}

// Collect sends the current value of every series.
func (c *Collector) Collect(ch chan<- prom.Metric) {
	if c.metrics == nil {
		return
	}
	for _, s := range c.metrics.Snapshot() {
		values := []string{s.Service, s.Route, s.Method, s.Addr, strconv.Itoa(s.Status), s.Code}
		ch <- constMetric(c.requests, prom.CounterValue, float64(s.Requests), values)
		if s.LatencyCount == 0 {
			continue
		}
		buckets := make(map[float64]uint64, len(c.bounds))
		for i, n := range s.LatencyBuckets {
			buckets[c.bounds[i]] = n
		}
		h, err := prom.NewConstHistogram(c.latency, s.LatencyCount, s.LatencySum.Seconds(), buckets, values...)
		if err != nil {
			h = prom.NewInvalidMetric(c.latency, err)
		}
		ch <- h
	}
	for _, e := range c.metrics.Events() {
		ch <- constMetric(c.events, prom.CounterValue, float64(e.Count), []string{e.Kind.String(), e.Service, e.Addr, e.Code})
	}
}

// constMetric returns a constant metric, or an invalid one carrying the
// error, which the registry reports at scrape time.
func constMetric(d *prom.Desc, t prom.ValueType, v float64, values []string) prom.Metric {
	m, err := prom.NewConstMetric(d, t, v, values...)
	if err != nil {
		return prom.NewInvalidMetric(d, err)
	}
	return m
}
