package profiling

import (
	"os"
	"path/filepath"
	"testing"
)

func TestStart(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		cpu, mem string
	}{
		{"none", "", ""},
		{"cpu", filepath.Join(dir, "a.cpu"), ""},
		{"both", filepath.Join(dir, "b.cpu"), filepath.Join(dir, "b.mem")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stop, err := Start(tt.cpu, tt.mem)
			if err != nil {
				t.Fatal(err)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{tt.cpu, tt.mem} {
				if p == "" {
					continue
				}
				st, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if st.Size() == 0 {
					t.Errorf("%s is empty, want a profile", p)
				}
			}
		})
	}
	if _, err := Start(filepath.Join(dir, "missing", "x.cpu"), ""); err == nil {
		t.Error("Start into a missing directory: no error")
	}
}
