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
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/internal/excheck"
	"github.com/apigate-go/apigate/examples/upstream"
	"github.com/apigate-go/apigate/observe"
	"github.com/lmittmann/tint"
)

func main() {
	debug := flag.Bool("debug", false, "log every event, not one line per request")
	excheck.Main(func(addr string, check bool) error { return run(addr, check, *debug) })
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
	logs := &excheck.Log{}
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

	calls := []excheck.Call{
		{Note: "a read: one access-log line (stderr) with the request's ID, no audit line",
			Path: "/api/items/7", Status: 200,
			Logs:   []string{"event=upstream_succeeded", "path=/api/items/7", "status=200", "request_id="},
			NoLogs: []string{`"msg":"audit"`}},
		{Note: "a write: an access-log line and an audit line (stdout)",
			Method: "POST", Path: "/api/items", Header: []string{"X-User: alice", "Content-Type: application/json"},
			Body: `{"name":"lamp"}`, Status: 200,
			Logs: []string{"event=upstream_succeeded", `"msg":"audit","user":"alice","method":"POST","path":"/api/items"`}},
		{Note: "a delete the upstream refuses (the mock answers ?status=404): logged, not audited",
			Method: "DELETE", Path: "/api/items/8?status=404", Header: []string{"X-User: bob"}, Status: 404,
			Logs: []string{"status=404"}, NoLogs: []string{`"msg":"audit"`}},
		{Note: "a slow upstream past the route's 500ms timeout: 504, logged at WARN",
			Path: "/api/reports?delay=2s", Status: 504,
			Logs: []string{"WRN ", "event=upstream_failed", "code=upstream_timeout"}},
		{Note: "no route: 404, logged at INFO",
			Path: "/nope", Status: 404, Logs: []string{"INF ", "code=not_found"}},
	}

	ex := excheck.Example{About: "in front of the mock upstream " + backend, Calls: calls, Log: logs}
	return ex.ListenAndServe(addr, gw, check)
}

// isTerminal reports whether f is a terminal, where colours help.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
