package policy

import (
	"fmt"
	"net/textproto"

	"github.com/apigate-go/apigate/balancer"
)

// Header returns the strategy that offers every backend and uses the value
// of the named request header as the affinity key: the first value when
// the header repeats, no key when it is absent. The name is matched
// case-insensitively; "Host" reads the request's host. Header implements
// [Checker]: it reports a name that is not a valid header field name.
//
// The header is read from the request as it reaches the policy, after
// the route's hooks, so a hook may set it (for example a user ID derived
// from a token).
func Header(name string) Strategy {
	return header{name: name, canonical: textproto.CanonicalMIMEHeaderKey(name)}
}

type header struct {
	name      string // as given, for messages
	canonical string
}

// Select implements [Strategy].
func (h header) Select(r Request) ([]balancer.Backend, string) {
	if r.HTTP == nil {
		return r.Backends, ""
	}
	if h.canonical == "Host" {
		return r.Backends, r.HTTP.Host
	}
	if v := r.HTTP.Header[h.canonical]; len(v) > 0 {
		return r.Backends, v[0]
	}
	return r.Backends, ""
}

// Check implements [Checker].
func (h header) Check(route string, _ []string) error {
	if !validHeaderName(h.name) {
		return fmt.Errorf("policy: route %s: invalid header name %q for the affinity key", route, h.name)
	}
	return nil
}

// validHeaderName reports whether name is a non-empty RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := range len(name) {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c < 0x80 && c > ' ' && c != 0x7f && !isDelimiter(c):
		default:
			return false
		}
	}
	return true
}

// isDelimiter reports whether c is one of the RFC 9110 delimiters that may
// not appear in a token.
func isDelimiter(c byte) bool {
	switch c {
	case '"', '(', ')', ',', '/', ':', ';', '<', '=', '>', '?', '@', '[', '\\', ']', '{', '}':
		return true
	}
	return false
}
