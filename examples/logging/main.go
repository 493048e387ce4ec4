// Command logging shows observers: observe.NewSlog writing one readable
// line per request through a github.com/lmittmann/tint handler (colours on
// a terminal), and a custom observer built with observe.Func that writes a
// JSON audit line for every successful write (POST, PUT, PATCH, DELETE),
// combined with observe.Multi.
//
//	go run ./examples/logging                            # serve on 127.0.0.1:8080 until Ctrl-C
//	go run ./examples/logging -debug                     # also log each request's progress events
//	go run ./examples/logging -check -addr 127.0.0.1:0   # send the printed requests itself and exit
//
// The access log goes to stderr, the audit log to stdout.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/upstream"
	"github.com/apigate-go/apigate/observe"
	"github.com/lmittmann/tint"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	check := flag.Bool("check", false, "send the example requests, verify the answers, and exit")
	debug := flag.Bool("debug", false, "log every event, not one line per request")
	flag.Parse()
	if err := run(*addr, *check, *debug); err != nil {
		log.Fatal(err)
	}
}

// accessLog returns the observer that writes the access log through tint:
// successes at Info, client errors at Info, server-side failures at Warn;
// with debug, the request-started and backend-selected events too.
func accessLog(w io.Writer, color, debug bool) observe.Observer {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	logger := slog.New(tint.NewTextHandler(w, &tint.Options{
		Level:      level,
		TimeFormat: "15:04:05.000",
		NoColor:    !color,
	}))
	return observe.NewSlog(logger, observe.SlogOptions{
		Success:      slog.LevelInfo, // an access log wants successes too (the default is Debug)
		OmitProgress: !debug,
	})
}

// auditLog returns a custom observer: for every write that the upstream
// accepted, one JSON line naming the caller, what changed and where.
// Observers run on the request path, so it does only cheap work.
func auditLog(w io.Writer) observe.Observer {
	logger := slog.New(slog.NewJSONHandler(w, nil))
	return observe.Func(func(ctx context.Context, e observe.Event) {
		if e.Kind != observe.UpstreamSucceeded || e.Status >= 400 {
			return
		}
		switch e.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			return
		}
		logger.LogAttrs(ctx, slog.LevelInfo, "audit",
			slog.String("user", cmp.Or(e.Request.Header.Get("X-User"), "anonymous")),
			slog.String("method", e.Method),
			slog.String("path", e.Request.URL.Path),
			slog.String("route", e.Route),
			slog.String("backend", e.Addr),
			slog.Int("status", e.Status),
		)
	})
}

func run(addr string, check, debug bool) error {
	backend, stop, err := upstream.Start("items-v1")
	if err != nil {
		return err
	}
	defer stop()

	// -check reads the logs back; otherwise they go to the terminal only.
	errOut, stdOut := io.Writer(os.Stderr), io.Writer(os.Stdout)
	logs := &syncBuffer{}
	if check {
		errOut, stdOut = io.MultiWriter(os.Stderr, logs), io.MultiWriter(os.Stdout, logs)
	}
	color := !check && isTerminal(os.Stderr)

	api := apigate.Service("/api",
		apigate.GET("/items/:id"),
		apigate.POST("/items"),
		apigate.DELETE("/items/:id"),
		apigate.GET("/reports", apigate.Timeout(500*time.Millisecond)),
	)
	gw, err := apigate.New(
		apigate.Mount(api, backend),
		apigate.WithObserver(observe.Multi(accessLog(errOut, color, debug), auditLog(stdOut))),
	)
	if err != nil {
		return err
	}

	calls := []call{
		{note: "a read: one access-log line (stderr), no audit line",
			path: "/api/items/7", status: 200,
			logs:  []string{"event=upstream_succeeded", "path=/api/items/7", "status=200"},
			nolog: []string{`"msg":"audit"`}},
		{note: "a write: an access-log line and an audit line (stdout)",
			method: "POST", path: "/api/items", header: []string{"X-User: alice", "Content-Type: application/json"},
			body: `{"name":"lamp"}`, status: 200,
			logs: []string{"event=upstream_succeeded", `"msg":"audit","user":"alice","method":"POST","path":"/api/items"`}},
		{note: "a delete the upstream refuses (the mock answers ?status=404): logged, not audited",
			method: "DELETE", path: "/api/items/8?status=404", header: []string{"X-User: bob"}, status: 404,
			logs: []string{"status=404"}, nolog: []string{`"msg":"audit"`}},
		{note: "a slow upstream past the route's 500ms timeout: 504, logged at WARN",
			path: "/api/reports?delay=2s", status: 504,
			logs: []string{"WRN ", "event=upstream_failed", "code=upstream_timeout"}},
		{note: "no route: 404, logged at INFO",
			path: "/nope", status: 404, logs: []string{"INF ", "code=not_found"}},
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ln, err := apigate.Listen(ctx, addr, apigate.ServeOptions{})
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Printf("gateway on %s in front of the mock upstream %s\ntry:\n", base, backend)
	for _, c := range calls {
		fmt.Printf("  # %s\n  %s\n", c.note, c.curl(base))
	}
	if !check {
		return apigate.Serve(ctx, ln, gw, apigate.ServeOptions{})
	}
	go apigate.Serve(ctx, ln, gw, apigate.ServeOptions{})
	client := &http.Client{Timeout: 10 * time.Second}
	for _, c := range calls {
		before := len(logs.String())
		if err := c.check(client, base); err != nil {
			return err
		}
		got := logs.String()[before:]
		for _, want := range c.logs {
			if !strings.Contains(got, want) {
				return fmt.Errorf("%s: the log lacks %q; log:\n%s", c.path, want, got)
			}
		}
		for _, deny := range c.nolog {
			if strings.Contains(got, deny) {
				return fmt.Errorf("%s: the log holds %q; log:\n%s", c.path, deny, got)
			}
		}
	}
	return nil
}

// isTerminal reports whether f is a terminal, where colours help.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// syncBuffer keeps what the loggers wrote, for -check; observers write
// from the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// call is one example request: main prints it as a curl command, and
// -check sends the same request and verifies the answer.
type call struct {
	note   string   // what the request shows
	method string   // GET when empty
	path   string   // path and query, appended to the gateway's base URL
	header []string // "Name: value"
	body   string   // sent as curl -d sends it
	status int      // the status the answer must have
	want   []string // text the answer (status line, headers, body) must hold
	deny   []string // text it must not hold
	logs   []string // text the logs must hold afterwards
	nolog  []string // text the logs must not hold afterwards
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
	for _, h := range c.header {
		s += " -H " + quote(h)
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
