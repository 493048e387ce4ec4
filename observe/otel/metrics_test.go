package otel_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/apigate-go/apigate/observe"
	apigateotel "github.com/apigate-go/apigate/observe/otel"
)

// collect reads every metric from reader, by name.
func collect(t *testing.T, reader sdkmetric.Reader) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("Collect: %v", err)
	}
	out := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

// TestMetricsMirrorObserveMetrics feeds the same events to the OTel
// observer and to observe.Metrics and compares the series.
func TestMetricsMirrorObserveMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	o, err := apigateotel.New(apigateotel.Options{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))})
	if err != nil {
		t.Fatal(err)
	}
	mem := observe.NewMetrics()
	obs := observe.Multi(o, mem)
	r := httptest.NewRequest("GET", "/api/items/1", nil)
	ok := event(observe.UpstreamSucceeded, r)
	ok.Backend, ok.Addr, ok.Status, ok.Latency = 0, "http://user:pw@127.0.0.1:8080", 200, 3*time.Millisecond
	fail := event(observe.UpstreamFailed, r)
	fail.Backend, fail.Addr, fail.Status, fail.Code, fail.Latency = 1, "http://127.0.0.1:8081", 504, "upstream_timeout", 2*time.Second
	retried := fail
	retried.Kind = observe.RequestRetried
	refused := event(observe.PipelineFailed, r)
	refused.Status, refused.Code = 401, "unauthorized"
	for _, e := range []observe.Event{ok, ok, retried, fail, refused, event(observe.RequestStarted, r), event(observe.RequestEnded, r)} {
		obs.Observe(context.Background(), e)
	}

	data := collect(t, reader)
	sum, isSum := data["apigate.requests"].(metricdata.Sum[int64])
	hist, isHist := data["apigate.upstream.duration"].(metricdata.Histogram[float64])
	if !isSum || !isHist {
		t.Fatalf("metrics = %v, want apigate.requests (sum) and apigate.upstream.duration (histogram)", data)
	}
	series := mem.Snapshot()
	if len(sum.DataPoints) != len(series) {
		t.Fatalf("OTel has %d request series, observe.Metrics %d", len(sum.DataPoints), len(series))
	}
	for _, s := range series {
		want := attribute.NewSet(
			apigateotel.KeyService.String(s.Service), attribute.String("http.route", s.Route),
			attribute.String("http.request.method", s.Method), apigateotel.KeyBackend.String(s.Addr),
			attribute.Int("http.response.status_code", s.Status), apigateotel.KeyErrorCode.String(s.Code))
		found := false
		for _, dp := range sum.DataPoints {
			if dp.Attributes.Equals(&want) {
				found = true
				if uint64(dp.Value) != s.Requests {
					t.Errorf("%v: %d requests, observe.Metrics has %d", want.Encoded(attribute.DefaultEncoder()), dp.Value, s.Requests)
				}
			}
		}
		if !found {
			t.Errorf("no OTel series for %v", want.Encoded(attribute.DefaultEncoder()))
		}
		for _, dp := range hist.DataPoints {
			if dp.Attributes.Equals(&want) && dp.Count != s.LatencyCount {
				t.Errorf("%v: %d latencies, observe.Metrics has %d", want.Encoded(attribute.DefaultEncoder()), dp.Count, s.LatencyCount)
			}
		}
	}
	if len(hist.DataPoints) != 2 {
		t.Errorf("latency series = %d, want 2 (the upstream outcomes, not the pipeline failure)", len(hist.DataPoints))
	}
	bounds := observe.LatencyBuckets()
	if got := hist.DataPoints[0].Bounds; len(got) != len(bounds) || got[0] != bounds[0].Seconds() {
		t.Errorf("bucket bounds = %v, want observe.LatencyBuckets in seconds", got)
	}
}
