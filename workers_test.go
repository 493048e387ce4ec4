//go:build unix

package apigate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apigate-go/apigate/internal/syncbuf"
)

// workersProgramEnv, set to a loopback address, makes this test binary
// run workersProgram instead of its tests: a program serving with
// ServeOptions{Workers: 3} on that address, whose workers are copies of
// the test binary that run it again.
const (
	workersProgramEnv  = "APIGATE_TEST_WORKERS_ADDR"
	workersUpstreamEnv = "APIGATE_TEST_WORKERS_UPSTREAM"
	workersSharedEnv   = "APIGATE_TEST_WORKERS_SHARED"
)

func TestMain(m *testing.M) {
	if addr := os.Getenv(workersProgramEnv); addr != "" {
		os.Exit(workersProgram(addr))
	}
	os.Exit(m.Run())
}

// workersProgram serves, on addr with 3 processes: GET /pid, answering
// "pid ppid gomaxprocs worker"; GET /exit, which ends a worker unanswered
// (the first process answers 409); GET /slow, answered after 300ms; and
// /up/, proxied by a gateway to the upstream named in the environment.
func workersProgram(addr string) int {
	gw, err := New(Mount(Service("/up", GET("/*p")), os.Getenv(workersUpstreamEnv)),
		WithUpstream(UpstreamOptions{Engine: testEngine()}))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mux := http.NewServeMux()
	mux.Handle("/up/", gw)
	mux.HandleFunc("GET /pid", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "%d %d %d %t", os.Getpid(), os.Getppid(), runtime.GOMAXPROCS(0), IsWorker())
	})
	mux.HandleFunc("GET /exit", func(w http.ResponseWriter, _ *http.Request) {
		if IsWorker() {
			os.Exit(3)
		}
		w.WriteHeader(http.StatusConflict)
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "done")
	})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	o := ServeOptions{Workers: 3, Engine: testEngine(), ShutdownTimeout: 5 * time.Second}
	switch {
	case IsWorker():
		err = ListenAndServe(ctx, addr, mux, o)
	case os.Getenv(workersSharedEnv) != "":
		// The shared socket that systems other than Linux use.
		err = serveWorkers(ctx, addr, mux, o, false)
	default:
		err = ListenAndServe(ctx, addr, mux, o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// workersRun is a running workersProgram.
type workersRun struct {
	cmd    *exec.Cmd
	base   string
	client *http.Client
	out    *syncbuf.Buffer
	exited chan error
}

// startWorkers runs workersProgram in front of upstream and waits until
// it answers.
func startWorkers(t *testing.T, upstream string, env ...string) *workersRun {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workersProgramEnv+"="+addr, workersUpstreamEnv+"="+upstream)
	cmd.Env = append(cmd.Env, env...)
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &workersRun{
		cmd: cmd, base: "http://" + addr, out: out, exited: make(chan error, 1),
		// A connection per request, so that each is accepted anew by
		// whichever process takes it.
		client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second},
	}
	go func() { r.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		if t.Failed() {
			t.Logf("program output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := r.get("/pid"); err == nil {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("program did not answer on %s:\n%s", addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *workersRun) get(path string) (string, error) {
	res, err := r.client.Get(r.base + path)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("status %d", res.StatusCode)
	}
	return string(b), nil
}

// procInfo is what GET /pid answers.
type procInfo struct {
	pid, ppid, procs int
	worker           bool
}

// serving asks GET /pid on new connections until want distinct processes
// answered, and returns them by pid.
func (r *workersRun) serving(t *testing.T, want int) map[int]procInfo {
	t.Helper()
	seen := map[int]procInfo{}
	deadline := time.Now().Add(20 * time.Second)
	for len(seen) < want && time.Now().Before(deadline) {
		s, err := r.get("/pid")
		if err != nil {
			continue
		}
		var p procInfo
		if _, err := fmt.Sscanf(s, "%d %d %d %t", &p.pid, &p.ppid, &p.procs, &p.worker); err != nil {
			t.Fatalf("GET /pid answered %q: %v", s, err)
		}
		seen[p.pid] = p
	}
	if len(seen) != want {
		t.Fatalf("%d processes answered, want %d: %v", len(seen), want, seen)
	}
	return seen
}

// gone reports whether process pid has ended (or is a zombie).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return runtime.GOOS == "linux" // no such process
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] == 'Z'
	}
	return false
}

func waitGone(t *testing.T, pids []int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for _, pid := range pids {
		for !gone(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d still running %v later", pid, d)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func TestWorkers(t *testing.T) {
	t.Run("own sockets", func(t *testing.T) {
		if !reusePortSpreads {
			t.Skip("SO_REUSEPORT does not spread connections here")
		}
		testWorkers(t)
	})
	t.Run("shared socket", func(t *testing.T) { testWorkers(t, workersSharedEnv+"=1") })
}

func testWorkers(t *testing.T, env ...string) {
	var seen atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		io.WriteString(w, "up "+r.URL.Path)
	}))
	defer up.Close()
	run := startWorkers(t, up.URL, env...)
	first := run.cmd.Process.Pid

	// Three processes serve: the first, and two workers it started.
	procs := run.serving(t, 3)
	wantProcs := max(1, runtime.GOMAXPROCS(0)/3)
	var workers []int
	for pid, p := range procs {
		if os.Getenv("GOMAXPROCS") == "" && p.procs != wantProcs {
			t.Errorf("process %d runs with GOMAXPROCS %d, want %d", pid, p.procs, wantProcs)
		}
		switch {
		case pid == first:
			if p.worker {
				t.Errorf("the first process says it is a worker")
			}
		case p.ppid == first && p.worker:
			workers = append(workers, pid)
		default:
			t.Errorf("process %d (parent %d, worker %t) is not one of the program's", pid, p.ppid, p.worker)
		}
	}
	if _, ok := procs[first]; !ok || len(workers) != 2 {
		t.Fatalf("serving processes %v: want the first (%d) and two of its workers", procs, first)
	}

	// Every process proxies; the upstream sees each request once.
	const n = 30
	for i := range n {
		body, err := run.get("/up/items/" + strconv.Itoa(i))
		if want := "up /items/" + strconv.Itoa(i); err != nil || body != want {
			t.Fatalf("GET /up/items/%d = %q, %v; want %q", i, body, err, want)
		}
	}
	if got := seen.Load(); got != n {
		t.Errorf("upstream saw %d requests, want %d", got, n)
	}

	// A worker that dies is replaced.
	died := false
	for range 500 {
		if _, err := run.get("/exit"); err != nil && !strings.Contains(err.Error(), "status 409") {
			died = true
			break
		}
	}
	if !died {
		t.Fatal("no worker took GET /exit")
	}
	var dead, alive []int
	for _, pid := range workers {
		if gone(pid) {
			dead = append(dead, pid)
		} else {
			alive = append(alive, pid)
		}
	}
	// The dead one may take a moment to be reaped.
	deadline := time.Now().Add(5 * time.Second)
	for len(dead) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		dead, alive = nil, nil
		for _, pid := range workers {
			if gone(pid) {
				dead = append(dead, pid)
			} else {
				alive = append(alive, pid)
			}
		}
	}
	if len(dead) != 1 {
		t.Fatalf("after GET /exit, workers %v are gone, want one of %v", dead, workers)
	}
	after := run.serving(t, 3)
	if _, ok := after[dead[0]]; ok {
		t.Fatalf("dead worker %d still answers", dead[0])
	}
	for pid, p := range after {
		if pid != first && pid != alive[0] && (p.ppid != first || !p.worker) {
			t.Errorf("replacement %d: parent %d, worker %t; want a worker of %d", pid, p.ppid, p.worker, first)
		}
	}

	// SIGTERM to the first process stops them all gracefully: a request
	// in progress is answered, the program exits 0, no worker is left.
	slow := make(chan error, 1)
	go func() {
		body, err := run.get("/slow")
		if err == nil && body != "done" {
			err = fmt.Errorf("answered %q", body)
		}
		slow <- err
	}()
	time.Sleep(100 * time.Millisecond)
	run.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-slow; err != nil {
		t.Errorf("request in progress at SIGTERM: %v", err)
	}
	select {
	case err := <-run.exited:
		if err != nil {
			t.Errorf("program ended with %v", err)
		}
	case <-time.After(15 * time.Second):
		// Every process prints its goroutines on SIGQUIT.
		for pid := range after {
			syscall.Kill(pid, syscall.SIGQUIT)
		}
		time.Sleep(time.Second)
		t.Fatal("program still running 15s after SIGTERM")
	}
	var all []int
	for pid := range after {
		all = append(all, pid)
	}
	waitGone(t, all, 5*time.Second)
}

// TestWorkersOrphaned kills the first process outright: its workers
// notice and stop.
func TestWorkersOrphaned(t *testing.T) {
	up := httptest.NewServer(http.NotFoundHandler())
	defer up.Close()
	run := startWorkers(t, up.URL)
	procs := run.serving(t, 3)
	run.cmd.Process.Kill()
	<-run.exited
	var workers []int
	for pid := range procs {
		if pid != run.cmd.Process.Pid {
			workers = append(workers, pid)
		}
	}
	waitGone(t, workers, 5*time.Second)
}

func TestWorkersOnlyWithListenAndServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = Serve(context.Background(), ln, http.NotFoundHandler(), ServeOptions{Workers: 2})
	if !errors.Is(err, errWorkersServe) {
		t.Fatalf("Serve with Workers: %v, want %v", err, errWorkersServe)
	}
	// The listener is closed, as Serve closes it when it ends.
	if _, err := ln.Accept(); err == nil {
		t.Fatal("listener still open")
	}
	// In a worker whose shared socket was taken already, a second
	// ListenAndServe with Workers is refused.
	t.Setenv(workerEnv, "1")
	t.Setenv(workerFDEnv, "")
	t.Setenv(workerAddrEnv, "")
	err = ListenAndServe(context.Background(), "127.0.0.1:0", http.NotFoundHandler(), ServeOptions{Workers: 2})
	if !errors.Is(err, errWorkerFD) {
		t.Fatalf("second ListenAndServe in a worker: %v, want %v", err, errWorkerFD)
	}
}
