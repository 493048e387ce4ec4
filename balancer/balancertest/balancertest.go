// Package balancertest checks that a [balancer.Balancer] implementation
// keeps the contract the gateway relies on, in the spirit of
// testing/slogtest. Call [Run] from a test of your balancer:
//
//	func TestConformance(t *testing.T) {
//		balancertest.Run(t, mybalancer.New)
//	}
package balancertest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apigate-go/apigate/balancer"
)

// Run checks the balancers built by f against the [balancer.Balancer]
// contract and, for those that implement it, the [balancer.Tracker]
// contract. Each check is a subtest:
//
//   - Empty: Pick returns -1 for nil and empty candidates, with or without
//     a key.
//   - Single: Pick returns 0 for one candidate.
//   - ValidIndex: Pick returns a valid position into candidates for the
//     full backend list, subsets, other orders and any key.
//   - NoMutation: neither f nor Pick, Start and Done modify the slices they
//     are given.
//   - KeylessSpread: under keyless load, every candidate is eventually
//     chosen, for the full list and for subsets (each request is started
//     and finished at once, with equal latencies, for trackers).
//   - Concurrent: Pick, Start and Done are safe for concurrent use (run
//     the tests with -race to check for data races).
//   - TrackerBalanced: Done undoes Start whatever the result, client
//     cancellations included: a backend that had many requests in flight is
//     chosen again once they are done.
//   - Independent: two balancers built by f share no state: requests in
//     flight on one do not steer the other.
//
// Run uses backends with different weights and runs in well under a second
// for a lock-free balancer.
func Run(t *testing.T, f balancer.Factory) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.tracker {
				if _, ok := f(backends(1)).(balancer.Tracker); !ok {
					t.Skip("balancer does not implement balancer.Tracker")
				}
			}
			for _, err := range c.run(f) {
				t.Error(err)
			}
		})
	}
}

// check is one property of the contract.
type check struct {
	name    string
	tracker bool // only for balancers that implement balancer.Tracker
	run     func(balancer.Factory) []error
}

var checks = []check{
	{"Empty", false, checkEmpty},
	{"Single", false, checkSingle},
	{"ValidIndex", false, checkValidIndex},
	{"NoMutation", false, checkNoMutation},
	{"KeylessSpread", false, checkKeylessSpread},
	{"Concurrent", false, checkConcurrent},
	{"TrackerBalanced", true, checkTrackerBalanced},
	{"Independent", true, checkIndependent},
}

// failures collects the errors of one check; it is safe for concurrent
// use.
type failures struct {
	mu   sync.Mutex
	errs []error
}

func (fs *failures) addf(format string, args ...any) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.errs = append(fs.errs, fmt.Errorf(format, args...))
}

func (fs *failures) failed() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.errs) > 0
}

// backends returns n backends with weights cycling through 1, 2, 1, 3.
func backends(n int) []balancer.Backend {
	weights := []int{1, 2, 1, 3}
	bs := make([]balancer.Backend, n)
	for i := range bs {
		bs[i] = balancer.Backend{
			Index:  i,
			Addr:   fmt.Sprintf("http://192.0.2.%d:%d", i%250+1, 8080+i/250),
			Weight: weights[i%len(weights)],
		}
	}
	return bs
}

// pick returns the backends of bs at the given positions.
func pick(bs []balancer.Backend, positions ...int) []balancer.Backend {
	out := make([]balancer.Backend, len(positions))
	for i, p := range positions {
		out[i] = bs[p]
	}
	return out
}

// candidateSet is one named list of candidates drawn from all.
type candidateSet struct {
	name       string
	candidates []balancer.Backend
}

// candidateSets returns the full list of all, subsets and other orders.
func candidateSets(all []balancer.Backend) []candidateSet {
	n := len(all)
	reversed := slices.Clone(all)
	slices.Reverse(reversed)
	var odd, allButFirst []int
	for i := range n {
		if i%2 == 1 {
			odd = append(odd, i)
		}
		if i > 0 {
			allButFirst = append(allButFirst, i)
		}
	}
	return []candidateSet{
		{"full", all},
		{"reversed", reversed},
		{"odd", pick(all, odd...)},
		{"all-but-first", pick(all, allButFirst...)},
		{"last-two", pick(all, n-1, n-2)},
		{"one", pick(all, n/2)},
	}
}

// sizes are the backend counts the suite tries: a few, and more than a
// balancer might scan in full.
var sizes = []int{5, 40}

var keys = []string{"", "a", "user-42", "b", "some/longer/key/with/segments"}

var okResult = balancer.Result{Status: 200, Latency: time.Millisecond}

// serve picks among candidates with key and, for a tracker, starts and
// finishes the request at once with okResult. It returns the position
// picked, or -1 after recording an invalid one.
func serve(fs *failures, b balancer.Balancer, candidates []balancer.Backend, key string) int {
	i := b.Pick(candidates, key)
	if i < 0 || i >= len(candidates) {
		fs.addf("Pick(%d candidates, %q) = %d, want a position in [0, %d)", len(candidates), key, i, len(candidates))
		return -1
	}
	if tr, ok := b.(balancer.Tracker); ok {
		tr.Start(candidates[i].Index)
		tr.Done(candidates[i].Index, okResult)
	}
	return i
}

func checkEmpty(f balancer.Factory) []error {
	var fs failures
	b := f(backends(3))
	for _, key := range []string{"", "k"} {
		if got := b.Pick(nil, key); got != -1 {
			fs.addf("Pick(nil, %q) = %d, want -1", key, got)
		}
		if got := b.Pick([]balancer.Backend{}, key); got != -1 {
			fs.addf("Pick(empty, %q) = %d, want -1", key, got)
		}
	}
	if got := f(nil).Pick(nil, ""); got != -1 {
		fs.addf("balancer built for no backends: Pick(nil, \"\") = %d, want -1", got)
	}
	return fs.errs
}

func checkSingle(f balancer.Factory) []error {
	var fs failures
	all := backends(3)
	b := f(all)
	for _, c := range all {
		for _, key := range keys {
			if got := b.Pick([]balancer.Backend{c}, key); got != 0 {
				fs.addf("Pick([backend %d], %q) = %d, want 0", c.Index, key, got)
			}
		}
	}
	return fs.errs
}

func checkValidIndex(f balancer.Factory) []error {
	var fs failures
	for _, n := range sizes {
		all := backends(n)
		b := f(all)
		for _, set := range candidateSets(all) {
			for range 20 {
				for _, key := range keys {
					if serve(&fs, b, set.candidates, key) < 0 {
						fs.addf("%d backends, %s candidates: invalid position", n, set.name)
						return fs.errs
					}
				}
			}
		}
	}
	return fs.errs
}

func checkNoMutation(f balancer.Factory) []error {
	var fs failures
	all := backends(8)
	given := slices.Clone(all)
	b := f(given)
	if !slices.Equal(given, all) {
		fs.addf("factory modified its backends: got %v, want %v", given, all)
		return fs.errs
	}
	for _, set := range candidateSets(all) {
		candidates := slices.Clone(set.candidates)
		for _, key := range keys {
			serve(&fs, b, candidates, key)
		}
		if !slices.Equal(candidates, set.candidates) {
			fs.addf("%s: Pick modified candidates: got %v, want %v", set.name, candidates, set.candidates)
		}
	}
	if !slices.Equal(given, all) {
		fs.addf("balancer modified the factory's backends after building: got %v, want %v", given, all)
	}
	return fs.errs
}

// spread serves keyless requests among candidates until each has been
// chosen or 100 picks per candidate have been made. It returns the
// positions never chosen.
func spread(fs *failures, b balancer.Balancer, candidates []balancer.Backend) []int {
	seen := make([]bool, len(candidates))
	left := len(candidates)
	for range 100 * len(candidates) {
		i := serve(fs, b, candidates, "")
		if i < 0 {
			return nil
		}
		if !seen[i] {
			seen[i] = true
			if left--; left == 0 {
				return nil
			}
		}
	}
	var missing []int
	for i, ok := range seen {
		if !ok {
			missing = append(missing, i)
		}
	}
	return missing
}

func checkKeylessSpread(f balancer.Factory) []error {
	var fs failures
	for _, n := range sizes {
		all := backends(n)
		b := f(all)
		for _, set := range candidateSets(all) {
			if missing := spread(&fs, b, set.candidates); missing != nil {
				fs.addf("%d backends, %s candidates: positions %v never chosen in %d keyless picks",
					n, set.name, missing, 100*len(set.candidates))
			}
		}
	}
	return fs.errs
}

func checkConcurrent(f balancer.Factory) []error {
	var fs failures
	for _, n := range sizes {
		all := backends(n)
		b := f(all)
		sets := candidateSets(all)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for j := range 300 {
					set := sets[(g+j)%len(sets)]
					if serve(&fs, b, set.candidates, keys[j%len(keys)]) < 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		if fs.failed() {
			return fs.errs
		}
		if missing := spread(&fs, b, all); missing != nil {
			fs.addf("%d backends: after concurrent load, positions %v never chosen in keyless picks", n, missing)
		}
	}
	return fs.errs
}

func checkTrackerBalanced(f balancer.Factory) []error {
	var fs failures
	all := backends(5)
	b := f(all)
	tr := b.(balancer.Tracker)
	results := []balancer.Result{
		{Err: context.Canceled},
		{Err: fmt.Errorf("client went away: %w", context.Canceled)},
		okResult,
	}
	for _, c := range all {
		// Load one backend at a time: a leak on every backend alike
		// would not change which one is least loaded.
		for range 100 {
			tr.Start(c.Index)
		}
		for j := range 100 {
			tr.Done(c.Index, results[j%len(results)])
		}
		if missing := spread(&fs, b, all); missing != nil {
			fs.addf("after 100 Start and 100 Done (some cancelled) on backend %d, positions %v never chosen in keyless picks: Done does not undo Start",
				c.Index, missing)
		}
	}
	return fs.errs
}

func checkIndependent(f balancer.Factory) []error {
	var fs failures
	all := backends(5)
	a, b := f(all), f(all)
	ta := a.(balancer.Tracker)
	for range 100 {
		ta.Start(all[0].Index)
	}
	defer func() {
		for range 100 {
			ta.Done(all[0].Index, okResult)
		}
	}()
	if missing := spread(&fs, b, all); missing != nil {
		fs.addf("with 100 requests in flight on backend 0 of another balancer, positions %v never chosen: balancers from one factory share state", missing)
	}
	return fs.errs
}
