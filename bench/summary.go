package main

import (
	"fmt"
	"math"
	"strings"
)

// apigate's targets, checked by the summary table.
const (
	targetVsNginx  = 1.0 // throughput at least nginx's
	targetVsStdlib = 1.8 // throughput at least 1.8 × the stdlib gateway's
	targetItemsL4  = 0.9 // GET /items at least 90% of the L4 limit
)

// apigateSummary renders the table at the top of the report: per route,
// apigate's figures relative to nginx, the stdlib gateway and the l4 row,
// each marked ✓ when it meets its target and ✗ when not ("—" when a row
// is missing), and its CPU per request over the go-floor row's, which has
// no target: what apigate's own work costs above the Go runtime and the
// sockets. It returns "" when apigate was not measured.
func apigateSummary(sums []routeSummary) string {
	var b strings.Builder
	for _, rs := range sums {
		ag, ok := rs.find(rowApigate)
		if !ok {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("## apigate against its targets\n\n")
			fmt.Fprintf(&b, "✓ target met, ✗ not: throughput ≥ %.0f× nginx and ≥ %.1f× stdlib, `GET /items` ≥ %.0f%% of L4; p99, CPU per request and peak RSS as apigate/nginx: p99 and CPU ≤ 1, RSS < 1. The last column has no target: apigate's CPU per request over the go-floor row's, a Go proxy that only moves the bytes (on `GET /items` it does the same work; on the other routes it is sent the request the data service gets, so it skips the route's auth call or JSON work).\n\n",
				targetVsNginx, targetVsStdlib, 100*targetItemsL4)
			b.WriteString("| route | × nginx | × stdlib | % of L4 | p99 apigate/nginx | CPU µs/req apigate/nginx | peak RSS apigate/nginx | CPU µs/req apigate/go-floor |\n")
			b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|\n")
		}
		ng, hasNginx := rs.find(rowNginx)
		over := func(a, b float64) float64 {
			if !hasNginx || b == 0 {
				return math.NaN()
			}
			return a / b
		}
		l4 := percent(ag.vsL4)
		if rs.route.Name == "items" {
			l4 = marked(l4, ag.vsL4, ag.vsL4 >= targetItemsL4)
		}
		p99 := over(float64(ag.p99), float64(ng.p99))
		cpu := over(float64(ag.cpuPerR), float64(ng.cpuPerR))
		rss := over(float64(ag.rss), float64(ng.rss))
		floor := math.NaN()
		if fl, ok := rs.find(rowFloor); ok && fl.cpuPerR > 0 {
			floor = float64(ag.cpuPerR) / float64(fl.cpuPerR)
		}
		fmt.Fprintf(&b, "| `%s %s` | %s | %s | %s | %s | %s | %s | %s |\n",
			rs.route.Method, rs.route.Path,
			marked(ratio(ag.vsNginx, "%.2f×"), ag.vsNginx, ag.vsNginx >= targetVsNginx),
			marked(ratio(ag.vsStdlib, "%.2f×"), ag.vsStdlib, ag.vsStdlib >= targetVsStdlib),
			l4,
			marked(ratio(p99, "%.2f"), p99, p99 <= 1),
			marked(ratio(cpu, "%.2f"), cpu, cpu <= 1),
			marked(ratio(rss, "%.2f"), rss, rss < 1),
			ratio(floor, "%.2f"))
	}
	if b.Len() > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

// marked appends ✓ or ✗ to the formatted value s of v, unless v is not a
// number (a reference row was missing).
func marked(s string, v float64, met bool) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return s
	case met:
		return s + " ✓"
	default:
		return s + " ✗"
	}
}

// find returns the summary of row in rs.
func (rs routeSummary) find(row string) (summary, bool) {
	for _, sm := range rs.rows {
		if sm.row == row {
			return sm, true
		}
	}
	return summary{}, false
}

// controlSummary renders apigate's ratios to nginx beside nginx-twin's,
// with the range of each over the rounds: nginx-twin runs nginx's binary
// and configuration, so its ratios show how far this machine's noise
// moves two identical gateways, and a target apigate misses by less than
// the twin misses it is inside that noise. It returns "" when nginx-twin
// or nginx was not measured.
func controlSummary(sums []routeSummary) string {
	var b strings.Builder
	for _, rs := range sums {
		tw, ok := rs.find(rowTwin)
		if _, hasNginx := rs.find(rowNginx); !ok || !hasNginx {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("## Noise control: nginx against itself\n\n")
			b.WriteString("apigate's ratios to nginx beside those of nginx-twin, a second nginx with the same binary and configuration: each figure as in the table above (throughput: the median of the rounds' ratios; p99 and CPU: the ratio of the medians), then in brackets the lowest and highest of the rounds' ratios, marked against apigate's targets (throughput ≥ 1, p99 and CPU ≤ 1). Where the twin misses a target, an identical gateway missed it: the machine's noise, not the gateway.\n\n")
			b.WriteString("| route | row | × nginx | p99 /nginx | CPU µs/req /nginx |\n")
			b.WriteString("|---|---|---:|---:|---:|\n")
		}
		rows := []summary{tw}
		if ag, ok := rs.find(rowApigate); ok {
			rows = []summary{ag, tw}
		}
		ng, _ := rs.find(rowNginx)
		for _, sm := range rows {
			p99 := float64(sm.p99) / float64(ng.p99)
			cpu := float64(sm.cpuPerR) / float64(ng.cpuPerR)
			fmt.Fprintf(&b, "| `%s %s` | %s | %s | %s | %s |\n",
				rs.route.Method, rs.route.Path, sm.row,
				marked(ratio(sm.vsNginx, "%.2f×")+spreadText(sm.rpsSpread), sm.vsNginx, sm.vsNginx >= targetVsNginx),
				marked(ratio(p99, "%.2f")+spreadText(sm.p99Spread), p99, p99 <= 1),
				marked(ratio(cpu, "%.2f")+spreadText(sm.cpuSpread), cpu, cpu <= 1))
		}
	}
	if b.Len() > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

// spreadText formats a spread as " (lo–hi)", or "" when it is unknown.
func spreadText(sp spread) string {
	if math.IsNaN(sp.lo) || math.IsNaN(sp.hi) {
		return ""
	}
	return fmt.Sprintf(" (%.2f–%.2f)", sp.lo, sp.hi)
}
