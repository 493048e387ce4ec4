//go:build race

package apigate

// raceEnabled reports whether the race detector is on: under it,
// sync.Pool drops a random share of what is put back, so allocation
// counts of pooled paths vary.
const raceEnabled = true
