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
	"net/http"
	"time"

	"github.com/apigate-go/apigate/bench/internal/gwmain"
)

func main() {
	gwmain.Main("stdlib", "127.0.0.1:8080", func(ctx context.Context, f gwmain.Flags) error {
		h, err := newHandler(f.AuthURL, f.DataURL)
		if err != nil {
			return err
		}
		return serve(ctx, f.Addr, h)
	})
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
