package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestServeDebug(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveDebug(ctx, addr) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serveDebug: %v", err)
		}
	}()

	var resp *http.Response
	for range 100 { // up to a second for the listener
		if resp, err = http.Get("http://" + addr + "/goroutines"); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if n, err := strconv.Atoi(string(b)); err != nil || n < 2 || resp.StatusCode != http.StatusOK {
		t.Errorf("GET /goroutines = %d %q, want 200 and a count of at least 2", resp.StatusCode, b)
	}
}

func TestServeDebugLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "nonsense"} {
		if err := serveDebug(context.Background(), addr); err == nil {
			t.Errorf("serveDebug(%q): no error, want refusal", addr)
		}
	}
}
