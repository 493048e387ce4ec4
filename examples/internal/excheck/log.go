package excheck

import "github.com/apigate-go/apigate/internal/syncbuf"

// Log keeps what an example's loggers write, so that -check can read it
// back. Observers write from the server's goroutines: Log is safe for
// concurrent use. The zero value is an empty log.
type Log = syncbuf.Buffer
