package balancer_test

import (
	"slices"
	"testing"

	"github.com/apigate-go/apigate/balancer"
)

func TestRoundRobinRotates(t *testing.T) {
	all := equal(3)
	b := balancer.RoundRobin(all)
	var got []int
	for range 7 {
		got = append(got, b.Pick(all, ""))
	}
	if want := []int{0, 1, 2, 0, 1, 2, 0}; !slices.Equal(got, want) {
		t.Errorf("picks = %v, want %v", got, want)
	}
}

func TestRoundRobinSpread(t *testing.T) {
	all := equal(4)
	sub := subset(all, 0, 2, 3)
	tests := []struct {
		name       string
		candidates []balancer.Backend
	}{
		{"full", all},
		{"subset", sub},
		{"reordered", subset(all, 3, 1, 0, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := balancer.RoundRobin(all)
			const per = 2500
			got := counts(b, tt.candidates, per*len(tt.candidates))
			for _, c := range tt.candidates {
				if !within(got[c.Index], per, 0.02) {
					t.Errorf("backend %d picked %d times, want %d±2%%", c.Index, got[c.Index], per)
				}
			}
		})
	}
}

func TestRoundRobinWeights(t *testing.T) {
	all := weighted(1, 2, 3, 4)
	tests := []struct {
		name       string
		candidates []balancer.Backend
	}{
		{"full", all},
		{"subset", subset(all, 1, 3)},
		{"reordered", subset(all, 3, 2, 1, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := balancer.RoundRobin(all)
			total := 0
			for _, c := range tt.candidates {
				total += c.Weight
			}
			const rounds = 1000
			got := counts(b, tt.candidates, rounds*total)
			for _, c := range tt.candidates {
				if want := rounds * c.Weight; !within(got[c.Index], want, 0.01) {
					t.Errorf("backend %d (weight %d) picked %d times, want %d±1%%", c.Index, c.Weight, got[c.Index], want)
				}
			}
		})
	}
}

func TestRoundRobinIsolated(t *testing.T) {
	all := equal(2)
	a, b := balancer.RoundRobin(all), balancer.RoundRobin(all)
	a.Pick(all, "")
	if got := b.Pick(all, ""); got != 0 {
		t.Errorf("first pick of a fresh balancer after another one picked = %d, want 0", got)
	}
}
