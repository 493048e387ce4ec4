package balancer

import (
	"fmt"
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
		want    []int32
	}{
		{[]int{1, 1, 1}, []int32{0, 1, 2}},
		{[]int{0, -3, 1}, []int32{0, 1, 2}}, // below 1 counts as 1
		{[]int{2, 2, 2}, []int32{0, 1, 2}},  // reduced by the gcd
		{[]int{5, 1, 1}, []int32{0, 0, 0, 1, 0, 0, 2}},
		{[]int{4, 4, 1, 1, 1, 1}, []int32{0, 1, 0, 1, 2, 0, 1, 3, 4, 0, 1, 5}},
		{[]int{1, 1, 1, 5}, []int32{0, 3, 1, 3, 3, 2, 3, 3}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.weights), func(t *testing.T) {
			got := newRotation(backendsWeighted(tt.weights...)).slots
			if !slices.Equal(got, tt.want) {
				t.Errorf("schedule = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRotationSmooth checks that every window of the schedule, read
// cyclically, gives each backend its weighted share to within two picks
// (weights 10, 1, 1, 1, 1 served as ten a then b c d e would miss by 2.9).
func TestRotationSmooth(t *testing.T) {
	for _, weights := range [][]int{
		{5, 1, 1}, {3, 1}, {1, 2, 3, 4}, {10, 1, 1, 1, 1}, {2, 2, 1},
		{7, 3, 1}, {1, 1, 1, 5}, {4, 4, 1, 1, 1, 1}, {9, 8, 7, 1},
	} {
		t.Run(fmt.Sprint(weights), func(t *testing.T) {
			r := newRotation(backendsWeighted(weights...))
			total := 0
			for _, w := range weights {
				total += w
			}
			if len(r.slots) != total {
				t.Fatalf("len(schedule) = %d, want %d", len(r.slots), total)
			}
			for start := range r.slots {
				seen := make([]int, len(weights))
				for l := 1; l <= len(r.slots); l++ {
					seen[r.slots[(start+l-1)%len(r.slots)]]++
					for i, w := range weights {
						ideal := float64(l*w) / float64(total)
						if d := float64(seen[i]) - ideal; d >= 2 || d <= -2 {
							t.Fatalf("window of %d from slot %d: backend %d got %d picks, want %.2f±2 (schedule %v)",
								l, start, i, seen[i], ideal, r.slots)
						}
					}
				}
			}
		})
	}
}

func TestRotationScalesLargeWeights(t *testing.T) {
	r := newRotation(backendsWeighted(1_000_000, 3_000_000, 1))
	if len(r.slots) > maxSlots+3 {
		t.Fatalf("len(schedule) = %d, want at most %d", len(r.slots), maxSlots+3)
	}
	got := make([]int, 3)
	for _, s := range r.slots {
		got[s]++
	}
	if got[2] != 1 {
		t.Errorf("backend of weight 1 has %d slots, want 1 (never dropped)", got[2])
	}
	if ratio := float64(got[1]) / float64(got[0]); ratio < 2.99 || ratio > 3.01 {
		t.Errorf("slots of weight 3e6 / weight 1e6 = %d/%d = %.4f, want 3±0.01", got[1], got[0], ratio)
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
