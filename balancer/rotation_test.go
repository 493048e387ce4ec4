package balancer

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func backendsWeighted(weights ...int) []Backend {
	bs := make([]Backend, len(weights))
	for i, w := range weights {
		bs[i] = Backend{Index: i, Addr: fmt.Sprintf("b%d", i), Weight: w}
	}
	return bs
}

func TestRotationSchedule(t *testing.T) {
	tests := []struct {
		weights []int
		want    []int // one period of full-list turns
	}{
		{[]int{1, 1, 1}, []int{0, 1, 2}},
		{[]int{0, -3, 1}, []int{0, 1, 2}}, // below 1 counts as 1
		{[]int{2, 2, 2}, []int{0, 1, 2}},
		{[]int{5, 1, 1}, []int{0, 0, 1, 0, 2, 0, 0}},
		{[]int{4, 4, 1, 1, 1, 1}, []int{0, 1, 2, 0, 1, 3, 4, 0, 1, 5, 0, 1}},
		{[]int{1, 1, 1, 5}, []int{3, 0, 3, 1, 3, 2, 3, 3}},
		{[]int{6, 2, 2}, []int{0, 1, 0, 2, 0}}, // reduced by the gcd
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.weights), func(t *testing.T) {
			r := newRotation(backendsWeighted(tt.weights...))
			var got []int
			for n := range uint64(2 * len(tt.want)) {
				got = append(got, r.full(n))
			}
			if want := slices.Concat(tt.want, tt.want); !slices.Equal(got, want) {
				t.Errorf("turns = %v, want %v", got, want)
			}
		})
	}
}

// TestRotationSmooth checks that every stretch of the schedule, read
// cyclically, gives each backend its weighted share to within two picks.
// (Weights 10, 1, 1, 1, 1 served as ten a then b c d e would miss by 2.9;
// merging turns by their position (j+½)/w misses by 4.4 on the last of the
// listed sets.)
func TestRotationSmooth(t *testing.T) {
	sets := [][]int{
		{5, 1, 1}, {3, 1}, {1, 2, 3, 4}, {10, 1, 1, 1, 1}, {2, 2, 1},
		{7, 3, 1}, {1, 1, 1, 5}, {4, 4, 1, 1, 1, 1}, {9, 8, 7, 1},
		{89, 8, 6, 6, 3, 3, 4, 3, 4, 2, 4, 1, 8},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		ws := make([]int, 2+rng.IntN(12))
		for i := range ws {
			ws[i] = 1 + rng.IntN(8)
			if rng.IntN(5) == 0 {
				ws[i] = 1 + rng.IntN(100)
			}
		}
		sets = append(sets, ws)
	}
	for _, weights := range sets {
		r := newRotation(backendsWeighted(weights...))
		if got := maxDeviation(r.slots, len(weights)); got >= 2 {
			t.Errorf("weights %v: a stretch of the schedule misses a backend's share by %.2f picks, want less than 2 (schedule %v)",
				weights, got, r.slots)
		}
	}
}

// maxDeviation returns the largest difference, over all cyclic windows of
// slots and all backends, between a backend's picks and its exact share.
// A window's deviation is the difference of two prefix deviations, so it
// is the spread (max - min) of the prefix deviations.
func maxDeviation(slots []int32, n int) float64 {
	count := make([]int, n)
	for _, s := range slots {
		count[s]++
	}
	seen := make([]int, n)
	lo, hi := make([]float64, n), make([]float64, n)
	for k, s := range slots {
		seen[s]++
		for i := range n {
			d := float64(seen[i]) - float64((k+1)*count[i])/float64(len(slots))
			lo[i], hi[i] = min(lo[i], d), max(hi[i], d)
		}
	}
	worst := 0.0
	for i := range n {
		worst = max(worst, hi[i]-lo[i])
	}
	return worst
}

// TestRotationLargeWeights checks the plan used when a schedule would be
// too long: exact proportions and no long bursts.
func TestRotationLargeWeights(t *testing.T) {
	weights := []int{1_000_000, 3_000_000, 2_000_001}
	r := newRotation(backendsWeighted(weights...))
	if r.slots != nil {
		t.Fatalf("built a schedule of %d slots, want none", len(r.slots))
	}
	const n = 600_000
	slots := make([]int32, n)
	got := make([]int, len(weights))
	for i := range uint64(n) {
		b := r.full(i)
		slots[i] = int32(b)
		got[b]++
	}
	for i, w := range weights {
		want := float64(n) * float64(w) / 6_000_001
		if d := float64(got[i]) - want; d > 5 || d < -5 {
			t.Errorf("backend %d (weight %d) took %d of %d turns, want %.0f±5", i, w, got[i], n, want)
		}
	}
	// The Weyl sequence's discrepancy grows like log n: over 600,000
	// turns no stretch is off by more than a handful of picks.
	if d := maxDeviation(slots, len(weights)); d >= 8 {
		t.Errorf("a stretch of the turns misses a backend's share by %.2f, want less than 8", d)
	}
}

func TestRotationManyWeightedBackends(t *testing.T) {
	ws := make([]int, 1000)
	for i := range ws {
		ws[i] = 1 + i%100
	}
	r := newRotation(backendsWeighted(ws...))
	if r.slots != nil {
		t.Errorf("built a schedule of %d slots for 1000 weighted backends, want the binary-search plan", len(r.slots))
	}
	if got := r.full(12345); got < 0 || got >= len(ws) {
		t.Errorf("full(12345) = %d, want an index in [0, %d)", got, len(ws))
	}
}

func TestRotationPickSubset(t *testing.T) {
	all := backendsWeighted(1, 1, 1, 1)
	r := newRotation(all)
	sub := []Backend{all[3], all[1]}
	var got []int
	for n := range uint64(6) {
		got = append(got, r.pick(sub, n))
	}
	if want := []int{0, 1, 0, 1, 0, 1}; !slices.Equal(got, want) {
		t.Errorf("picks over an equal-weight subset = %v, want strict rotation %v", got, want)
	}
}

func TestRotationPickWeightedSubset(t *testing.T) {
	all := backendsWeighted(1, 2, 3, 4)
	r := newRotation(all)
	sub := []Backend{all[3], all[0], all[2]} // weights 4, 1, 3
	got := make([]int, len(sub))
	const n = 8000
	for i := range uint64(n) {
		got[r.pick(sub, i)]++
	}
	for i, c := range sub {
		want := n * c.Weight / 8
		if d := got[i] - want; d > 8 || d < -8 {
			t.Errorf("candidate %d (weight %d) picked %d times in %d, want %d±8", i, c.Weight, got[i], n, want)
		}
	}
}

func TestRotationPickUnknownBackends(t *testing.T) {
	r := newRotation(backendsWeighted(1, 1))
	// Same length as the plan but Index values it does not know.
	strangers := []Backend{{Index: 7}, {Index: -1}}
	for n := range uint64(10) {
		if got := r.pick(strangers, n); got < 0 || got >= len(strangers) {
			t.Fatalf("pick(strangers, %d) = %d, want a position in [0, 2)", n, got)
		}
	}
}
