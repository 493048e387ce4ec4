//go:build unix

package apigate

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// serveWorkers listens on addr, starts Workers-1 worker processes that
// accept on the same address, serves on it too, and supervises them until
// ctx is cancelled. With spread, each process has a socket of its own in
// one SO_REUSEPORT group; without, they share the first one's.
func serveWorkers(ctx context.Context, addr string, h http.Handler, o ServeOptions, spread bool) error {
	workers := o.Workers
	o.Workers = 0 // Serve serves this process's share
	// On Linux each process has a socket of its own in one SO_REUSEPORT
	// group, and the kernel spreads connections evenly over them. One
	// socket shared by all goes to whichever process accepts first, which
	// left one of two processes with 47 of 64 connections under load.
	o.ReusePort = o.ReusePort || spread
	ln, err := Listen(ctx, addr, o)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		ln.Close()
		return fmt.Errorf("apigate: Workers: %w", err)
	}
	env := os.Environ()
	var files []*os.File
	if spread {
		env = append(env, workerAddrEnv+"="+ln.Addr().String())
	} else {
		tl, ok := ln.(*net.TCPListener)
		if !ok {
			ln.Close()
			return fmt.Errorf("apigate: Workers: %T is not a TCP listener", ln)
		}
		f, err := tl.File() // a duplicate descriptor, for the workers
		if err != nil {
			ln.Close()
			return fmt.Errorf("apigate: Workers: %w", err)
		}
		defer f.Close()
		files = []*os.File{f}
		env = append(env, workerFDEnv+"=3")
	}
	if os.Getenv("GOMAXPROCS") == "" {
		// The cores are shared out: each process schedules its own
		// goroutines on its share, as nginx's single-threaded workers do.
		procs := max(1, runtime.GOMAXPROCS(0)/workers)
		runtime.GOMAXPROCS(procs)
		env = append(env, "GOMAXPROCS="+strconv.Itoa(procs))
	}
	logger := o.ErrorLog
	if logger == nil {
		logger = log.Default()
	}
	s := &supervisor{exe: exe, args: os.Args[1:], env: env, files: files, logger: logger, done: make(chan struct{})}
	for i := 1; i < workers; i++ {
		s.wg.Add(1)
		go s.run(i)
	}
	stopped := make(chan struct{})
	go func() {
		// The workers start their graceful shutdown with this one's.
		select {
		case <-ctx.Done():
		case <-stopped:
		}
		s.signal()
	}()
	err = Serve(ctx, ln, h, o)
	close(stopped)
	s.wait(o.ShutdownTimeout + time.Second)
	return err
}

// supervisor runs the worker processes, restarting those that exit
// before the shutdown.
type supervisor struct {
	exe    string
	args   []string
	env    []string
	files  []*os.File // the shared socket, the workers' descriptor 3, if any
	logger *log.Logger
	wg     sync.WaitGroup

	mu       sync.Mutex
	running  map[int]*os.Process
	done     chan struct{} // closed by signal
	stopping bool
}

// restart backoff: a worker that ran less than workerStable is restarted
// after a delay that doubles up to workerMaxBackoff.
const (
	workerMinBackoff = 100 * time.Millisecond
	workerMaxBackoff = 10 * time.Second
	workerStable     = 10 * time.Second
)

// run keeps worker i running until the shutdown.
func (s *supervisor) run(i int) {
	defer s.wg.Done()
	backoff := workerMinBackoff
	for {
		started := time.Now()
		err := s.once(i)
		if err == errStopping {
			return
		}
		if time.Since(started) >= workerStable {
			backoff = workerMinBackoff
		}
		s.logger.Printf("apigate: worker %d ended: %v; restarting in %v", i, err, backoff)
		select {
		case <-time.After(backoff):
		case <-s.done:
			return
		}
		backoff = min(2*backoff, workerMaxBackoff)
	}
}

var errStopping = errors.New("stopping")

// once starts worker i and waits for it to end. It returns errStopping
// when the worker ended because of the shutdown, or was not started
// because of it.
func (s *supervisor) once(i int) error {
	cmd := exec.Command(s.exe, s.args...)
	cmd.Env = append(s.env[:len(s.env):len(s.env)], workerEnv+"="+strconv.Itoa(i))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.ExtraFiles = s.files
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return errStopping
	}
	err := cmd.Start()
	s.nonblock()
	if err == nil {
		if s.running == nil {
			s.running = make(map[int]*os.Process)
		}
		s.running[i] = cmd.Process
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	err = cmd.Wait()
	s.mu.Lock()
	delete(s.running, i)
	stopping := s.stopping
	s.mu.Unlock()
	if stopping {
		return errStopping
	}
	if err == nil {
		err = errors.New("exited")
	}
	return err
}

// nonblock puts the shared socket back in non-blocking mode. Starting a
// process with it (os.File.Fd) made it blocking, and the mode belongs to
// the socket, not to a descriptor: this process's own accept would then
// block its thread in the kernel, where closing the listener at shutdown
// cannot interrupt it.
func (s *supervisor) nonblock() {
	for _, f := range s.files {
		if rc, err := f.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { syscall.SetNonblock(int(fd), true) })
		}
	}
}

// signal starts the shutdown: no worker is started or restarted any
// more, and the running ones are sent SIGTERM.
func (s *supervisor) signal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return
	}
	s.stopping = true
	close(s.done)
	for _, p := range s.running {
		p.Signal(syscall.SIGTERM)
	}
}

// wait waits up to d for the workers to end after signal, and kills those
// still running then.
func (s *supervisor) wait(d time.Duration) {
	s.signal()
	ended := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(ended)
	}()
	select {
	case <-ended:
		return
	case <-time.After(d):
	}
	s.mu.Lock()
	for i, p := range s.running {
		s.logger.Printf("apigate: worker %d still running after the shutdown timeout; killing it", i)
		p.Kill()
	}
	s.mu.Unlock()
	<-ended
}

// serveWorker serves as a worker: on the socket inherited from the first
// process, until ctx is cancelled, SIGTERM or SIGINT arrives, or the
// first process is gone.
func serveWorker(ctx context.Context, h http.Handler, o ServeOptions) error {
	ln, err := workerListener(ctx, o)
	if err != nil {
		return err
	}
	o.Workers = 0
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	parent := os.Getppid()
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done(): // served, or stopped: the deferred stop ends it
				return
			case <-t.C:
				if os.Getppid() != parent {
					stop() // the first process died without stopping us
					return
				}
			}
		}
	}()
	return Serve(ctx, ln, h, o)
}

// workerListener returns the worker's listener: a socket of its own in
// the first process's SO_REUSEPORT group, or the one it inherited.
func workerListener(ctx context.Context, o ServeOptions) (net.Listener, error) {
	addr, fdv := os.Getenv(workerAddrEnv), os.Getenv(workerFDEnv)
	os.Unsetenv(workerAddrEnv)
	os.Unsetenv(workerFDEnv)
	switch {
	case addr != "":
		o.ReusePort = true
		ln, err := Listen(ctx, addr, o)
		if err != nil {
			return nil, fmt.Errorf("apigate: worker: %w", err)
		}
		return ln, nil
	case fdv != "":
		fd, err := strconv.Atoi(fdv)
		if err != nil || fd < 3 {
			return nil, fmt.Errorf("apigate: worker: bad %s %q", workerFDEnv, fdv)
		}
		f := os.NewFile(uintptr(fd), "apigate-listener")
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("apigate: worker: %w", err)
		}
		return ln, nil
	}
	return nil, errWorkerFD
}
