package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// TestSoakQuick runs the soak in quick mode and checks what each
// configuration did to the clients, from the upstreams' own counts.
func TestSoakQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three 2s loads")
	}
	o, err := parseFlags([]string{"-quick"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	results, err := soak(context.Background(), o, &log)
	t.Log(log.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 {
		t.Fatalf("%d results, want 3", len(results))
	}
	byName := map[string]result{}
	for _, r := range results {
		byName[r.config] = r
		if r.requests < 100 {
			t.Errorf("%s: %d requests in %v, want at least 100", r.config, r.requests, o.duration)
		}
		if r.transport != 0 {
			t.Errorf("%s: %d transport errors on loopback", r.config, r.transport)
			continue
		}
		// Every client request reached exactly one upstream, plus one
		// more per retry: nothing is lost or invented on the way.
		var seen int64
		for _, n := range r.upstream {
			seen += n
		}
		if seen != r.requests+r.retries {
			t.Errorf("%s: upstreams saw %d requests, want %d client requests + %d retries", r.config, seen, r.requests, r.retries)
		}
		// The only errors are the failing backend's 503s passed on.
		if r.errors > r.upstream503[failing] || r.statuses[503] != r.errors {
			t.Errorf("%s: %d client errors %v, failing backend answered %d 503s", r.config, r.errors, r.statuses, r.upstream503[failing])
		}
		for i, n := range r.upstream503 {
			if i != failing && n != 0 {
				t.Errorf("%s: healthy backend %d answered %d 503s", r.config, i, n)
			}
		}
	}

	off, def, retry := byName["off"], byName["defaults"], byName["retry503"]
	// Without resilience every 503 reaches a client: a third of the
	// requests go to the failing backend, which fails half of them for
	// half the run, so about 1/12 (8.3%) of the requests fail.
	if off.errors == 0 || off.errors != off.upstream503[failing] {
		t.Errorf("off: %d client errors, want the failing backend's %d 503s (> 0)", off.errors, off.upstream503[failing])
	}
	if rate := off.errorRate(); rate < 2 || rate > 20 {
		t.Errorf("off: error rate %.2f%%, want about 8.3%% (2%% to 20%%)", rate)
	}
	// How many requests fall in the fault phase depends on the machine's
	// load over the run; of those, the failing backend fails half.
	if off.faulted < 30 {
		t.Errorf("off: the failing backend saw %d requests during the fault, want at least 30", off.faulted)
	} else if half := float64(off.errors) / float64(off.faulted); half < 0.3 || half > 0.7 {
		t.Errorf("off: %d client errors for %d requests to the failing backend during the fault (%.2f), want about half",
			off.errors, off.faulted, half)
	}
	if share := float64(off.upstream[failing]) / float64(off.requests); share < 0.3 || share > 0.37 {
		t.Errorf("off: failing backend got %.2f of the requests, want a third (round-robin)", share)
	}
	if off.retries != 0 || off.ejections != 0 {
		t.Errorf("off: %d retries, %d ejections, want none", off.retries, off.ejections)
	}
	if def.retries != 0 {
		t.Errorf("defaults: %d retries, want none (503s are not retried by default)", def.retries)
	}
	if retry.errorRate() >= off.errorRate() {
		t.Errorf("retry503: error rate %.2f%%, want below off's %.2f%%", retry.errorRate(), off.errorRate())
	}
	if retry.retries == 0 {
		t.Errorf("retry503: no retries")
	}
	if retry.probes[failing] == 0 {
		t.Errorf("retry503: the failing backend was never probed")
	}

	tab := table(results)
	lines := strings.Split(strings.TrimSpace(tab), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "| Configuration |") || !strings.HasPrefix(lines[1], "|---|") {
		t.Fatalf("table:\n%s", tab)
	}
	for i, name := range []string{"off", "defaults", "retry503"} {
		row := lines[i+2]
		if !strings.HasPrefix(row, "| `"+name+"`") || strings.Count(row, "|") != 10 {
			t.Errorf("row %d = %q, want config %s and 9 columns", i, row, name)
		}
	}
}

func TestFlags(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	if err != nil || o.duration != 10*time.Second || o.workers != 8 {
		t.Errorf("defaults = %+v, %v", o, err)
	}
	o, err = parseFlags([]string{"-quick", "-duration", "1m", "-workers", "3"}, io.Discard)
	if err != nil || o.duration != 2*time.Second || o.workers != 3 {
		t.Errorf("-quick = %+v, %v", o, err)
	}
	for _, args := range [][]string{{"-workers", "0"}, {"-duration", "1ms"}, {"-nope"}} {
		var stderr bytes.Buffer
		if code := run(args, io.Discard, &stderr); code != 2 || stderr.Len() == 0 {
			t.Errorf("run(%q) = %d, stderr %q; want 2 and a message", args, code, stderr.String())
		}
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 50}, {0.99, 99}, {1, 100}, {0, 1}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("percentile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile(nil, 0.99); got != 0 {
		t.Errorf("percentile(nil) = %v", got)
	}
}
