package balancer_test

import (
	"fmt"

	"github.com/apigate-go/apigate/balancer"
)

// weighted returns one backend per weight, indexed in order.
func weighted(weights ...int) []balancer.Backend {
	bs := make([]balancer.Backend, len(weights))
	for i, w := range weights {
		bs[i] = balancer.Backend{Index: i, Addr: fmt.Sprintf("http://192.0.2.%d:8080", i+1), Weight: w}
	}
	return bs
}

// equal returns n backends of weight 1.
func equal(n int) []balancer.Backend {
	ws := make([]int, n)
	for i := range ws {
		ws[i] = 1
	}
	return weighted(ws...)
}

// subset returns the backends of bs at the given positions.
func subset(bs []balancer.Backend, positions ...int) []balancer.Backend {
	out := make([]balancer.Backend, len(positions))
	for i, p := range positions {
		out[i] = bs[p]
	}
	return out
}

// counts makes n keyless picks among candidates and returns how often
// each backend Index was chosen. Trackers see each request start and
// finish at once.
func counts(b balancer.Balancer, candidates []balancer.Backend, n int) map[int]int {
	got := make(map[int]int)
	tr, _ := b.(balancer.Tracker)
	for range n {
		i := b.Pick(candidates, "")
		got[candidates[i].Index]++
		if tr != nil {
			tr.Start(candidates[i].Index)
			tr.Done(candidates[i].Index, balancer.Result{Status: 200})
		}
	}
	return got
}

// within reports whether got is within tol (a fraction) of want.
func within(got, want int, tol float64) bool {
	d := float64(got - want)
	return d <= tol*float64(want) && -d <= tol*float64(want)
}
