//go:build race

package h1

// raceEnabled reports whether the race detector is on: sync.Pool drops
// items at random under it.
const raceEnabled = true
