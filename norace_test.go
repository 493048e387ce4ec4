//go:build !race

package apigate

const raceEnabled = false
