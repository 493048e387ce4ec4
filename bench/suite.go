package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/apigate-go/apigate/bench/internal/contract"
	"github.com/apigate-go/apigate/bench/internal/load"
)

// row is one line of each route's table: a gateway, or the data service
// itself.
type row struct {
	name string
	base string // URL the load goes to
	// direct rows (direct, l4 and go-floor) are sent the requests that
	// reach the data service once a gateway has done its work.
	direct bool
	// proc is the process whose CPU and memory are measured, nil for the
	// direct row.
	proc *proc
}

// closedLoop is a closed-loop load generator.
type closedLoop interface {
	Closed(ctx context.Context, t load.Target, conns int, d time.Duration) (load.Throughput, error)
}

// goClosed is the built-in closed-loop generator.
type goClosed struct{}

func (goClosed) Closed(ctx context.Context, t load.Target, conns int, d time.Duration) (load.Throughput, error) {
	return load.Closed(ctx, t, conns, d)
}

// suite holds the processes and rows of one run.
type suite struct {
	cfg              config
	modDir           string
	tmp              string
	procs            procs
	authURL, dataURL string
	token            string
	rows             []*row
	notes            []string // skipped rows, validation failures
	failed           bool
	closed           closedLoop
	closedDesc       string
	nginxVersion     string
	haproxyVersion   string
	// idle RSS of each measured process at the start of every cell.
	idle idleRSS
	// 1-minute load averages before setup and after the measurements.
	loadBefore, loadAfter float64
}

// setup builds the binaries, starts the backends and the gateways, and
// validates every gateway. Processes it started are stopped by teardown,
// also when setup fails.
func (s *suite) setup(ctx context.Context, stderr io.Writer) error {
	var err error
	if s.modDir, err = moduleDir(ctx); err != nil {
		return err
	}
	if s.tmp, err = os.MkdirTemp("", "apigate-bench-"); err != nil {
		return err
	}
	if s.cfg.profile != "" {
		if s.cfg.profile, err = filepath.Abs(s.cfg.profile); err != nil {
			return err
		}
		if err := os.MkdirAll(s.cfg.profile, 0o755); err != nil {
			return err
		}
	}
	s.chooseGenerator()

	fmt.Fprintln(stderr, "building binaries…")
	pkgs := []string{"backend"}
	for _, name := range s.cfg.rows {
		switch name {
		case rowStdlib:
			pkgs = append(pkgs, "stdlib")
		case rowApigate:
			pkgs = append(pkgs, "gateway")
		case rowFloor:
			pkgs = append(pkgs, "floor")
		}
	}
	built, buildErrs := buildAll(ctx, s.modDir, s.tmp, pkgs)
	for _, pkg := range []string{"backend", "stdlib"} {
		if err := buildErrs[pkg]; err != nil {
			return err
		}
	}
	backendBin := built["backend"]
	bins := map[string]string{}
	var ng nginxInstall
	var hp haproxyInstall
	for _, name := range s.cfg.rows {
		switch name {
		case rowStdlib:
			bins[name] = built["stdlib"]
		case rowApigate:
			if err := buildErrs["gateway"]; err != nil {
				s.note(stderr, "apigate skipped: its gateway does not build:\n%v", err)
			} else {
				bins[name] = built["gateway"]
			}
		case rowFloor:
			if err := buildErrs["floor"]; err != nil {
				return err
			}
			bins[name] = built["floor"]
		case rowNginx, rowTwin:
			var why string
			if ng, why = findNginx(); why != "" {
				s.note(stderr, "%s skipped: %s", name, why)
			} else {
				bins[name] = ng.bin
				s.nginxVersion = ng.version
			}
		case rowL4:
			var why string
			if hp, why = findHaproxy(); why != "" {
				s.note(stderr, "l4 skipped: %s", why)
			} else {
				bins[name] = hp.bin
				s.haproxyVersion = hp.version
			}
		}
	}

	ports, err := freePorts(2 + len(s.cfg.rows))
	if err != nil {
		return err
	}
	authAddr, dataAddr := loopback(ports[0]), loopback(ports[1])
	s.authURL, s.dataURL = "http://"+authAddr, "http://"+dataAddr
	goEnv := []string{}
	if s.cfg.gomaxprocs > 0 {
		goEnv = append(goEnv, "GOMAXPROCS="+strconv.Itoa(s.cfg.gomaxprocs))
	}
	backend, err := startProc("backend", s.tmp, backendBin, []string{"-auth", authAddr, "-data", dataAddr}, goEnv)
	if err != nil {
		return err
	}
	s.procs.add(backend)
	if err := backend.waitReady(ctx, authAddr, dataAddr); err != nil {
		return err
	}
	if s.token, err = fetchToken(ctx, s.authURL); err != nil {
		return err
	}

	for i, name := range s.cfg.rows {
		if name == rowDirect {
			s.rows = append(s.rows, &row{name: name, base: s.dataURL, direct: true})
			continue
		}
		bin, ok := bins[name]
		if !ok {
			continue
		}
		addr := loopback(ports[2+i])
		var p *proc
		switch name {
		case rowL4:
			dir, err := os.MkdirTemp(s.tmp, "haproxy-")
			if err != nil {
				return err
			}
			conf, err := writeHaproxyConfig(dir, addr, dataAddr)
			if err != nil {
				return err
			}
			if p, err = startProc(name, s.tmp, bin, haproxyArgs(conf), nil); err != nil {
				return err
			}
		case rowNginx, rowTwin:
			dir, err := os.MkdirTemp(s.tmp, name+"-")
			if err != nil {
				return err
			}
			conf, err := writeNginxConfig(ng, dir, addr, authAddr, dataAddr)
			if err != nil {
				return err
			}
			p, err = startProc(name, s.tmp, bin, nginxArgs(dir, conf), nil)
			if err != nil {
				return err
			}
		default:
			args := []string{"-addr", addr, "-auth", s.authURL, "-data", s.dataURL}
			if s.cfg.profile != "" {
				args = append(args,
					"-cpuprofile", filepath.Join(s.cfg.profile, name+".cpu.pprof"),
					"-memprofile", filepath.Join(s.cfg.profile, name+".allocs.pprof"))
			}
			if p, err = startProc(name, s.tmp, bin, args, goEnv); err != nil {
				return err
			}
		}
		s.procs.add(p)
		if err := p.waitReady(ctx, addr); err != nil {
			return err
		}
		s.rows = append(s.rows, &row{name: name, base: "http://" + addr, direct: name == rowL4 || name == rowFloor, proc: p})
	}
	return s.validate(ctx, stderr)
}

func (s *suite) chooseGenerator() {
	wrk := load.FindWrk()
	switch {
	case s.cfg.generator == "go" || (s.cfg.generator == "auto" && wrk == ""):
		s.closed = goClosed{}
		s.closedDesc = "the built-in Go generator (fasthttp client)"
		if wrk == "" {
			s.closedDesc += "; wrk is not installed"
		}
	default:
		w := load.Wrk{Path: wrk, Threads: s.cfg.wrkThreads, Dir: s.tmp}
		if wrk == "" {
			// -generator wrk without wrk: fail at the first measurement
			// with a clear error rather than measure something else.
			w.Path = "wrk"
		}
		s.closed = w
		s.closedDesc = fmt.Sprintf("wrk (%s, %d thread(s))", w.Version(), w.Threads)
	}
}

// note records and prints a message for the report.
func (s *suite) note(stderr io.Writer, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintln(stderr, msg)
	s.notes = append(s.notes, msg)
}

// teardown stops every process and removes the scratch directory.
func (s *suite) teardown() error {
	err := s.procs.stopAll()
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
	return err
}

// fetchToken asks the auth service for a token for contract.UserID.
func fetchToken(ctx context.Context, authURL string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, authURL+"/token?user_id="+contract.UserID, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("fetch token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("fetch token: status %d, %v: %s", resp.StatusCode, err, bytes.TrimSpace(body))
	}
	var tok struct{ Token string }
	if err := json.Unmarshal(body, &tok); err != nil || tok.Token == "" {
		return "", fmt.Errorf("fetch token: bad answer %q", body)
	}
	return tok.Token, nil
}
