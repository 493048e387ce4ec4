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
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/upstream"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	check := flag.Bool("check", false, "send the example requests, verify the answers, and exit")
	reusePort := flag.Bool("reuseport", reusePortSupported(), "set SO_REUSEPORT so that several processes can share -addr (Linux and BSDs)")
	flag.Parse()
	if err := run(*addr, *check, *reusePort); err != nil {
		log.Fatal(err)
	}
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
	}

	calls := []call{
		{note: "an ordinary request over the tuned transport",
			path: "/api/items/1", status: 200, want: []string{`"path": "/items/1"`}},
		{note: "the upstream takes 1s on a route with a 300ms timeout: 504",
			path: "/api/search?delay=1s", status: 504, want: []string{"upstream_timeout: upstream timed out"}},
		{note: "a stream on a route without timeout: chunks arrive one by one (curl -N)",
			path: "/api/feed?stream=3", stream: true, status: 200, want: []string{`"chunk":0`, `"chunk":2`}},
		{note: "32000 bytes of headers, past MaxHeaderBytes: 431",
			path: "/api/items/1", bigHeader: 32000, status: 431, want: []string{"431 Request Header Fields Too Large"}},
		{note: "graceful shutdown: start this, press Ctrl-C within 2s; the request completes, then the gateway exits",
			path: "/api/items/1?delay=2s", status: 200, want: []string{`"path": "/items/1"`}},
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ln, err := apigate.Listen(ctx, addr, serveOpts)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Printf("gateway on %s in front of the mock upstream %s (SO_REUSEPORT: %t)\ntry:\n", base, backend, reusePort)
	for _, c := range calls {
		fmt.Printf("  # %s\n  %s\n", c.note, c.curl(base))
	}
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
		if err := c.check(client, base); err != nil {
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
func checkShutdown(client *http.Client, base string, slow call, stopServing func(), served <-chan error) error {
	done := make(chan error, 1)
	go func() { done <- slow.check(client, base) }()
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

// call is one example request: main prints it as a curl command, and
// -check sends the same request and verifies the answer.
type call struct {
	note      string   // what the request shows
	method    string   // GET when empty
	path      string   // path and query, appended to the gateway's base URL
	header    []string // "Name: value"
	body      string   // sent as curl -d sends it
	stream    bool     // print curl -N, which shows chunks as they arrive
	bigHeader int      // add an X-Big header of this many bytes
	status    int      // the status the answer must have
	want      []string // text the answer (status line, headers, body) must hold
	deny      []string // text it must not hold
}

// curl returns the call as a command line that works as printed.
func (c call) curl(base string) string {
	s := "curl -s"
	if c.status != http.StatusOK {
		s = "curl -si"
	}
	if c.method != "" && (c.method != http.MethodPost || c.body == "") {
		s += " -X " + c.method
	}
	if c.stream {
		s += "N"
	}
	for _, h := range c.header {
		s += " -H " + quote(h)
	}
	if c.bigHeader > 0 {
		s += ` -H "X-Big: $(head -c ` + strconv.Itoa(c.bigHeader) + ` /dev/zero | tr '\0' a)"`
	}
	if c.body != "" {
		s += " -d " + quote(c.body)
	}
	return s + " " + quote(base+c.path)
}

// check sends the call as curl would and compares the answer.
func (c call) check(client *http.Client, base string) error {
	method := cmp.Or(c.method, http.MethodGet)
	req, err := http.NewRequest(method, base+c.path, strings.NewReader(c.body))
	if err != nil {
		return err
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // curl -d's default
	}
	for _, h := range c.header {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	if c.bigHeader > 0 {
		req.Header.Set("X-Big", strings.Repeat("a", c.bigHeader))
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, c.path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, c.path, err)
	}
	var ans strings.Builder
	fmt.Fprintf(&ans, "%s %s\n", res.Proto, res.Status)
	res.Header.Write(&ans)
	ans.WriteString("\n")
	ans.Write(body)
	got := ans.String()
	if res.StatusCode != c.status {
		return fmt.Errorf("%s %s: status %d, want %d; answer:\n%s", method, c.path, res.StatusCode, c.status, got)
	}
	for _, w := range c.want {
		if !strings.Contains(got, w) {
			return fmt.Errorf("%s %s: answer lacks %q; answer:\n%s", method, c.path, w, got)
		}
	}
	for _, d := range c.deny {
		if strings.Contains(got, d) {
			return fmt.Errorf("%s %s: answer holds %q; answer:\n%s", method, c.path, d, got)
		}
	}
	fmt.Printf("ok  %s %s → %d\n", method, c.path, res.StatusCode)
	return nil
}

// quote quotes s for a POSIX shell.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
