package observe

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// upstream returns an upstream event of kind k for the items route.
func upstream(k Kind, addr string, status int, code string, latency time.Duration) Event {
	return Event{Kind: k, Service: "items", Route: "/api/items/:id", Method: "GET",
		Backend: 0, Addr: addr, Status: status, Code: code, Latency: latency}
}

func TestLatencyBuckets(t *testing.T) {
	got := LatencyBuckets()
	if len(got) != 13 || got[0] != time.Millisecond || got[len(got)-1] != 10*time.Second {
		t.Errorf("LatencyBuckets() = %v, want 13 bounds from 1ms to 10s", got)
	}
	if !slices.IsSorted(got) {
		t.Errorf("LatencyBuckets() = %v, want ascending", got)
	}
	got[0] = time.Hour
	if again := LatencyBuckets(); again[0] != time.Millisecond {
		t.Errorf("after changing a returned slice, LatencyBuckets()[0] = %v, want 1ms", again[0])
	}
}

func TestBucket(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int
	}{
		{0, 0},
		{time.Millisecond, 0}, // bounds are inclusive, like Prometheus "le"
		{time.Millisecond + 1, 1},
		{2500 * time.Microsecond, 1},
		{7 * time.Millisecond, 3},
		{time.Second, 9},
		{10 * time.Second, 12},
		{10*time.Second + 1, 13},
		{time.Hour, 13},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			if got := bucket(tt.d); got != tt.want {
				t.Errorf("bucket(%v) = %d, want %d", tt.d, got, tt.want)
			}
		})
	}
}

func TestMetricsCountsAndHistograms(t *testing.T) {
	const a, b = "http://192.0.2.1:8080", "http://192.0.2.2:8080"
	m := NewMetrics()
	ctx := context.Background()
	events := []Event{
		{Kind: RequestStarted, Service: "items", Route: "/api/items/:id", Method: "GET", Backend: -1},
		upstream(BackendSelected, a, 0, "", 0),
		upstream(UpstreamSucceeded, a, 200, "", 500*time.Microsecond),
		upstream(UpstreamSucceeded, a, 200, "", 3*time.Millisecond),
		upstream(UpstreamSucceeded, a, 200, "", 20*time.Second),
		upstream(UpstreamSucceeded, b, 200, "", 2*time.Millisecond),
		upstream(UpstreamFailed, b, 504, "upstream_timeout", 10*time.Second),
		{Kind: DispatchFailed, Service: "items", Route: "/api/items/:id", Method: "GET", Backend: -1, Status: 503, Code: "no_backend"},
		{Kind: PipelineFailed, Service: "items", Route: "/api/items/:id", Method: "GET", Backend: -1, Status: 401, Code: "unauthorized"},
		{Kind: PipelineFailed, Service: "items", Route: "/api/items/:id", Method: "GET", Backend: -1, Status: 401, Code: "unauthorized"},
	}
	for _, e := range events {
		m.Observe(ctx, e)
	}
	lbl := func(addr string, status int, code string) Labels {
		return Labels{Service: "items", Route: "/api/items/:id", Method: "GET", Addr: addr, Status: status, Code: code}
	}
	none := make([]uint64, 13)
	want := []Series{
		{Labels: lbl("", 401, "unauthorized"), Requests: 2, LatencyBuckets: none},
		{Labels: lbl("", 503, "no_backend"), Requests: 1, LatencyBuckets: none},
		{
			Labels: lbl(a, 200, ""), Requests: 3, LatencyCount: 3,
			LatencySum:     500*time.Microsecond + 3*time.Millisecond + 20*time.Second,
			LatencyBuckets: []uint64{1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2},
		},
		{
			Labels: lbl(b, 200, ""), Requests: 1, LatencyCount: 1, LatencySum: 2 * time.Millisecond,
			LatencyBuckets: []uint64{0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		},
		{
			Labels: lbl(b, 504, "upstream_timeout"), Requests: 1, LatencyCount: 1, LatencySum: 10 * time.Second,
			LatencyBuckets: []uint64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
		},
	}
	got := m.Snapshot()
	if len(got) != len(want) {
		t.Fatalf("Snapshot() has %d series, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if fmt.Sprintf("%+v", got[i]) != fmt.Sprintf("%+v", want[i]) {
			t.Errorf("series %d:\n\tgot  %+v\n\twant %+v", i, got[i], want[i])
		}
	}
}

func TestMetricsZeroValueAndNegativeLatency(t *testing.T) {
	var m Metrics
	m.Observe(context.Background(), upstream(UpstreamFailed, "http://a", 499, "client_closed", -time.Second))
	got := m.Snapshot()
	if len(got) != 1 || got[0].LatencySum != 0 || got[0].LatencyBuckets[0] != 1 {
		t.Errorf("Snapshot() = %+v, want one series with a latency of 0 in the first bucket", got)
	}
}

func TestMetricsSnapshotIsACopy(t *testing.T) {
	m := NewMetrics()
	e := upstream(UpstreamSucceeded, "http://a", 200, "", time.Millisecond)
	m.Observe(context.Background(), e)
	first := m.Snapshot()
	m.Observe(context.Background(), e)
	if first[0].Requests != 1 || first[0].LatencyBuckets[0] != 1 {
		t.Errorf("earlier snapshot changed to %+v, want Requests 1", first[0])
	}
	if got := m.Snapshot()[0].Requests; got != 2 {
		t.Errorf("Requests = %d, want 2", got)
	}
}

func TestMetricsObserveAllocatesNothing(t *testing.T) {
	m := NewMetrics()
	e := upstream(UpstreamSucceeded, "http://192.0.2.1:8080", 200, "", 3*time.Millisecond)
	m.Observe(context.Background(), e) // creates the series
	if allocs := testing.AllocsPerRun(100, func() { m.Observe(context.Background(), e) }); allocs != 0 {
		t.Errorf("Observe on an existing series: %v allocs, want 0", allocs)
	}
}

func TestMetricsConcurrent(t *testing.T) {
	const workers, perWorker = 8, 500
	addrs := []string{"http://a", "http://b", "http://c"}
	m := NewMetrics()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				e := upstream(UpstreamSucceeded, addrs[(w+i)%len(addrs)], 200, "", time.Duration(i)*time.Millisecond)
				m.Observe(context.Background(), e)
				if i%100 == 0 {
					_ = m.Snapshot()
				}
			}
		})
	}
	wg.Wait()
	var requests, count uint64
	for _, s := range m.Snapshot() {
		requests += s.Requests
		count += s.LatencyCount
	}
	if want := uint64(workers * perWorker); requests != want || count != want {
		t.Errorf("requests = %d, latency count = %d, want %d each", requests, count, want)
	}
	if got := len(m.Snapshot()); got != len(addrs) {
		t.Errorf("series = %d, want %d", got, len(addrs))
	}
}

func BenchmarkMetricsObserve(b *testing.B) {
	m := NewMetrics()
	e := upstream(UpstreamSucceeded, "http://192.0.2.1:8080", 200, "", 3*time.Millisecond)
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Observe(ctx, e)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.Observe(ctx, e)
			}
		})
	})
}

func BenchmarkMetricsSnapshot(b *testing.B) {
	m := NewMetrics()
	for i := range 100 {
		m.Observe(context.Background(), upstream(UpstreamSucceeded, fmt.Sprintf("http://192.0.2.%d:8080", i), 200, "", time.Millisecond))
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Snapshot()
	}
}

func TestMetricsBoundsMethods(t *testing.T) {
	m := NewMetrics()
	for _, method := range []string{"GET", "PROPFIND", "X-RANDOM-1", "X-RANDOM-2", "get"} {
		m.Observe(context.Background(), Event{Kind: PipelineFailed, Method: method, Backend: -1, Status: 404, Code: "not_found"})
	}
	var got []string
	for _, s := range m.Snapshot() {
		got = append(got, fmt.Sprintf("%s=%d", s.Method, s.Requests))
	}
	if want := []string{"GET=1", "OTHER=4"}; !slices.Equal(got, want) {
		t.Errorf("series by method = %q, want %q", got, want)
	}
}

func TestMetricsEvents(t *testing.T) {
	m := NewMetrics()
	ctx := context.Background()
	ev := func(k Kind, addr, code string) Event {
		return Event{Kind: k, Service: "items", Backend: 0, Addr: addr, Code: code}
	}
	m.Observe(ctx, ev(BackendEjected, "http://u:p@192.0.2.1", ""))
	m.Observe(ctx, ev(BackendEjected, "http://192.0.2.1", ""))
	m.Observe(ctx, ev(HealthChecked, "http://192.0.2.2", "health_check_failed"))
	m.Observe(ctx, ev(HealthChecked, "http://192.0.2.2", ""))
	m.Observe(ctx, ev(CircuitOpened, "", ""))
	m.Observe(ctx, ev(BackendSelected, "http://192.0.2.1", "")) // not counted
	got := m.Events()
	want := []EventCount{
		{EventLabels{BackendEjected, "items", "http://192.0.2.1", ""}, 2},
		{EventLabels{HealthChecked, "items", "http://192.0.2.2", ""}, 1},
		{EventLabels{HealthChecked, "items", "http://192.0.2.2", "health_check_failed"}, 1},
		{EventLabels{CircuitOpened, "items", "", ""}, 1},
	}
	if len(got) != len(want) {
		t.Fatalf("Events() = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Events()[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if s := m.Snapshot(); len(s) != 0 {
		t.Errorf("resilience events made request series: %v", s)
	}
}
