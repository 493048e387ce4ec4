package observe

import (
	"log/slog"
	"slices"
	"testing"
)

func TestRedactAddr(t *testing.T) {
	tests := []struct {
		name, addr, want string
	}{
		{"plain", "http://192.0.2.1:8080", "http://192.0.2.1:8080"},
		{"empty", "", ""},
		{"user and password", "http://svc:s3cret@192.0.2.1:8080/base", "http://192.0.2.1:8080/base"},
		{"token as user", "https://s3cret@api.internal", "https://api.internal"},
		{"at sign in path", "http://192.0.2.1/users/@me", "http://192.0.2.1/users/@me"},
		{"unparsable", "http://s3cret@[::1", "(unparsable backend address)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redactAddr(tt.addr); got != tt.want {
				t.Errorf("redactAddr(%q) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}

func TestObserversRedactAddr(t *testing.T) {
	h := &recordingHandler{min: slog.LevelDebug}
	e := upstream(UpstreamSucceeded, "http://svc:s3cret@192.0.2.1:8080", 200, "", 0)
	m := NewMetrics()
	Multi(Slog(slog.New(h)), m).Observe(t.Context(), e)
	if got := attrs(h.records[0]); !slices.Contains(got, "addr=http://192.0.2.1:8080") {
		t.Errorf("slog attrs = %q, want addr without credentials", got)
	}
	if got := m.Snapshot()[0].Addr; got != "http://192.0.2.1:8080" {
		t.Errorf("metrics Addr = %q, want it without credentials", got)
	}
}
