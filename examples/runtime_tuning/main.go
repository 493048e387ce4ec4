// Command runtime_tuning shows the knobs for production: the upstream
// transport (WithUpstream), request timeouts for the gateway and per route
// (WithRequestTimeout, Timeout), the server's limits (ServeOptions:
// timeouts, MaxHeaderBytes, ReusePort), and graceful shutdown on Ctrl-C.
//
//	go run ./examples/runtime_tuning                            # serve on 127.0.0.1:8080 until Ctrl-C
//	go run ./examples/runtime_tuning -check -addr 127.0.0.1:0   # send the printed requests itself and exit
//
// With SO_REUSEPORT (the default on Linux and the BSDs), start a second copy
// with the same -addr: the kernel spreads new connections over both.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/internal/excheck"
	"github.com/apigate-go/apigate/examples/upstream"
)

func main() {
	reusePort := flag.Bool("reuseport", reusePortSupported(), "set SO_REUSEPORT so that several processes can share -addr (Linux and BSDs)")
	excheck.Main(func(addr string, check bool) error { return run(addr, check, *reusePort) })
}

func reusePortSupported() bool {
	switch runtime.GOOS {
	case "linux", "darwin", "freebsd", "netbsd", "openbsd", "dragonfly":
		return true
	}
	return false
}

func run(addr string, check, reusePort bool) error {
	backend, stop, err := upstream.Start("items-v1")
	if err != nil {
		return err
	}
	defer stop()

	api := apigate.Service("/api",
		apigate.GET("/items/:id"),
		// A route that must answer fast: 504 past 300ms.
		apigate.GET("/search", apigate.Timeout(300*time.Millisecond)),
		// A stream: no timeout, chunks flushed as they arrive.
		apigate.GET("/feed", apigate.Timeout(0)),
	)
	gw, err := apigate.New(
		apigate.Mount(api, backend),
		// Every upstream exchange, response body included, within 5s
		// unless a route says otherwise.
		apigate.WithRequestTimeout(5*time.Second),
		// The transport to the backends. Zero fields keep their defaults.
		apigate.WithUpstream(apigate.UpstreamOptions{
			ConnectTimeout:        2 * time.Second,  // a backend that does not accept is a fast 502
			IdleConnTimeout:       60 * time.Second, // below the backends' own keep-alive timeout
			MaxIdleConnsPerHost:   128,              // keep-alive pool per backend (the stdlib's 2 starves a proxy)
			MaxConnsPerHost:       512,              // cap on connections per backend; excess requests queue
			ResponseHeaderTimeout: 4 * time.Second,  // a backend that accepts but never answers
			Configure: func(t *http.Transport) { // anything else on the http.Transport
				t.ReadBufferSize = 32 << 10
				t.WriteBufferSize = 32 << 10
			},
		}),
	)
	if err != nil {
		return err
	}
	defer gw.CloseIdleConnections()

	// The server in front. The zero ServeOptions is already safe; these
	// are the fields worth knowing.
	serveOpts := apigate.ServeOptions{
		ReadHeaderTimeout: 5 * time.Second,  // slowloris: headers must arrive in 5s
		ReadTimeout:       0,                // 0: uploads may stream for as long as they take
		WriteTimeout:      0,                // 0: streams may last; the request timeouts above still apply
		IdleTimeout:       60 * time.Second, // idle keep-alive connections from clients
		MaxHeaderBytes:    16 << 10,         // larger request heads get 431
		ShutdownTimeout:   10 * time.Second, // on Ctrl-C, in-flight requests get this long to finish
		ReusePort:         reusePort,
		// apigate's own HTTP/1.1 server: a fraction of net/http's CPU and
		// allocations per request; HTTP/1.1 only (see ServeOptions.Engine).
		Engine: apigate.EngineHTTP1,
	}

	calls := []excheck.Call{
		{Note: "an ordinary request over the tuned transport",
			Path: "/api/items/1", Status: 200, Want: []string{`"path": "/items/1"`}},
		{Note: "the upstream takes 1s on a route with a 300ms timeout: 504",
			Path: "/api/search?delay=1s", Status: 504, Want: []string{"upstream_timeout: upstream timed out"}},
		{Note: "a stream on a route without timeout: chunks arrive one by one (curl -N)",
			Path: "/api/feed?stream=3", Stream: true, Status: 200, Want: []string{`"chunk":0`, `"chunk":2`}},
		{Note: "32000 bytes of headers, past MaxHeaderBytes: 431",
			Path: "/api/items/1", BigHeader: 32000, Status: 431, Want: []string{"431 Request Header Fields Too Large"}},
		{Note: "graceful shutdown: start this, press Ctrl-C within 2s; the request completes, then the gateway exits",
			Path: "/api/items/1?delay=2s", Status: 200, Want: []string{`"path": "/items/1"`}},
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ln, err := apigate.Listen(ctx, addr, serveOpts)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	ex := excheck.Example{About: fmt.Sprintf("in front of the mock upstream %s (SO_REUSEPORT: %t)", backend, reusePort), Calls: calls}
	ex.Print(base)
	if !check {
		// Serve returns when ctx is cancelled (Ctrl-C), once in-flight
		// requests are done or ShutdownTimeout has passed.
		err := apigate.Serve(ctx, ln, gw, serveOpts)
		fmt.Println("gateway stopped")
		return err
	}

	serveCtx, stopServing := context.WithCancel(ctx)
	defer stopServing()
	served := make(chan error, 1)
	go func() { served <- apigate.Serve(serveCtx, ln, gw, serveOpts) }()
	client := &http.Client{Timeout: 10 * time.Second}
	last := len(calls) - 1
	for _, c := range calls[:last] {
		if err := c.Check(client, base); err != nil {
			return err
		}
	}
	if reusePort {
		// SO_REUSEPORT lets a second listener bind the same address.
		ln2, err := apigate.Listen(ctx, ln.Addr().String(), serveOpts)
		if err != nil {
			return fmt.Errorf("second listener with SO_REUSEPORT: %w", err)
		}
		ln2.Close()
		fmt.Printf("ok  a second listener bound %s (SO_REUSEPORT)\n", ln.Addr())
	}
	return checkShutdown(client, base, calls[last], stopServing, served)
}

// checkShutdown sends the slow request, stops serving while it is in
// flight (as Ctrl-C does), and verifies that it completes, that Serve
// returns nil, and that new requests are refused afterwards.
func checkShutdown(client *http.Client, base string, slow excheck.Call, stopServing func(), served <-chan error) error {
	done := make(chan error, 1)
	go func() { done <- slow.Check(client, base) }()
	time.Sleep(200 * time.Millisecond) // let the request reach the gateway (the upstream takes 2s)
	stopServing()
	if err := <-served; err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-done; err != nil {
		return fmt.Errorf("in-flight request during shutdown: %w", err)
	}
	if res, err := client.Get(base + "/api/items/1"); err == nil {
		res.Body.Close()
		return errors.New("the gateway still answers after shutdown")
	}
	fmt.Println("ok  shutdown: the in-flight request completed, then new connections were refused")
	return nil
}
