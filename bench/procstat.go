package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the kernel's USER_HZ, the unit of the CPU times in
// /proc/PID/stat: 100 on every Linux architecture Go supports.
const clockTicks = 100

// procStat is what the driver reads of a process from /proc.
type procStat struct {
	pgrp int
	cpu  time.Duration // user + system time, finished threads included
}

// readStat parses /proc/PID/stat.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): pgrp is field 5, utime 14, stime 15.
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	var n [3]int64
	for k, idx := range []int{2, 11, 12} {
		if n[k], err = strconv.ParseInt(f[idx], 10, 64); err != nil {
			return procStat{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
	}
	return procStat{pgrp: int(n[0]), cpu: time.Duration(n[1]+n[2]) * time.Second / clockTicks}, nil
}

// groupPIDs returns the processes of process group pgid: a gateway started
// by the driver leads its own group, so nginx's workers are found with
// their master.
func groupPIDs(pgid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return []int{pgid}
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil && st.pgrp == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// groupCPU returns the CPU time used so far by the processes of group pgid.
func groupCPU(pgid int) (time.Duration, error) {
	var total time.Duration
	var errs []error
	for _, pid := range groupPIDs(pgid) {
		st, err := readStat(pid)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		total += st.cpu
	}
	return total, errors.Join(errs...)
}

// resetPeakRSS resets the peak resident set size (VmHWM) of the processes
// of group pgid, by writing 5 to /proc/PID/clear_refs.
func resetPeakRSS(pgid int) error {
	var errs []error
	for _, pid := range groupPIDs(pgid) {
		p := filepath.Join("/proc", strconv.Itoa(pid), "clear_refs")
		if err := os.WriteFile(p, []byte("5"), 0); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// groupPeakRSS returns the sum of the peak resident set sizes (VmHWM) of
// the processes of group pgid, in bytes.
func groupPeakRSS(pgid int) (int64, error) {
	var total int64
	var errs []error
	for _, pid := range groupPIDs(pgid) {
		n, err := statusBytes(pid, "VmHWM")
		if err != nil {
			errs = append(errs, err)
		}
		total += n
	}
	return total, errors.Join(errs...)
}

// groupRSS returns the sum of the resident set sizes (VmRSS) of the
// processes of group pgid, in bytes.
func groupRSS(pgid int) (int64, error) {
	var total int64
	var errs []error
	for _, pid := range groupPIDs(pgid) {
		n, err := rss(pid)
		if err != nil {
			errs = append(errs, err)
		}
		total += n
	}
	return total, errors.Join(errs...)
}

// rss returns the resident set size (VmRSS) of process pid, in bytes.
func rss(pid int) (int64, error) { return statusBytes(pid, "VmRSS") }

// statusBytes returns field (a size in kB, such as VmRSS) of
// /proc/PID/status, in bytes.
func statusBytes(pid int, field string) (int64, error) {
	p := filepath.Join("/proc", strconv.Itoa(pid), "status")
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		v, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %s: %w", p, field, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("%s: no %s", p, field)
}
