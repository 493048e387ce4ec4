package main

import (
	"io"
	"slices"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(config) bool
		wantErr bool
	}{
		{"defaults", nil, func(c config) bool {
			return c.rounds == 3 && c.duration == 3*time.Second && c.rate == 2000 &&
				slices.Equal(c.routes, []string{"items", "my-items", "search", "lookup"}) &&
				slices.Equal(c.rows, knownRows()) && c.generator == "auto"
		}, false},
		{"quick", []string{"-quick"}, func(c config) bool {
			// 28 cells of 1.7 s: 47.6 s, twice that and 3m.
			return c.quick && c.rounds == 1 && c.duration == time.Second && c.timeout == 3*time.Minute+95200*time.Millisecond
		}, false},
		{"the default timeout follows the measurements' length", []string{"-rounds", "5", "-latency-duration", "5s"}, func(c config) bool {
			// 140 cells of 0.5 + 3 + 5 s: 19m50s, twice that and 3m.
			return c.timeout == 2*(19*time.Minute+50*time.Second)+3*time.Minute
		}, false},
		{"a short run keeps the 20m bound", []string{"-routes", "items", "-gateways", "apigate"}, func(c config) bool {
			return c.timeout == 20*time.Minute
		}, false},
		{"an explicit timeout is kept", []string{"-rounds", "5", "-timeout", "5m"}, func(c config) bool {
			return c.timeout == 5*time.Minute
		}, false},
		{"quick keeps explicit flags", []string{"-quick", "-rounds", "2", "-rate", "500"}, func(c config) bool {
			return c.rounds == 2 && c.rate == 500 && c.duration == time.Second
		}, false},
		{"selection in report order, deduplicated", []string{"-routes", "lookup, items,lookup", "-gateways", "stdlib,direct"}, func(c config) bool {
			return slices.Equal(c.routes, []string{"items", "lookup"}) && slices.Equal(c.rows, []string{"direct", "stdlib"})
		}, false},
		{"unknown route", []string{"-routes", "nope"}, nil, true},
		{"unknown gateway", []string{"-gateways", "envoy"}, nil, true},
		{"empty selection", []string{"-routes", ","}, nil, true},
		{"bad generator", []string{"-generator", "ab"}, nil, true},
		{"negative rate", []string{"-rate", "-1"}, nil, true},
		{"stray argument", []string{"now"}, nil, true},
		{"soak defaults", []string{"-soak"}, func(c config) bool {
			return c.soak && c.soakDuration == 5*time.Minute && c.soakWindow == 5*time.Second &&
				c.soakRate == 0 && c.timeout == 8*time.Minute
		}, false},
		{"quick soak", []string{"-soak", "-quick"}, func(c config) bool {
			return c.soakDuration == 30*time.Second && c.soakWindow == 3*time.Second && c.timeout == 3*time.Minute+30*time.Second
		}, false},
		{"soak flags", []string{"-soak", "-soak-duration", "1m", "-soak-rate", "500", "-timeout", "2m"}, func(c config) bool {
			return c.soakDuration == time.Minute && c.soakRate == 500 && c.timeout == 2*time.Minute
		}, false},
		{"ten-minute soak: the timeout follows", []string{"-soak", "-soak-duration", "10m"}, func(c config) bool {
			return c.soakDuration == 10*time.Minute && c.soakWindow == 5*time.Second && c.timeout == 13*time.Minute
		}, false},
		{"l4 row", []string{"-gateways", "nginx,l4,direct"}, func(c config) bool {
			return slices.Equal(c.rows, []string{"direct", "l4", "nginx"})
		}, false},
		{"soak flag without -soak", []string{"-soak-rate", "500"}, nil, true},
		{"soak shorter than two windows", []string{"-soak", "-soak-duration", "8s"}, nil, true},
		{"negative soak rate", []string{"-soak", "-soak-rate", "-5"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.args, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error: %v", err, tt.wantErr)
			}
			if err == nil && !tt.check(c) {
				t.Errorf("config %+v", c)
			}
		})
	}
}
