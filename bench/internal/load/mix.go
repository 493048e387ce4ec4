package load

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// ClosedMix runs a closed loop like [Closed] over several targets of one
// server: each of the conns goroutines sends the targets in turn, starting
// at a different one, so the mix is even.
func ClosedMix(ctx context.Context, targets []Target, conns int, d time.Duration) (Throughput, error) {
	hostport, err := checkTargets(targets)
	if err != nil {
		return Throughput{}, err
	}
	if conns <= 0 || d <= 0 {
		return Throughput{}, fmt.Errorf("load: closed loop needs positive connections and duration")
	}
	c := newClient(hostport, conns, requestTimeout)
	defer c.CloseIdleConnections()
	// The clock starts before the timeout's: the measurement lasts at
	// least d.
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()

	var stop atomic.Bool
	go func() { <-ctx.Done(); stop.Store(true) }()
	var reqs, errs atomic.Int64
	var wg sync.WaitGroup
	for w := range conns {
		wg.Go(func() {
			reqs1 := make([]*fasthttp.Request, len(targets))
			for i, t := range targets {
				reqs1[i] = newRequest(t)
				defer fasthttp.ReleaseRequest(reqs1[i])
			}
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseResponse(resp)
			var n, e int64
			for k := w; !stop.Load(); k++ {
				i := k % len(targets)
				err := c.DoTimeout(reqs1[i], resp, requestTimeout)
				n++
				if err != nil || resp.StatusCode() != targets[i].Want {
					e++
				}
			}
			reqs.Add(n)
			errs.Add(e)
		})
	}
	wg.Wait()
	return Throughput{Requests: reqs.Load(), Errors: errs.Load(), Elapsed: time.Since(start)}, nil
}

// checkTargets checks that there is at least one target and that every
// target is on the same loopback server, and returns its host:port.
func checkTargets(targets []Target) (string, error) {
	if len(targets) == 0 {
		return "", fmt.Errorf("load: no target")
	}
	var hostport string
	for i, t := range targets {
		hp, err := checkLoopback(t.Base)
		if err != nil {
			return "", err
		}
		if i > 0 && hp != hostport {
			return "", fmt.Errorf("load: targets on different servers %s and %s", hostport, hp)
		}
		hostport = hp
	}
	return hostport, nil
}
