package main

import (
	"os/exec"
	"strings"
	"testing"
)

func TestIdleRSS(t *testing.T) {
	var m idleRSS
	if got := m.summary(); len(got) != 0 || idleMarkdown(got) != "" {
		t.Fatalf("empty record: summary %v", got)
	}
	// Three cells; the rows are recorded in the run's order.
	for _, cell := range [][2]int64{{10 << 20, 30 << 20}, {14 << 20, 31 << 20}, {15 << 20, 31 << 20}} {
		m.record(rowApigate, cell[0])
		m.record(rowNginx, cell[1])
	}
	m.record(rowL4, 5<<20) // a row seen in one cell only
	got := m.summary()
	want := []idleGrowth{
		{row: rowApigate, cells: 3, first: 10 << 20, second: 14 << 20, last: 15 << 20},
		{row: rowNginx, cells: 3, first: 30 << 20, second: 31 << 20, last: 31 << 20},
		{row: rowL4, cells: 1, first: 5 << 20, last: 5 << 20},
	}
	if len(got) != len(want) {
		t.Fatalf("summary %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("summary[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if g := got[0].growth(); g != 5<<20 {
		t.Errorf("apigate growth %d, want 5 MiB", g)
	}
	if g, ok := got[0].growthAfterFirst(); !ok || g != 1<<20 {
		t.Errorf("apigate growth after the first cell %d, %v; want 1 MiB", g, ok)
	}
	if _, ok := got[2].growthAfterFirst(); ok {
		t.Error("growth after the first cell of a single cell")
	}

	md := idleMarkdown(got)
	for _, line := range []string{
		"| gateway | cells | first MiB | last MiB | growth MiB | growth after the first cell MiB |\n",
		"| apigate | 3 | 10.0 | 15.0 | +5.0 | +1.0 |\n",
		"| nginx | 3 | 30.0 | 31.0 | +1.0 | +0.0 |\n",
		"| l4 | 1 | 5.0 | 5.0 | +0.0 | — |\n",
	} {
		if !strings.Contains(md, line) {
			t.Errorf("idle table lacks %q:\n%s", line, md)
		}
	}
}

// TestRecordIdleRSS records two cells of a suite whose gateway is a real
// process (sleep), then fails once that process has exited.
func TestRecordIdleRSS(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip(err)
	}
	p, err := startProc("sleeper", t.TempDir(), sleep, []string{"30"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	s := &suite{rows: []*row{{name: rowDirect, direct: true}, {name: rowApigate, proc: p}}}
	for range 2 {
		if err := s.recordIdleRSS(); err != nil {
			t.Fatal(err)
		}
	}
	got := s.idle.summary()
	if len(got) != 1 || got[0].row != rowApigate || got[0].cells != 2 || got[0].first <= 0 || got[0].last <= 0 {
		t.Fatalf("idle readings %+v, want two positive ones for apigate only", got)
	}
	p.stop()
	if err := s.recordIdleRSS(); err == nil || !strings.Contains(err.Error(), "apigate exited") {
		t.Errorf("reading an exited process: %v", err)
	}
}
