package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/apigate-go/apigate/bench/internal/contract"
	"github.com/apigate-go/apigate/bench/internal/load"
)

// sample is one measurement of one row on one route in one round.
type sample struct {
	rps          float64
	closedErrors int64
	errors       int64 // closed- and open-loop errors plus missed requests
	lat          load.Latency
	cpuPerR      time.Duration // gateway CPU per closed-loop request; 0 for direct
	rss          int64         // gateway peak RSS over the measurement, bytes
}

// results maps route name → row name → samples, one per round.
type results map[string]map[string][]sample

// measure runs the rounds. Within a round every route is measured on every
// row, the rows' order rotating from round to round, so that drift (thermal,
// noisy neighbours, caches) hits all rows alike.
func (s *suite) measure(ctx context.Context, stderr io.Writer) (results, error) {
	res := results{}
	routes := map[string]contract.Route{}
	for _, r := range contract.Routes() {
		routes[r.Name] = r
	}
	for round := range s.cfg.rounds {
		for _, name := range s.cfg.routes {
			route := routes[name]
			if err := s.recordIdleRSS(); err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", round+1, route.Path, err)
			}
			for i := range s.rows {
				rw := s.rows[(i+round)%len(s.rows)]
				t := load.Target{Base: rw.base, Request: route.Gateway(s.token), Want: http.StatusOK}
				if rw.direct {
					t.Request = route.Direct()
				}
				sm, err := s.measureOne(ctx, rw, t)
				if err != nil {
					return nil, fmt.Errorf("round %d, %s on %s: %w", round+1, rw.name, route.Path, err)
				}
				if res[name] == nil {
					res[name] = map[string][]sample{}
				}
				res[name][rw.name] = append(res[name][rw.name], sm)
				if sm.errors > 0 {
					s.note(io.Discard, "round %d, %s, %s: %d closed-loop error(s), %d open-loop error(s), %d request(s) not sent in time (the open loop fell behind its %d req/s schedule)",
						round+1, route.Name, rw.name, sm.closedErrors, sm.lat.Errors, sm.lat.Missed, s.cfg.rate)
				}
				fmt.Fprintf(stderr, "round %d/%d  %-9s %-8s %9.0f req/s  p50 %-8v p99 %-8v p99.9 %-8v errors %d\n",
					round+1, s.cfg.rounds, route.Name, rw.name, sm.rps,
					sm.lat.P50.Round(time.Microsecond), sm.lat.P99.Round(time.Microsecond),
					sm.lat.P999.Round(time.Microsecond), sm.errors)
			}
		}
	}
	return res, nil
}

// recordIdleRSS reads the resident memory of every row's process at the
// start of a cell, before any of the cell's load.
func (s *suite) recordIdleRSS() error {
	for _, rw := range s.rows {
		if rw.proc == nil {
			continue
		}
		if rw.proc.exited() {
			return fmt.Errorf("%s exited: %v\n%s", rw.name, rw.proc.err, rw.proc.logTail())
		}
		n, err := groupRSS(rw.proc.pgid())
		if err != nil {
			return fmt.Errorf("%s: idle RSS: %w", rw.name, err)
		}
		s.idle.record(rw.name, n)
	}
	return nil
}

// measureOne warms rw up, then measures its throughput (closed loop, with
// the gateway's CPU time around it) and its latency at the fixed rate
// (open loop). Peak RSS covers both measurements.
func (s *suite) measureOne(ctx context.Context, rw *row, t load.Target) (sample, error) {
	if s.cfg.warmup > 0 {
		if _, err := load.Closed(ctx, t, s.cfg.conns, s.cfg.warmup); err != nil {
			return sample{}, err
		}
	}
	var cpu0 time.Duration
	if rw.proc != nil {
		if rw.proc.exited() {
			return sample{}, fmt.Errorf("%s exited: %v\n%s", rw.name, rw.proc.err, rw.proc.logTail())
		}
		if err := resetPeakRSS(rw.proc.pgid()); err != nil {
			return sample{}, err
		}
		var err error
		if cpu0, err = groupCPU(rw.proc.pgid()); err != nil {
			return sample{}, err
		}
	}
	thr, err := s.closed.Closed(ctx, t, s.cfg.conns, s.cfg.duration)
	if err != nil {
		return sample{}, err
	}
	sm := sample{rps: thr.RPS(), closedErrors: thr.Errors, errors: thr.Errors}
	if rw.proc != nil {
		cpu1, err := groupCPU(rw.proc.pgid())
		if err != nil {
			return sample{}, err
		}
		if thr.Requests > 0 {
			sm.cpuPerR = (cpu1 - cpu0) / time.Duration(thr.Requests)
		}
	}
	if sm.lat, err = load.Open(ctx, t, s.cfg.rate, s.cfg.latency, s.cfg.openConns); err != nil {
		return sample{}, err
	}
	sm.errors += sm.lat.Errors + sm.lat.Missed
	if rw.proc != nil {
		if sm.rss, err = groupPeakRSS(rw.proc.pgid()); err != nil {
			return sample{}, err
		}
	}
	return sm, ctx.Err()
}
