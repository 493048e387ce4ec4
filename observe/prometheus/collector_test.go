package prometheus

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/apigate-go/apigate/observe"
)

// scrape serves reg over HTTP and returns the exposition text.
func scrape(t *testing.T, reg *prom.Registry) string {
	t.Helper()
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("scrape: reading body: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d, body %s", resp.StatusCode, body)
	}
	return string(body)
}

// feed sends a few requests' events to m.
func feed(m *observe.Metrics) {
	ctx := context.Background()
	ok := observe.Event{
		Kind: observe.UpstreamSucceeded, Service: "items", Route: "/api/items/:id", Method: "GET",
		Backend: 0, Addr: "http://192.0.2.1:8080", Status: 200,
	}
	for _, d := range []time.Duration{500 * time.Microsecond, 3 * time.Millisecond, 20 * time.Second} {
		ok.Latency = d
		m.Observe(ctx, ok)
	}
	m.Observe(ctx, observe.Event{
		Kind: observe.UpstreamFailed, Service: "items", Route: "/api/items/:id", Method: "GET",
		Backend: 1, Addr: "http://192.0.2.2:8080", Status: 504, Code: "upstream_timeout", Latency: 10 * time.Second,
	})
	m.Observe(ctx, observe.Event{
		Kind: observe.DispatchFailed, Service: "items", Route: "/api/items/:id", Method: "GET",
		Backend: -1, Status: 503, Code: "no_backend",
	})
	m.Observe(ctx, observe.Event{Kind: observe.RequestStarted, Service: "items", Route: "/api/items/:id", Method: "GET"})
	for range 2 {
		m.Observe(ctx, observe.Event{Kind: observe.BackendEjected, Service: "items", Backend: 1, Addr: "http://192.0.2.2:8080"})
	}
	m.Observe(ctx, observe.Event{Kind: observe.CircuitOpened, Service: "items", Backend: -1})
}

func TestCollectorExposition(t *testing.T) {
	m := observe.NewMetrics()
	reg := prom.NewPedanticRegistry()
	reg.MustRegister(NewCollector(m, Options{}))
	feed(m)
	got := scrape(t, reg)

	const okLabels = `backend="http://192.0.2.1:8080",code="200",error_code="",method="GET",route="/api/items/:id",service="items"`
	const slowLabels = `backend="http://192.0.2.2:8080",code="504",error_code="upstream_timeout",method="GET",route="/api/items/:id",service="items"`
	const noBackendLabels = `backend="",code="503",error_code="no_backend",method="GET",route="/api/items/:id",service="items"`
	want := []string{
		"# TYPE apigate_requests_total counter",
		"apigate_requests_total{" + okLabels + "} 3",
		"apigate_requests_total{" + slowLabels + "} 1",
		"apigate_requests_total{" + noBackendLabels + "} 1",
		"# TYPE apigate_upstream_latency_seconds histogram",
		"apigate_upstream_latency_seconds_bucket{" + okLabels + `,le="0.001"} 1`,
		"apigate_upstream_latency_seconds_bucket{" + okLabels + `,le="0.0025"} 1`,
		"apigate_upstream_latency_seconds_bucket{" + okLabels + `,le="0.005"} 2`,
		"apigate_upstream_latency_seconds_bucket{" + okLabels + `,le="10"} 2`,
		"apigate_upstream_latency_seconds_bucket{" + okLabels + `,le="+Inf"} 3`,
		"apigate_upstream_latency_seconds_sum{" + okLabels + "} 20.0035",
		"apigate_upstream_latency_seconds_count{" + okLabels + "} 3",
		"apigate_upstream_latency_seconds_bucket{" + slowLabels + `,le="5"} 0`,
		"apigate_upstream_latency_seconds_bucket{" + slowLabels + `,le="10"} 1`,
		"apigate_upstream_latency_seconds_count{" + slowLabels + "} 1",
		"# TYPE apigate_resilience_events_total counter",
		`apigate_resilience_events_total{backend="http://192.0.2.2:8080",error_code="",event="backend_ejected",service="items"} 2`,
		`apigate_resilience_events_total{backend="",error_code="",event="circuit_opened",service="items"} 1`,
	}
	lines := map[string]bool{}
	for l := range strings.SplitSeq(got, "\n") {
		lines[l] = true
	}
	for _, w := range want {
		if !lines[w] {
			t.Errorf("exposition lacks line\n\t%s\ngot:\n%s", w, got)
		}
	}
	if strings.Contains(got, noBackendLabels+",le=") || strings.Contains(got, "_count{"+noBackendLabels) {
		t.Errorf("exposition has a latency histogram for a request that reached no backend:\n%s", got)
	}
	if n := strings.Count(got, "apigate_requests_total{"); n != 3 {
		t.Errorf("exposition has %d request series, want 3:\n%s", n, got)
	}
}

func TestCollectorOptions(t *testing.T) {
	public, internal := observe.NewMetrics(), observe.NewMetrics()
	labels := prom.Labels{"gateway": "public"}
	reg := prom.NewPedanticRegistry()
	reg.MustRegister(
		NewCollector(public, Options{ConstLabels: labels}),
		NewCollector(internal, Options{ConstLabels: prom.Labels{"gateway": "internal"}}),
		NewCollector(observe.NewMetrics(), Options{Namespace: "edge"}),
	)
	labels["gateway"] = "changed" // NewCollector must have copied the map
	feed(public)
	feed(internal)
	got := scrape(t, reg)
	for _, w := range []string{`gateway="public"`, `gateway="internal"`} {
		if !strings.Contains(got, `apigate_requests_total{backend="",code="503",error_code="no_backend",`+w) {
			t.Errorf("exposition lacks a request series with %s:\n%s", w, got)
		}
	}
	if strings.Contains(got, "changed") {
		t.Errorf("a change to the caller's ConstLabels reached the exposition:\n%s", got)
	}
}

func TestCollectorNamespaceAndEmpty(t *testing.T) {
	m := observe.NewMetrics()
	reg := prom.NewPedanticRegistry()
	reg.MustRegister(NewCollector(m, Options{Namespace: "edge"}), NewCollector(nil, Options{Namespace: "none"}))
	if got := scrape(t, reg); strings.Contains(got, "edge_") || strings.Contains(got, "none_") {
		t.Errorf("exposition of empty metrics has series:\n%s", got)
	}
	feed(m)
	got := scrape(t, reg)
	if !strings.Contains(got, "edge_requests_total{") || !strings.Contains(got, "edge_upstream_latency_seconds_bucket{") {
		t.Errorf("exposition lacks the edge_ metrics:\n%s", got)
	}
	if strings.Contains(got, "apigate_") {
		t.Errorf("exposition has apigate_ metrics despite the namespace:\n%s", got)
	}
}

func TestCollectorDescribe(t *testing.T) {
	ch := make(chan *prom.Desc, 4)
	NewCollector(observe.NewMetrics(), Options{}).Describe(ch)
	close(ch)
	var got []string
	for d := range ch {
		got = append(got, d.String())
	}
	if len(got) != 3 || !strings.Contains(got[0], `"apigate_requests_total"`) || !strings.Contains(got[1], `"apigate_upstream_latency_seconds"`) ||
		!strings.Contains(got[2], `"apigate_resilience_events_total"`) {
		t.Errorf("Describe sent %q, want the requests, latency and resilience events descriptors", got)
	}
}

func BenchmarkCollect(b *testing.B) {
	m := observe.NewMetrics()
	for i := range 100 {
		m.Observe(context.Background(), observe.Event{
			Kind: observe.UpstreamSucceeded, Service: "items", Route: "/api/items/:id", Method: "GET",
			Addr: "http://192.0.2." + strconv.Itoa(i) + ":8080", Status: 200, Latency: time.Millisecond,
		})
	}
	c := NewCollector(m, Options{})
	ch := make(chan prom.Metric, 256)
	b.ReportAllocs()
	for b.Loop() {
		c.Collect(ch)
		for len(ch) > 0 {
			<-ch
		}
	}
}
