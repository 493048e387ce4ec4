package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// Kinds of errors a [Window] counts besides "status NNN".
const (
	KindTimeout = "timeout"
	KindRefused = "connection refused"
	KindReset   = "connection reset"
	KindClosed  = "connection closed"
	KindBusy    = "no free connection"
	KindOther   = "transport error"
)

// Window is what an open loop saw during one time window.
type Window struct {
	// Start is the window's start, from the beginning of the schedule.
	Start time.Duration
	// Requests counts the requests scheduled in the window, missed ones
	// included, and P50 and P99 are their latencies. Errors counts the
	// requests sent during the window (usually the same ones, unless the
	// generator ran late) that failed or were answered with a status other
	// than their target's Want. Missed counts those never sent because the
	// generator was more than a second behind its schedule when the
	// schedule ended (or the run was cancelled): the machine did not
	// sustain the rate, which is not the server's error.
	Requests, Errors, Missed int64
	// Kinds counts the errors by kind: "status 502", or one of the Kind
	// constants. It is nil when there was no error.
	Kinds    map[string]int64
	P50, P99 time.Duration
}

// Schedule is an open loop over several targets of one server, with its
// results kept per time window: a soak test.
type Schedule struct {
	// Targets are sent in turn: request i goes to Targets[i%len(Targets)].
	Targets []Target
	// Rate is the number of requests per second, Duration the length of
	// the schedule, Window the length of a window.
	Rate             int
	Duration, Window time.Duration
	// Workers bounds the concurrent requests (and connections).
	Workers int
}

// Windows returns the number of windows of the schedule (the last one may
// be shorter).
func (s Schedule) Windows() int {
	if s.Window <= 0 {
		return 0
	}
	return int((s.Duration + s.Window - 1) / s.Window)
}

// Run runs the schedule from start (a time shortly in the future, so that
// the caller can align other probes on the windows) and returns one Window
// per window. Scheduling and latency are as for [Open]: request i is due
// at start + i/Rate, and a request that leaves late is timed from when it
// was due. Requests still unsent a second past the end of the schedule, or
// when ctx is done, count as missed, so Run returns soon after
// start + Duration + the request timeout in any case.
func (s Schedule) Run(ctx context.Context, start time.Time) ([]Window, error) {
	hostport, err := checkTargets(s.Targets)
	if err != nil {
		return nil, err
	}
	if s.Rate <= 0 || s.Workers <= 0 || s.Duration <= 0 || s.Window <= 0 {
		return nil, fmt.Errorf("load: a schedule needs a positive rate, duration, window and workers")
	}
	c := newClient(hostport, s.Workers, requestTimeout)
	defer c.CloseIdleConnections()

	total := int64(float64(s.Rate) * s.Duration.Seconds())
	interval := time.Second / time.Duration(s.Rate)
	nw := s.Windows()
	cutoff := start.Add(s.Duration + time.Second)
	var next atomic.Int64
	acc := make([][]windowAcc, s.Workers)
	var wg sync.WaitGroup
	for w := range s.Workers {
		wg.Go(func() {
			reqs := make([]*fasthttp.Request, len(s.Targets))
			for i, t := range s.Targets {
				reqs[i] = newRequest(t)
			}
			resp := fasthttp.AcquireResponse()
			defer func() {
				for _, r := range reqs {
					fasthttp.ReleaseRequest(r)
				}
				fasthttp.ReleaseResponse(resp)
			}()
			own := make([]windowAcc, nw)
			for {
				i := next.Add(1) - 1
				if i >= total {
					break
				}
				offset := time.Duration(i) * interval
				a := &own[s.window(offset)]
				a.requests++
				at := start.Add(offset)
				now := time.Now()
				if ctx.Err() != nil || now.After(cutoff) {
					a.missed++
					continue
				}
				from := at
				if wait := at.Sub(now); wait > 0 {
					time.Sleep(wait)
					from = time.Now()
				}
				j := int(i % int64(len(s.Targets)))
				sent := time.Now()
				err := c.DoTimeout(reqs[j], resp, requestTimeout)
				a.lat = append(a.lat, time.Since(from))
				// An error belongs to the window in which the request was
				// sent: a generator running late must not move a failure
				// away from its cause.
				switch sentIn := &own[s.window(sent.Sub(start))]; {
				case err != nil:
					sentIn.fail(ErrorKind(err))
				case resp.StatusCode() != s.Targets[j].Want:
					sentIn.fail(fmt.Sprintf("status %d", resp.StatusCode()))
				}
			}
			acc[w] = own
		})
	}
	wg.Wait()
	return mergeWindows(acc, nw, s.Window), nil
}

// window returns the index of the window holding offset from the start,
// the last one for offsets past the end.
func (s Schedule) window(offset time.Duration) int {
	return min(max(int(offset/s.Window), 0), s.Windows()-1)
}

// windowAcc is one worker's record of one window.
type windowAcc struct {
	requests, errors, missed int64
	kinds                    map[string]int64
	lat                      []time.Duration
}

func (a *windowAcc) fail(kind string) {
	a.errors++
	if a.kinds == nil {
		a.kinds = map[string]int64{}
	}
	a.kinds[kind]++
}

// mergeWindows merges the workers' records into nw windows of length w.
func mergeWindows(acc [][]windowAcc, nw int, w time.Duration) []Window {
	out := make([]Window, nw)
	for k := range out {
		var lat []time.Duration
		win := Window{Start: time.Duration(k) * w}
		for _, own := range acc {
			a := own[k]
			win.Requests += a.requests
			win.Errors += a.errors
			win.Missed += a.missed
			for kind, n := range a.kinds {
				if win.Kinds == nil {
					win.Kinds = map[string]int64{}
				}
				win.Kinds[kind] += n
			}
			lat = append(lat, a.lat...)
		}
		slices.Sort(lat)
		win.P50, win.P99 = Percentile(lat, 50), Percentile(lat, 99)
		out[k] = win
	}
	return out
}

// ErrorKind classifies a transport error of the generator's client as
// one of the Kind constants.
func ErrorKind(err error) string {
	switch {
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrDialTimeout),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		return KindTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return KindReset
	case errors.Is(err, fasthttp.ErrConnectionClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return KindClosed
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		return KindBusy
	}
	return KindOther
}

// KindNames returns the kinds of w's errors, sorted.
func (w Window) KindNames() []string {
	return slices.Sorted(maps.Keys(w.Kinds))
}
