// Command middleware shows the gateway as an ordinary net/http handler:
// plain func(http.Handler) http.Handler middleware (panic recovery, an
// access log, caching headers) given to apigate.Use at route level or
// wrapped around everything, and the gateway mounted in an http.ServeMux
// beside a /healthz endpoint of its own. The gateway makes request IDs
// and recovers panics in hooks itself; the middleware covers the rest.
//
//	go run ./examples/middleware                            # serve on 127.0.0.1:8080 until Ctrl-C
//	go run ./examples/middleware -check -addr 127.0.0.1:0   # send the printed requests itself and exit
//
// The access log goes to stderr.
package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/internal/excheck"
	"github.com/apigate-go/apigate/examples/upstream"
)

func main() {
	excheck.Main(run)
}

// cacheFor sets Cache-Control on the responses of the routes it wraps.
// It runs after routing, so it sees only its route's requests. It sets the
// header before the gateway copies the upstream's: an upstream that sends
// its own Cache-Control replaces this value (it is not added to), one that
// sends none, like the mock here, leaves it. To override the upstream
// instead, set headers in a ResponseWriter wrapper's WriteHeader.
func cacheFor(d time.Duration) func(http.Handler) http.Handler {
	value := fmt.Sprintf("public, max-age=%d", int(d.Seconds()))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", value)
			next.ServeHTTP(w, r)
		})
	}
}

// accessLog writes one line per request, whatever handled it.
func accessLog(logger *log.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(rec, r)
			logger.Printf("%s %s %d %s id=%s", r.Method, r.URL.Path, rec.status,
				time.Since(start).Round(time.Microsecond), w.Header().Get("X-Request-Id"))
		})
	}
}

// statusRecorder remembers the status. Its Unwrap method lets
// http.ResponseController reach the real writer, so the gateway can still
// flush streams through it.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// recoverPanics turns a panic in any handler (the gateway recovers its
// own; this covers the mux and handlers beside it) into a 500 and a log line,
// instead of a dropped connection. http.ErrAbortHandler is re-panicked:
// it is how a handler aborts a response on purpose.
func recoverPanics(logger *log.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				logger.Printf("panic: %s %s: %v", r.Method, r.URL.Path, v)
				http.Error(w, "internal server error", http.StatusInternalServerError)
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// buggy is a hook with a bug, to show the recovery.
func buggy(c *apigate.Ctx) error {
	var quotas map[string]*int
	*quotas[c.Param("id")]++ // nil pointer dereference
	return nil
}

func run(addr string, check bool) error {
	backend, stop, err := upstream.Start("items-v1")
	if err != nil {
		return err
	}
	defer stop()
	logger := log.New(os.Stderr, "access ", log.Ltime)

	api := apigate.Service("/api",
		apigate.GET("/items/:id"),
		// Route middleware runs after routing, for this route only.
		apigate.GET("/catalog", apigate.Use(cacheFor(time.Minute))),
		apigate.GET("/quota/:id", apigate.Before(buggy)),
	)
	gw, err := apigate.New(
		apigate.Mount(api, backend),
		// The gateway gives every request an X-Request-Id, keeping the one
		// a trusted proxy sent. The example's client is local, so loopback
		// is trusted here; a real gateway lists its load balancers.
		apigate.WithTrustedProxies("127.0.0.1", "::1"),
	)
	if err != nil {
		return err
	}

	// The gateway is an http.Handler: mount it beside handlers of your own.
	// ServeMux passes the full path, which the service prefix /api expects.
	mux := http.NewServeMux()
	mux.Handle("/api/", gw)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok\n")
	})
	// Plain wrapping covers everything, /healthz included (which gets no
	// request ID: the gateway makes them for its own requests only). The
	// access log is outermost so that it also logs the 500s of recovered
	// panics.
	handler := accessLog(logger)(recoverPanics(logger)(mux))

	calls := []excheck.Call{
		{Note: "a handler of our own, beside the gateway",
			Path: "/healthz", Status: 200, Want: []string{"ok"}},
		{Note: "through the gateway: a request ID is made, sent upstream and returned",
			Path: "/api/items/7", Status: 200, ShowHeaders: true,
			Want: []string{"X-Request-Id: ", `"X-Request-Id": "`, `"path": "/items/7"`}},
		{Note: "a trusted client's request ID is kept",
			Path: "/api/items/7", Header: []string{"X-Request-Id: req-42"}, Status: 200, ShowHeaders: true,
			Want: []string{"X-Request-Id: req-42", `"X-Request-Id": "req-42"`}},
		{Note: "route middleware: Cache-Control on /api/catalog only",
			Path: "/api/catalog", Status: 200, ShowHeaders: true, Want: []string{"Cache-Control: public, max-age=60"}},
		{Note: "a panicking hook: the gateway recovers it (500 internal), the server keeps serving",
			Path: "/api/quota/7", Status: 500, Want: []string{"internal: internal error"}},
		{Note: "outside /api/ the mux answers 404 itself",
			Path: "/other", Status: 404, Want: []string{"404 page not found"}},
	}

	ex := excheck.Example{About: "in front of the mock upstream " + backend, Calls: calls}
	return ex.ListenAndServe(addr, handler, check)
}
