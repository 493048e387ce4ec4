// Command backend runs the benchmark's mock upstream services on loopback:
// the auth service and the data service of package mock, each on its own
// port, until SIGINT or SIGTERM.
//
// Usage:
//
//	backend -auth 127.0.0.1:9000 -data 127.0.0.1:9001 [-secret S]
//
// An empty address leaves that service out, so that each service can run in
// its own process (the soak test restarts the data service alone). A port
// still held by a process that just died is retried for a few seconds, so
// a service can be restarted on the same fixed port.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/apigate-go/apigate/bench/internal/mock"
	"github.com/valyala/fasthttp"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("backend: ")
	authAddr := flag.String("auth", "127.0.0.1:9000", "auth service `address`")
	dataAddr := flag.String("data", "127.0.0.1:9001", "data service `address`")
	secret := flag.String("secret", "apigate-bench-secret", "HS256 signing `secret`")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *authAddr, *dataAddr, []byte(*secret)); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, authAddr, dataAddr string, secret []byte) error {
	auth := mock.NewAuth(secret, 24*time.Hour)
	data := mock.NewData()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	services := []service{{authAddr, auth.Handle}, {dataAddr, data.Handle}}
	services = slices.DeleteFunc(services, func(s service) bool { return s.addr == "" })
	if len(services) == 0 {
		return errors.New("no service to run: -auth and -data are both empty")
	}
	errc := make(chan error, len(services))
	for _, s := range services {
		ln, err := listen(ctx, s.addr, listenRetry)
		if err != nil {
			return err
		}
		go func() {
			err := mock.Serve(ctx, ln, s.h)
			cancel() // one service down stops the other
			errc <- err
		}()
	}
	var errs []error
	for range services {
		errs = append(errs, <-errc)
	}
	return errors.Join(errs...)
}

// service is one mock service and its address.
type service struct {
	addr string
	h    fasthttp.RequestHandler
}

// listenRetry bounds how long a port in use is retried.
const listenRetry = 5 * time.Second

// listen listens on addr, retrying for up to retry while the address is in
// use (a previous instance's socket not yet released).
func listen(ctx context.Context, addr string, retry time.Duration) (net.Listener, error) {
	deadline := time.Now().Add(retry)
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			return ln, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			return nil, fmt.Errorf("listen: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("listen: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
