package main

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/apigate-go/apigate/bench/internal/contracttest"
)

func TestHaproxyConfig(t *testing.T) {
	dir := t.TempDir()
	conf, err := writeHaproxyConfig(dir, "127.0.0.1:18080", "127.0.0.1:19001")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"nbthread 2\n",
		"mode tcp\n",
		"no log\n",
		"option splice-auto\n",
		"bind 127.0.0.1:18080 ",
		"server data 127.0.0.1:19001\n",
		"pidfile " + dir + "/haproxy.pid\n",
		"maxconn " + strconv.Itoa(haproxyMaxConn(fileLimit())) + "\n",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("config lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "{{") || strings.Contains(string(b), "mode http") {
		t.Errorf("config is not a filled-in TCP proxy:\n%s", b)
	}
	hp, why := findHaproxy()
	if why != "" {
		t.Skip(why)
	}
	// haproxy -c parses the configuration without serving.
	if out, err := exec.Command(hp.bin, "-c", "-f", conf).CombinedOutput(); err != nil {
		t.Errorf("haproxy -c: %v\n%s", err, out)
	}
}

func TestHaproxyMaxConn(t *testing.T) {
	tests := []struct {
		limit uint64
		want  int
	}{
		{1 << 20, 4096},
		{20000, 4096},
		{3*4096 + 100, 4096},
		{3*4096 + 99, 4095},
		{1024, 308},
		{50, 64},
	}
	for _, tt := range tests {
		if got := haproxyMaxConn(tt.limit); got != tt.want {
			t.Errorf("haproxyMaxConn(%d) = %d, want %d", tt.limit, got, tt.want)
		}
	}
}

func TestHaproxyVersion(t *testing.T) {
	out := "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\nStatus: long-term supported branch\n"
	if got := haproxyVersion(out); got != "2.6.12-1+deb12u4" {
		t.Errorf("haproxyVersion = %q", got)
	}
	if got := haproxyVersion("HA-Proxy version 1.8.19 2019/02/11\n"); got != "1.8.19" {
		t.Errorf("haproxyVersion (1.8) = %q", got)
	}
}

// TestValidateL4 runs haproxy in front of the mock data service and checks
// that validation keeps it when it answers the direct requests as the data
// service does, sends it none of the bad requests (which would reach the
// data service), and drops a row that forwards elsewhere.
func TestValidateL4(t *testing.T) {
	hp, why := findHaproxy()
	if why != "" {
		t.Skip(why)
	}
	b := contracttest.StartBackends(t)
	start := func(upstream string) *row {
		t.Helper()
		dir := t.TempDir()
		ports, err := freePorts(1)
		if err != nil {
			t.Fatal(err)
		}
		addr := loopback(ports[0])
		conf, err := writeHaproxyConfig(dir, addr, strings.TrimPrefix(upstream, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := startProc(rowL4, dir, hp.bin, haproxyArgs(conf), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.stop)
		if err := p.waitReady(t.Context(), addr); err != nil {
			t.Fatal(err)
		}
		return &row{name: rowL4, base: "http://" + addr, direct: true, proc: p}
	}

	s := &suite{
		cfg:     config{routes: []string{"items", "my-items", "search", "lookup"}},
		dataURL: b.DataURL,
		token:   b.Token,
		rows:    []*row{{name: rowDirect, base: b.DataURL, direct: true}, start(b.DataURL)},
	}
	if err := s.validate(t.Context(), new(strings.Builder)); err != nil {
		t.Fatal(err)
	}
	if s.failed || len(s.rows) != 2 {
		t.Fatalf("l4 in front of the data service failed validation: %q", s.notes)
	}
	// Four direct requests to learn the answers, four through haproxy:
	// no bad request went through.
	if got := b.DataHits(); got != 8 {
		t.Errorf("data service saw %d requests, want 8", got)
	}
	if len(s.notes) != 1 || !strings.Contains(s.notes[0], "validates nothing") {
		t.Errorf("notes %q, want one saying why l4 skips the bad requests", s.notes)
	}

	// haproxy forwarding to the auth service answers differently.
	s = &suite{
		cfg:     config{routes: []string{"items"}},
		dataURL: b.DataURL,
		token:   b.Token,
		rows:    []*row{start(b.AuthURL)},
	}
	if err := s.validate(t.Context(), new(strings.Builder)); err != nil {
		t.Fatal(err)
	}
	if !s.failed || len(s.rows) != 0 {
		t.Errorf("l4 forwarding to the wrong service kept (failed %v, rows %d)", s.failed, len(s.rows))
	}
}
