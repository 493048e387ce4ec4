package resilience

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// CheckerConfig configures a [Checker]. Every field must be set; the
// caller applies defaults.
type CheckerConfig struct {
	// Interval is the time between two probes of a backend; each wait is
	// Interval plus or minus a random Jitter, so the probes of many
	// gateways do not fall in step.
	Interval, Jitter time.Duration
	// Timeout bounds one probe.
	Timeout time.Duration
	// Healthy is how many passed probes in a row bring an unhealthy
	// backend back; Unhealthy how many failed ones in a row take a healthy
	// one out (both >= 1).
	Healthy, Unhealthy int
}

// Probe checks backend i once. It must honour ctx, which carries the
// probe's timeout, and report whether the backend passed.
type Probe func(ctx context.Context, i int) bool

// Checker probes each backend in the background and keeps its health:
// every backend starts healthy, is marked unhealthy after Unhealthy failed
// probes in a row and healthy again after Healthy passed ones. Each
// backend has its own goroutine, so a backend that hangs delays only its
// own probes.
type Checker struct {
	cfg       CheckerConfig
	probe     Probe
	unhealthy atomic.Int32
	down      []atomic.Bool
	wg        sync.WaitGroup
	// OnChange, if set before Start, is called from the probing goroutine
	// when backend i changes health.
	OnChange func(i int, healthy bool)
}

// NewChecker returns a checker of n backends that probes with p.
func NewChecker(n int, c CheckerConfig, p Probe) *Checker {
	c.Healthy, c.Unhealthy = max(c.Healthy, 1), max(c.Unhealthy, 1)
	return &Checker{cfg: c, probe: p, down: make([]atomic.Bool, n)}
}

// Unhealthy returns how many backends are unhealthy.
func (c *Checker) Unhealthy() int { return int(c.unhealthy.Load()) }

// Healthy reports whether backend i is healthy.
func (c *Checker) Healthy(i int) bool { return !c.down[i].Load() }

// Start starts probing: each backend at once, then every interval, until
// ctx is done. [Checker.Wait] waits for the probing goroutines to end.
// A backend whose probing has ended counts as healthy again, quietly
// (OnChange is not called): no probe could bring it back.
func (c *Checker) Start(ctx context.Context) {
	for i := range c.down {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.run(ctx, i)
			if c.down[i].CompareAndSwap(true, false) {
				c.unhealthy.Add(-1)
			}
		}()
	}
}

// Wait waits until every probing goroutine has returned, which they do
// soon after the context given to Start is done.
func (c *Checker) Wait() { c.wg.Wait() }

func (c *Checker) run(ctx context.Context, i int) {
	t := time.NewTimer(0)
	defer t.Stop()
	var passes, fails int
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		ok := c.probe(pctx, i)
		cancel()
		if ctx.Err() != nil {
			return // a probe cut by Close says nothing of the backend
		}
		if ok {
			passes, fails = passes+1, 0
			if passes >= c.cfg.Healthy && c.down[i].Load() {
				c.set(i, true)
			}
		} else {
			passes, fails = 0, fails+1
			if fails >= c.cfg.Unhealthy && !c.down[i].Load() {
				c.set(i, false)
			}
		}
		t.Reset(c.next())
	}
}

func (c *Checker) set(i int, healthy bool) {
	c.down[i].Store(!healthy)
	if healthy {
		c.unhealthy.Add(-1)
	} else {
		c.unhealthy.Add(1)
	}
	if c.OnChange != nil {
		c.OnChange(i, healthy)
	}
}

// next returns the wait before the next probe.
func (c *Checker) next() time.Duration {
	d := c.cfg.Interval
	if j := c.cfg.Jitter; j > 0 {
		d += rand.N(2*j+1) - j
	}
	return max(d, time.Millisecond)
}

// Carry copies backend from's health in old to backend to of c, for a
// backend that stays when a service's backend set changes. Call it before
// Start.
func (c *Checker) Carry(old *Checker, from, to int) {
	if old.down[from].Load() && !c.down[to].Load() {
		c.down[to].Store(true)
		c.unhealthy.Add(1)
	}
}
