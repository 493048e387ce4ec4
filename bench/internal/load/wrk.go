package load

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Wrk runs closed loops with the wrk tool.
type Wrk struct {
	// Path is the wrk executable.
	Path string
	// Threads is wrk's thread count (-t); 0 means 1.
	Threads int
	// Dir is a scratch directory for the Lua scripts.
	Dir string
}

// FindWrk returns the path of wrk on $PATH, "" when it is not installed.
func FindWrk() string {
	p, err := exec.LookPath("wrk")
	if err != nil {
		return ""
	}
	return p
}

// Version returns wrk's version, such as "wrk 4.2.0 [epoll]".
func (w Wrk) Version() string {
	out, _ := exec.Command(w.Path, "-v").CombinedOutput()
	line, _, _ := strings.Cut(string(out), "\n")
	line, _, _ = strings.Cut(line, " Copyright")
	return strings.TrimSpace(line)
}

// Closed runs a closed loop against t: conns keep-alive connections for d,
// rounded up to whole seconds (wrk's resolution). Errors are wrk's socket
// errors plus responses outside 2xx and 3xx.
func (w Wrk) Closed(ctx context.Context, t Target, conns int, d time.Duration) (Throughput, error) {
	if _, err := checkLoopback(t.Base); err != nil {
		return Throughput{}, err
	}
	script, err := w.script(t)
	if err != nil {
		return Throughput{}, err
	}
	threads := max(w.Threads, 1)
	secs := max(int((d+time.Second-1)/time.Second), 1)
	// wrk stops by itself after secs; the context bounds it in any case.
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.Path,
		"-t", strconv.Itoa(threads), "-c", strconv.Itoa(max(conns, threads)),
		"-d", strconv.Itoa(secs)+"s", "--timeout", "5s", "-s", script,
		t.Base+t.Request.Path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return Throughput{}, fmt.Errorf("load: wrk: %w: %s", err, out)
	}
	return parseWrk(out)
}

// script writes the Lua script that makes wrk send t's request and print
// a machine-readable summary.
func (w Wrk) script(t Target) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "wrk.method = %s\n", luaString(t.Request.Method))
	if t.Request.Body != nil {
		fmt.Fprintf(&b, "wrk.body = %s\n", luaString(string(t.Request.Body)))
	}
	for _, h := range t.Request.Header {
		fmt.Fprintf(&b, "wrk.headers[%s] = %s\n", luaString(h.Key), luaString(h.Value))
	}
	b.WriteString(`done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKRESULT %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout))
end
`)
	f, err := os.CreateTemp(w.Dir, "wrk-*.lua")
	if err != nil {
		return "", fmt.Errorf("load: wrk script: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(b.String()); err != nil {
		return "", fmt.Errorf("load: wrk script: %w", err)
	}
	return filepath.Clean(f.Name()), nil
}

// luaString quotes s as a Lua string literal.
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// parseWrk reads the WRKRESULT line of the script's done function:
// requests, duration in µs, then connect, read, write, status and timeout
// error counts.
func parseWrk(out []byte) (Throughput, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "WRKRESULT ")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 7 {
			break
		}
		var n [7]int64
		for i, s := range f {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return Throughput{}, fmt.Errorf("load: wrk result %q: %w", rest, err)
			}
			n[i] = v
		}
		return Throughput{
			Requests: n[0],
			Elapsed:  time.Duration(n[1]) * time.Microsecond,
			Errors:   n[2] + n[3] + n[4] + n[5] + n[6],
		}, nil
	}
	return Throughput{}, fmt.Errorf("load: no result in wrk output: %s", out)
}
