package main

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"
)

//go:embed nginx/nginx.conf.tmpl nginx/gateway.js
var nginxFiles embed.FS

// nginxInstall is an nginx binary with its njs module.
type nginxInstall struct {
	bin, module, version string
}

// findNginx looks for nginx and the njs module (Debian: the nginx and
// libnginx-mod-http-js packages). It returns a reason when they are not
// both installed.
func findNginx() (nginxInstall, string) {
	bin := lookSbin("nginx")
	if bin == "" {
		return nginxInstall{}, "nginx is not installed (Debian: apt-get install nginx libnginx-mod-http-js, or run.sh without --no-install)"
	}
	out, err := exec.Command(bin, "-V").CombinedOutput()
	if err != nil {
		return nginxInstall{}, fmt.Sprintf("%s -V: %v", bin, err)
	}
	modDir := ""
	for f := range strings.FieldsSeq(string(out)) {
		if v, ok := strings.CutPrefix(f, "--modules-path="); ok {
			modDir = v
		}
	}
	version, _, _ := strings.Cut(string(out), "\n")
	version = strings.TrimPrefix(strings.TrimSpace(version), "nginx version: ")
	version = strings.TrimPrefix(version, "nginx/")
	for _, dir := range []string{modDir, "/usr/lib/nginx/modules", "/usr/lib64/nginx/modules"} {
		if dir == "" {
			continue
		}
		mod := filepath.Join(dir, "ngx_http_js_module.so")
		if _, err := os.Stat(mod); err == nil {
			return nginxInstall{bin: bin, module: mod, version: version}, ""
		}
	}
	return nginxInstall{}, "the nginx njs module is not installed (Debian: apt-get install libnginx-mod-http-js, or run.sh without --no-install)"
}

// lookSbin returns the path of the program name: on PATH, else in
// /usr/sbin or /usr/local/sbin (not on a user's PATH on Debian), else "".
func lookSbin(name string) string {
	if bin, err := exec.LookPath(name); err == nil {
		return bin
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// writeNginxConfig writes nginx.conf and gateway.js into dir for a server
// listening on listen and proxying to the auth and data addresses; it
// returns the configuration's path.
func writeNginxConfig(ni nginxInstall, dir, listen, auth, data string) (string, error) {
	tmpl, err := template.ParseFS(nginxFiles, "nginx/nginx.conf.tmpl")
	if err != nil {
		return "", fmt.Errorf("nginx config: %w", err)
	}
	var conf bytes.Buffer
	err = tmpl.Execute(&conf, struct{ Module, Dir, Listen, Auth, Data string }{
		ni.module, dir, listen, auth, data,
	})
	if err != nil {
		return "", fmt.Errorf("nginx config: %w", err)
	}
	js, err := nginxFiles.ReadFile("nginx/gateway.js")
	if err != nil {
		return "", fmt.Errorf("nginx config: %w", err)
	}
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, conf.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("nginx config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gateway.js"), js, 0o644); err != nil {
		return "", fmt.Errorf("nginx config: %w", err)
	}
	return confPath, nil
}

// nginxArgs returns the command line that runs nginx in the foreground
// with the configuration in dir.
func nginxArgs(dir, conf string) []string {
	return []string{"-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", conf}
}
