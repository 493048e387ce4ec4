package load

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// requestTimeout bounds every request of the built-in generators.
const requestTimeout = 5 * time.Second

// Closed runs a closed loop against t with the built-in generator: conns
// goroutines, each over its own keep-alive connection, send a request as
// soon as the previous response arrived, for d or until ctx is done.
func Closed(ctx context.Context, t Target, conns int, d time.Duration) (Throughput, error) {
	hostport, err := checkLoopback(t.Base)
	if err != nil {
		return Throughput{}, err
	}
	c := newClient(hostport, conns, requestTimeout)
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()

	var stop atomic.Bool
	go func() { <-ctx.Done(); stop.Store(true) }()
	var reqs, errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Go(func() {
			req := newRequest(t)
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			var n, e int64
			for !stop.Load() {
				err := c.DoTimeout(req, resp, requestTimeout)
				n++
				if err != nil || resp.StatusCode() != t.Want {
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
