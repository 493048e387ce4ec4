// Package syncbuf provides a text buffer safe for concurrent writes, for
// tests and examples that read back what loggers wrote from other
// goroutines.
package syncbuf

import (
	"strings"
	"sync"
)

// Buffer collects what is written to it. It is safe for concurrent use;
// the zero value is empty and ready.
type Buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p; it never fails.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
