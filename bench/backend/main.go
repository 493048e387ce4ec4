// Command backend runs the benchmark's mock upstream services on loopback:
// the auth service and the data service of package mock, each on its own
// port, until SIGINT or SIGTERM.
//
// Usage:
//
//	backend -auth 127.0.0.1:9000 -data 127.0.0.1:9001 [-secret S]
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
	services := []struct {
		addr string
		h    fasthttp.RequestHandler
	}{{authAddr, auth.Handle}, {dataAddr, data.Handle}}
	errc := make(chan error, len(services))
	for _, s := range services {
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			return fmt.Errorf("listen: %w", err)
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
