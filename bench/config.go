package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/apigate-go/apigate/bench/internal/contract"
)

// Rows of the report, in order. direct is load sent straight to the data
// service; l4 is the same load through haproxy in TCP mode, the most a
// proxy that parses nothing costs; go-floor is the same load through the
// least an HTTP proxy in Go does (command floor), the floor of any
// gateway on Go's network poller. nginx-twin is a second nginx, the same
// binary and configuration as the nginx row: its ratios to nginx are what
// the machine's noise gives two identical gateways (the noise control).
const (
	rowDirect  = "direct"
	rowL4      = "l4"
	rowFloor   = "go-floor"
	rowStdlib  = "stdlib"
	rowApigate = "apigate"
	rowNginx   = "nginx"
	rowTwin    = "nginx-twin"
)

// knownRows returns every row name, in report order.
func knownRows() []string {
	return []string{rowDirect, rowL4, rowFloor, rowStdlib, rowApigate, rowNginx, rowTwin}
}

// config is the driver's configuration, from flags and the mode's defaults.
type config struct {
	quick      bool
	rounds     int
	warmup     time.Duration // closed loop before each measurement, not measured
	duration   time.Duration // closed-loop (throughput) measurement
	latency    time.Duration // open-loop (latency) measurement
	conns      int           // closed-loop connections
	rate       int           // open-loop requests per second
	openConns  int           // open-loop maximum connections
	routes     []string
	rows       []string
	generator  string // auto, wrk or go
	wrkThreads int
	gomaxprocs int // for the Go gateways; 0 leaves the runtime default
	out        string
	profile    string // directory for the Go gateways' pprof profiles
	timeout    time.Duration

	// Soak mode: apigate alone, an open loop over the routes for
	// soakDuration at soakRate (0: half the measured maximum), recorded
	// per soakWindow, the data service restarted midway.
	soak         bool
	soakDuration time.Duration
	soakWindow   time.Duration
	soakRate     int
}

// soakLoad is the fraction of the measured maximum throughput a soak test
// runs at when -soak-rate is not given. The generator and the backends
// share the gateway's cores: at 70% the machine was 94–98% busy (vmstat),
// and any outside stall queued requests for seconds. Half leaves the
// headroom that makes each window's latency mean something.
const soakLoad = 0.5

// modeDefaults are the settings a flag left unset takes.
func modeDefaults(quick bool) config {
	if quick {
		return config{
			rounds: 1, warmup: 200 * time.Millisecond, duration: time.Second,
			latency: 500 * time.Millisecond, conns: 32, rate: 1000, openConns: 32,
			timeout:      3 * time.Minute,
			soakDuration: 30 * time.Second, soakWindow: 3 * time.Second,
		}
	}
	return config{
		rounds: 3, warmup: 500 * time.Millisecond, duration: 3 * time.Second,
		latency: 2 * time.Second, conns: 64, rate: 2000, openConns: 64,
		timeout:      20 * time.Minute,
		soakDuration: 5 * time.Minute, soakWindow: 5 * time.Second,
	}
}

// parseFlags parses args into a config.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	var routes, rows string
	fs.BoolVar(&c.quick, "quick", false, "smoke-test mode: one short round, for CI (under a minute)")
	fs.IntVar(&c.rounds, "rounds", 0, "interleaved rounds; results are medians across rounds (default 3, quick 1)")
	fs.DurationVar(&c.warmup, "warmup", 0, "unmeasured closed-loop warm-up before each measurement (default 500ms, quick 200ms)")
	fs.DurationVar(&c.duration, "duration", 0, "closed-loop throughput measurement per route and gateway (default 3s, quick 1s; wrk rounds up to seconds)")
	fs.DurationVar(&c.latency, "latency-duration", 0, "open-loop latency measurement per route and gateway (default 2s, quick 500ms)")
	fs.IntVar(&c.conns, "conns", 0, "closed-loop connections (default 64, quick 32)")
	fs.IntVar(&c.rate, "rate", 0, "open-loop request rate, requests per second (default 2000, quick 1000)")
	fs.IntVar(&c.openConns, "open-conns", 0, "open-loop maximum connections (default 64, quick 32)")
	fs.StringVar(&routes, "routes", strings.Join(contract.Names(), ","), "comma-separated routes to measure")
	fs.StringVar(&rows, "gateways", strings.Join(knownRows(), ","), "comma-separated rows: direct, l4 (haproxy in TCP mode), go-floor (a minimal Go proxy), stdlib, apigate, nginx, nginx-twin (a second nginx, the noise control; nginx, nginx-twin and l4 are skipped when not installed)")
	fs.StringVar(&c.generator, "generator", "auto", "closed-loop generator: wrk, go (built in) or auto (wrk when installed)")
	fs.IntVar(&c.wrkThreads, "wrk-threads", 1, "wrk threads")
	fs.IntVar(&c.gomaxprocs, "gomaxprocs", 0, "GOMAXPROCS of the Go gateways and backends (default: the runtime's, the number of cores)")
	fs.StringVar(&c.out, "out", "results", "directory for results.md and chart.svg, relative to the bench module")
	fs.StringVar(&c.profile, "profile", "", "write CPU and allocation profiles of the Go gateways (stdlib, apigate) into `dir`, covering the whole run")
	fs.DurationVar(&c.timeout, "timeout", 0, "bound on the whole run (default: twice the measurements' length + 3m, at least 20m, quick 3m; soak: its duration + 3m)")
	fs.BoolVar(&c.soak, "soak", false, "soak mode: apigate under an open loop over the routes, the data service restarted midway; writes soak.md and soak.svg")
	fs.DurationVar(&c.soakDuration, "soak-duration", 0, "soak test length (default 5m, with -quick 30s)")
	fs.DurationVar(&c.soakWindow, "soak-window", 0, "soak recording window (default 5s, with -quick 3s)")
	fs.IntVar(&c.soakRate, "soak-rate", 0, "soak request rate, requests per second (default 50% of the maximum measured first)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if !c.soak && (c.soakDuration != 0 || c.soakWindow != 0 || c.soakRate != 0) {
		return config{}, fmt.Errorf("-soak-duration, -soak-window and -soak-rate need -soak")
	}
	d := modeDefaults(c.quick)
	c.soakDuration = or(c.soakDuration, d.soakDuration)
	c.soakWindow = or(c.soakWindow, d.soakWindow)
	if c.soak {
		d.timeout = c.soakDuration + 3*time.Minute
	}
	c.rounds = or(c.rounds, d.rounds)
	c.warmup = or(c.warmup, d.warmup)
	c.duration = or(c.duration, d.duration)
	c.latency = or(c.latency, d.latency)
	c.conns = or(c.conns, d.conns)
	c.rate = or(c.rate, d.rate)
	c.openConns = or(c.openConns, d.openConns)
	timeoutSet := c.timeout != 0
	c.timeout = or(c.timeout, d.timeout)

	var err error
	if c.routes, err = pick("route", routes, contract.Names()); err != nil {
		return config{}, err
	}
	if c.rows, err = pick("gateway", rows, knownRows()); err != nil {
		return config{}, err
	}
	if !timeoutSet && !c.soak {
		c.timeout = max(c.timeout, 2*measureLength(c)+3*time.Minute)
	}
	switch {
	case c.rounds < 1 || c.conns < 1 || c.rate < 1 || c.openConns < 1 || c.wrkThreads < 1:
		return config{}, fmt.Errorf("rounds, conns, rate, open-conns and wrk-threads must be positive")
	case c.duration <= 0 || c.latency <= 0 || c.warmup < 0 || c.timeout <= 0:
		return config{}, fmt.Errorf("durations must be positive")
	case c.generator != "auto" && c.generator != "wrk" && c.generator != "go":
		return config{}, fmt.Errorf("generator %q: want auto, wrk or go", c.generator)
	case c.soakRate < 0:
		return config{}, fmt.Errorf("soak-rate must be positive")
	case c.soakWindow <= 0 || c.soakDuration < 2*c.soakWindow:
		return config{}, fmt.Errorf("soak-window must be positive and soak-duration at least two windows")
	}
	return c, nil
}

// measureLength is how long the measurements of a run take: every round
// measures every route on every row, with a warm-up, a closed loop (wrk
// counts whole seconds) and an open loop.
func measureLength(c config) time.Duration {
	cell := c.warmup + (c.duration + time.Second - 1).Truncate(time.Second) + c.latency
	return time.Duration(c.rounds*len(c.routes)*len(c.rows)) * cell
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// pick splits a comma-separated list and checks each name against known,
// returning the names in known's order.
func pick(kind, list string, known []string) ([]string, error) {
	var out []string
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(known, name) {
			return nil, fmt.Errorf("unknown %s %q (want %s)", kind, name, strings.Join(known, ", "))
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s selected", kind)
	}
	slices.SortStableFunc(out, func(a, b string) int {
		return slices.Index(known, a) - slices.Index(known, b)
	})
	return slices.Compact(out), nil
}
