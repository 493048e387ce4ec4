package main

import (
	"fmt"
	"html"
	"strings"
	"time"
)

// point is one value of a line chart, at a time from the start of the
// soak.
type point struct {
	at time.Duration
	v  float64
}

// soakSVG draws the soak's p99 latency per window, and the gateway's RSS
// and goroutine count at each window's end, as three line charts over a
// shared time axis, the restart span shaded.
func soakSVG(r *soakResult) string {
	const (
		width  = 900
		panelH = 220
		top    = 20
		gap    = 30
	)
	var p99, mem, gor []point
	for _, w := range r.windows {
		if w.Requests > w.Missed { // some were sent
			p99 = append(p99, point{w.Start + (min(w.Start+r.window, r.duration)-w.Start)/2, float64(w.P99) / float64(time.Millisecond)})
		}
	}
	for _, p := range r.probes {
		mem = append(mem, point{p.at, mib(p.rss)})
		gor = append(gor, point{p.at, float64(p.goroutines)})
	}
	panels := []struct {
		title, color, format string
		pts                  []point
	}{
		{"p99 latency per window, ms (open loop, from scheduled send time)", "#2f9e44", "%.2f", p99},
		{"gateway RSS, MiB", "#5c7cfa", "%.1f", mem},
		{"gateway goroutines", "#f08c00", "%.0f", gor},
	}
	height := top + len(panels)*(panelH+gap) + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	for i, p := range panels {
		linePanel(&b, top+i*(panelH+gap), panelH, width, r, p.title, p.color, p.format, p.pts)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// linePanel draws one line chart whose top edge is at y0, its x axis the
// soak's duration in seconds, the restart span shaded.
func linePanel(b *strings.Builder, y0, h, width int, r *soakResult, title, color, format string, pts []point) {
	const left, right, titleH, bottom = 70, 20, 24, 30
	plotX, plotY := float64(left), float64(y0+titleH)
	plotW, plotH := float64(width-left-right), float64(h-titleH-bottom)
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="14" font-weight="bold">%s</text>`+"\n", left, y0+14, html.EscapeString(title))
	dur := max(r.duration.Seconds(), 1)
	xOf := func(d time.Duration) float64 { return plotX + d.Seconds()/dur*plotW }

	hi := 0.0
	for _, p := range pts {
		hi = max(hi, p.v)
	}
	yTop, yStep := niceScale(hi)
	yOf := func(v float64) float64 { return plotY + plotH - v/yTop*plotH }
	for v := 0.0; v <= yTop+yStep/2; v += yStep {
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#e9ecef"/>`, plotX, plotX+plotW, yOf(v), yOf(v))
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="#495057">%s</text>`+"\n", plotX-6, yOf(v)+4, axisLabel(v))
	}
	xTop, xStep := niceScale(dur)
	for s := 0.0; s <= xTop+xStep/2 && s <= dur+xStep/100; s += xStep {
		x := plotX + s/dur*plotW
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#495057">%ss</text>`+"\n", x, plotY+plotH+18, axisLabel(s))
	}
	if r.restarted {
		x0, x1 := xOf(r.killAt), xOf(r.readyAt)
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#fa5252" fill-opacity="0.25"><title>data service down %s–%s s</title></rect>`+"\n",
			x0, plotY, max(x1-x0, 2), plotH, secs(r.killAt), secs(r.readyAt))
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="end" font-size="11" fill="#c92a2a">red band: data service down</text>`+"\n",
			plotX+plotW, y0+14)
	}
	fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#495057"/>`+"\n", plotX, plotX+plotW, plotY+plotH, plotY+plotH)
	if len(pts) == 0 {
		return
	}
	var path strings.Builder
	for i, p := range pts {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&path, "%s%.1f,%.1f ", cmd, xOf(p.at), yOf(p.v))
	}
	fmt.Fprintf(b, `<path d="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.TrimSpace(path.String()), color)
	for _, p := range pts {
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"><title>%s s: %s</title></circle>`+"\n",
			xOf(p.at), yOf(p.v), color, secs(p.at), fmt.Sprintf(format, p.v))
	}
}
