package decode

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// ErrMissing is the error a [FieldError] wraps when a required field is
// absent or empty.
var ErrMissing = errors.New("decode: missing required value")

// ErrUnknown is the error a [FieldError] wraps when a strict [Plan] meets a
// key that no field names.
var ErrUnknown = errors.New("decode: unknown key")

// errNotFinite is returned by the float setters for NaN and infinities.
var errNotFinite = errors.New("decode: not a finite number")

// maxNameInMessage bounds how much of a client-supplied key an error message
// repeats.
const maxNameInMessage = 64

// FieldError describes input that does not fit a field of the target type.
// Its message is safe to show to clients: it names the field and a short
// reason but never repeats the offending value. The underlying cause
// ([ErrMissing], [ErrUnknown], a *strconv.NumError, the error of an
// UnmarshalText method, ...) is available through errors.Is and errors.As.
type FieldError struct {
	// Source is where the value came from: "path", "query", "form" or "json".
	Source string
	// Field is the key as written in the struct tag (for unknown keys: the
	// client's key, truncated).
	Field string
	// Reason is a short client-safe phrase such as "not an integer",
	// "out of range", "missing" or "unknown".
	Reason string
	// Err is the underlying cause.
	Err error
}

// Error returns a client-safe message such as
// `invalid query parameter "limit": not an integer` or
// `missing required query parameter "q"`.
func (e *FieldError) Error() string {
	what := sourceNoun(e.Source) + " " + strconv.Quote(e.Field)
	switch {
	case errors.Is(e.Err, ErrMissing):
		return "missing required " + what
	case errors.Is(e.Err, ErrUnknown):
		return "unknown " + what
	default:
		return "invalid " + what + ": " + e.Reason
	}
}

// Unwrap returns the underlying cause.
func (e *FieldError) Unwrap() error { return e.Err }

// sourceNoun names a source in client messages.
func sourceNoun(source string) string {
	switch source {
	case SourcePath:
		return "path parameter"
	case SourceQuery:
		return "query parameter"
	case SourceForm:
		return "form field"
	default:
		return "field"
	}
}

// truncateName shortens a client-supplied key for an error message, cutting
// at a rune boundary.
func truncateName(s string) string {
	if len(s) <= maxNameInMessage {
		return s
	}
	cut := maxNameInMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// reasonFor turns a setter error into a client-safe reason, falling back to
// the field kind's syntax reason.
func reasonFor(err error, syntax string) string {
	var ne *strconv.NumError
	switch {
	case errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange):
		return "out of range"
	case errors.Is(err, errNotFinite):
		return "not a finite number"
	default:
		return syntax
	}
}
