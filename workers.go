package apigate

import (
	"context"
	"errors"
	"net/http"
	"os"
)

// Environment of a worker process started by [ListenAndServe] for
// [ServeOptions].Workers.
const (
	// workerEnv holds the worker's number, 1 to Workers-1; it marks the
	// process as a worker for its whole life (see [IsWorker]).
	workerEnv = "APIGATE_WORKER"
	// workerFDEnv names the descriptor of the inherited listening socket,
	// or, on Linux, workerAddrEnv the address the worker listens on with
	// SO_REUSEPORT. The worker's ListenAndServe clears them once it has
	// its listener, so that no later call takes them again.
	workerFDEnv   = "APIGATE_WORKER_FD"
	workerAddrEnv = "APIGATE_WORKER_ADDR"
)

// IsWorker reports whether this process is a worker that [ListenAndServe]
// started for [ServeOptions].Workers: a copy of the program, running its
// main again, whose ListenAndServe serves on the socket of the first
// process. The first process, which serves too and supervises the
// workers, is not a worker. Use it to keep what must happen once per
// program (printing, migrations, a metrics or debug listener on a fixed
// port) out of the workers.
func IsWorker() bool { return os.Getenv(workerEnv) != "" }

var (
	errWorkersServe = errors.New("apigate: ServeOptions.Workers needs ListenAndServe, which opens the socket the workers share")
	errWorkerFD     = errors.New("apigate: worker: the shared address was taken by an earlier ListenAndServe; only one call per program may use Workers")
)

// listenAndServe is ListenAndServe for options with Workers above 1.
func listenAndServe(ctx context.Context, addr string, h http.Handler, o ServeOptions) error {
	if IsWorker() {
		return serveWorker(ctx, h, o)
	}
	return serveWorkers(ctx, addr, h, o, reusePortSpreads)
}
