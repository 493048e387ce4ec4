package excheck

import (
	"strings"
	"sync"
)

// Log keeps what an example's loggers write, so that -check can read it
// back. Observers write from the server's goroutines: Log is safe for
// concurrent use. The zero value is an empty log.
type Log struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p to the log; it never fails.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
