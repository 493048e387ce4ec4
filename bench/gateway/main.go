// Command gateway is the benchmark's contract built with apigate. It serves
// on loopback until SIGINT or SIGTERM.
//
// Usage:
//
//	gateway -addr 127.0.0.1:8081 -auth http://127.0.0.1:9000 -data http://127.0.0.1:9001 [-debug 127.0.0.1:8082] [-workers 2]
//
// It serves with 2 processes (-workers), as nginx runs 2 workers in the
// benchmark.
// With -debug, a separate loopback listener answers GET /goroutines with
// the process's goroutine count, for the driver's soak test.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/bench/internal/gwmain"
)

func main() {
	debugAddr := flag.String("debug", "", "serve GET /goroutines on this loopback `address` (off when empty)")
	// As many processes as nginx's worker_processes in bench/nginx.
	workers := flag.Int("workers", 2, "serving processes (ServeOptions.Workers)")
	gwmain.Main("gateway", "127.0.0.1:8081", func(ctx context.Context, f gwmain.Flags) error {
		gw, err := newGateway(f.AuthURL, f.DataURL)
		if err != nil {
			return err
		}
		// The debug listener is the first process's: the soak test counts
		// its goroutines.
		if *debugAddr != "" && !apigate.IsWorker() {
			go func() {
				if err := serveDebug(ctx, *debugAddr); err != nil {
					log.Fatal(err)
				}
			}()
		}
		return apigate.ListenAndServe(ctx, f.Addr, gw, apigate.ServeOptions{Engine: apigate.EngineHTTP1, Workers: *workers})
	})
}
