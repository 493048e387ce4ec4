package balancer_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/apigate-go/apigate/balancer"
)

func TestLeastRequestIdleRotates(t *testing.T) {
	tests := []struct {
		name     string
		backends []balancer.Backend
		want     []int
	}{
		{"equal", equal(3), []int{0, 1, 2, 0, 1, 2}},
		{"weighted", weighted(1, 3), []int{1, 0, 1, 1, 1, 0, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := balancer.LeastRequest(tt.backends)
			var got []int
			for range tt.want {
				got = append(got, b.Pick(tt.backends, ""))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("idle picks = %v, want %v (weighted round-robin tie-break)", got, tt.want)
			}
		})
	}
}

func TestLeastRequestAvoidsBusy(t *testing.T) {
	tests := []struct {
		name string
		n    int // backends; above 16 the balancer samples two
	}{
		{"full scan", 4},
		{"two choices", 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := equal(tt.n)
			b := balancer.LeastRequest(all)
			tr := b.(balancer.Tracker)
			for range 5 {
				tr.Start(0)
			}
			got := counts(b, all, 100*tt.n)
			if got[0] != 0 {
				t.Errorf("backend with 5 requests in flight picked %d times, want 0 while the others are idle", got[0])
			}
			for i := 1; i < tt.n; i++ {
				if got[i] == 0 {
					t.Errorf("idle backend %d never picked", i)
				}
			}
		})
	}
}

func TestLeastRequestConcurrencyFollowsWeight(t *testing.T) {
	all := weighted(1, 2, 3)
	b := balancer.LeastRequest(all)
	tr := b.(balancer.Tracker)
	inflight := make([]int, len(all))
	for range 60 { // requests that never finish
		i := b.Pick(all, "")
		tr.Start(all[i].Index)
		inflight[i]++
	}
	if want := []int{10, 20, 30}; !slices.Equal(inflight, want) {
		t.Errorf("in flight = %v, want %v (in proportion to weight)", inflight, want)
	}
}

func TestLeastRequestDoneAlwaysDecrements(t *testing.T) {
	results := []balancer.Result{
		{Status: 200},
		{Status: 503},
		{Err: errors.New("dial tcp: connection refused")},
		{Err: context.Canceled},
		{Err: context.DeadlineExceeded},
	}
	for _, r := range results {
		t.Run(resultName(r), func(t *testing.T) {
			all := equal(2)
			b := balancer.LeastRequest(all)
			tr := b.(balancer.Tracker)
			for range 3 {
				tr.Start(0)
			}
			for range 3 {
				tr.Done(0, r)
			}
			got := counts(b, all, 100)
			if got[0] != 50 {
				t.Errorf("after 3 Start and 3 Done(%s), backend 0 picked %d of 100 times, want 50", resultName(r), got[0])
			}
		})
	}
}

func TestLeastRequestUnknownIndex(t *testing.T) {
	b := balancer.LeastRequest(equal(2))
	tr := b.(balancer.Tracker)
	tr.Start(-1) // must not panic
	tr.Done(7, balancer.Result{})
	strangers := []balancer.Backend{{Index: 9}, {Index: -3}}
	if got := b.Pick(strangers, ""); got < 0 || got > 1 {
		t.Errorf("Pick(strangers) = %d, want 0 or 1", got)
	}
}

func resultName(r balancer.Result) string {
	if r.Err != nil {
		return r.Err.Error()
	}
	return fmt.Sprintf("status %d", r.Status)
}
