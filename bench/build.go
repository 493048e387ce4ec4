package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// benchModule is the module path of this driver; binaries are built from
// its directory.
const benchModule = "github.com/apigate-go/apigate/bench"

// moduleDir returns the directory of the bench module, found from the
// working directory.
func moduleDir(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Path}} {{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("find the bench module (run from the bench directory): %w", err)
	}
	path, dir, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if path != benchModule {
		return "", fmt.Errorf("working directory is in module %s, want %s (run from the bench directory)", path, benchModule)
	}
	return dir, nil
}

// build compiles the command in the bench module's directory pkg (such as
// "stdlib") into dir and returns the binary's path. A failed build returns
// the compiler's output in the error.
func build(ctx context.Context, modDir, pkg, dir string) (string, error) {
	bin := filepath.Join(dir, pkg)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./"+pkg)
	cmd.Dir = modDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build ./%s: %w\n%s", pkg, err, strings.TrimSpace(string(out)))
	}
	return bin, nil
}

// buildAll compiles the commands pkgs into dir with one go build, so that
// they compile in parallel, and returns each binary's path. When that fails
// it builds them one by one, and returns the binaries that built and the
// build error of each that did not.
func buildAll(ctx context.Context, modDir, dir string, pkgs []string) (map[string]string, map[string]error) {
	bins := map[string]string{}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, p := range pkgs {
		args = append(args, "./"+p)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = modDir
	if err := cmd.Run(); err == nil {
		for _, p := range pkgs {
			bins[p] = filepath.Join(dir, p)
		}
		return bins, nil
	}
	errs := map[string]error{}
	for _, p := range pkgs {
		bin, err := build(ctx, modDir, p, dir)
		if err != nil {
			errs[p] = err
			continue
		}
		bins[p] = bin
	}
	return bins, errs
}
