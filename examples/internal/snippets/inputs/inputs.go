// Package inputs holds the snippets of docs/inputs.md.
package inputs

import (
	"time"

	"github.com/apigate-go/apigate/examples/internal/snippets/uuid"
)

type ItemPath struct {
	ID uuid.UUID `path:"id"`
}

type Search struct {
	Q      string        `query:"q,required"`
	Limit  *int          `query:"limit"`  // nil when absent
	Tags   []string      `query:"tag"`    // ?tag=a&tag=b
	Since  time.Time     `query:"since"`  // RFC 3339, via UnmarshalText
	Window time.Duration `query:"window"` // "90s", "1h30m"
	Debug  bool          `query:"debug,omitempty"`
}

type LookupIn struct {
	Q     string `json:"q" apigate:"required"`
	Limit *int   `json:"limit" apigate:"required"` // present, 0 allowed
}
