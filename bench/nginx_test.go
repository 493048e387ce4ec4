package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/apigate-go/apigate/bench/internal/contracttest"
)

func TestNginxConfig(t *testing.T) {
	dir := t.TempDir()
	ni := nginxInstall{bin: "nginx", module: "/modules/ngx_http_js_module.so"}
	if found, why := findNginx(); why == "" {
		ni = found
	}
	conf, err := writeNginxConfig(ni, dir, "127.0.0.1:18080", "127.0.0.1:19000", "127.0.0.1:19001")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"load_module " + ni.module + ";",
		"listen 127.0.0.1:18080 ",
		"server 127.0.0.1:19000;",
		"server 127.0.0.1:19001;",
		"js_import gw from " + dir + "/gateway.js;",
		"worker_processes 2;",
		"access_log off;",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("config lacks %q", want)
		}
	}
	if _, err := os.Stat(dir + "/gateway.js"); err != nil {
		t.Error(err)
	}
	if _, why := findNginx(); why != "" {
		t.Skip(why)
	}
	// nginx -t parses the configuration and loads njs, without serving.
	out, err := exec.Command(ni.bin, append(nginxArgs(dir, conf), "-t")...).CombinedOutput()
	if err != nil {
		t.Errorf("nginx -t: %v\n%s", err, out)
	}
}

// TestNginxContract runs the contract tests against nginx with the njs
// handlers, when nginx and njs are installed.
func TestNginxContract(t *testing.T) {
	ni, why := findNginx()
	if why != "" {
		t.Skip(why)
	}
	b := contracttest.StartBackends(t)
	dir := t.TempDir()
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	addr := loopback(ports[0])
	conf, err := writeNginxConfig(ni, dir, addr, strings.TrimPrefix(b.AuthURL, "http://"), strings.TrimPrefix(b.DataURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := startProc("nginx", dir, ni.bin, nginxArgs(dir, conf), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	if err := p.waitReady(t.Context(), addr); err != nil {
		t.Fatal(err)
	}
	contracttest.RunURL(t, b, "http://"+addr)
}
