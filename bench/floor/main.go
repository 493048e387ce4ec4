// Command floor is the least an HTTP/1.1 proxy written in Go can do: the
// floor under which no gateway on Go's network poller goes. It is not a
// gateway and must not front anything: it checks nothing, strips nothing,
// knows only Content-Length framing, and gives each client connection a
// dedicated upstream connection (no pool, no check before reuse). It does
// set the forwarding headers every gateway of the benchmark sends (see
// package contract), so that it is measured doing the same work per
// request on GET /items.
//
// The benchmark does not run it; it is measured by hand, beside apigate
// and nginx, to tell the cost of the Go runtime and the sockets from the
// cost of apigate's own work (see bench/README.md).
//
// Usage:
//
//	floor -addr 127.0.0.1:8090 -data http://127.0.0.1:9001 [-workers 2] [-yield=true]
package main

import (
	"context"
	"flag"
	"log"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/bench/internal/gwmain"
)

// workerEnv marks a worker process.
const workerEnv = "APIGATE_FLOOR_WORKER"

func main() {
	workers := flag.Int("workers", 2, "serving processes, each with GOMAXPROCS/workers")
	yield := flag.Bool("yield", true, "yield before reading a connection's next request, as apigate's HTTP/1.1 server does")
	gwmain.Main("floor", "127.0.0.1:8090", func(ctx context.Context, f gwmain.Flags) error {
		u, err := url.Parse(f.DataURL)
		if err != nil {
			return err
		}
		if *workers > 1 && os.Getenv(workerEnv) == "" {
			return spawn(ctx, *workers)
		}
		ln, err := apigate.Listen(ctx, f.Addr, apigate.ServeOptions{ReusePort: *workers > 1})
		if err != nil {
			return err
		}
		p := &proxy{upstream: u.Host, yield: *yield}
		go func() {
			<-ctx.Done()
			ln.Close()
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			go p.serve(c)
		}
	})
}

// spawn runs n copies of this process on one port until ctx is done,
// each with profiles of its own.
func spawn(ctx context.Context, n int) error {
	procs := max(1, runtime.GOMAXPROCS(0)/n)
	cmds := make([]*exec.Cmd, n)
	for i := range cmds {
		var args []string
		flag.Visit(func(f *flag.Flag) {
			v := f.Value.String()
			if (f.Name == "cpuprofile" || f.Name == "memprofile") && v != "" {
				v += ".worker-" + strconv.Itoa(i+1)
			}
			args = append(args, "-"+f.Name+"="+v)
		})
		cmd := exec.CommandContext(ctx, os.Args[0], args...)
		cmd.Env = append(os.Environ(), workerEnv+"=1", "GOMAXPROCS="+strconv.Itoa(procs))
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Start(); err != nil {
			return err
		}
		cmds[i] = cmd
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil && ctx.Err() == nil {
			log.Print(err)
		}
	}
	return nil
}
