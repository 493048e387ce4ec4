// Package gwmain is the main function the benchmark's gateway binaries
// share: the common flags, profiling, and serving until SIGINT or SIGTERM.
package gwmain

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/bench/internal/profiling"
)

// Flags are the command-line settings every gateway binary takes.
type Flags struct {
	// Addr is the listen address; AuthURL and DataURL locate the backends.
	Addr, AuthURL, DataURL string
}

// Main parses the common flags (and any the caller defined on
// flag.CommandLine before calling it), starts the profiles asked for, and
// calls serve with a context cancelled on SIGINT or SIGTERM. serve must
// return once the context is done and its server has shut down. Errors
// are fatal.
func Main(name, defaultAddr string, serve func(ctx context.Context, f Flags) error) {
	log.SetFlags(0)
	log.SetPrefix(name + ": ")
	var f Flags
	flag.StringVar(&f.Addr, "addr", defaultAddr, "listen `address`")
	flag.StringVar(&f.AuthURL, "auth", "http://127.0.0.1:9000", "auth service `URL`")
	flag.StringVar(&f.DataURL, "data", "http://127.0.0.1:9001", "data service `URL`")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to `file` until shutdown")
	memProfile := flag.String("memprofile", "", "write an allocation profile to `file` at shutdown")
	flag.Parse()

	if apigate.IsWorker() {
		// A worker process of the gateway's: profiles of its own.
		suffix := ".worker-" + strconv.Itoa(os.Getpid())
		if *cpuProfile != "" {
			*cpuProfile += suffix
		}
		if *memProfile != "" {
			*memProfile += suffix
		}
	}
	stopProfiles, err := profiling.Start(*cpuProfile, *memProfile)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = serve(ctx, f)
	if perr := stopProfiles(); perr != nil {
		log.Print(perr)
	}
	if err != nil {
		log.Fatal(err)
	}
}
