// Command stdlib is the benchmark's baseline gateway: the contract of
// package contract written by hand with net/http, httputil.ReverseProxy and
// encoding/json. It serves on loopback until SIGINT or SIGTERM.
//
// Usage:
//
//	stdlib -addr 127.0.0.1:8080 -auth http://127.0.0.1:9000 -data http://127.0.0.1:9001
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/apigate-go/apigate/bench/internal/profiling"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("stdlib: ")
	addr := flag.String("addr", "127.0.0.1:8080", "listen `address`")
	authURL := flag.String("auth", "http://127.0.0.1:9000", "auth service `URL`")
	dataURL := flag.String("data", "http://127.0.0.1:9001", "data service `URL`")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to `file` until shutdown")
	memProfile := flag.String("memprofile", "", "write an allocation profile to `file` at shutdown")
	flag.Parse()

	h, err := newHandler(*authURL, *dataURL)
	if err != nil {
		log.Fatal(err)
	}
	stopProfiles, err := profiling.Start(*cpuProfile, *memProfile)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = serve(ctx, *addr, h)
	if perr := stopProfiles(); perr != nil {
		log.Print(perr)
	}
	if err != nil {
		log.Fatal(err)
	}
}

// serve runs an http.Server with the timeouts a production gateway sets
// until ctx is done, then shuts it down gracefully.
func serve(ctx context.Context, addr string, h http.Handler) error {
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
