package main

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"text/template"
)

//go:embed haproxy/haproxy.cfg.tmpl
var haproxyFiles embed.FS

// haproxyInstall is an haproxy binary.
type haproxyInstall struct {
	bin, version string
}

// findHaproxy looks for haproxy (Debian: the haproxy package). It returns
// a reason when it is not installed.
func findHaproxy() (haproxyInstall, string) {
	bin := lookSbin("haproxy")
	if bin == "" {
		return haproxyInstall{}, "haproxy is not installed (Debian: apt-get install haproxy, or run.sh without --no-install)"
	}
	out, err := exec.Command(bin, "-v").CombinedOutput()
	if err != nil {
		return haproxyInstall{}, fmt.Sprintf("%s -v: %v", bin, err)
	}
	return haproxyInstall{bin: bin, version: haproxyVersion(string(out))}, ""
}

// haproxyVersion extracts the version from the output of haproxy -v:
// "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/".
func haproxyVersion(out string) string {
	line, _, _ := strings.Cut(out, "\n")
	f := strings.Fields(line)
	for i, w := range f {
		if strings.EqualFold(w, "version") && i+1 < len(f) {
			return f[i+1]
		}
	}
	return strings.TrimSpace(line)
}

// writeHaproxyConfig writes haproxy.cfg into dir for a TCP proxy listening
// on listen and forwarding every connection to data; it returns the
// configuration's path.
func writeHaproxyConfig(dir, listen, data string) (string, error) {
	tmpl, err := template.ParseFS(haproxyFiles, "haproxy/haproxy.cfg.tmpl")
	if err != nil {
		return "", fmt.Errorf("haproxy config: %w", err)
	}
	var conf bytes.Buffer
	params := struct {
		Dir, Listen, Data string
		MaxConn           int
	}{dir, listen, data, haproxyMaxConn(fileLimit())}
	if err := tmpl.Execute(&conf, params); err != nil {
		return "", fmt.Errorf("haproxy config: %w", err)
	}
	p := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(p, conf.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("haproxy config: %w", err)
	}
	return p, nil
}

// haproxyMaxConn returns the connection limit to give haproxy when it may
// open up to limit files: 4096 (the benchmark opens at most a few hundred
// connections), less when the limit is low, since haproxy refuses to start
// when it cannot have about three descriptors per connection (client,
// server and a splice pipe).
func haproxyMaxConn(limit uint64) int {
	const want, reserve = 4096, 100
	if limit < 3*want+reserve {
		return max(64, int((max(limit, reserve)-reserve)/3))
	}
	return want
}

// fileLimit returns the hard limit on open files, which haproxy may raise
// its own soft limit to.
func fileLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 1024
	}
	return rl.Max
}

// haproxyArgs returns the command line that runs haproxy in the foreground
// (-db) with the configuration conf.
func haproxyArgs(conf string) []string {
	return []string{"-db", "-f", conf}
}
