// Command resilience shows a gateway that keeps serving while a backend
// fails: a backend that answers 503 is retried on the healthy one, then
// ejected by outlier detection; a service whose only backend fails has
// its circuit opened (503 circuit_open with Retry-After, the backend no
// longer contacted); a route capped at one request in flight sheds the
// next with 503 overloaded.
//
//	go run ./examples/resilience                            # serve on 127.0.0.1:8080 until Ctrl-C
//	go run ./examples/resilience -check -addr 127.0.0.1:0   # send the printed requests itself and exit
//
// The decisions (request_retried, backend_ejected, circuit_opened) are
// logged to stderr by observe.Slog.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/internal/excheck"
	"github.com/apigate-go/apigate/examples/upstream"
	"github.com/apigate-go/apigate/observe"
)

func main() {
	excheck.Main(run)
}

// failing starts a backend that answers every request with 503, as an
// overloaded or half-deployed one does.
func failing() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "backend overloaded", http.StatusServiceUnavailable)
	})}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// slow holds each request a second, so that a second one can arrive
// while the first is in flight.
func slow(c *apigate.Ctx) error {
	if c.Header("X-Slow") != "" {
		time.Sleep(time.Second)
	}
	return nil
}

func run(addr string, check bool) error {
	good, stopGood, err := upstream.Start("items-v1")
	if err != nil {
		return err
	}
	defer stopGood()
	bad, stopBad, err := failing()
	if err != nil {
		return err
	}
	defer stopBad()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ln, err := apigate.Listen(ctx, addr, apigate.ServeOptions{})
	if err != nil {
		return err
	}

	logs := &excheck.Log{}
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(os.Stderr, logs), nil))

	items := apigate.Service("/items",
		apigate.GET("/:id", apigate.Retries(apigate.RetryOptions{Statuses: []int{503}})),
		apigate.OutlierDetection(apigate.OutlierOptions{Failures: 2, BaseEjection: time.Minute}),
	)
	reports := apigate.Service("/reports", apigate.GET("/:id", apigate.MaxInFlight(1), apigate.Before(slow)))
	fragile := apigate.Service("/fragile",
		apigate.GET("/:id"),
		apigate.CircuitBreaker(apigate.BreakerOptions{ConsecutiveFailures: 2, OpenFor: 30 * time.Second}),
	)
	gw, err := apigate.New(
		apigate.Mount(items, bad, good),
		apigate.Mount(fragile, bad),
		apigate.Mount(reports, good),
		apigate.WithObserver(observe.Slog(logger)),
	)
	if err != nil {
		return err
	}
	defer gw.Close()

	calls := []excheck.Call{
		{Note: "the failing backend answers 503: retried on the healthy one",
			Path: "/items/1", Status: 200, Want: []string{`"path": "/1"`},
			Logs: []string{"event=request_retried", "status=503"}},
		{Note: "round-robin: the healthy backend",
			Path: "/items/2", Status: 200},
		{Note: "the failing backend's second 503 in a row: retried, and the backend ejected for a minute",
			Path: "/items/3", Status: 200,
			Logs: []string{"event=backend_ejected", "duration=1m0s"}},
		{Note: "only the healthy backend now: no more retries",
			Path: "/items/4", Status: 200, NoLogs: []string{"event=request_retried"}},
		{Note: "a service whose only backend fails: its 503 is passed on",
			Path: "/fragile/1", Status: 503, Want: []string{"backend overloaded"}},
		{Note: "the second failure in a row opens the circuit",
			Path: "/fragile/2", Status: 503, Logs: []string{"event=circuit_opened"}},
		{Note: "circuit open: 503 at once, with Retry-After, the backend not contacted",
			Path: "/fragile/3", Status: 503, ShowHeaders: true,
			Want: []string{"circuit_open", "Retry-After: 30"}, Logs: []string{"code=circuit_open"}},
	}
	ex := excheck.Example{
		About: fmt.Sprintf("in front of a healthy backend %s and a failing one %s", good, bad),
		Calls: calls,
		Log:   logs,
	}
	base := "http://" + ln.Addr().String()
	fmt.Println("# GET /reports/:id takes one request at a time; send two at once and the second is shed (503 overloaded):")
	fmt.Printf("#   curl -H 'X-Slow: 1' %s/reports/1 & sleep 0.2; curl -i %s/reports/2\n", base, base)
	return ex.Serve(ctx, ln, gw, check)
}
