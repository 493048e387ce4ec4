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

// testSuite returns a suite with six rows and two rounds of samples on
// two routes (lookup measured on stdlib only).
func testSuite() (*suite, results) {
	s := &suite{
		cfg:        config{rounds: 2, conns: 64, rate: 2000, openConns: 64, duration: time.Second, latency: time.Second},
		closedDesc: "test generator",
		rows: []*row{
			{name: rowDirect, direct: true},
			{name: rowL4, direct: true, proc: &proc{}},
			{name: rowFloor, direct: true, proc: &proc{}},
			{name: rowStdlib, proc: &proc{}},
			{name: rowApigate, proc: &proc{}},
			{name: rowNginx, proc: &proc{}},
		},
	}
	lat := func(p99 time.Duration) load.Latency {
		return load.Latency{P50: p99 / 4, P99: p99, P999: 2 * p99}
	}
	res := results{
		"items": {
			rowDirect:  {{rps: 100000, lat: lat(time.Millisecond)}, {rps: 90000, lat: lat(time.Millisecond)}},
			rowL4:      {{rps: 64000, lat: lat(time.Millisecond), cpuPerR: 10 * time.Microsecond, rss: 15 << 20}, {rps: 66000, lat: lat(time.Millisecond), cpuPerR: 10 * time.Microsecond, rss: 15 << 20}},
			rowFloor:   {{rps: 55000, lat: lat(time.Millisecond), cpuPerR: 16 * time.Microsecond, rss: 8 << 20}, {rps: 57000, lat: lat(time.Millisecond), cpuPerR: 17 * time.Microsecond, rss: 8 << 20}},
			rowStdlib:  {{rps: 30000, lat: lat(4 * time.Millisecond), cpuPerR: 40 * time.Microsecond, rss: 20 << 20}, {rps: 32000, lat: lat(4 * time.Millisecond), cpuPerR: 42 * time.Microsecond, rss: 22 << 20}},
			rowApigate: {{rps: 60000, lat: lat(2 * time.Millisecond), cpuPerR: 20 * time.Microsecond, rss: 10 << 20, errors: 1}, {rps: 62000, lat: lat(2 * time.Millisecond), cpuPerR: 20 * time.Microsecond, rss: 12 << 20}},
			rowNginx:   {{rps: 50000, lat: lat(3 * time.Millisecond), cpuPerR: 16 * time.Microsecond, rss: 32 << 20}, {rps: 50000, lat: lat(time.Millisecond), cpuPerR: 16 * time.Microsecond, rss: 30 << 20}},
		},
		"lookup": {
			rowStdlib: {{rps: 10000, lat: lat(time.Millisecond)}, {rps: 10000, lat: lat(time.Millisecond)}},
		},
	}
	return s, res
}

// TestRelRPSPerRound checks that ratios come from the rounds, not from
// the medians: a machine twice as fast in the last rounds does not
// change a gateway that always carries half of its reference.
func TestRelRPSPerRound(t *testing.T) {
	a := []sample{{rps: 10}, {rps: 12}, {rps: 40}, {rps: 44}, {rps: 50}}
	ref := []sample{{rps: 20}, {rps: 24}, {rps: 80}, {rps: 88}, {rps: 100}}
	if got := relRPS(a, ref); got != 0.5 {
		t.Errorf("relRPS = %v, want 0.5", got)
	}
	if got := relRPS(a, nil); !math.IsNaN(got) {
		t.Errorf("relRPS without a reference = %v, want NaN", got)
	}
	if got := relRPS(a[:2], ref); got != 11.0/80 {
		t.Errorf("relRPS over different rounds = %v, want the medians' ratio %v", got, 11.0/80)
	}
}

func TestSummarizeAndMarkdown(t *testing.T) {
	s, res := testSuite()
	sums := s.summarize(res)
	if len(sums) != 2 || sums[0].route.Name != "items" || sums[1].route.Name != "lookup" {
		t.Fatalf("summaries for %d routes, want items then lookup", len(sums))
	}
	ag, ok := sums[0].find(rowApigate)
	if !ok || ag.rps != 61000 || ag.errors != 1 || ag.rss != 12<<20 || ag.cpuPerR != 20*time.Microsecond {
		t.Errorf("apigate summary %+v", ag)
	}
	for _, r := range []struct {
		name      string
		got, want float64
	}{
		// medians (here means) of the two rounds' ratios
		{"× stdlib", ag.vsStdlib, (60000.0/30000 + 62000.0/32000) / 2},
		{"of direct", ag.vsDirect, (60000.0/100000 + 62000.0/90000) / 2},
		{"× nginx", ag.vsNginx, (60000.0/50000 + 62000.0/50000) / 2},
		{"of L4", ag.vsL4, (60000.0/64000 + 62000.0/66000) / 2},
	} {
		if math.Abs(r.got-r.want) > 1e-9 {
			t.Errorf("apigate %s = %v, want %v", r.name, r.got, r.want)
		}
	}
	if !math.IsNaN(sums[1].rows[0].vsDirect) || !math.IsNaN(sums[1].rows[0].vsNginx) || !math.IsNaN(sums[1].rows[0].vsL4) {
		t.Errorf("lookup has only a stdlib row, ratios %+v, want NaN", sums[1].rows[0])
	}
	if n := totalErrors(sums); n != 1 {
		t.Errorf("totalErrors = %d, want 1", n)
	}

	s.haproxyVersion, s.nginxVersion = "2.6.12", "1.22.1"
	md := s.markdown(reportMeta{date: "D", command: "go run . -x", machine: "M", goVersion: "go1"}, sums, "chart.svg")
	for _, want := range []string{
		"- Command: `go run . -x`",
		"- Go: go1; nginx 1.22.1 with njs, 2 workers; haproxy 2.6.12 in TCP mode, 2 threads (the l4 row)\n",
		"## GET /items",
		"| gateway | req/s | × nginx | × stdlib | % of L4 | % of direct | p50 ms | p99 ms | p99.9 ms | errors | CPU µs/req | peak RSS MiB |\n",
		"| apigate | 61,000 | 1.22× | 1.97× | 94% | 64% | 0.50 | 2.00 | 4.00 | 1 | 20.0 | 12.0 |",
		"| l4 | 65,000 | 1.30× | 2.10× | 100% | 69% | 0.25 | 1.00 | 2.00 | 0 | 10.0 | 15.0 |",
		"| go-floor | 56,000 | 1.12× | 1.81× | 86% | 59% | 0.25 | 1.00 | 2.00 | 0 | 16.5 | 8.0 |",
		"- go-floor is sent the same requests as l4",
		"| direct | 95,000 | 1.90× | 3.07× | 146% | 100% |",
		"| stdlib | 10,000 | — | 1.00× | — | — |",
		"![throughput and p99 latency per route](chart.svg)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if i, j := strings.Index(md, "## apigate against its targets"), strings.Index(md, "## GET /items"); i < 0 || i > j {
		t.Errorf("the summary table does not come before the route tables:\n%s", md)
	}
}

func TestApigateSummary(t *testing.T) {
	s, res := testSuite()
	got := apigateSummary(s.summarize(res))
	// items: 1.22× nginx, 1.97× stdlib, 94% of L4; p99 2 ms vs nginx's
	// median 2 ms, CPU 20 vs 16 µs, RSS 12 vs 32 MiB; CPU 20 vs the
	// floor's median 16.5 µs, unmarked. lookup has no apigate row.
	want := "| `GET /items` | 1.22× ✓ | 1.97× ✓ | 94% ✓ | 1.00 ✓ | 1.25 ✗ | 0.38 ✓ | 1.21 |\n"
	if !strings.Contains(got, want) {
		t.Errorf("summary lacks %q:\n%s", want, got)
	}
	if strings.Contains(got, "/items/lookup") {
		t.Errorf("summary has a line for a route without apigate:\n%s", got)
	}

	// Without nginx and the floor, their ratios are blank and unmarked;
	// the stdlib and L4 targets still apply, and % of L4 is marked on
	// /items only.
	delete(res["items"], rowNginx)
	delete(res["items"], rowFloor)
	res["lookup"][rowApigate] = []sample{{rps: 15000}}
	res["lookup"][rowL4] = []sample{{rps: 30000}}
	got = apigateSummary(s.summarize(res))
	for _, want := range []string{
		"| `GET /items` | — | 1.97× ✓ | 94% ✓ | — | — | — | — |\n",
		"| `POST /items/lookup` | — | 1.50× ✗ | 50% | — | — | — | — |\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}

	delete(res["items"], rowApigate)
	delete(res["lookup"], rowApigate)
	if got := apigateSummary(s.summarize(res)); got != "" {
		t.Errorf("summary without apigate = %q, want none", got)
	}
}

func TestMarked(t *testing.T) {
	tests := []struct {
		s    string
		v    float64
		met  bool
		want string
	}{
		{"1.05×", 1.05, true, "1.05× ✓"},
		{"0.95×", 0.95, false, "0.95× ✗"},
		{"—", math.NaN(), true, "—"},
		{"—", math.Inf(1), false, "—"},
	}
	for _, tt := range tests {
		if got := marked(tt.s, tt.v, tt.met); got != tt.want {
			t.Errorf("marked(%q, %v, %v) = %q, want %q", tt.s, tt.v, tt.met, got, tt.want)
		}
	}
}

func TestChartSVG(t *testing.T) {
	s, res := testSuite()
	svg := chartSVG(s.summarize(res), []string{rowDirect, rowL4, rowStdlib, rowApigate, rowNginx}, 2000)
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
	// background + 5 legend swatches + (5 items bars + 1 lookup bar) × 2 panels
	if want := 1 + 5 + 2*6; rects != want {
		t.Errorf("%d rects, want %d", rects, want)
	}
}

func TestControlSummary(t *testing.T) {
	s, res := testSuite()
	if got := controlSummary(s.summarize(res)); got != "" {
		t.Errorf("control summary without nginx-twin = %q, want none", got)
	}
	s.rows = append(s.rows, &row{name: rowTwin, proc: &proc{}})
	lat := func(p99 time.Duration) load.Latency { return load.Latency{P50: p99 / 4, P99: p99, P999: 2 * p99} }
	res["items"][rowTwin] = []sample{
		{rps: 45000, lat: lat(2 * time.Millisecond), cpuPerR: 18 * time.Microsecond},
		{rps: 55000, lat: lat(2 * time.Millisecond), cpuPerR: 14 * time.Microsecond},
	}
	got := controlSummary(s.summarize(res))
	// nginx: 50000 req/s, p99 3 then 1 ms (median 2), 16 µs in both
	// rounds. apigate: 1.20 and 1.24×, p99 0.67 and 2.00, CPU 1.25 both.
	// The twin: 0.90 and 1.10×, p99 as apigate, CPU 1.125 and 0.875.
	for _, want := range []string{
		"| `GET /items` | apigate | 1.22× (1.20–1.24) ✓ | 1.00 (0.67–2.00) ✓ | 1.25 (1.25–1.25) ✗ |\n",
		"| `GET /items` | nginx-twin | 1.00× (0.90–1.10) ✓ | 1.00 (0.67–2.00) ✓ | 1.00 (0.88–1.12) ✓ |\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("control summary lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "lookup") {
		t.Errorf("control summary has a route without nginx-twin:\n%s", got)
	}
	md := s.markdown(reportMeta{}, s.summarize(res), "")
	if !strings.Contains(md, "- nginx-twin is a second nginx") || !strings.Contains(md, "## Noise control") {
		t.Errorf("report lacks the twin's description or table:\n%s", md)
	}

	// Rounds that do not pair up give no range.
	res["items"][rowTwin] = res["items"][rowTwin][:1]
	got = controlSummary(s.summarize(res))
	if want := "| `GET /items` | nginx-twin | 0.90× ✗ |"; !strings.Contains(got, want) {
		t.Errorf("control summary over unpaired rounds lacks %q:\n%s", want, got)
	}
}
