// Command middleware shows the gateway as an ordinary net/http handler:
// plain func(http.Handler) http.Handler middleware (panic recovery, an
// access log, a request ID) given to apigate.Use at gateway or route level
// or wrapped around everything, and the gateway mounted in an
// http.ServeMux beside a /healthz endpoint of its own.
//
//	go run ./examples/middleware                            # serve on 127.0.0.1:8080 until Ctrl-C
//	go run ./examples/middleware -check -addr 127.0.0.1:0   # send the printed requests itself and exit
//
// The access log goes to stderr.
package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/upstream"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	check := flag.Bool("check", false, "send the example requests, verify the answers, and exit")
	flag.Parse()
	if err := run(*addr, *check); err != nil {
		log.Fatal(err)
	}
}

// requestID gives every request an X-Request-Id (keeping the client's),
// visible to the upstream and echoed in the response.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" {
			id = rand.Text()[:16]
			r = r.Clone(r.Context()) // middleware must not modify the request it was given
			r.Header.Set("X-Request-Id", id)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r)
	})
}

// cacheFor sets Cache-Control on the responses of the routes it wraps.
// It runs after routing, so it sees only its route's requests; headers
// from the upstream, set later, win.
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

// recoverPanics turns a panic in any handler into a 500 and a log line,
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
		// Gateway middleware wraps the whole gateway, before routing.
		apigate.Use(requestID),
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
	// request ID: requestID wraps the gateway only). The access log is
	// outermost so that it also logs the 500s of recovered panics.
	handler := accessLog(logger)(recoverPanics(logger)(mux))

	calls := []call{
		{note: "a handler of our own, beside the gateway",
			path: "/healthz", status: 200, want: []string{"ok"}},
		{note: "through the gateway: a request ID is made, sent upstream and returned",
			path: "/api/items/7", status: 200, head: true,
			want: []string{"X-Request-Id: ", `"X-Request-Id": "`, `"path": "/items/7"`}},
		{note: "the client's request ID is kept",
			path: "/api/items/7", header: []string{"X-Request-Id: req-42"}, status: 200, head: true,
			want: []string{"X-Request-Id: req-42", `"X-Request-Id": "req-42"`}},
		{note: "route middleware: Cache-Control on /api/catalog only",
			path: "/api/catalog", status: 200, head: true, want: []string{"Cache-Control: public, max-age=60"}},
		{note: "a panicking hook: 500 from the recovery middleware, the server keeps serving",
			path: "/api/quota/7", status: 500, want: []string{"internal server error"}},
		{note: "outside /api/ the mux answers 404 itself",
			path: "/other", status: 404, want: []string{"404 page not found"}},
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
		return apigate.Serve(ctx, ln, handler, apigate.ServeOptions{})
	}
	go apigate.Serve(ctx, ln, handler, apigate.ServeOptions{})
	client := &http.Client{Timeout: 10 * time.Second}
	for _, c := range calls {
		if err := c.check(client, base); err != nil {
			return err
		}
	}
	return nil
}

// call is one example request: main prints it as a curl command, and
// -check sends the same request and verifies the answer.
type call struct {
	note   string   // what the request shows
	method string   // GET when empty
	path   string   // path and query, appended to the gateway's base URL
	header []string // "Name: value"
	body   string   // sent as curl -d sends it
	head   bool     // print the response headers (curl -i) even for a 200
	status int      // the status the answer must have
	want   []string // text the answer (status line, headers, body) must hold
	deny   []string // text it must not hold
}

// curl returns the call as a command line that works as printed.
func (c call) curl(base string) string {
	s := "curl -s"
	if c.head || c.status != http.StatusOK {
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
