package policy

import (
	"fmt"
	"net/textproto"

	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/internal/field"
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
	if !field.ValidName(h.name) {
		return fmt.Errorf("policy: route %s: invalid header name %q for the affinity key", route, h.name)
	}
	return nil
}
