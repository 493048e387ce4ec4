package main

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/apigate-go/apigate/bench/internal/load"
)

// The soak test's rules.
const (
	// Errors are expected in the windows that overlap the restart span,
	// from restartBefore before the kill to restartAfter after the data
	// service listens again (requests in flight at the kill, connections
	// the gateway finds dead after it).
	restartBefore = time.Second
	restartAfter  = 2 * time.Second
	// A measure is flat when end ≤ start × flatFactor + its slack.
	flatFactor     = 1.2
	rssSlack       = 8 << 20 // bytes
	goroutineSlack = 20
)

// soakVerdict is the judgement of a soak result.
type soakVerdict struct {
	near                            []bool // per window: overlaps the restart span
	unexpected                      []int  // windows with errors away from the restart
	requests, errorsNear, errorsFar int64
	missed                          int64 // requests the generator could not send in time
	missedWindows                   int
	rssLimit, goLimit               float64
	rssFlat, goFlat                 bool
	noRestart, gatewayDied          bool
	interrupted                     string
}

// idleRead reports whether the idle readings after the load were taken.
func (v soakVerdict) idleRead() bool { return !v.gatewayDied && v.interrupted == "" }

// flat reports whether end stays within start × flatFactor + slack, and
// returns that limit.
func flat(start, end, slack float64) (limit float64, ok bool) {
	limit = start*flatFactor + slack
	return limit, end <= limit
}

// restartSpan returns the span in which errors are expected.
func (r *soakResult) restartSpan() (from, to time.Duration) {
	return r.killAt - restartBefore, r.readyAt + restartAfter
}

// windowEnd returns the end of window k.
func (r *soakResult) windowEnd(k int) time.Duration {
	return min(r.windows[k].Start+r.window, r.duration)
}

// verdict judges r.
func (r *soakResult) verdict() soakVerdict {
	v := soakVerdict{noRestart: !r.restarted, gatewayDied: r.gatewayDied != "", interrupted: r.interrupted}
	from, to := r.restartSpan()
	for k, w := range r.windows {
		near := r.restarted && w.Start < to && r.windowEnd(k) > from
		v.near = append(v.near, near)
		v.requests += w.Requests
		if w.Missed > 0 {
			v.missed += w.Missed
			v.missedWindows++
		}
		switch {
		case near:
			v.errorsNear += w.Errors
		case w.Errors > 0:
			v.errorsFar += w.Errors
			v.unexpected = append(v.unexpected, k)
		}
	}
	if v.idleRead() {
		v.rssLimit, v.rssFlat = flat(float64(r.idleBefore.rss), float64(r.idleAfter.rss), rssSlack)
		v.goLimit, v.goFlat = flat(float64(r.idleBefore.goroutines), float64(r.idleAfter.goroutines), goroutineSlack)
	}
	return v
}

// failures returns why v fails, empty when it passes.
func (v soakVerdict) failures() []string {
	var out []string
	if v.interrupted != "" {
		out = append(out, "interrupted: "+v.interrupted)
	}
	if v.gatewayDied {
		out = append(out, "the gateway exited during the soak")
	}
	if v.noRestart && v.interrupted == "" {
		out = append(out, "the data service was not restarted")
	}
	if len(v.unexpected) > 0 {
		out = append(out, fmt.Sprintf("%d error(s) in %d window(s) away from the restart", v.errorsFar, len(v.unexpected)))
	}
	if v.idleRead() && !v.rssFlat {
		out = append(out, "RSS is not flat")
	}
	if v.idleRead() && !v.goFlat {
		out = append(out, "the goroutine count is not flat")
	}
	return out
}

func (v soakVerdict) pass() bool { return len(v.failures()) == 0 }

// inconclusive returns why v proves nothing either way although nothing
// failed: the generator could not keep to its schedule, so part of the
// load was never applied. Empty when the run is conclusive.
func (v soakVerdict) inconclusive() string {
	if v.missed == 0 || v.interrupted != "" {
		return ""
	}
	return fmt.Sprintf("%d request(s) in %d window(s) not sent in time: the generator was more than 1 s behind its schedule at the end, the machine did not sustain the rate (see the load average; retry on a quieter machine or with a lower -soak-rate)",
		v.missed, v.missedWindows)
}

// status returns PASS, FAIL or INCONCLUSIVE.
func (v soakVerdict) status() string {
	switch {
	case !v.pass():
		return "FAIL"
	case v.inconclusive() != "":
		return "INCONCLUSIVE"
	}
	return "PASS"
}

// soakMarkdown renders the soak report.
func (s *suite) soakMarkdown(meta reportMeta, r *soakResult, v soakVerdict, chart string) string {
	var b strings.Builder
	mode := "full"
	if s.cfg.quick || r.duration < time.Minute {
		mode = "short (a smoke test: too short to show slow leaks)"
	}
	b.WriteString("# apigate soak test\n\n")
	fmt.Fprintf(&b, "- Date: %s\n", meta.date)
	fmt.Fprintf(&b, "- Command: `%s` (mode: %s)\n", meta.command, mode)
	fmt.Fprintf(&b, "- Machine: %s\n", meta.machine)
	fmt.Fprintf(&b, "- Go: %s; GOMAXPROCS of the gateway and backends: %s\n", meta.goVersion, gomaxprocsDesc(s.cfg.gomaxprocs))
	if s.loadBefore >= 0 {
		fmt.Fprintf(&b, "- Load average (1 min) before the run: %.2f, after: %.2f", s.loadBefore, s.loadAfter)
		if s.loadBefore > float64(runtime.NumCPU())/2 {
			b.WriteString(" (**the machine was busy before the run started: expect noisy latencies**)")
		}
		b.WriteString("\n")
	}
	rate := fmt.Sprintf("%s req/s (set by -soak-rate)", thousands(float64(r.rate)))
	if r.maxRPS > 0 {
		rate = fmt.Sprintf("%s req/s, %.0f%% of the %s req/s maximum measured just before (closed loop, %d connections, %v, same route mix)",
			thousands(float64(r.rate)), 100*soakLoad, thousands(r.maxRPS), s.cfg.conns, s.cfg.duration)
	}
	fmt.Fprintf(&b, "- Load: apigate gateway, open loop at %s, spread evenly over %s, for %v, over up to %d connections (built-in generator); latency from each request's scheduled send time\n",
		rate, strings.Join(r.routes, ", "), r.duration, r.workers)
	if r.restarted {
		from, to := r.restartSpan()
		fmt.Fprintf(&b, "- Restart: the data service was killed (SIGKILL) at %s s and listened again on the same port at %s s (down %v); errors are expected only in the windows overlapping %s–%s s\n",
			secs(r.killAt), secs(r.readyAt), (r.readyAt - r.killAt).Round(time.Millisecond), secs(from), secs(to))
	} else {
		b.WriteString("- Restart: **the data service was not restarted** (the run ended first)\n")
	}
	fmt.Fprintf(&b, "- Windows: %v; requests and latencies counted in the window they were scheduled in, errors in the window they were sent in; RSS (VmRSS, summed over the gateway's processes) and goroutines (its first process's, from its debug listener) read at each window's end\n", r.window)
	fmt.Fprintf(&b, "- Flat: end ≤ start × %.1f + %d MiB (RSS) or + %d (goroutines), both read with the gateway idle (the generator's connections closed) just before and just after the load\n\n",
		flatFactor, rssSlack>>20, goroutineSlack)

	b.WriteString("## Summary\n\n")
	b.WriteString("| measure | value |\n|---|---|\n")
	fmt.Fprintf(&b, "| requests | %s |\n", thousands(float64(v.requests)))
	fmt.Fprintf(&b, "| errors near the restart | %s%s |\n", thousands(float64(v.errorsNear)), kindsNote(r, v, true))
	away := thousands(float64(v.errorsFar))
	if v.errorsFar > 0 {
		away = "**" + away + "**"
	}
	fmt.Fprintf(&b, "| errors away from the restart | %s%s |\n", away, kindsNote(r, v, false))
	if v.missed > 0 {
		fmt.Fprintf(&b, "| requests not sent in time | **%s** in %d window(s): the generator was more than 1 s behind its schedule when it ended; the machine (generator, gateway and backends together, with its other load) did not sustain the rate |\n",
			thousands(float64(v.missed)), v.missedWindows)
	} else {
		b.WriteString("| requests not sent in time | 0 |\n")
	}
	if lo, med, hi, ok := p99Range(r, v); ok {
		fmt.Fprintf(&b, "| p99 per window away from the restart, min / median / max | %s / %s / %s ms |\n", ms(lo), ms(med), ms(hi))
	}
	if len(r.windows) > 0 {
		worst := slices.MaxFunc(r.windows, func(a, b load.Window) int { return cmp.Compare(a.P99, b.P99) })
		fmt.Fprintf(&b, "| worst window p99 | %s ms (at %s s) |\n", ms(worst.P99), secs(worst.Start))
	}
	switch {
	case v.gatewayDied:
		b.WriteString("| gateway | **exited during the soak** |\n")
	case v.interrupted != "":
		fmt.Fprintf(&b, "| run | **interrupted** (%s): no idle reading after the load |\n", v.interrupted)
	default:
		fmt.Fprintf(&b, "| RSS idle, start → end (limit) | %.1f → %.1f MiB (%.1f): %s |\n",
			mib(r.idleBefore.rss), mib(r.idleAfter.rss), v.rssLimit/(1<<20), flatWord(v.rssFlat))
		fmt.Fprintf(&b, "| goroutines idle, start → end (limit) | %d → %d (%.0f): %s |\n",
			r.idleBefore.goroutines, r.idleAfter.goroutines, v.goLimit, flatWord(v.goFlat))
	}
	if n := len(r.probes); n > 0 {
		fmt.Fprintf(&b, "| under load, first → last window | RSS %.1f → %.1f MiB, goroutines %d → %d |\n",
			mib(r.probes[0].rss), mib(r.probes[n-1].rss), r.probes[0].goroutines, r.probes[n-1].goroutines)
	}
	verdict := "PASS"
	switch v.status() {
	case "FAIL":
		verdict = "**FAIL**: " + strings.Join(v.failures(), "; ")
	case "INCONCLUSIVE":
		verdict = "**INCONCLUSIVE**: no error away from the restart and flat, but " + v.inconclusive()
	}
	fmt.Fprintf(&b, "| verdict | %s |\n\n", verdict)

	b.WriteString("## Windows\n\n")
	b.WriteString("| t s | requests | errors | error kinds | not sent | p50 ms | p99 ms | RSS MiB | goroutines | note |\n")
	b.WriteString("|---:|---:|---:|---|---:|---:|---:|---:|---:|---|\n")
	for k, w := range r.windows {
		rssCell, goCell := "—", "—"
		if k < len(r.probes) {
			rssCell = fmt.Sprintf("%.1f", mib(r.probes[k].rss))
			goCell = fmt.Sprint(r.probes[k].goroutines)
		}
		note := ""
		switch {
		case v.near[k] && w.Start <= r.killAt && r.killAt < r.windowEnd(k):
			note = "restart"
		case v.near[k]:
			note = "near restart"
		}
		if w.Errors > 0 && !v.near[k] {
			note = "**errors away from the restart**"
		}
		if w.Missed > 0 {
			note = strings.TrimPrefix(note+"; generator behind schedule", "; ")
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %d | %s | %s | %s | %s | %s |\n",
			secs(w.Start), w.Requests, w.Errors, kinds(w), w.Missed, ms(w.P50), ms(w.P99), rssCell, goCell, note)
	}
	b.WriteString("\n")
	if chart != "" {
		fmt.Fprintf(&b, "![p99 latency, RSS and goroutines over time](%s)\n\n", chart)
	}
	if r.gatewayDied != "" || len(s.notes) > 0 {
		b.WriteString("## Notes\n\n")
		if r.gatewayDied != "" {
			fmt.Fprintf(&b, "- the gateway exited: %s\n", strings.ReplaceAll(strings.TrimSpace(r.gatewayDied), "\n", "\n  "))
		}
		for _, n := range s.notes {
			fmt.Fprintf(&b, "- %s\n", strings.ReplaceAll(strings.TrimSpace(n), "\n", "\n  "))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// kinds lists w's error kinds with their counts, "—" when none.
func kinds(w load.Window) string {
	if w.Errors == 0 {
		return "—"
	}
	var parts []string
	for _, k := range w.KindNames() {
		parts = append(parts, fmt.Sprintf("%s: %d", k, w.Kinds[k]))
	}
	return strings.Join(parts, ", ")
}

// kindsNote sums the error kinds of the windows near the restart (or away
// from it) as " (kind: n, …)", "" when there is none.
func kindsNote(r *soakResult, v soakVerdict, near bool) string {
	sum := load.Window{Kinds: map[string]int64{}}
	for k, w := range r.windows {
		if v.near[k] != near {
			continue
		}
		sum.Errors += w.Errors
		for kind, n := range w.Kinds {
			sum.Kinds[kind] += n
		}
	}
	if sum.Errors == 0 {
		return ""
	}
	return " (" + kinds(sum) + ")"
}

// p99Range returns the lowest, median and highest p99 of the windows away
// from the restart.
func p99Range(r *soakResult, v soakVerdict) (lo, med, hi time.Duration, ok bool) {
	var ps []time.Duration
	for k, w := range r.windows {
		if !v.near[k] && w.Requests > w.Missed {
			ps = append(ps, w.P99)
		}
	}
	if len(ps) == 0 {
		return 0, 0, 0, false
	}
	slices.Sort(ps)
	return ps[0], median(ps, func(d time.Duration) time.Duration { return d }), ps[len(ps)-1], true
}

func flatWord(ok bool) string {
	if ok {
		return "flat"
	}
	return "**not flat**"
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f", d.Seconds()) }

func gomaxprocsDesc(n int) string {
	if n > 0 {
		return fmt.Sprint(n)
	}
	return "the runtime default (one per core)"
}
