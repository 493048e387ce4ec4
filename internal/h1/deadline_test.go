package h1

import (
	"testing"
	"time"
)

func TestCoarseDeadline(t *testing.T) {
	base := time.Date(2026, 12, 6, 7, 0, 0, 123456789, time.UTC)
	for _, d := range []time.Duration{time.Millisecond, 50 * time.Millisecond, 10 * time.Second, 30 * time.Second, 120 * time.Second} {
		g := d / 64
		var prev time.Time
		changes := 0
		// Over 3 granules, the deadline never comes early, is at most a
		// granule late, and changes once per granule.
		for step := time.Duration(0); step < 3*g; step += g / 7 {
			now := base.Add(step)
			got := CoarseDeadline(now, d)
			if want := now.Add(d); got.Before(want) || got.Sub(want) >= g {
				t.Fatalf("d=%v now=%v: CoarseDeadline=%v, want in [%v, %v)", d, now, got, want, want.Add(g))
			}
			if !got.Equal(prev) {
				changes++
				prev = got
			}
		}
		if changes < 3 || changes > 4 {
			t.Errorf("d=%v: deadline changed %d times over 3 granules, want 3 or 4", d, changes)
		}
	}
	// A duration too short to divide is exact.
	now := base
	if got := CoarseDeadline(now, 10*time.Nanosecond); !got.Equal(now.Add(10 * time.Nanosecond)) {
		t.Errorf("CoarseDeadline(10ns) = %v, want exact", got)
	}
}
