package apigate

import (
	"fmt"
	"strings"
)

// ServiceOption configures a service declared with [Service]: its routes
// (see [GET] and friends), [Name], and the options that also work on
// routes ([Use], [Before], [Policy], [BodyLimit], [Timeout]).
type ServiceOption interface {
	applyService(*ServiceSpec)
}

// ServiceSpec is a declared service: a path prefix, a logical name and
// routes. Create one with [Service] and give it backends with [Mount]. A
// ServiceSpec is immutable once built and may be mounted by several
// gateways.
type ServiceSpec struct {
	prefix string
	name   string
	routes []*routeSpec
	shared sharedSpec
	errs   []error
}

// Service declares a service whose routes live under prefix. The prefix is
// stripped before forwarding unless a route says otherwise with [To]: a
// request for /api/items/7 on Service("/api", GET("/items/:id")) reaches
// the upstream as /items/7. A prefix of "/" or "" forwards paths unchanged.
//
// A route "/" answers the bare prefix as well as the prefix with a
// trailing slash, with no redirect: Service("/orders", POST("/")) answers
// POST /orders and POST /orders/, and both reach the upstream as POST /
// (or the route's [To] path). A route of another service that declares the
// bare path itself ("/orders" on the root service) keeps it.
//
// The service's logical name (for policies, observers and [Backends])
// defaults to the prefix without its leading slash, "root" for "/"; set it
// with [Name].
func Service(prefix string, opts ...ServiceOption) *ServiceSpec {
	s := &ServiceSpec{}
	p := strings.TrimRight(prefix, "/")
	switch {
	case prefix != "" && prefix[0] != '/':
		s.errs = append(s.errs, fmt.Errorf("apigate: service prefix %q must start with /", prefix))
	case strings.ContainsAny(p, ":*"):
		s.errs = append(s.errs, fmt.Errorf("apigate: service prefix %q must not contain parameters", prefix))
	default:
		if err := checkPatternChars(p); err != nil {
			s.errs = append(s.errs, fmt.Errorf("apigate: service prefix %q: %w", prefix, err))
		}
	}
	s.prefix = p
	s.name = strings.TrimPrefix(p, "/")
	if s.name == "" {
		s.name = "root"
	}
	for _, o := range opts {
		if o != nil {
			o.applyService(s)
		}
	}
	return s
}

// Prefix returns the service's path prefix, without a trailing slash.
func (s *ServiceSpec) Prefix() string { return s.prefix }

// Name returns the service's logical name.
func (s *ServiceSpec) Name() string { return s.name }

type nameOption string

func (n nameOption) applyService(s *ServiceSpec) {
	if n == "" {
		s.errs = append(s.errs, fmt.Errorf("apigate: service %q: empty name", s.prefix))
		return
	}
	s.name = string(n)
}

// Name sets a service's logical name, which [Backends], policies and
// observers use.
func Name(name string) ServiceOption { return nameOption(name) }

// checkPatternChars accepts the characters a path may hold unescaped
// (RFC 3986 pchar without '%'), since the gateway routes on the escaped
// path.
func checkPatternChars(p string) error {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		if strings.IndexByte("-._~!$&'()+,;=@/:*", c) < 0 {
			return fmt.Errorf("character %q is not allowed (use only unreserved path characters)", c)
		}
	}
	return nil
}
