package main

import (
	"fmt"
	"strings"
)

// idleRSS records, for every row with a process, its resident memory
// (VmRSS, summed over its process group) at the start of every cell of
// the run (round × route), before the cell's measurements: a row whose
// idle memory keeps growing from cell to cell leaks.
type idleRSS struct {
	rows  []string // in the order first recorded
	byRow map[string][]int64
}

// record appends one cell's reading for row, in bytes.
func (m *idleRSS) record(row string, rss int64) {
	if m.byRow == nil {
		m.byRow = map[string][]int64{}
	}
	if _, ok := m.byRow[row]; !ok {
		m.rows = append(m.rows, row)
	}
	m.byRow[row] = append(m.byRow[row], rss)
}

// idleGrowth is one row's idle memory over the run.
type idleGrowth struct {
	row         string
	cells       int
	first, last int64 // bytes, at the start of the first and the last cell
	// second is the reading after one cell of load (0 when the run had a
	// single cell): the first reading precedes any load, so the growth
	// from it includes the warm-up of pools and heap.
	second int64
}

// growth returns last - first.
func (g idleGrowth) growth() int64 { return g.last - g.first }

// growthAfterFirst returns last - second and whether there were at least
// two cells.
func (g idleGrowth) growthAfterFirst() (int64, bool) {
	if g.cells < 2 {
		return 0, false
	}
	return g.last - g.second, true
}

// summary returns each row's idle memory, rows in the order first
// recorded.
func (m *idleRSS) summary() []idleGrowth {
	var out []idleGrowth
	for _, row := range m.rows {
		v := m.byRow[row]
		g := idleGrowth{row: row, cells: len(v), first: v[0], last: v[len(v)-1]}
		if len(v) > 1 {
			g.second = v[1]
		}
		out = append(out, g)
	}
	return out
}

// idleMarkdown renders the idle memory of each row across the cells.
func idleMarkdown(gs []idleGrowth) string {
	if len(gs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("## Idle memory across cells\n\n")
	b.WriteString("RSS (VmRSS; nginx: master and workers summed) of each process at rest, read at the start of every cell (round × route) before its load. The first reading precedes any load on the process; the last column leaves out that first warm-up.\n\n")
	b.WriteString("| gateway | cells | first MiB | last MiB | growth MiB | growth after the first cell MiB |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|\n")
	for _, g := range gs {
		after := "—"
		if d, ok := g.growthAfterFirst(); ok {
			after = fmt.Sprintf("%+.1f", mib(d))
		}
		fmt.Fprintf(&b, "| %s | %d | %.1f | %.1f | %+.1f | %s |\n",
			g.row, g.cells, mib(g.first), mib(g.last), mib(g.growth()), after)
	}
	b.WriteString("\n")
	return b.String()
}
