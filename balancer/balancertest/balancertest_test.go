package balancertest

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/apigate-go/apigate/balancer"
)

// rotor is a minimal correct balancer: rotation among the least loaded.
type rotor struct {
	next atomic.Uint64
	load []atomic.Int64

	leakOnError bool // Done ignores requests that failed
}

func newRotor(bs []balancer.Backend) *rotor { return &rotor{load: make([]atomic.Int64, len(bs))} }

func (r *rotor) Pick(c []balancer.Backend, _ string) int {
	if len(c) == 0 {
		return -1
	}
	start := int(r.next.Add(1) % uint64(len(c)))
	best := start
	for j := range c {
		i := (start + j) % len(c)
		if r.load[c[i].Index].Load() < r.load[c[best].Index].Load() {
			best = i
		}
	}
	return best
}

func (r *rotor) Start(i int) { r.load[i].Add(1) }

func (r *rotor) Done(i int, res balancer.Result) {
	if r.leakOnError && res.Err != nil {
		return
	}
	r.load[i].Add(-1)
}

// pickFunc adapts a function to balancer.Balancer (no Tracker).
type pickFunc func([]balancer.Backend, string) int

func (f pickFunc) Pick(c []balancer.Backend, key string) int { return f(c, key) }

func TestChecksPassCorrectBalancer(t *testing.T) {
	f := func(bs []balancer.Backend) balancer.Balancer { return newRotor(bs) }
	for _, c := range checks {
		if errs := c.run(f); len(errs) > 0 {
			t.Errorf("%s: correct balancer failed: %v", c.name, errors.Join(errs...))
		}
	}
}

func TestChecksCatchBrokenBalancers(t *testing.T) {
	shared := newRotor(backends(40))
	tests := []struct {
		name      string
		f         balancer.Factory
		wantFails string // the check that must report it
	}{
		{"zero for empty", func([]balancer.Backend) balancer.Balancer {
			return pickFunc(func(c []balancer.Backend, _ string) int { return 0 })
		}, "Empty"},
		{"out of range", func([]balancer.Backend) balancer.Balancer {
			return pickFunc(func(c []balancer.Backend, _ string) int { return len(c) - 1 + len(c)%2 })
		}, "ValidIndex"},
		{"always first", func([]balancer.Backend) balancer.Balancer {
			return pickFunc(func(c []balancer.Backend, _ string) int { return len(c) - 1 })
		}, "KeylessSpread"},
		{"sorts candidates", func([]balancer.Backend) balancer.Balancer {
			return pickFunc(func(c []balancer.Backend, _ string) int {
				if len(c) > 1 && c[0].Index > c[1].Index {
					c[0], c[1] = c[1], c[0]
				}
				return len(c) - 1
			})
		}, "NoMutation"},
		{"leaks cancelled requests", func(bs []balancer.Backend) balancer.Balancer {
			r := newRotor(bs)
			r.leakOnError = true
			return r
		}, "TrackerBalanced"},
		{"shares state", func([]balancer.Backend) balancer.Balancer { return shared }, "Independent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range checks {
				if c.name != tt.wantFails {
					continue
				}
				if errs := c.run(tt.f); len(errs) == 0 {
					t.Errorf("check %s passed a balancer that %s", c.name, tt.name)
				} else {
					t.Logf("%s reported: %v", c.name, errs[0])
				}
			}
		})
	}
}

func TestRun(t *testing.T) {
	Run(t, func(bs []balancer.Backend) balancer.Balancer { return newRotor(bs) })
}
