package resilience

import (
	"testing"
	"time"
)

const sec = int64(time.Second)

type change struct {
	i       int
	ejected bool
	d       time.Duration
}

func newTestEjector(n int, c EjectorConfig) (*Ejector, *[]change) {
	e := NewEjector(n, c)
	var log []change
	e.OnChange = func(i int, ej bool, d time.Duration) { log = append(log, change{i, ej, d}) }
	return e, &log
}

func TestEjectorConsecutive(t *testing.T) {
	e, log := newTestEjector(3, EjectorConfig{Failures: 3, Base: 10 * time.Second, Max: 25 * time.Second, MaxEjectedPercent: 50})
	// Failures interrupted by a success do not add up.
	e.Failure(0, 0)
	e.Failure(0, 0)
	e.Success(0)
	e.Failure(0, 0)
	if e.Failure(0, 0) {
		t.Fatal("ejected after 2 failures in a row, want 3")
	}
	if !e.Failure(0, 0) {
		t.Fatal("not ejected after 3 failures in a row")
	}
	if e.Available(0, 9*sec) {
		t.Error("available before the ejection time is up")
	}
	if got := e.Ejected(); got != 1 {
		t.Errorf("Ejected() = %d, want 1", got)
	}
	// Readmitted after 10s, on probation: one failure ejects it for 2×10s.
	if !e.Available(0, 10*sec) {
		t.Fatal("not readmitted after the ejection time")
	}
	if got := e.Ejected(); got != 0 {
		t.Errorf("Ejected() after readmission = %d, want 0", got)
	}
	if !e.Failure(0, 11*sec) {
		t.Fatal("a failure on probation did not eject")
	}
	if e.Available(0, 30*sec) || !e.Available(0, 31*sec) {
		t.Error("second ejection should last 20s (base × 2)")
	}
	// Third in a row: 30s capped at 25s.
	e.Failure(0, 31*sec)
	if e.Available(0, 55*sec) || !e.Available(0, 56*sec) {
		t.Error("third ejection should be capped at 25s")
	}
	// A success ends the probation: it takes 3 failures again, and after
	// staying in longer than Max the multiplier starts over.
	e.Success(0)
	e.Failure(0, 90*sec)
	e.Failure(0, 90*sec)
	if !e.Failure(0, 90*sec) {
		t.Fatal("not ejected after probation ended and 3 failures")
	}
	if e.Available(0, 99*sec) || !e.Available(0, 100*sec) {
		t.Error("after 34s in (more than Max), the ejection should be back to the base 10s")
	}
	want := []change{{0, true, 10 * time.Second}, {0, false, 0}, {0, true, 20 * time.Second}, {0, false, 0},
		{0, true, 25 * time.Second}, {0, false, 0}, {0, true, 10 * time.Second}, {0, false, 0}}
	if len(*log) != len(want) {
		t.Fatalf("changes = %v, want %v", *log, want)
	}
	for i := range want {
		if (*log)[i] != want[i] {
			t.Errorf("change %d = %v, want %v", i, (*log)[i], want[i])
		}
	}
}

func TestEjectorCap(t *testing.T) {
	tests := []struct {
		n, pct, want int
	}{
		{1, 100, 0}, // never the only backend
		{2, 10, 1},  // at least one
		{2, 100, 1}, // never the last
		{4, 50, 2},
		{10, 10, 1},
		{10, 35, 3},
	}
	for _, tt := range tests {
		e := NewEjector(tt.n, EjectorConfig{Failures: 1, Base: time.Second, Max: time.Second, MaxEjectedPercent: tt.pct})
		got := 0
		for i := range tt.n {
			if e.Failure(i, 0) {
				got++
			}
		}
		if got != tt.want || e.Ejected() != tt.want {
			t.Errorf("n=%d pct=%d: ejected %d (Ejected() %d), want %d", tt.n, tt.pct, got, e.Ejected(), tt.want)
		}
	}
}

func TestEjectorCapFreesExpired(t *testing.T) {
	e := NewEjector(2, EjectorConfig{Failures: 1, Base: time.Second, Max: time.Second, MaxEjectedPercent: 50})
	if !e.Failure(0, 0) {
		t.Fatal("backend 0 not ejected")
	}
	if e.Failure(1, sec/2) {
		t.Fatal("backend 1 ejected while backend 0 is out: the last one must stay")
	}
	// Nobody looked at backend 0 since its time ran out; ejecting backend
	// 1 readmits it first.
	if !e.Failure(1, 2*sec) {
		t.Fatal("backend 1 not ejected once backend 0's time was up")
	}
	if !e.Available(0, 2*sec) || e.Available(1, 2*sec) {
		t.Error("want backend 0 in, backend 1 out")
	}
}

func TestEjectorLateFailureIgnored(t *testing.T) {
	e, log := newTestEjector(3, EjectorConfig{Failures: 1, Base: time.Second, Max: time.Second, MaxEjectedPercent: 100})
	e.Failure(0, 0)
	e.Failure(0, 0) // an exchange that started before the ejection
	if len(*log) != 1 || e.Ejected() != 1 {
		t.Errorf("changes %v, ejected %d; want one ejection", *log, e.Ejected())
	}
}

func TestEjectorConcurrent(t *testing.T) {
	e := NewEjector(4, EjectorConfig{Failures: 2, Base: time.Second, Max: time.Second, MaxEjectedPercent: 50})
	done := make(chan bool)
	for g := range 8 {
		go func() {
			for k := range 1000 {
				i := (g + k) % 4
				now := int64(k) * sec / 100
				if k%3 == 0 {
					e.Success(i)
				} else {
					e.Failure(i, now)
				}
				e.Available(i, now)
			}
			done <- true
		}()
	}
	for range 8 {
		<-done
	}
	if n := e.Ejected(); n < 0 || n > 2 {
		t.Errorf("Ejected() = %d, want within [0, 2]", n)
	}
}

func BenchmarkEjectorHealthy(b *testing.B) {
	e := NewEjector(4, EjectorConfig{Failures: 5, Base: time.Second, Max: time.Second, MaxEjectedPercent: 50})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if e.Available(1, 1) {
				e.Success(1)
			}
		}
	})
}
