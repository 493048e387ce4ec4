package load

import (
	"context"
	"time"
)

// requestTimeout bounds every request of the built-in generators.
const requestTimeout = 5 * time.Second

// Closed runs a closed loop against t with the built-in generator: conns
// goroutines, each over its own keep-alive connection, send a request as
// soon as the previous response arrived, for d or until ctx is done.
func Closed(ctx context.Context, t Target, conns int, d time.Duration) (Throughput, error) {
	return ClosedMix(ctx, []Target{t}, conns, d)
}
