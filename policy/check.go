package policy

import "strings"

// Checker is implemented by strategies that can tell, when the gateway is
// built, that they cannot work on a route: the gateway calls Check once per
// route that uses the strategy (through [Policy.Check]) and reports the
// error from apigate.New instead of misrouting requests later.
//
// [Header] and [PathParam] implement it. A custom strategy may implement it
// too; one that wraps another strategy should forward the call.
type Checker interface {
	// Check returns an error, prefixed "policy: " or with the strategy's
	// package name, when the strategy cannot serve the route whose full
	// pattern (service prefix included) is route and whose path parameter
	// names are params, in order.
	Check(route string, params []string) error
}

// Check reports whether p can serve the route with the given full pattern,
// in httprouter syntax (":name" parameters, a final "*name" catch-all): it
// calls the strategy's Check method, if it has one (see [Checker]), with
// the parameter names of the pattern. The zero Policy fits every route.
func (p Policy) Check(route string) error {
	c, ok := p.Strategy.(Checker)
	if !ok {
		return nil
	}
	return c.Check(route, paramNames(route))
}

// paramNames returns the names of the path parameters of an httprouter
// pattern, in order: "/users/:id/files/*path" has "id" and "path". Like
// httprouter, it takes every ':' or '*' to start a parameter whose name runs
// to the next '/'.
func paramNames(pattern string) []string {
	var names []string
	for {
		i := strings.IndexAny(pattern, ":*")
		if i < 0 {
			return names
		}
		pattern = pattern[i+1:]
		end := strings.IndexByte(pattern, '/')
		if end < 0 {
			end = len(pattern)
		}
		names = append(names, pattern[:end])
		pattern = pattern[end:]
	}
}
