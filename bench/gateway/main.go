// Command gateway is the benchmark's contract built with apigate. It serves
// on loopback until SIGINT or SIGTERM.
//
// Usage:
//
//	gateway -addr 127.0.0.1:8081 -auth http://127.0.0.1:9000 -data http://127.0.0.1:9001 [-debug 127.0.0.1:8082]
//
// With -debug, a separate loopback listener answers GET /goroutines with
// the process's goroutine count, for the driver's soak test.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/bench/internal/profiling"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("gateway: ")
	addr := flag.String("addr", "127.0.0.1:8081", "listen `address`")
	authURL := flag.String("auth", "http://127.0.0.1:9000", "auth service `URL`")
	dataURL := flag.String("data", "http://127.0.0.1:9001", "data service `URL`")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to `file` until shutdown")
	memProfile := flag.String("memprofile", "", "write an allocation profile to `file` at shutdown")
	debugAddr := flag.String("debug", "", "serve GET /goroutines on this loopback `address` (off when empty)")
	flag.Parse()

	gw, err := newGateway(*authURL, *dataURL)
	if err != nil {
		log.Fatal(err)
	}
	stopProfiles, err := profiling.Start(*cpuProfile, *memProfile)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *debugAddr != "" {
		go func() {
			if err := serveDebug(ctx, *debugAddr); err != nil {
				log.Fatal(err)
			}
		}()
	}
	err = apigate.ListenAndServe(ctx, *addr, gw, apigate.ServeOptions{})
	if perr := stopProfiles(); perr != nil {
		log.Print(perr)
	}
	if err != nil {
		log.Fatal(err)
	}
}
