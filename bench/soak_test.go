package main

import (
	"encoding/xml"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apigate-go/apigate/bench/internal/load"
)

// testSoak returns a 30s soak result in 5s windows, the data service down
// from 15.0s to 15.1s, with errors in the given windows and idle readings
// from 20 MiB, 100 goroutines to rssEnd, goEnd.
func testSoak(errs map[int]int64, rssEnd int64, goEnd int) *soakResult {
	r := &soakResult{
		rate: 1000, routes: []string{"items", "lookup"}, workers: 64,
		duration: 30 * time.Second, window: 5 * time.Second,
		killAt: 15 * time.Second, readyAt: 15*time.Second + 100*time.Millisecond, restarted: true,
		idleBefore: soakProbe{rss: 20 << 20, goroutines: 100},
		idleAfter:  soakProbe{rss: rssEnd, goroutines: goEnd},
	}
	for k := range 6 {
		w := load.Window{Start: time.Duration(k) * r.window, Requests: 5000, P50: time.Millisecond, P99: time.Duration(k+1) * time.Millisecond}
		if n := errs[k]; n > 0 {
			w.Errors, w.Kinds = n, map[string]int64{"status 502": n}
		}
		r.windows = append(r.windows, w)
		r.probes = append(r.probes, soakProbe{at: w.Start + r.window, rss: 20 << 20, goroutines: 150})
	}
	return r
}

func TestSoakVerdict(t *testing.T) {
	const mb = 1 << 20
	tests := []struct {
		name           string
		r              *soakResult
		wantNear       []bool
		wantUnexpected []int
		wantFailures   int
	}{
		{"clean", testSoak(nil, 20*mb, 100), []bool{false, false, true, true, false, false}, nil, 0},
		{"errors at the restart", testSoak(map[int]int64{2: 3, 3: 40}, 20*mb, 100), nil, nil, 0},
		{"errors away from the restart", testSoak(map[int]int64{0: 1, 3: 40, 5: 2}, 20*mb, 100), nil, []int{0, 5}, 1},
		{"RSS at the limit", testSoak(nil, 32*mb, 140), nil, nil, 0},
		{"RSS grew", testSoak(nil, 33*mb, 100), nil, nil, 1},
		{"goroutines grew", testSoak(nil, 20*mb, 141), nil, nil, 1},
		{"both grew and errors", testSoak(map[int]int64{1: 1}, 40*mb, 300), nil, []int{1}, 3},
		{"generator behind: no failure", behind(testSoak(nil, 20*mb, 100)), nil, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.r.verdict()
			if tt.wantNear != nil && !slices.Equal(v.near, tt.wantNear) {
				t.Errorf("near %v, want %v", v.near, tt.wantNear)
			}
			if !slices.Equal(v.unexpected, tt.wantUnexpected) {
				t.Errorf("unexpected windows %v, want %v", v.unexpected, tt.wantUnexpected)
			}
			if f := v.failures(); len(f) != tt.wantFailures || v.pass() != (tt.wantFailures == 0) {
				t.Errorf("failures %q (pass %v), want %d", f, v.pass(), tt.wantFailures)
			}
		})
	}
}

// behind marks the last window of r as partly not sent.
func behind(r *soakResult) *soakResult {
	r.windows[len(r.windows)-1].Missed = 100
	return r
}

func TestSoakVerdictStatus(t *testing.T) {
	tests := []struct {
		name string
		r    *soakResult
		want string
	}{
		{"clean", testSoak(nil, 20<<20, 100), "PASS"},
		{"generator behind", behind(testSoak(nil, 20<<20, 100)), "INCONCLUSIVE"},
		{"generator behind and errors", behind(testSoak(map[int]int64{0: 1}, 20<<20, 100)), "FAIL"},
		{"errors", testSoak(map[int]int64{0: 1}, 20<<20, 100), "FAIL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.r.verdict()
			if got := v.status(); got != tt.want {
				t.Errorf("status %s (failures %q, inconclusive %q), want %s", got, v.failures(), v.inconclusive(), tt.want)
			}
		})
	}
}

func TestSoakVerdictIncompleteRuns(t *testing.T) {
	r := testSoak(nil, 20<<20, 100)
	r.restarted = false
	if v := r.verdict(); v.pass() || slices.Contains(v.near, true) {
		t.Errorf("no restart: pass %v, near %v; want a failure and no window near a restart", v.pass(), v.near)
	}
	r = testSoak(nil, 0, 0)
	r.restarted, r.interrupted = false, "context canceled"
	if f := r.verdict().failures(); len(f) != 1 || !strings.Contains(f[0], "interrupted") {
		t.Errorf("interrupted: failures %q, want only the interruption", f)
	}
	r = testSoak(nil, 0, 0)
	r.gatewayDied = "signal: segmentation fault"
	if f := r.verdict().failures(); len(f) != 1 || !strings.Contains(f[0], "exited") {
		t.Errorf("dead gateway: failures %q, want only the exit", f)
	}
}

func TestSoakMarkdown(t *testing.T) {
	r := testSoak(map[int]int64{3: 40, 5: 2}, 21<<20, 104)
	r.maxRPS = 2000
	r.windows[4].Missed = 7
	s := &suite{cfg: config{conns: 64, duration: 3 * time.Second}, loadBefore: -1}
	md := s.soakMarkdown(reportMeta{date: "D", command: "go run . -soak", machine: "M", goVersion: "go1"}, r, r.verdict(), "soak.svg")
	for _, want := range []string{
		"- Command: `go run . -soak` (mode: short",
		"open loop at 1,000 req/s, 50% of the 2,000 req/s maximum",
		"killed (SIGKILL) at 15.0 s and listened again on the same port at 15.1 s (down 100ms)",
		"| errors near the restart | 40 (status 502: 40) |",
		"| errors away from the restart | **2** (status 502: 2) |",
		"| p99 per window away from the restart, min / median / max | 1.00 / 3.50 / 6.00 ms |",
		"| RSS idle, start → end (limit) | 20.0 → 21.0 MiB (32.0): flat |",
		"| goroutines idle, start → end (limit) | 100 → 104 (140): flat |",
		"| verdict | **FAIL**: 2 error(s) in 1 window(s) away from the restart |",
		"| requests not sent in time | **7** in 1 window(s)",
		"| 15.0 | 5000 | 40 | status 502: 40 | 0 | 1.00 | 4.00 | 20.0 | 150 | restart |",
		"| 10.0 | 5000 | 0 | — | 0 | 1.00 | 3.00 | 20.0 | 150 | near restart |",
		"| 20.0 | 5000 | 0 | — | 7 | 1.00 | 5.00 | 20.0 | 150 | generator behind schedule |",
		"| 25.0 | 5000 | 2 | status 502: 2 | 0 | 1.00 | 6.00 | 20.0 | 150 | **errors away from the restart** |",
		"![p99 latency, RSS and goroutines over time](soak.svg)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestSoakSVG(t *testing.T) {
	svg := soakSVG(testSoak(nil, 20<<20, 100))
	d := xml.NewDecoder(strings.NewReader(svg))
	count := map[string]int{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			count[se.Name.Local]++
		}
	}
	// Three panels: one line each, one point per window, one restart band
	// each plus the background.
	if count["path"] != 3 || count["circle"] != 3*6 || count["rect"] != 1+3 {
		t.Errorf("%d paths, %d circles, %d rects; want 3, 18, 4", count["path"], count["circle"], count["rect"])
	}
}

func TestP99RangeSkipsUnsentWindows(t *testing.T) {
	r := testSoak(nil, 20<<20, 100)
	// Window 0 sent nothing: its p99 of 1ms must not count.
	r.windows[0].Missed = r.windows[0].Requests
	lo, med, hi, ok := p99Range(r, r.verdict())
	if !ok || lo != 2*time.Millisecond || med != 5*time.Millisecond || hi != 6*time.Millisecond {
		t.Errorf("p99Range = %v, %v, %v, %v; want 2ms, 5ms, 6ms (windows 1, 4, 5)", lo, med, hi, ok)
	}
}
