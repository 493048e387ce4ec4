package excheck

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"

	"github.com/apigate-go/apigate"
)

// Example is what an example program prints and, with -check, verifies:
// the requests that show off its gateway.
type Example struct {
	// About says what the gateway stands in front of; it is printed after
	// "gateway on BASE ".
	About string
	// Calls are the example's requests, printed and checked in order.
	Calls []Call
	// Log, if set, is where the example's loggers also write during
	// -check: after each call, its Logs and NoLogs are matched against
	// what the call added to the log.
	Log *Log
}

// ListenAndServe listens on addr with [apigate.Listen] and calls
// [Example.Serve] with a context that an interrupt (Ctrl-C) cancels.
func (e Example) ListenAndServe(addr string, h http.Handler, check bool) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ln, err := apigate.Listen(ctx, addr, apigate.ServeOptions{})
	if err != nil {
		return err
	}
	return e.Serve(ctx, ln, h, check)
}

// Serve prints the example for the gateway listening on ln, then serves h
// on ln with [apigate.Serve] and zero [apigate.ServeOptions] until ctx is
// cancelled. With check it serves in the background instead, runs
// [Example.Check], and returns its result.
func (e Example) Serve(ctx context.Context, ln net.Listener, h http.Handler, check bool) error {
	base := "http://" + ln.Addr().String()
	e.Print(base)
	if !check {
		return apigate.Serve(ctx, ln, h, apigate.ServeOptions{})
	}
	go apigate.Serve(ctx, ln, h, apigate.ServeOptions{})
	return e.Check(nil, base)
}

// Print writes the example to standard output for the gateway at base
// ("http://host:port"): a line naming the gateway and what it stands in
// front of, then every call's note and curl command.
func (e Example) Print(base string) {
	fmt.Printf("gateway on %s %s\ntry:\n", base, e.About)
	for _, c := range e.Calls {
		fmt.Printf("  # %s\n  %s\n", c.Note, c.Curl(base))
	}
}

// Check sends the calls to the gateway at base in order with
// [Call.Check], then matches each call's Logs and NoLogs against what it
// added to e.Log. It stops at the first failure. A nil client means one
// with a 10-second timeout.
func (e Example) Check(client *http.Client, base string) error {
	if client == nil {
		client = newClient()
	}
	for _, c := range e.Calls {
		before := e.logLen()
		if err := c.Check(client, base); err != nil {
			return err
		}
		if len(c.Logs) == 0 && len(c.NoLogs) == 0 {
			continue
		}
		if e.Log == nil {
			return fmt.Errorf("%s: the call checks the log, but the example has none", c.Path)
		}
		got := e.Log.String()[before:] // what this request logged
		for _, want := range c.Logs {
			if !strings.Contains(got, want) {
				return fmt.Errorf("%s: the log lacks %q; log:\n%s", c.Path, want, got)
			}
		}
		for _, deny := range c.NoLogs {
			if strings.Contains(got, deny) {
				return fmt.Errorf("%s: the log holds %q; log:\n%s", c.Path, deny, got)
			}
		}
	}
	return nil
}

// logLen returns the length of e.Log, 0 without one.
func (e Example) logLen() int {
	if e.Log == nil {
		return 0
	}
	return len(e.Log.String())
}

// Main is an example's main function: it parses the command line, with
// the flags -addr (the listen address, default 127.0.0.1:8080, or a free
// loopback port with -check) and -check (send the example requests,
// verify the answers, and exit) besides any the example defined before
// calling it, then calls run and exits with the error run returns, if
// any: 0 after a clean Ctrl-C.
func Main(run func(addr string, check bool) error) {
	addr := flag.String("addr", "", "listen address (default 127.0.0.1:8080; a free port on 127.0.0.1 with -check)")
	check := flag.Bool("check", false, "send the example requests, verify the answers, and exit")
	flag.Parse()
	if *addr == "" {
		*addr = "127.0.0.1:8080"
		if *check {
			*addr = "127.0.0.1:0" // never collide with a running example
		}
	}
	if err := run(*addr, *check); err != nil {
		log.Fatal(err)
	}
}
