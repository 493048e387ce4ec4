// Command bench is apigate's load benchmark driver. It builds and starts
// the mock auth and data services (package mock, on fasthttp), the stdlib
// baseline gateway, the apigate gateway and, when installed, nginx with
// njs and haproxy as a TCP proxy (the l4 row, the limit of a proxy that
// only copies bytes); checks that each gateway implements the contract;
// then, for several interleaved rounds, measures per route each row's
// highest sustained throughput (closed loop), its latency percentiles at a
// fixed rate (open loop), its errors, CPU time per request, peak RSS and
// idle RSS at the start of every cell. It prints a markdown report, opening
// with apigate's ratios to nginx, the stdlib gateway and the l4 row against
// their targets, and writes it, with an SVG chart, to results/.
//
// With -soak it runs a soak test instead: the apigate gateway under an
// open loop over the routes at half its measured maximum for five
// minutes, the data service killed and restarted midway, its errors,
// latency, RSS and goroutines recorded per window, written to
// results/soak.md and results/soak.svg.
//
// Run it from the bench directory:
//
//	go run .            # the default run, a few minutes
//	go run . -quick     # a smoke test under a minute, for CI
//	go run . -soak      # the soak test, about six minutes
//	./run.sh -h         # every flag
//
// Everything runs on loopback; every load loop is bounded in time; every
// process the driver starts is stopped when it ends, also on error or
// SIGINT. The exit status is non-zero when a gateway fails validation or
// any request fails; in soak mode, when a request fails away from the
// restart or the gateway's RSS or goroutine count grows.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	start := time.Now()
	s := &suite{cfg: cfg, loadBefore: loadAverage()}
	var code int
	if cfg.soak {
		code = s.runSoak(ctx, args, stdout, stderr)
	} else {
		code = s.run(ctx, args, stdout, stderr)
	}
	if err := s.teardown(); err != nil {
		fmt.Fprintln(stderr, "bench: stopping processes:", err)
	}
	fmt.Fprintf(stderr, "bench: done in %v\n", time.Since(start).Round(100*time.Millisecond))
	return code
}

func (s *suite) run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if err := s.setup(ctx, stderr); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	gateways := 0
	for _, rw := range s.rows {
		if !rw.direct {
			gateways++
		}
	}
	if len(s.rows) == 0 {
		fmt.Fprintln(stderr, "bench: nothing left to measure")
		return 1
	}
	res, err := s.measure(ctx, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	s.loadAfter = loadAverage()
	sums := s.summarize(res)
	var rows []string
	for _, rw := range s.rows {
		rows = append(rows, rw.name)
	}
	meta := reportMeta{
		date:      time.Now().UTC().Format("2006-01-02 15:04 MST"),
		command:   command(args),
		machine:   machineInfo(),
		goVersion: runtime.Version(),
	}
	md := s.markdown(meta, sums, "chart.svg")
	fmt.Fprint(stdout, md)

	out := s.cfg.out
	if !filepath.IsAbs(out) {
		out = filepath.Join(s.modDir, out)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if err := os.WriteFile(filepath.Join(out, "results.md"), []byte(md), 0o644); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if err := os.WriteFile(filepath.Join(out, "chart.svg"), []byte(chartSVG(sums, rows, s.cfg.rate)), 0o644); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	fmt.Fprintf(stderr, "bench: wrote %s and %s\n", filepath.Join(out, "results.md"), filepath.Join(out, "chart.svg"))

	if n := totalErrors(sums); n > 0 {
		fmt.Fprintf(stderr, "bench: FAIL: %d request(s) failed under load\n", n)
		return 1
	}
	if s.failed {
		fmt.Fprintln(stderr, "bench: FAIL: a gateway failed validation")
		return 1
	}
	if gateways == 0 {
		fmt.Fprintln(stderr, "bench: note: no gateway was measured")
	}
	return 0
}

// command returns the command line to show in the report: run.sh passes
// its own as BENCH_COMMAND.
func command(args []string) string {
	if c := os.Getenv("BENCH_COMMAND"); c != "" {
		return c
	}
	return strings.TrimSpace("go run . " + strings.Join(args, " "))
}
