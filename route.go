package apigate

import (
	"fmt"
	"net/http"
	"time"
)

// RouteOption configures one route: [To], typed inputs such as [JSON],
// [Map], and the options shared with services ([Use], [Before], [Policy],
// [BodyLimit], [Timeout]).
type RouteOption interface {
	applyRoute(*routeSpec)
}

// Route is a declared route, a [ServiceOption]. Create one with [GET],
// [POST], [PUT], [PATCH], [DELETE], [HEAD], [OPTIONS] or [Handle].
type Route struct{ spec *routeSpec }

func (r Route) applyService(s *ServiceSpec) {
	if r.spec != nil {
		s.routes = append(s.routes, r.spec)
	}
}

// routeSpec is a route's configuration, as declared.
type routeSpec struct {
	method string
	path   string // relative to the service prefix
	to     string
	hasTo  bool
	shared sharedSpec
	in     inputSpec
	doc    *RouteDoc
	errs   []error
}

// Handle declares a route for any method. path uses httprouter syntax
// relative to the service prefix: "/items/:id" matches one segment,
// "/static/*rest" the rest of the path.
func Handle(method, path string, opts ...RouteOption) Route {
	r := &routeSpec{method: method, path: path}
	if method == "" {
		r.errs = append(r.errs, fmt.Errorf("empty method"))
	}
	if path == "" || path[0] != '/' {
		r.errs = append(r.errs, fmt.Errorf("path must start with /"))
	} else if err := checkPatternChars(path); err != nil {
		r.errs = append(r.errs, err)
	}
	for _, o := range opts {
		if o != nil {
			o.applyRoute(r)
		}
	}
	return Route{spec: r}
}

// GET declares a GET route. A GET route also answers HEAD unless the
// service declares a HEAD route for the same path.
func GET(path string, opts ...RouteOption) Route { return Handle(http.MethodGet, path, opts...) }

// POST declares a POST route.
func POST(path string, opts ...RouteOption) Route { return Handle(http.MethodPost, path, opts...) }

// PUT declares a PUT route.
func PUT(path string, opts ...RouteOption) Route { return Handle(http.MethodPut, path, opts...) }

// PATCH declares a PATCH route.
func PATCH(path string, opts ...RouteOption) Route { return Handle(http.MethodPatch, path, opts...) }

// DELETE declares a DELETE route.
func DELETE(path string, opts ...RouteOption) Route { return Handle(http.MethodDelete, path, opts...) }

// HEAD declares a HEAD route.
func HEAD(path string, opts ...RouteOption) Route { return Handle(http.MethodHead, path, opts...) }

// OPTIONS declares an OPTIONS route. Without one, the gateway answers
// OPTIONS itself with 204 and an Allow header.
func OPTIONS(path string, opts ...RouteOption) Route {
	return Handle(http.MethodOptions, path, opts...)
}

type toOption string

func (t toOption) applyRoute(r *routeSpec) {
	if r.hasTo {
		r.errs = append(r.errs, fmt.Errorf("To given twice"))
	}
	r.to, r.hasTo = string(t), true
}

// To rewrites the upstream path. A template without parameters replaces the
// path ("/static"); ":name" and "*name" insert the route's path parameters
// ("/v2/items/:id"). Values are inserted in their escaped form, so "%2F"
// in a parameter stays "%2F" upstream. A template naming a parameter the
// route lacks is an error from [New]. The query string is kept.
func To(template string) RouteOption { return toOption(template) }

// sharedSpec holds the options that apply at service and route level.
type sharedSpec struct {
	mw        []func(http.Handler) http.Handler
	hooks     []Hook
	after     []AfterHook
	policy    string
	bodyLimit int64
	timeout   time.Duration
	hasTO     bool
	needs     []stateNeed
	limit     *limitSpec // see RateLimit
	res       resilienceSpec
	cors      *corsPolicy
	checks    []func(*Gateway) error // run by New on each route; see AuthRequest
}

// SharedOption is an option that works on services and routes alike:
// [Before], [After], [Policy], [BodyLimit], [Timeout] and [RequireState].
// On a service it applies to every route; a route's own setting wins, and
// hooks and required state accumulate (service hooks run first).
type SharedOption struct{ apply func(*sharedSpec) }

func (o SharedOption) applyService(s *ServiceSpec) { o.apply(&s.shared) }
func (o SharedOption) applyRoute(r *routeSpec)     { o.apply(&r.shared) }

// Policy selects a policy registered with [WithPolicy] by name, for a
// service or one route. A route's policy wins over its service's, which
// wins over the gateway default ([WithDefaultPolicy]). An unknown name is
// an error from [New].
func Policy(name string) SharedOption {
	return SharedOption{func(s *sharedSpec) { s.policy = name }}
}

// BodyLimit sets the largest body, in bytes, that a route with a JSON or
// form input reads (default: the gateway's, see [WithBodyLimit]). A larger
// body is refused with 413. Streamed bodies are never limited by it. A
// negative n is an error from [New]; 0 keeps the gateway's limit.
func BodyLimit(n int64) SharedOption {
	return SharedOption{func(s *sharedSpec) { s.bodyLimit = n }}
}

// Timeout overrides the gateway's request timeout ([WithRequestTimeout])
// for a service or route; 0 disables it, as long-lived streams (SSE,
// WebSocket) want.
func Timeout(d time.Duration) SharedOption {
	return SharedOption{func(s *sharedSpec) { s.timeout, s.hasTO = d, true }}
}

// UseOption adds middleware at gateway, service or route level; see [Use].
type UseOption struct {
	mw []func(http.Handler) http.Handler
}

func (o UseOption) applyService(s *ServiceSpec) { s.shared.mw = append(s.shared.mw, o.mw...) }
func (o UseOption) applyRoute(r *routeSpec)     { r.shared.mw = append(r.shared.mw, o.mw...) }
func (o UseOption) applyGateway(c *config)      { c.mw = append(c.mw, o.mw...) }

// Use adds ordinary net/http middleware. Given to [New] it wraps the whole
// gateway and runs before routing; given to a service or route it runs
// after routing, for that service's or route's requests only. Order, from
// the outside in: gateway middleware, service middleware, route
// middleware (each in the order given), then hooks and the proxy. Route
// and service middleware cost one small allocation per request (the path
// parameters travel in the request context). A nil middleware, or one that
// returns a nil handler, is an error from [New].
func Use(mw ...func(http.Handler) http.Handler) UseOption {
	return UseOption{mw: append([]func(http.Handler) http.Handler(nil), mw...)}
}
