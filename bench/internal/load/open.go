package load

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Open sends t at a fixed rate (requests per second) for d, over at most
// workers concurrent connections, and reports latency percentiles.
//
// Request i is scheduled at start + i/rate. When no connection is free at
// that time (every worker still waits for an earlier response), the request
// goes out late and its latency runs from its scheduled time, not from when
// it was sent: a server that stalls is charged for the requests it held
// back (no coordinated omission). A worker that was idle sleeps until the
// scheduled time and measures from its actual send, so the timer's wake-up
// jitter (up to about a millisecond) is not charged to the server. Requests
// still unsent once the schedule is a second overdue past d are counted as
// missed, so a run never lasts much more than d plus the request timeout.
func Open(ctx context.Context, t Target, rate int, d time.Duration, workers int) (Latency, error) {
	hostport, err := checkLoopback(t.Base)
	if err != nil {
		return Latency{}, err
	}
	if rate <= 0 || workers <= 0 || d <= 0 {
		return Latency{}, fmt.Errorf("load: open loop needs a positive rate, duration and workers")
	}
	c := newClient(hostport, workers, requestTimeout)
	defer c.CloseIdleConnections()

	total := int64(float64(rate) * d.Seconds())
	interval := time.Second / time.Duration(rate)
	start := time.Now().Add(10 * time.Millisecond)
	cutoff := start.Add(d + time.Second)
	var next, sent, errs, missed atomic.Int64
	samples := make([][]time.Duration, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			req := newRequest(t)
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			own := make([]time.Duration, 0, total/int64(workers)+1)
			for {
				i := next.Add(1) - 1
				if i >= total {
					break
				}
				at := start.Add(time.Duration(i) * interval)
				now := time.Now()
				if ctx.Err() != nil || now.After(cutoff) {
					missed.Add(1)
					continue
				}
				from := at
				if wait := at.Sub(now); wait > 0 {
					time.Sleep(wait)
					from = time.Now()
				}
				err := c.DoTimeout(req, resp, requestTimeout)
				lat := time.Since(from)
				sent.Add(1)
				if err != nil || resp.StatusCode() != t.Want {
					errs.Add(1)
				}
				own = append(own, lat)
			}
			samples[w] = own
		})
	}
	wg.Wait()
	all := slices.Concat(samples...)
	slices.Sort(all)
	return Latency{
		Sent: sent.Load(), Errors: errs.Load(), Missed: missed.Load(),
		P50: Percentile(all, 50), P99: Percentile(all, 99), P999: Percentile(all, 99.9),
		Max: Percentile(all, 100),
	}, nil
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method, 0 for no samples.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted)) + 0.999999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}
