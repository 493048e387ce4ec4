package main

import (
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apigate-go/apigate/bench/internal/load"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"one", []float64{3}, 3},
		{"odd", []float64{5, 1, 3}, 3},
		{"even", []float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := median(tt.in, func(v float64) float64 { return v }); got != tt.want {
				t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{thousands(0), "0"},
		{thousands(999.4), "999"},
		{thousands(1234567), "1,234,567"},
		{percent(0.554), "55%"},
		{percent(math.NaN()), "—"},
		{ratio(1.834, "%.2f×"), "1.83×"},
		{ratio(math.Inf(1), "%.2f×"), "—"},
		{ms(1500 * time.Microsecond), "1.50"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestNiceScale(t *testing.T) {
	tests := []struct{ in, top, step float64 }{
		{0, 1, 0.25},
		{57158, 60000, 10000},
		{7, 7, 1},
		{0.37, 0.4, 0.05},
	}
	for _, tt := range tests {
		top, step := niceScale(tt.in)
		if math.Abs(top-tt.top) > 1e-9 || math.Abs(step-tt.step) > 1e-9 {
			t.Errorf("niceScale(%v) = %v, %v; want %v, %v", tt.in, top, step, tt.top, tt.step)
		}
		if top < tt.in || top/step > 10 {
			t.Errorf("niceScale(%v) = %v, %v: not a covering scale of at most ten ticks", tt.in, top, step)
		}
	}
}

// testSuite returns a suite with three rows and two rounds of samples on
// two routes.
func testSuite() (*suite, results) {
	s := &suite{
		cfg:        config{rounds: 2, conns: 64, rate: 2000, openConns: 64, duration: time.Second, latency: time.Second},
		closedDesc: "test generator",
		rows: []*row{
			{name: rowDirect, direct: true},
			{name: rowStdlib, proc: &proc{}},
			{name: rowApigate, proc: &proc{}},
		},
	}
	lat := func(p99 time.Duration) load.Latency {
		return load.Latency{P50: p99 / 4, P99: p99, P999: 2 * p99}
	}
	res := results{
		"items": {
			rowDirect:  {{rps: 100000, lat: lat(time.Millisecond)}, {rps: 90000, lat: lat(time.Millisecond)}},
			rowStdlib:  {{rps: 30000, lat: lat(4 * time.Millisecond), cpuPerR: 40 * time.Microsecond, rss: 20 << 20}, {rps: 32000, lat: lat(4 * time.Millisecond), cpuPerR: 42 * time.Microsecond, rss: 22 << 20}},
			rowApigate: {{rps: 60000, lat: lat(2 * time.Millisecond), cpuPerR: 20 * time.Microsecond, rss: 10 << 20, errors: 1}, {rps: 62000, lat: lat(2 * time.Millisecond), cpuPerR: 20 * time.Microsecond, rss: 12 << 20}},
		},
		"lookup": {
			rowStdlib: {{rps: 10000, lat: lat(time.Millisecond)}, {rps: 10000, lat: lat(time.Millisecond)}},
		},
	}
	return s, res
}

func TestSummarizeAndMarkdown(t *testing.T) {
	s, res := testSuite()
	sums := s.summarize(res)
	if len(sums) != 2 || sums[0].route.Name != "items" || sums[1].route.Name != "lookup" {
		t.Fatalf("summaries for %d routes, want items then lookup", len(sums))
	}
	ag := sums[0].rows[2]
	if ag.row != rowApigate || ag.rps != 61000 || ag.errors != 1 || ag.rss != 12<<20 || ag.cpuPerR != 20*time.Microsecond {
		t.Errorf("apigate summary %+v", ag)
	}
	if math.Abs(ag.vsStdlib-61000.0/31000) > 1e-9 || math.Abs(ag.vsDirect-61000.0/95000) > 1e-9 {
		t.Errorf("ratios %v × stdlib, %v of direct", ag.vsStdlib, ag.vsDirect)
	}
	if !math.IsNaN(sums[1].rows[0].vsDirect) {
		t.Errorf("lookup has no direct row, ratio %v, want NaN", sums[1].rows[0].vsDirect)
	}
	if n := totalErrors(sums); n != 1 {
		t.Errorf("totalErrors = %d, want 1", n)
	}

	md := s.markdown(reportMeta{date: "D", command: "go run . -x", machine: "M", goVersion: "go1"}, sums, "chart.svg")
	for _, want := range []string{
		"- Command: `go run . -x`",
		"## GET /items",
		"| apigate | 61,000 | 1.97× | 64% | 0.50 | 2.00 | 4.00 | 1 | 20.0 | 12.0 |",
		"| direct | 95,000 | 3.06× | 100% |",
		"| stdlib | 10,000 | 1.00× | — |",
		"![throughput and p99 latency per route](chart.svg)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestChartSVG(t *testing.T) {
	s, res := testSuite()
	svg := chartSVG(s.summarize(res), []string{rowDirect, rowStdlib, rowApigate}, 2000)
	d := xml.NewDecoder(strings.NewReader(svg))
	rects := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
	}
	// background + 3 legend swatches + (3 items bars + 1 lookup bar) × 2 panels
	if want := 1 + 3 + 2*4; rects != want {
		t.Errorf("%d rects, want %d", rects, want)
	}
}
