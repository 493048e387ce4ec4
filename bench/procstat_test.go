package main

import (
	"os"
	"syscall"
	"testing"
)

func TestProcStat(t *testing.T) {
	pgid := syscall.Getpgrp()
	st, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.pgrp != pgid {
		t.Errorf("pgrp %d, want %d", st.pgrp, pgid)
	}
	pids := groupPIDs(pgid)
	found := false
	for _, p := range pids {
		found = found || p == os.Getpid()
	}
	if !found {
		t.Errorf("groupPIDs(%d) = %v, lacks this process %d", pgid, pids, os.Getpid())
	}
	// Burn a little CPU so that the group's time is above zero.
	x := 0
	for i := range 50_000_000 {
		x ^= i
	}
	_ = x
	if cpu, err := groupCPU(pgid); err != nil || cpu <= 0 {
		t.Errorf("groupCPU = %v, %v; want a positive time", cpu, err)
	}
	if err := resetPeakRSS(os.Getpid()); err != nil {
		t.Logf("resetPeakRSS: %v (needs a kernel with clear_refs)", err)
	}
	if rss, err := groupPeakRSS(pgid); err != nil || rss < 1<<20 {
		t.Errorf("groupPeakRSS = %d, %v; want at least 1 MiB", rss, err)
	}
	if cur, err := rss(os.Getpid()); err != nil || cur < 1<<20 {
		t.Errorf("rss = %d, %v; want at least 1 MiB", cur, err)
	}
	if _, err := statusBytes(os.Getpid(), "NoSuchField"); err == nil {
		t.Error("statusBytes(NoSuchField): no error")
	}
}
