package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apigate-go/apigate/bench/internal/contract"
	"github.com/apigate-go/apigate/bench/internal/load"
)

// soakProbe is one reading of the gateway's resident memory and goroutine
// count.
type soakProbe struct {
	at         time.Duration // from the start of the schedule
	rss        int64         // bytes
	goroutines int
}

// soakResult is everything a soak test measured.
type soakResult struct {
	maxRPS   float64 // closed-loop maximum measured first; 0 when -soak-rate was given
	rate     int
	routes   []string
	workers  int
	duration time.Duration
	window   time.Duration
	windows  []load.Window
	probes   []soakProbe // one per window, taken at its end
	// idle readings, the generator's connections closed, before and after
	// the schedule.
	idleBefore, idleAfter soakProbe
	// killAt and readyAt are when the data service was killed and when it
	// was listening again, from the start of the schedule.
	killAt, readyAt time.Duration
	restarted       bool
	gatewayDied     string // the gateway's exit and log tail, if it died
	interrupted     string // why the run stopped early (SIGINT, timeout)
}

// soakEnv is what a soak test runs against.
type soakEnv struct {
	backendBin string
	dataAddr   string
	gw         *proc
	gwURL      string
	debugURL   string
	goEnv      []string
}

// runSoak runs the soak test: setup, maximum, schedule with a restart of
// the data service midway, report. It returns the exit code.
func (s *suite) runSoak(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	env, err := s.setupSoak(ctx, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	res, err := s.soak(ctx, env, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	s.loadAfter = loadAverage()
	meta := reportMeta{
		date:      time.Now().UTC().Format("2006-01-02 15:04 MST"),
		command:   command(args),
		machine:   machineInfo(),
		goVersion: runtime.Version(),
	}
	v := res.verdict()
	md := s.soakMarkdown(meta, res, v, "soak.svg")
	fmt.Fprint(stdout, md)
	if res.interrupted != "" {
		// Keep the last complete run's files.
		fmt.Fprintln(stderr, "bench: FAIL:", strings.Join(v.failures(), "; "))
		return 1
	}
	out := s.cfg.out
	if !filepath.IsAbs(out) {
		out = filepath.Join(s.modDir, out)
	}
	files := []struct{ name, body string }{{"soak.md", md}, {"soak.svg", soakSVG(res)}}
	if err := os.MkdirAll(out, 0o755); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(out, f.name), []byte(f.body), 0o644); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "bench: wrote %s and %s\n", filepath.Join(out, "soak.md"), filepath.Join(out, "soak.svg"))
	switch v.status() {
	case "FAIL":
		fmt.Fprintln(stderr, "bench: FAIL:", strings.Join(v.failures(), "; "))
		return 1
	case "INCONCLUSIVE":
		fmt.Fprintln(stderr, "bench: INCONCLUSIVE:", v.inconclusive())
		return 1
	}
	return 0
}

// setupSoak builds the backend and the apigate gateway, starts the auth
// and data services as separate processes (so that the data service can be
// restarted alone, on its fixed port) and the gateway with its debug
// listener, and validates the gateway.
func (s *suite) setupSoak(ctx context.Context, stderr io.Writer) (soakEnv, error) {
	var env soakEnv
	var err error
	if s.modDir, err = moduleDir(ctx); err != nil {
		return env, err
	}
	if s.tmp, err = os.MkdirTemp("", "apigate-bench-"); err != nil {
		return env, err
	}
	fmt.Fprintln(stderr, "building binaries…")
	built, buildErrs := buildAll(ctx, s.modDir, s.tmp, []string{"backend", "gateway"})
	if err := errors.Join(buildErrs["backend"], buildErrs["gateway"]); err != nil {
		return env, err
	}
	env.backendBin = built["backend"]
	if s.cfg.gomaxprocs > 0 {
		env.goEnv = append(env.goEnv, "GOMAXPROCS="+strconv.Itoa(s.cfg.gomaxprocs))
	}
	ports, err := freePorts(4)
	if err != nil {
		return env, err
	}
	authAddr, gwAddr, debugAddr := loopback(ports[0]), loopback(ports[2]), loopback(ports[3])
	env.dataAddr = loopback(ports[1])
	s.authURL, s.dataURL = "http://"+authAddr, "http://"+env.dataAddr
	env.gwURL, env.debugURL = "http://"+gwAddr, "http://"+debugAddr+"/goroutines"

	if _, err := s.startBackend(ctx, env, "auth", "-auth", authAddr, "-data", ""); err != nil {
		return env, err
	}
	if _, err := s.startBackend(ctx, env, "data", "-auth", "", "-data", env.dataAddr); err != nil {
		return env, err
	}
	if s.token, err = fetchToken(ctx, s.authURL); err != nil {
		return env, err
	}
	env.gw, err = startProc(rowApigate, s.tmp, built["gateway"],
		[]string{"-addr", gwAddr, "-auth", s.authURL, "-data", s.dataURL, "-debug", debugAddr}, env.goEnv)
	if err != nil {
		return env, err
	}
	s.procs.add(env.gw)
	if err := env.gw.waitReady(ctx, gwAddr, debugAddr); err != nil {
		return env, err
	}
	s.rows = []*row{{name: rowApigate, base: env.gwURL, proc: env.gw}}
	if err := s.validate(ctx, stderr); err != nil {
		return env, err
	}
	if s.failed {
		return env, errors.New("apigate failed validation: " + strings.Join(s.notes, "; "))
	}
	return env, nil
}

// startBackend starts the backend binary as the process name with args and
// waits until it listens on the non-empty addresses among them.
func (s *suite) startBackend(ctx context.Context, env soakEnv, name string, args ...string) (*proc, error) {
	p, err := startProc(name, s.tmp, env.backendBin, args, env.goEnv)
	if err != nil {
		return nil, err
	}
	s.procs.add(p)
	var addrs []string
	for i := 1; i < len(args); i += 2 {
		if args[i] != "" {
			addrs = append(addrs, args[i])
		}
	}
	return p, p.waitReady(ctx, addrs...)
}

// soak warms the gateway up, measures its maximum throughput on the route
// mix unless -soak-rate was given, then runs the schedule while probing
// the gateway at the end of every window and restarting the data service
// at half time.
func (s *suite) soak(ctx context.Context, env soakEnv, stderr io.Writer) (*soakResult, error) {
	c := s.cfg
	res := &soakResult{rate: c.soakRate, routes: c.routes, workers: c.openConns, duration: c.soakDuration, window: c.soakWindow}
	var targets []load.Target
	for _, r := range contract.Routes() {
		for _, name := range c.routes {
			if r.Name == name {
				targets = append(targets, load.Target{Base: env.gwURL, Request: r.Gateway(s.token), Want: http.StatusOK})
			}
		}
	}
	if c.warmup > 0 {
		if _, err := load.ClosedMix(ctx, targets, c.conns, c.warmup); err != nil {
			return nil, err
		}
	}
	if res.rate == 0 {
		thr, err := load.ClosedMix(ctx, targets, c.conns, c.duration)
		if err != nil {
			return nil, err
		}
		if thr.Errors > 0 {
			return nil, fmt.Errorf("%d of %d requests failed while measuring the maximum throughput", thr.Errors, thr.Requests)
		}
		res.maxRPS = thr.RPS()
		res.rate = max(int(soakLoad*res.maxRPS), 1)
		fmt.Fprintf(stderr, "maximum %.0f req/s over %s (closed loop, %d connections, %v): soaking at %d req/s\n",
			res.maxRPS, strings.Join(c.routes, ", "), c.conns, c.duration, res.rate)
	}
	probe := newProber(env)
	defer probe.close()
	var err error
	if res.idleBefore, err = probe.idle(ctx); err != nil {
		return nil, err
	}

	sched := load.Schedule{Targets: targets, Rate: res.rate, Duration: c.soakDuration, Window: c.soakWindow, Workers: c.openConns}
	start := time.Now().Add(50 * time.Millisecond)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	var probeErr, restartErr error
	wg.Go(func() {
		res.probes, probeErr = probe.windows(ctx, start, sched, stderr)
		if probeErr != nil {
			cancel(probeErr)
		}
	})
	wg.Go(func() {
		restartErr = s.restartData(ctx, env, start, c.soakDuration/2, res)
		if restartErr != nil {
			cancel(restartErr)
		}
	})
	res.windows, err = sched.Run(ctx, start)
	wg.Wait()
	if err := errors.Join(err, probeErr, restartErr); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		res.interrupted = context.Cause(ctx).Error()
		return res, nil
	}
	if env.gw.exited() {
		res.gatewayDied = fmt.Sprintf("%v\n%s", env.gw.err, env.gw.logTail())
		return res, nil
	}
	if res.idleAfter, err = probe.idle(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

// restartData kills the data service at start+after and starts it again
// on the same port, recording when it went down and when it listened
// again.
func (s *suite) restartData(ctx context.Context, env soakEnv, start time.Time, after time.Duration, res *soakResult) error {
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(time.Until(start.Add(after))):
	}
	var old *proc
	for _, p := range s.procs.list {
		if p.name == "data" {
			old = p
		}
	}
	if old == nil {
		return errors.New("soak: no data service to restart")
	}
	res.killAt = time.Since(start)
	if err := old.kill(); err != nil {
		return err
	}
	if _, err := s.startBackend(ctx, env, "data-restarted", "-auth", "", "-data", env.dataAddr); err != nil {
		return fmt.Errorf("restart the data service: %w", err)
	}
	res.readyAt = time.Since(start)
	res.restarted = true
	return nil
}

// prober reads the gateway's RSS, summed over its processes, from /proc
// and its goroutine count (its first process's) from its debug listener.
type prober struct {
	gw     *proc
	pid    int
	url    string
	client *http.Client
}

func newProber(env soakEnv) *prober {
	return &prober{
		gw:  env.gw,
		pid: env.gw.pgid(),
		url: env.debugURL,
		// A new connection per probe: the count then always includes the
		// probe's own connection and nothing else of ours.
		client: &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
	}
}

func (p *prober) close() { p.client.CloseIdleConnections() }

// read takes one probe.
func (p *prober) read(ctx context.Context) (soakProbe, error) {
	var pr soakProbe
	var err error
	// All the gateway's processes: apigate serves with several.
	if pr.rss, err = groupRSS(p.pid); err != nil {
		return pr, fmt.Errorf("gateway RSS: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return pr, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return pr, fmt.Errorf("gateway goroutines: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64))
	if err != nil {
		return pr, fmt.Errorf("gateway goroutines: %w", err)
	}
	if pr.goroutines, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil || resp.StatusCode != http.StatusOK {
		return pr, fmt.Errorf("gateway goroutines: status %d, %q", resp.StatusCode, b)
	}
	return pr, nil
}

// idle waits for the gateway to settle once the generator's connections
// are closed (two equal goroutine counts 250ms apart, at most 5s) and
// returns the last probe.
func (p *prober) idle(ctx context.Context) (soakProbe, error) {
	prev := -1
	for range 20 {
		select {
		case <-ctx.Done():
			return soakProbe{}, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		pr, err := p.read(ctx)
		if err != nil || pr.goroutines == prev {
			return pr, err
		}
		prev = pr.goroutines
	}
	return p.read(ctx)
}

// windows probes the gateway at the end of each window of sched and prints
// a progress line.
func (p *prober) windows(ctx context.Context, start time.Time, sched load.Schedule, stderr io.Writer) ([]soakProbe, error) {
	var out []soakProbe
	for k := range sched.Windows() {
		at := min(time.Duration(k+1)*sched.Window, sched.Duration)
		select {
		case <-ctx.Done():
			return out, nil
		case <-time.After(time.Until(start.Add(at))):
		}
		pr, err := p.read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return out, nil
			}
			select {
			case <-p.gw.done:
				// The gateway died: the report says so.
				return out, nil
			case <-time.After(time.Second):
				return out, err
			}
		}
		pr.at = time.Since(start)
		out = append(out, pr)
		fmt.Fprintf(stderr, "soak %4.0fs/%.0fs  RSS %6.1f MiB  goroutines %d\n",
			pr.at.Seconds(), sched.Duration.Seconds(), mib(pr.rss), pr.goroutines)
	}
	return out, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
