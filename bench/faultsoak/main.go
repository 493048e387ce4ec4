// Command faultsoak measures what apigate's resilience features change for
// clients while one backend fails half its requests.
//
// It starts three upstream servers on loopback, two healthy and one that,
// from a quarter to three quarters of each run, answers 503 to half its
// requests (seeded random, its health endpoint included) and 200 otherwise.
// Then, for each configuration, it builds a gateway that balances a GET
// route round-robin over the three, serves it on loopback, drives it with
// a closed loop of workers for a fixed duration, and counts what the
// clients got (non-2xx answers and transport errors are errors, p99
// latency) and what each upstream saw. The configurations:
//
//	off       outlier detection and retries turned off
//	defaults  apigate's defaults (outlier detection, one retry of failed connections)
//	retry503  the defaults, retries on 503, active health checks every 250ms
//
// It prints a markdown table and exits non-zero on a setup error. Every
// configuration gets fresh upstreams and a fresh gateway; everything runs
// on loopback and stops by itself.
//
//	go run ./faultsoak                # 10s per configuration
//	go run ./faultsoak -quick         # 2s per configuration (CI)
//	go run ./faultsoak -duration 30s -workers 16 -seed 7
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/observe"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	duration time.Duration
	workers  int
	seed     uint64
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("faultsoak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "load duration per configuration")
	fs.IntVar(&o.workers, "workers", 8, "concurrent clients (closed loop)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the failing backend's random failures")
	quick := fs.Bool("quick", false, "2s per configuration, for CI (overrides -duration)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if *quick {
		o.duration = 2 * time.Second
	}
	switch {
	case o.duration < 100*time.Millisecond || o.duration > 10*time.Minute:
		return o, fmt.Errorf("faultsoak: -duration %v out of range (100ms to 10m)", o.duration)
	case o.workers < 1 || o.workers > 256:
		return o, fmt.Errorf("faultsoak: -workers %d out of range (1 to 256)", o.workers)
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, err)
		return 2
	}
	results, err := soak(context.Background(), o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "%d workers, %v per configuration; backend 3 answers 503 to half its requests from %v to %v\n\n",
		o.workers, o.duration, o.duration/4, o.duration*3/4)
	fmt.Fprint(stdout, table(results))
	return 0
}

// config is one gateway configuration under test.
type config struct {
	name, about string
	opts        []apigate.Option
}

func configs() []config {
	return []config{
		{"off", "no outlier detection, no retries", []apigate.Option{
			apigate.WithOutlierDetection(apigate.OutlierOptions{Disable: true}),
			apigate.WithRetries(apigate.RetryOptions{Disable: true}),
		}},
		{"defaults", "outlier detection, retries of failed connections", nil},
		{"retry503", "defaults + retries on 503 + health checks (250ms)", []apigate.Option{
			apigate.WithRetries(apigate.RetryOptions{Statuses: []int{503}}),
			apigate.WithHealthCheck(apigate.HealthCheckOptions{Path: healthPath, Interval: 250 * time.Millisecond}),
		}},
	}
}

// result is what one configuration's run measured.
type result struct {
	config, about string
	// requests the clients completed; errors among them: non-2xx answers
	// and transport errors (transport counts the latter alone).
	requests, errors, transport int64
	// statuses counts the clients' error answers by status.
	statuses map[int]int64
	// upstream and upstream503 are the proxied requests each upstream saw
	// and answered 503; probes the health checks each saw.
	upstream, upstream503, probes [backends]int64
	// faulted is the proxied requests the failing backend saw during the
	// fault, half of which it answered 503.
	faulted int64
	// retries and ejections are the gateway's request_retried and
	// backend_ejected events.
	retries, ejections int64
	p50, p99           time.Duration
}

// errorRate is the share of client requests that failed, in percent.
func (r result) errorRate() float64 {
	if r.requests == 0 {
		return 0
	}
	return 100 * float64(r.errors) / float64(r.requests)
}

const (
	backends   = 3
	failing    = backends - 1 // index of the backend that fails
	healthPath = "/healthz"
)

func soak(ctx context.Context, o options, log io.Writer) ([]result, error) {
	var out []result
	for _, c := range configs() {
		fmt.Fprintf(log, "faultsoak: %s: %v with %d workers\n", c.name, o.duration, o.workers)
		r, err := runConfig(ctx, c, o)
		if err != nil {
			return nil, fmt.Errorf("faultsoak: %s: %w", c.name, err)
		}
		fmt.Fprintf(log, "faultsoak: %s: %d requests, %d errors (%d transport, by status %v), upstreams saw %v (503s %v), probes %v, retries %d, ejections %d\n",
			c.name, r.requests, r.errors, r.transport, r.statuses, r.upstream, r.upstream503, r.probes, r.retries, r.ejections)
		out = append(out, r)
	}
	return out, nil
}

// upstream is one loopback backend. Only the failing one has a fault
// switch; while it is on, each of its answers is a 503 with probability
// one half.
type upstream struct {
	url                                   string
	srv                                   *http.Server
	fault                                 *atomic.Bool
	requests, faulted, unavailable, probe atomic.Int64

	mu  sync.Mutex
	rng *rand.Rand
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	probe := r.URL.Path == healthPath
	if probe {
		u.probe.Add(1)
	} else {
		u.requests.Add(1)
	}
	if u.fault != nil && u.fault.Load() {
		if !probe {
			u.faulted.Add(1)
		}
		u.mu.Lock()
		fail := u.rng.IntN(2) == 0
		u.mu.Unlock()
		if fail {
			if !probe {
				u.unavailable.Add(1)
			}
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"ok":true}`)
}

func startUpstream(fault *atomic.Bool, seed uint64) (*upstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u := &upstream{url: "http://" + ln.Addr().String(), fault: fault, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	u.srv = &http.Server{Handler: u, ReadHeaderTimeout: 5 * time.Second}
	go u.srv.Serve(ln)
	return u, nil
}

func runConfig(ctx context.Context, c config, o options) (result, error) {
	res := result{config: c.name, about: c.about}
	fault := &atomic.Bool{}
	var ups []*upstream
	defer func() {
		for _, u := range ups {
			u.srv.Close()
		}
	}()
	var urls []string
	for i := range backends {
		var f *atomic.Bool
		if i == failing {
			f = fault
		}
		u, err := startUpstream(f, o.seed)
		if err != nil {
			return res, err
		}
		ups = append(ups, u)
		urls = append(urls, u.url)
	}

	var retries, ejections atomic.Int64
	counter := observe.Func(func(_ context.Context, e observe.Event) {
		switch e.Kind {
		case observe.RequestRetried:
			retries.Add(1)
		case observe.BackendEjected:
			ejections.Add(1)
		}
	})
	opts := append([]apigate.Option{
		apigate.Mount(apigate.Service("/api", apigate.GET("/items/:id")), urls...),
		apigate.WithObserver(counter),
	}, c.opts...)
	gw, err := apigate.New(opts...)
	if err != nil {
		return res, err
	}
	defer gw.Close()

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	ln, err := apigate.Listen(sctx, "127.0.0.1:0", apigate.ServeOptions{})
	if err != nil {
		return res, err
	}
	served := make(chan error, 1)
	go func() { served <- apigate.Serve(sctx, ln, gw, apigate.ServeOptions{ShutdownTimeout: 5 * time.Second}) }()
	defer func() { stop(); <-served }()

	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: o.workers, DisableCompression: true},
	}
	defer client.CloseIdleConnections()
	target := "http://" + ln.Addr().String() + "/api/items/"

	// The fault phase: from a quarter to three quarters of the run.
	start := time.Now()
	deadline := start.Add(o.duration)
	faultOn := time.AfterFunc(o.duration/4, func() { fault.Store(true) })
	faultOff := time.AfterFunc(o.duration*3/4, func() { fault.Store(false) })
	defer faultOn.Stop()
	defer faultOff.Stop()

	type tally struct {
		requests, errors, transport int64
		statuses                    map[int]int64
		lat                         []time.Duration
	}
	tallies := make([]tally, o.workers)
	var wg sync.WaitGroup
	for w := range o.workers {
		wg.Go(func() {
			t := &tallies[w]
			for n := 0; time.Now().Before(deadline); n++ {
				if ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				resp, err := client.Get(fmt.Sprintf("%s%d-%d", target, w, n))
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				t.lat = append(t.lat, time.Since(t0))
				t.requests++
				switch {
				case err != nil:
					t.errors++
					t.transport++
				case resp.StatusCode < 200 || resp.StatusCode > 299:
					t.errors++
					if t.statuses == nil {
						t.statuses = map[int]int64{}
					}
					t.statuses[resp.StatusCode]++
				}
			}
		})
	}
	wg.Wait()

	var lat []time.Duration
	res.statuses = map[int]int64{}
	for _, t := range tallies {
		for code, n := range t.statuses {
			res.statuses[code] += n
		}
		res.requests += t.requests
		res.errors += t.errors
		res.transport += t.transport
		lat = append(lat, t.lat...)
	}
	slices.Sort(lat)
	res.p50, res.p99 = percentile(lat, 0.50), percentile(lat, 0.99)
	for i, u := range ups {
		res.upstream[i] = u.requests.Load()
		res.upstream503[i] = u.unavailable.Load()
		res.probes[i] = u.probe.Load()
	}
	res.faulted = ups[failing].faulted.Load()
	res.retries, res.ejections = retries.Load(), ejections.Load()
	return res, nil
}

// percentile returns the p-quantile of sorted latencies (nearest rank).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// table formats results as a markdown table.
func table(results []result) string {
	var b strings.Builder
	b.WriteString("| Configuration | Client requests | Client errors | Error rate | Failing backend saw (503s) | Retries | Ejections | p50 | p99 |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| `%s`: %s | %d | %d | %.3g%% | %d (%d) | %d | %d | %s | %s |\n",
			r.config, r.about, r.requests, r.errors, r.errorRate(),
			r.upstream[failing], r.upstream503[failing], r.retries, r.ejections,
			fmtDur(r.p50), fmtDur(r.p99))
	}
	return b.String()
}

func fmtDur(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}
