package resilience

import (
	"sync/atomic"
	"time"
)

// EjectorConfig configures an [Ejector]. Every field must be set; the
// caller applies defaults.
type EjectorConfig struct {
	// Failures is how many failures in a row eject a backend (>= 1).
	Failures int
	// Base is the first ejection's duration; the n-th ejection in a row
	// lasts n × Base, capped at Max.
	Base, Max time.Duration
	// MaxEjectedPercent caps the share of backends ejected at once
	// (0–100). At least one backend may be ejected whatever the share,
	// and never the last one: with n backends, at most
	// min(n-1, max(1, n×MaxEjectedPercent/100)) are out together.
	MaxEjectedPercent int
}

// Ejector tracks consecutive failures per backend and ejects a backend
// that reaches the threshold, for a time that grows with each ejection in
// a row, as Envoy's outlier detection does (consecutive_5xx,
// base_ejection_time, max_ejection_time, max_ejection_percent).
//
// A readmitted backend is on probation: its first failure ejects it again
// at once (for longer), its first success ends the probation. The
// ejection count that multiplies Base starts over when a backend has
// stayed in for Max since its last readmission.
//
// Readmission is lazy: a backend whose time is up comes back the next
// time [Ejector.Available] looks at it, so an idle service needs no
// timer.
type Ejector struct {
	failures   int32
	base, max  int64
	maxEjected int32
	ejected    atomic.Int32
	b          []ejBackend
	// OnChange, if set before use, is called after a backend is ejected
	// (for d) or readmitted (d = 0). It runs on the goroutine that caused
	// the change and must not block.
	OnChange func(i int, ejected bool, d time.Duration)
}

type ejBackend struct {
	fails     atomic.Int32
	until     atomic.Int64 // unix nanoseconds; 0 when in
	probation atomic.Bool
	count     atomic.Int32 // ejections in a row
	lastIn    atomic.Int64 // when last readmitted
}

// NewEjector returns an ejector for n backends.
func NewEjector(n int, c EjectorConfig) *Ejector {
	m := max(1, n*c.MaxEjectedPercent/100)
	m = min(m, n-1)
	return &Ejector{
		failures:   int32(max(c.Failures, 1)),
		base:       int64(c.Base),
		max:        int64(max(c.Max, c.Base)),
		maxEjected: int32(max(m, 0)),
		b:          make([]ejBackend, n),
	}
}

// Ejected returns how many backends are out, counting those whose time is
// up but that were not yet readmitted.
func (e *Ejector) Ejected() int { return int(e.ejected.Load()) }

// Failures returns backend i's current count of failures in a row.
func (e *Ejector) Failures(i int) int { return int(e.b[i].fails.Load()) }

// Available reports whether backend i may take traffic at now,
// readmitting it if its ejection is over.
func (e *Ejector) Available(i int, now int64) bool {
	b := &e.b[i]
	until := b.until.Load()
	if until == 0 {
		return true
	}
	if now < until {
		return false
	}
	if b.until.CompareAndSwap(until, 0) {
		b.probation.Store(true)
		b.lastIn.Store(now)
		e.ejected.Add(-1)
		if e.OnChange != nil {
			e.OnChange(i, false, 0)
		}
	}
	return true
}

// Success records a good exchange with backend i.
func (e *Ejector) Success(i int) {
	b := &e.b[i]
	if b.fails.Load() != 0 {
		b.fails.Store(0)
	}
	if b.probation.Load() {
		b.probation.Store(false)
	}
}

// Failure records a failed exchange with backend i at now and reports
// whether it ejected the backend.
func (e *Ejector) Failure(i int, now int64) bool {
	b := &e.b[i]
	if b.until.Load() != 0 {
		return false // already out: an exchange that started before
	}
	if !b.probation.Load() && b.fails.Add(1) < e.failures {
		return false
	}
	b.fails.Store(0)
	return e.eject(i, now)
}

// eject takes backend i out if the cap allows.
func (e *Ejector) eject(i int, now int64) bool {
	if !e.reserve(now) {
		return false
	}
	b := &e.b[i]
	if last := b.lastIn.Load(); last != 0 && now-last > e.max {
		b.count.Store(0)
	}
	d := min(e.base*int64(b.count.Add(1)), e.max)
	if !b.until.CompareAndSwap(0, now+d) {
		e.ejected.Add(-1) // ejected meanwhile by another goroutine
		return false
	}
	b.probation.Store(false)
	if e.OnChange != nil {
		e.OnChange(i, true, time.Duration(d))
	}
	return true
}

// reserve takes one of the ejection slots, readmitting backends whose time
// is up when the slots are all taken.
func (e *Ejector) reserve(now int64) bool {
	swept := false
	for {
		k := e.ejected.Load()
		if k >= e.maxEjected {
			if swept {
				return false
			}
			for j := range e.b {
				e.Available(j, now)
			}
			swept = true
			continue
		}
		if e.ejected.CompareAndSwap(k, k+1) {
			return true
		}
	}
}

// Carry copies backend from's state in old (failures, ejection, probation,
// ejection count) to backend to of e, for a backend that stays when a
// service's backend set changes. Call it before e is in use.
func (e *Ejector) Carry(old *Ejector, from, to int) {
	o, b := &old.b[from], &e.b[to]
	b.fails.Store(o.fails.Load())
	b.probation.Store(o.probation.Load())
	b.count.Store(o.count.Load())
	b.lastIn.Store(o.lastIn.Load())
	if until := o.until.Load(); until != 0 && e.ejected.Load() < e.maxEjected {
		b.until.Store(until)
		e.ejected.Add(1)
	}
}
