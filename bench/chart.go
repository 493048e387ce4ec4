package main

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"
)

// rowColor gives each row a fixed color across charts.
func rowColor(row string) string {
	switch row {
	case rowDirect:
		return "#9e9e9e"
	case rowStdlib:
		return "#5c7cfa"
	case rowApigate:
		return "#2f9e44"
	case rowL4:
		return "#495057"
	case rowFloor:
		return "#adb5bd"
	case rowNginx:
		return "#f08c00"
	case rowTwin:
		return "#ffc078"
	}
	return "#868e96"
}

// chartSVG draws two grouped bar charts, one group per route and one bar
// per row: throughput, then p99 latency at the fixed rate.
func chartSVG(sums []routeSummary, rows []string, rate int) string {
	const (
		width  = 900
		panelH = 280
		top    = 60
		gap    = 50
	)
	var b strings.Builder
	height := top + 2*panelH + gap + 10
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	// Legend.
	x := 70
	for _, r := range rows {
		fmt.Fprintf(&b, `<rect x="%d" y="16" width="14" height="14" fill="%s"/><text x="%d" y="28">%s</text>`+"\n",
			x, rowColor(r), x+20, html.EscapeString(r))
		x += 40 + 8*len(r)
	}
	value := func(f func(summary) float64) func(string, string) (float64, bool) {
		return func(route, row string) (float64, bool) {
			for _, rs := range sums {
				if rs.route.Name != route {
					continue
				}
				for _, sm := range rs.rows {
					if sm.row == row {
						return f(sm), true
					}
				}
			}
			return 0, false
		}
	}
	var routes []string
	for _, rs := range sums {
		routes = append(routes, rs.route.Name)
	}
	panel(&b, top, panelH, width, "Throughput, req/s (closed loop; higher is better)", routes, rows,
		value(func(s summary) float64 { return s.rps }), "%.0f")
	panel(&b, top+panelH+gap, panelH, width,
		fmt.Sprintf("p99 latency at %d req/s, ms (open loop; lower is better)", rate), routes, rows,
		value(func(s summary) float64 { return float64(s.p99) / float64(time.Millisecond) }), "%.2f")
	b.WriteString("</svg>\n")
	return b.String()
}

// panel draws one grouped bar chart whose top edge is at y0.
func panel(b *strings.Builder, y0, h, width int, title string, routes, rows []string,
	value func(route, row string) (float64, bool), format string) {
	const left, right, titleH, bottom = 70, 20, 24, 30
	plotX, plotY := left, y0+titleH
	plotW, plotH := width-left-right, h-titleH-bottom
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="14" font-weight="bold">%s</text>`+"\n", left, y0+14, html.EscapeString(title))

	top := 0.0
	for _, route := range routes {
		for _, row := range rows {
			if v, ok := value(route, row); ok {
				top = max(top, v)
			}
		}
	}
	top, step := niceScale(top)
	for v := 0.0; v <= top+step/2; v += step {
		y := float64(plotY+plotH) - v/top*float64(plotH)
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e9ecef"/>`, plotX, plotX+plotW, y, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" fill="#495057">%s</text>`+"\n", plotX-6, y+4, axisLabel(v))
	}
	fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#495057"/>`+"\n", plotX, plotX+plotW, plotY+plotH, plotY+plotH)

	if len(routes) == 0 || len(rows) == 0 {
		return
	}
	groupW := float64(plotW) / float64(len(routes))
	barW := groupW * 0.8 / float64(len(rows))
	for i, route := range routes {
		gx := float64(plotX) + float64(i)*groupW + groupW*0.1
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n",
			gx+groupW*0.4, plotY+plotH+18, html.EscapeString(route))
		for j, row := range rows {
			v, ok := value(route, row)
			if !ok {
				continue
			}
			bh := v / top * float64(plotH)
			bx := gx + float64(j)*barW
			by := float64(plotY+plotH) - bh
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`+"\n",
				bx+1, by, barW-2, bh, rowColor(row), html.EscapeString(row), html.EscapeString(route), fmt.Sprintf(format, v))
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10" fill="#212529">%s</text>`+"\n",
				bx+barW/2, by-3, shortLabel(v, format))
		}
	}
}

// niceScale returns an axis maximum at or above v and a tick step, both
// round numbers, with four to ten ticks.
func niceScale(v float64) (top, step float64) {
	if v <= 0 || math.IsNaN(v) {
		return 1, 0.25
	}
	mag := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5} {
		step = m * mag
		if v/step <= 8 {
			break
		}
	}
	return math.Ceil(v/step) * step, step
}

func axisLabel(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%gk", v/1000)
	default:
		return fmt.Sprintf("%g", math.Round(v*1000)/1000)
	}
}

func shortLabel(v float64, format string) string {
	if v >= 1000 {
		return fmt.Sprintf("%.1fk", v/1000)
	}
	return fmt.Sprintf(format, v)
}
