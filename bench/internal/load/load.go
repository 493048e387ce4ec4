// Package load generates HTTP load on loopback for the benchmark driver:
// a closed-loop generator for the highest sustained throughput (fixed
// connections, each sending its next request when the previous response
// arrives), either the wrk tool or a built-in fasthttp client, and an
// open-loop generator for latency at a fixed request rate, free of
// coordinated omission.
package load

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/apigate-go/apigate/bench/internal/contract"
	"github.com/valyala/fasthttp"
)

// Target is one request sent repeatedly to one server.
type Target struct {
	// Base is the server's base URL, "http://127.0.0.1:PORT"; it must be a
	// loopback address.
	Base string
	// Request is the request to send; any status other than Want counts as
	// an error.
	Request contract.Request
	Want    int
}

// Throughput is the outcome of a closed-loop run.
type Throughput struct {
	// Requests is the number of responses received, errors included.
	Requests int64
	// Errors counts transport failures and responses whose status was not
	// the target's Want (wrk: any status outside 2xx and 3xx).
	Errors  int64
	Elapsed time.Duration
}

// RPS returns the responses per second.
func (t Throughput) RPS() float64 {
	if t.Elapsed <= 0 {
		return 0
	}
	return float64(t.Requests) / t.Elapsed.Seconds()
}

// Latency is the outcome of an open-loop run. Latencies run from each
// request's scheduled send time to the end of its response.
type Latency struct {
	// Sent is the number of requests sent; Errors those that failed or
	// were answered with a status other than the target's Want; Missed the
	// scheduled requests never sent because the run ran out of time.
	Sent, Errors, Missed int64
	P50, P99, P999, Max  time.Duration
}

// checkLoopback returns the host:port of base, or an error when base is not
// an http URL of a loopback address.
func checkLoopback(base string) (string, error) {
	hostport, ok := strings.CutPrefix(base, "http://")
	if !ok {
		return "", fmt.Errorf("load: target %q: want http://127.0.0.1:PORT", base)
	}
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", fmt.Errorf("load: target %q: %w", base, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("load: target %q is not a loopback address", base)
	}
	return hostport, nil
}

// newClient returns a fasthttp client of conns connections to t that never
// retries (a retry would hide an error).
func newClient(hostport string, conns int, timeout time.Duration) *fasthttp.HostClient {
	return &fasthttp.HostClient{
		Addr:                      hostport,
		MaxConns:                  conns,
		MaxIdemponentCallAttempts: 1,
		RetryIfErr:                func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
		ReadTimeout:               timeout,
		WriteTimeout:              timeout,
		MaxConnWaitTimeout:        timeout,
		NoDefaultUserAgentHeader:  true,
	}
}

// newRequest returns t's request as a fasthttp request; it may be sent
// many times.
func newRequest(t Target) *fasthttp.Request {
	req := fasthttp.AcquireRequest()
	req.Header.SetMethod(t.Request.Method)
	req.SetRequestURI(t.Base + t.Request.Path)
	for _, h := range t.Request.Header {
		req.Header.Set(h.Key, h.Value)
	}
	if t.Request.Body != nil {
		req.SetBody(t.Request.Body)
	}
	return req
}
