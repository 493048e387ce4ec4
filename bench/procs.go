package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a child process started by the driver. It leads its own process
// group so that stopping it stops its children too (nginx's workers), and
// it gets SIGTERM if the driver dies, even by SIGKILL (SIGTERM rather than
// SIGKILL so that nginx's master stops its workers).
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string // file holding its stdout and stderr
	done chan struct{}
	err  error // set before done is closed
}

// startProc starts path with args and extra environment variables, its
// output going to a log file in dir.
func startProc(name, dir, path string, args, env []string) (*proc, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer f.Close()
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// pgid returns the process group of p, which is its pid.
func (p *proc) pgid() int { return p.cmd.Process.Pid }

// exited reports whether p has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to p's process group, waits up to five seconds, then
// kills the group. It is safe to call more than once.
func (p *proc) stop() {
	if p.exited() {
		return
	}
	_ = syscall.Kill(-p.pgid(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.pgid(), syscall.SIGKILL)
		<-p.done
	}
	// Children that outlived their leader (nginx workers) go too.
	_ = syscall.Kill(-p.pgid(), syscall.SIGKILL)
}

// kill kills p's process group with SIGKILL, as a crash would, and waits
// up to five seconds for p to be reaped.
func (p *proc) kill() error {
	if p.exited() {
		return fmt.Errorf("%s had already exited: %v", p.name, p.err)
	}
	if err := syscall.Kill(-p.pgid(), syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill %s: %w", p.name, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("kill %s: still running after 5s", p.name)
	}
}

// logTail returns the last lines of p's output, for error messages.
func (p *proc) logTail() string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

// waitReady waits until addr accepts TCP connections, p exits or ten
// seconds pass.
func (p *proc) waitReady(ctx context.Context, addrs ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, addr := range addrs {
		for {
			if p.exited() {
				return fmt.Errorf("%s exited before listening on %s: %v\n%s", p.name, addr, p.err, p.logTail())
			}
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s not listening on %s: %w\n%s", p.name, addr, ctx.Err(), p.logTail())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// freePorts returns n distinct free loopback ports. Another process could
// take one before the driver's child does; the readiness check would then
// fail loudly.
func freePorts(n int) ([]int, error) {
	lns := make([]net.Listener, 0, n)
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// loopback returns "127.0.0.1:port".
func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// procs is the set of processes the driver started; stopAll stops them in
// reverse order.
type procs struct{ list []*proc }

func (ps *procs) add(p *proc) { ps.list = append(ps.list, p) }

func (ps *procs) stopAll() error {
	var errs []error
	for i := len(ps.list) - 1; i >= 0; i-- {
		p := ps.list[i]
		p.stop()
		if p.err != nil && !isSignalExit(p.err) {
			errs = append(errs, fmt.Errorf("%s: %w", p.name, p.err))
		}
	}
	ps.list = nil
	return errors.Join(errs...)
}

// isSignalExit reports whether err is the exit of a process killed by a
// signal, or one that returned 0 after SIGTERM.
func isSignalExit(err error) bool {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return true
		}
	}
	return false
}
