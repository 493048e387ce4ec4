package apigate

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apigate-go/apigate/internal/field"
	"github.com/julienschmidt/httprouter"
)

// CORSOptions configures cross-origin resource sharing for [CORS]. The
// gateway answers preflight requests itself (the upstream never sees them)
// and adds the Access-Control-* headers to every response of the routes
// it applies to, replacing any the upstream sent.
type CORSOptions struct {
	// AllowOrigins lists the origins that may call the routes: exact
	// origins ("https://app.example.com", "http://127.0.0.1:3000"),
	// patterns with one wildcard for one or more leading host labels
	// ("https://*.example.com", which matches https://a.example.com and
	// https://a.b.example.com but not https://example.com), or "*" for any
	// origin. The origin "null" (sandboxed documents, file: URLs) matches
	// only when listed as "null". At least one entry is required.
	AllowOrigins []string
	// AllowMethods restricts the methods a preflight may ask for. Empty
	// allows every method the path has a route for.
	AllowMethods []string
	// AllowHeaders lists the request headers a preflight may ask for,
	// case-insensitively; "*" allows any. Empty means Accept,
	// Accept-Language, Content-Language and Content-Type.
	AllowHeaders []string
	// ExposeHeaders lists the response headers scripts may read beyond the
	// CORS-safelisted ones (Access-Control-Expose-Headers).
	ExposeHeaders []string
	// AllowCredentials lets browsers send cookies and HTTP authentication
	// (Access-Control-Allow-Credentials: true). The allowed origin is then
	// always echoed, never "*", as the Fetch standard requires: combined
	// with AllowOrigins "*" that trusts every site with your users'
	// credentials, so list origins instead.
	AllowCredentials bool
	// MaxAge is how long browsers may cache a preflight answer
	// (Access-Control-Max-Age, whole seconds); 0 leaves the browser's
	// default (5 seconds in most browsers).
	MaxAge time.Duration
}

// CORSOption enables CORS for a whole gateway (given to [New]), a service
// or one route. Create one with [CORS].
type CORSOption struct {
	p   *corsPolicy
	err error
}

func (o CORSOption) applyGateway(c *config) {
	if o.err != nil {
		c.errs = append(c.errs, fmt.Errorf("apigate: CORS: %w", o.err))
		return
	}
	c.cors = o.p
}

func (o CORSOption) applyService(s *ServiceSpec) {
	if o.err != nil {
		s.errs = append(s.errs, fmt.Errorf("apigate: service %q: CORS: %w", s.prefix, o.err))
		return
	}
	s.shared.cors = o.p
}

func (o CORSOption) applyRoute(r *routeSpec) {
	if o.err != nil {
		r.errs = append(r.errs, fmt.Errorf("CORS: %w", o.err))
		return
	}
	r.shared.cors = o.p
}

// CORS makes the gateway handle cross-origin requests for the routes it
// applies to: given to [New] it covers every route, given to [Service] or
// a route it covers those (a route's setting wins over its service's,
// which wins over the gateway's; settings do not merge).
//
// A preflight (OPTIONS with Origin and Access-Control-Request-Method) for
// a path and method that has a CORS route is answered by the gateway with
// 204 and never forwarded; an allowed origin, method and header list gets
// the Access-Control-Allow-* headers, anything else none. An OPTIONS
// request that is not a preflight is routed as usual. Every other response
// of a CORS route, the upstream's and the gateway's own errors alike,
// carries Access-Control-Allow-Origin (and -Credentials, -Expose-Headers)
// when the request's Origin is allowed, and Vary: Origin unless any origin
// is allowed without credentials; the upstream's own Access-Control-*
// headers are removed. Routes without CORS pay nothing.
//
// Invalid options (an origin with a path, a pattern with two wildcards, a
// header name that is not a token, a negative MaxAge) are an error from
// [New].
func CORS(o CORSOptions) CORSOption {
	p, err := compileCORS(o)
	return CORSOption{p: p, err: err}
}

// corsPolicy is compiled CORS configuration; immutable, and its slices
// are shared by every response (cap == len, so appends copy).
type corsPolicy struct {
	anyOrigin   bool
	exact       map[string][]string // allowed origin → its header value
	patterns    []originPattern
	methods     []string // nil: any routed method
	anyHeader   bool
	headers     map[string]bool // lower case
	credentials []string        // {"true"} or nil
	expose      []string        // the Expose-Headers value, or nil
	maxAge      []string        // the Max-Age value, or nil
	vary        bool            // responses depend on Origin
}

// originPattern matches "scheme://" + one or more labels + suffix, where
// suffix starts with '.' ("https://*.example.com" → "https://",
// ".example.com").
type originPattern struct{ scheme, suffix string }

var (
	corsStar           = []string{"*"}
	corsVaryOrigin     = []string{"Origin"}
	corsVaryPreflight  = []string{"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}
	corsDefaultHeaders = []string{"Accept", "Accept-Language", "Content-Language", "Content-Type"}
)

func compileCORS(o CORSOptions) (*corsPolicy, error) {
	p := &corsPolicy{exact: map[string][]string{}, headers: map[string]bool{}}
	var errs []error
	if len(o.AllowOrigins) == 0 {
		errs = append(errs, errors.New("AllowOrigins is empty"))
	}
	for _, s := range o.AllowOrigins {
		switch {
		case s == "*":
			p.anyOrigin = true
		case s == "null":
			p.exact[s] = []string{s}
		case strings.Contains(s, "*"):
			pat, err := parseOriginPattern(s)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			p.patterns = append(p.patterns, pat)
		default:
			o, err := parseOrigin(s)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			p.exact[o] = []string{o}
		}
	}
	for _, m := range o.AllowMethods {
		if !field.ValidName(m) {
			errs = append(errs, fmt.Errorf("method %q is not a token", m))
			continue
		}
		p.methods = append(p.methods, m)
	}
	allow := o.AllowHeaders
	if allow == nil {
		allow = corsDefaultHeaders
	}
	for _, h := range allow {
		switch {
		case h == "*":
			p.anyHeader = true
		case !field.ValidName(h):
			errs = append(errs, fmt.Errorf("header %q is not a token", h))
		default:
			p.headers[strings.ToLower(h)] = true
		}
	}
	for _, h := range o.ExposeHeaders {
		if !field.ValidName(h) {
			errs = append(errs, fmt.Errorf("exposed header %q is not a token", h))
		}
	}
	if len(o.ExposeHeaders) > 0 {
		p.expose = []string{strings.Join(o.ExposeHeaders, ", ")}
	}
	if o.AllowCredentials {
		p.credentials = []string{"true"}
	}
	switch {
	case o.MaxAge < 0:
		errs = append(errs, fmt.Errorf("negative MaxAge %v", o.MaxAge))
	case o.MaxAge > 0:
		p.maxAge = []string{strconv.FormatInt(int64(max(o.MaxAge/time.Second, 1)), 10)}
	}
	p.vary = !p.anyOrigin || o.AllowCredentials || len(p.exact) > 0 || len(p.patterns) > 0
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// parseOrigin checks an exact origin, scheme://host[:port], and returns it
// in the lower case browsers send.
func parseOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("origin %q: want scheme://host[:port], nothing more", s)
	}
	return strings.ToLower(s), nil
}

func parseOriginPattern(s string) (originPattern, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !strings.HasPrefix(rest, "*.") || strings.Count(s, "*") != 1 {
		return originPattern{}, fmt.Errorf("origin pattern %q: want one wildcard as the first host label, as in https://*.example.com", s)
	}
	if _, err := parseOrigin(scheme + "://x" + rest[1:]); err != nil {
		return originPattern{}, fmt.Errorf("origin pattern %q: want scheme://*.domain[:port], nothing more", s)
	}
	return originPattern{scheme: strings.ToLower(scheme) + "://", suffix: strings.ToLower(rest[1:])}, nil
}

// allowOrigin returns the Access-Control-Allow-Origin value for origin,
// nil when it is not allowed.
func (p *corsPolicy) allowOrigin(origin string) []string {
	if origin == "" {
		return nil
	}
	if v, ok := p.exact[origin]; ok {
		return v
	}
	for _, pat := range p.patterns {
		if pat.match(origin) {
			return []string{origin}
		}
	}
	if p.anyOrigin && origin != "null" {
		if p.credentials != nil {
			return []string{origin}
		}
		return corsStar
	}
	return nil
}

// match reports whether origin is the pattern's scheme, one or more host
// labels, then its suffix.
func (o originPattern) match(origin string) bool {
	if len(origin) <= len(o.scheme)+len(o.suffix) || !strings.HasPrefix(origin, o.scheme) || !strings.HasSuffix(origin, o.suffix) {
		return false
	}
	labels := origin[len(o.scheme) : len(origin)-len(o.suffix)]
	for i := 0; i < len(labels); i++ {
		c := labels[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return labels[0] != '.' && labels[len(labels)-1] != '.'
}

// actual adds the CORS headers of a non-preflight response to h.
func (p *corsPolicy) actual(h http.Header, r *http.Request) {
	if p.vary {
		if v, ok := h["Vary"]; ok {
			h["Vary"] = append(v, "Origin")
		} else {
			h["Vary"] = corsVaryOrigin
		}
	}
	var origin string
	if v := r.Header["Origin"]; len(v) > 0 {
		origin = v[0]
	}
	allowed := p.allowOrigin(origin)
	if allowed == nil {
		return
	}
	h["Access-Control-Allow-Origin"] = allowed
	if p.credentials != nil {
		h["Access-Control-Allow-Credentials"] = p.credentials
	}
	if p.expose != nil {
		h["Access-Control-Expose-Headers"] = p.expose
	}
}

// fromUpstream prepares an upstream response's headers src for copying
// onto dst, which already holds the gateway's CORS headers: the
// upstream's Access-Control-* headers go, and its Vary absorbs the
// gateway's, so that the upstream's field, which replaces dst's when it
// is copied, still names Origin. dst keeps its Vary: a response that
// does not copy src after all (an After hook's error) must still vary
// on Origin.
func (p *corsPolicy) fromUpstream(dst, src http.Header) {
	for k := range src {
		if len(k) > 15 && k[:15] == "Access-Control-" {
			delete(src, k)
		}
	}
	if v, ok := src["Vary"]; ok && p.vary {
		src["Vary"] = append(v[:len(v):len(v)], dst["Vary"]...)
	}
}

// preflight answers a preflight request with 204, with the
// Access-Control-Allow-* headers when origin, method and headers are
// allowed.
func (p *corsPolicy) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Vary"] = corsVaryPreflight
	if allowed := p.allowOrigin(r.Header.Get("Origin")); allowed != nil {
		method := r.Header.Get("Access-Control-Request-Method")
		reqHeaders := strings.Join(r.Header.Values("Access-Control-Request-Headers"), ",")
		if (p.methods == nil || slices.Contains(p.methods, method)) && p.headersAllowed(reqHeaders) {
			h["Access-Control-Allow-Origin"] = allowed
			h["Access-Control-Allow-Methods"] = []string{method}
			if reqHeaders != "" {
				h["Access-Control-Allow-Headers"] = []string{strings.ToLower(reqHeaders)}
			}
			if p.credentials != nil {
				h["Access-Control-Allow-Credentials"] = p.credentials
			}
			if p.maxAge != nil {
				h["Access-Control-Max-Age"] = p.maxAge
			}
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// headersAllowed reports whether every name in the comma-separated list
// is allowed.
func (p *corsPolicy) headersAllowed(list string) bool {
	if p.anyHeader {
		return true
	}
	for list != "" {
		var name string
		name, list, _ = strings.Cut(list, ",")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "" && !p.headers[name] {
			return false
		}
	}
	return true
}

// corsFor returns the CORS policy of a route: its own, its service's, or
// the gateway's, nil for none.
func corsFor(c *config, s *ServiceSpec, rs *routeSpec) *corsPolicy {
	switch {
	case rs.shared.cors != nil:
		return rs.shared.cors
	case s.shared.cors != nil:
		return s.shared.cors
	}
	return c.cors
}

// withCORS wraps a CORS route's handle so every response carries its
// headers, and registers the route for preflights.
func (g *Gateway) withCORS(p *corsPolicy, method, pattern string, next httprouter.Handle) (httprouter.Handle, error) {
	if g.preflights == nil {
		g.preflights = httprouter.New()
	}
	if err := register(g.preflights, method, pattern, func(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
		p.preflight(w, r)
	}); err != nil {
		return nil, err
	}
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		p.actual(w.Header(), r)
		next(w, r, ps)
	}, nil
}

// servePreflight answers r if it is a preflight for a CORS route at path,
// and reports whether it did.
func (g *Gateway) servePreflight(w http.ResponseWriter, r *http.Request, path string) bool {
	method := r.Header.Get("Access-Control-Request-Method")
	if method == "" || r.Header.Get("Origin") == "" {
		return false
	}
	h, _, _ := g.preflights.Lookup(method, path)
	if h == nil && method == http.MethodHead {
		h, _, _ = g.preflights.Lookup(http.MethodGet, path)
	}
	if h == nil {
		return false
	}
	h(w, r, nil)
	return true
}
