package main

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/apigate-go/apigate/bench/internal/contract"
)

// summary is one row of one route's table: medians across rounds, errors
// summed, peak RSS the highest.
type summary struct {
	row            string
	rps            float64
	p50, p99, p999 time.Duration
	errors         int64
	cpuPerR        time.Duration
	rss            int64
	// req/s relative to other rows, NaN when the reference row is absent.
	vsNginx, vsStdlib, vsL4, vsDirect float64
	// The lowest and highest of each round's ratio to nginx's, for
	// req/s, p99 and CPU per request (NaN without nginx in the same
	// rounds).
	rpsSpread, p99Spread, cpuSpread spread
	measured, hasGWProc             bool
}

// spread is the range of a figure's per-round ratios.
type spread struct{ lo, hi float64 }

// routeSummary is one route's table.
type routeSummary struct {
	route contract.Route
	rows  []summary
}

// summarize turns the samples into one table per route, rows in the
// configured order.
func (s *suite) summarize(res results) []routeSummary {
	var out []routeSummary
	for _, r := range contract.Routes() {
		byRow, ok := res[r.Name]
		if !ok {
			continue
		}
		rs := routeSummary{route: r}
		for _, rw := range s.rows {
			smp := byRow[rw.name]
			if len(smp) == 0 {
				continue
			}
			sm := summary{row: rw.name, measured: true, hasGWProc: rw.proc != nil}
			sm.rps = median(smp, func(x sample) float64 { return x.rps })
			sm.p50 = median(smp, func(x sample) time.Duration { return x.lat.P50 })
			sm.p99 = median(smp, func(x sample) time.Duration { return x.lat.P99 })
			sm.p999 = median(smp, func(x sample) time.Duration { return x.lat.P999 })
			sm.cpuPerR = median(smp, func(x sample) time.Duration { return x.cpuPerR })
			for _, x := range smp {
				sm.errors += x.errors
				sm.rss = max(sm.rss, x.rss)
			}
			rs.rows = append(rs.rows, sm)
		}
		for i := range rs.rows {
			sm := &rs.rows[i]
			smp := byRow[sm.row]
			sm.vsNginx = relRPS(smp, byRow[rowNginx])
			sm.vsStdlib = relRPS(smp, byRow[rowStdlib])
			sm.vsL4 = relRPS(smp, byRow[rowL4])
			sm.vsDirect = relRPS(smp, byRow[rowDirect])
			ng := byRow[rowNginx]
			sm.rpsSpread = roundSpread(smp, ng, func(x sample) float64 { return x.rps })
			sm.p99Spread = roundSpread(smp, ng, func(x sample) float64 { return float64(x.lat.P99) })
			sm.cpuSpread = roundSpread(smp, ng, func(x sample) float64 { return float64(x.cpuPerR) })
		}
		out = append(out, rs)
	}
	return out
}

// relRPS returns a row's req/s relative to a reference row's: the
// median over rounds of each round's ratio, which drift over the run
// (both rows of a round see the same machine) does not skew, or the
// ratio of the medians when the rows were not measured in the same
// rounds. It is NaN without the reference row.
func relRPS(a, ref []sample) float64 {
	if len(ref) == 0 || len(a) == 0 {
		return math.NaN()
	}
	if len(a) != len(ref) {
		return median(a, sampleRPS) / median(ref, sampleRPS)
	}
	ratios := make([]float64, len(a))
	for i := range a {
		ratios[i] = a[i].rps / ref[i].rps
	}
	return median(ratios, func(r float64) float64 { return r })
}

func sampleRPS(x sample) float64 { return x.rps }

// roundSpread returns the lowest and highest ratio of f over the rounds,
// a's round i to ref's round i; NaN when the rows were not measured in
// the same rounds or a reference value is 0.
func roundSpread(a, ref []sample, f func(sample) float64) spread {
	sp := spread{math.NaN(), math.NaN()}
	if len(a) == 0 || len(a) != len(ref) {
		return sp
	}
	for i := range a {
		d := f(ref[i])
		if d == 0 {
			return spread{math.NaN(), math.NaN()}
		}
		r := f(a[i]) / d
		if i == 0 || r < sp.lo {
			sp.lo = r
		}
		if i == 0 || r > sp.hi {
			sp.hi = r
		}
	}
	return sp
}

// median returns the median of f over xs (the mean of the two middle
// values for an even count).
func median[T any, V int64 | float64 | time.Duration](xs []T, f func(T) V) V {
	vs := make([]V, len(xs))
	for i, x := range xs {
		vs[i] = f(x)
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// totalErrors returns the errors of every row of every route.
func totalErrors(sums []routeSummary) int64 {
	var n int64
	for _, rs := range sums {
		for _, sm := range rs.rows {
			n += sm.errors
		}
	}
	return n
}

// reportMeta is what the report says about how it was made.
type reportMeta struct {
	date, command, machine, goVersion string
}

// markdown renders the report.
func (s *suite) markdown(meta reportMeta, sums []routeSummary, chart string) string {
	var b strings.Builder
	c := s.cfg
	mode := "default"
	if c.quick {
		mode = "quick (smoke test: too short for stable figures)"
	}
	fmt.Fprintf(&b, "# apigate load benchmark\n\n")
	fmt.Fprintf(&b, "- Date: %s\n", meta.date)
	fmt.Fprintf(&b, "- Command: `%s` (mode: %s)\n", meta.command, mode)
	fmt.Fprintf(&b, "- Machine: %s\n", meta.machine)
	fmt.Fprintf(&b, "- Go: %s", meta.goVersion)
	if s.nginxVersion != "" {
		fmt.Fprintf(&b, "; nginx %s with njs, 2 workers", s.nginxVersion)
	}
	if s.haproxyVersion != "" {
		fmt.Fprintf(&b, "; haproxy %s in TCP mode, 2 threads (the l4 row)", s.haproxyVersion)
	}
	b.WriteString("\n- apigate serves with 2 processes (`ServeOptions.Workers`), as many as nginx's workers, each with half of GOMAXPROCS\n")
	if s.loadBefore >= 0 {
		fmt.Fprintf(&b, "- Load average (1 min) before the run: %.2f, after: %.2f", s.loadBefore, s.loadAfter)
		if s.loadBefore > float64(runtime.NumCPU())/2 {
			b.WriteString(" (**the machine was busy before the run started: expect noisy figures**)")
		}
		b.WriteString("\n")
	}
	procs := "the runtime default (one per core)"
	if c.gomaxprocs > 0 {
		procs = fmt.Sprint(c.gomaxprocs)
	}
	fmt.Fprintf(&b, "- Processes: load generator, gateway and backends share the machine's cores; GOMAXPROCS of the Go gateways and backends: %s\n", procs)
	fmt.Fprintf(&b, "- Throughput: closed loop, %d keep-alive connections, %v per measurement after a %v warm-up, by %s\n",
		c.conns, c.duration, c.warmup, s.closedDesc)
	fmt.Fprintf(&b, "- Latency: open loop at %d req/s for %v over up to %d connections (built-in generator), measured from each request's scheduled send time, so a stall is not hidden\n",
		c.rate, c.latency, c.openConns)
	fmt.Fprintf(&b, "- Rounds: %d, interleaved (round → route → gateway, the gateway order rotating each round); figures are medians across rounds, errors are summed, peak RSS is the highest\n", c.rounds)
	b.WriteString("- CPU/req: the gateway's user+system CPU time during the throughput measurement divided by the requests answered; peak RSS: its VmHWM, reset before each measurement (summed over the gateway's processes: apigate's 2, nginx's master and workers; haproxy: one process)\n")
	b.WriteString("- Same work per request: every gateway (stdlib, apigate, nginx) sends the data service (and the /my-items auth service) X-Forwarded-For, X-Forwarded-Host, X-Forwarded-Proto, an RFC 7239 Forwarded and a request ID it generates in X-Request-Id, which it also returns to the client, as a production gateway does (validation checks that the data service gets them before the load)\n")
	b.WriteString("- direct and l4 are sent the request a gateway sends upstream (identity headers set, lookup rewritten) without the forwarding and request-ID headers, which the data service ignores: l4 is the most any proxy can carry on this machine\n")
	b.WriteString("- go-floor is sent the same requests as l4 and adds the forwarding and request-ID headers: a Go proxy that parses only the framing, checks nothing and keeps one upstream connection per client connection (bench/floor), the least any gateway on Go's network poller costs\n")
	if slices.ContainsFunc(s.rows, func(r *row) bool { return r.name == rowTwin }) {
		b.WriteString("- nginx-twin is a second nginx with the nginx row's binary and configuration, measured like every row: its ratios to nginx are what this machine's noise gives two identical gateways\n")
	}
	b.WriteString("\n")

	b.WriteString(apigateSummary(sums))
	b.WriteString(controlSummary(sums))
	for _, rs := range sums {
		fmt.Fprintf(&b, "## %s %s\n\n", rs.route.Method, rs.route.Path)
		b.WriteString("| gateway | req/s | × nginx | × stdlib | % of L4 | % of direct | p50 ms | p99 ms | p99.9 ms | errors | CPU µs/req | peak RSS MiB |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, sm := range rs.rows {
			cpu, rss := "—", "—"
			if sm.hasGWProc {
				cpu = fmt.Sprintf("%.1f", float64(sm.cpuPerR)/float64(time.Microsecond))
				rss = fmt.Sprintf("%.1f", float64(sm.rss)/(1<<20))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %s | %s |\n",
				sm.row, thousands(sm.rps), ratio(sm.vsNginx, "%.2f×"), ratio(sm.vsStdlib, "%.2f×"),
				percent(sm.vsL4), percent(sm.vsDirect),
				ms(sm.p50), ms(sm.p99), ms(sm.p999), sm.errors, cpu, rss)
		}
		b.WriteString("\n")
	}
	b.WriteString(idleMarkdown(s.idle.summary()))
	if chart != "" {
		fmt.Fprintf(&b, "![throughput and p99 latency per route](%s)\n\n", chart)
	}
	if len(s.notes) > 0 {
		b.WriteString("## Notes\n\n")
		for _, n := range s.notes {
			fmt.Fprintf(&b, "- %s\n", strings.ReplaceAll(strings.TrimSpace(n), "\n", "\n  "))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

func ratio(v float64, format string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return fmt.Sprintf(format, v)
}

func percent(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", 100*v)
}

// thousands formats v rounded, with comma separators: 12,345.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
