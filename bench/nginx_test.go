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
	checkNginxForwarding(t, string(b))
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

// nginxForwarding are the directives every request nginx proxies must get,
// as the other gateways send them.
var nginxForwarding = []string{
	`proxy_set_header Connection "";`,
	`proxy_set_header X-Forwarded-For $remote_addr;`,
	`proxy_set_header X-Forwarded-Host $host;`,
	`proxy_set_header X-Forwarded-Proto $scheme;`,
	`proxy_set_header Forwarded "for=$remote_addr;host=$host;proto=$scheme";`,
	`proxy_set_header X-Request-Id $request_id;`,
}

// checkNginxForwarding checks that every location of conf that proxies
// sends nginxForwarding: from the http level when it sets no
// proxy_set_header of its own (nginx then inherits the http level's),
// else from its own. The responses carry the request ID.
func checkNginxForwarding(t *testing.T, conf string) {
	t.Helper()
	httpLevel, _, _ := strings.Cut(conf, "server {")
	for _, want := range append(nginxForwarding, "add_header X-Request-Id $request_id always;") {
		if !strings.Contains(httpLevel, want) {
			t.Errorf("http level lacks %q", want)
		}
	}
	proxied := 0
	for rest := conf; ; {
		i := strings.Index(rest, "\n        location ")
		if i < 0 {
			break
		}
		rest = rest[i+1:]
		end := strings.Index(rest, "\n        }")
		if end < 0 {
			t.Fatalf("unterminated location %q", rest)
		}
		block := rest[:end]
		rest = rest[end:]
		name, _, _ := strings.Cut(strings.TrimSpace(block), "{")
		name = strings.TrimSpace(name)
		if !strings.Contains(block, "proxy_pass ") {
			continue
		}
		proxied++
		if strings.Contains(block, "add_header") {
			t.Errorf("%s: add_header of its own drops the http level's X-Request-Id", name)
		}
		if !strings.Contains(block, "proxy_set_header") {
			continue // inherits the http level's
		}
		for _, want := range nginxForwarding {
			if !strings.Contains(block, want) {
				t.Errorf("%s sets proxy_set_header, so inherits none, and lacks %q", name, want)
			}
		}
	}
	if proxied != 5 {
		t.Errorf("%d locations proxy, want 5 (/items, /my-items, /_verify, @data, @lookup)", proxied)
	}
}
