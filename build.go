package apigate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/internal/resilience"
	"github.com/apigate-go/apigate/internal/rewrite"
	"github.com/apigate-go/apigate/policy"
	"github.com/julienschmidt/httprouter"
)

// service is a mounted service, compiled. Its backends live in set,
// replaced as a whole by SetBackends and discovery.
type service struct {
	name      string
	prefix    string
	set       atomic.Pointer[backendSet]
	routes    []*route // by slot
	res       resilienceSpec
	breaker   *resilience.Breaker // nil: none
	budget    *resilience.Budget
	plainOnly bool       // EngineHTTP1's own client: no https backends
	mu        sync.Mutex // serializes updates of set
}

// upstream is one backend's parsed base URL; base is its escaped base
// path, basePath the same decoded.
type upstream struct {
	scheme, host, base, basePath string
}

// route is a compiled route: everything the request path needs, decided
// once.
type route struct {
	gw        *Gateway
	svc       *service
	method    string
	pattern   string // full pattern, prefix included
	strip     int    // bytes of prefix to strip when tmpl is nil
	tmpl      *rewrite.Template
	strategy  policy.Strategy
	slot      int // index in svc.routes and in a backend set's bals
	newBal    balancer.Factory
	polName   string
	timeout   time.Duration
	bodyLimit int64
	limit     *rateLimit // nil: no rate limit
	pipe      *pipeline
	after     []AfterHook // nil: none (see after.go)
	res       routeResilience
	cors      *corsPolicy
	spec      *routeSpec // as declared, for OpenAPI
}

type paramsKey struct{}

func build(c *config) (*Gateway, error) {
	errs := append([]error(nil), c.errs...)
	g := &Gateway{
		router:       httprouter.New(),
		renderer:     c.renderer,
		obs:          c.observer,
		trusted:      c.trusted,
		preserveHost: c.preserveHost,
		noForwarded:  c.noForwarded,
		streamLimit:  c.streamLimit,
		upgradeIdle:  c.upgradeIdle,
		upgrades:     c.upgrades,
		states:       c.states,
	}
	g.openapi.info = c.openapi
	if g.renderer == nil {
		g.renderer = TextErrors
	}
	g.configureTracing(c)
	g.bufPool.New = func() any { b := make([]byte, 32<<10); return &b }
	g.ctxPool.New = func() any { return new(Ctx) }
	transport := c.transport
	if transport == nil {
		g.ownTransport = newClient(c.upstream)
		transport = g.ownTransport
		if c.upstream.Engine == EngineHTTP1 && c.upstream.Configure != nil {
			errs = append(errs, errors.New("apigate: UpstreamOptions.Configure needs EngineNetHTTP"))
		}
	}
	g.eng = newEngine(transport, !c.no1xx)
	g.poolHeaders = pooled(g.eng)
	if c.defaultPolicy != "" {
		if _, ok := c.policies[c.defaultPolicy]; !ok {
			errs = append(errs, fmt.Errorf("apigate: WithDefaultPolicy: unknown policy %q", c.defaultPolicy))
		}
	}
	if len(c.mounts) == 0 {
		errs = append(errs, errors.New("apigate: no services mounted"))
	}
	if c.bodyLimit < 0 {
		errs = append(errs, fmt.Errorf("apigate: WithBodyLimit(%d): negative body limit", c.bodyLimit))
	}
	names := map[string]bool{}
	var roots []rootRoute
	for _, m := range c.mounts {
		s := m.svc
		errs = append(errs, s.errs...)
		if names[s.name] {
			errs = append(errs, fmt.Errorf("apigate: service name %q mounted twice", s.name))
		}
		names[s.name] = true
		svc := &service{name: s.name, prefix: s.prefix, plainOnly: c.transport == nil && c.upstream.Engine == EngineHTTP1}
		bs := m.backends
		if len(bs) == 0 {
			for _, u := range c.backends[s.name] {
				bs = append(bs, Backend{URL: u, Weight: 1})
			}
		}
		src := c.sources[s.name]
		if len(bs) == 0 && src == nil {
			errs = append(errs, fmt.Errorf("apigate: service %q (%s): no backends (give Mount URLs or register Backends(%q, ...))", s.name, s.prefix, s.name))
		}
		if src != nil {
			g.bg.discover = append(g.bg.discover, &discovered{g: g, svc: svc, src: src})
			if g.bg.ctx == nil {
				g.bg.ctx, g.bg.stop = context.WithCancel(context.Background())
			}
		}
		errs = append(errs, g.compileService(c, s, svc)...)
		if len(s.routes) == 0 {
			errs = append(errs, fmt.Errorf("apigate: service %q (%s): no routes", s.name, s.prefix))
		}
		for _, rs := range s.routes {
			rt, err := g.compileRoute(c, s, svc, rs, &roots)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			g.routes = append(g.routes, rt)
			rt.slot = len(svc.routes)
			svc.routes = append(svc.routes, rt)
		}
		g.services = append(g.services, svc)
		// A discovered service without static backends answers 503 until
		// its source's first answer.
		set, err := g.newSet(svc, bs, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("apigate: service %q: %w", s.name, err))
			continue
		}
		svc.set.Store(set)
	}
	for name := range c.sources {
		if !names[name] {
			errs = append(errs, fmt.Errorf("apigate: Discover(%q): no such service mounted", name))
		}
	}
	// A service's "/" route answers its bare prefix too, unless another
	// route claims that path: explicit routes are registered first.
	for _, rr := range roots {
		if h, _, _ := g.router.Lookup(rr.method, rr.path); h == nil {
			register(g.router, rr.method, rr.path, rr.handle) // a conflict leaves the path to the other route
		}
	}
	if h, err := wrap(http.HandlerFunc(g.dispatch), c.mw); err != nil {
		errs = append(errs, fmt.Errorf("apigate: Use: gateway %w", err))
	} else {
		g.handler = h
	}
	errs = append(errs, checkRouteDocs(c)...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, rt := range g.routes {
		if !slices.Contains(g.methods, rt.method) {
			g.methods = append(g.methods, rt.method)
		}
	}
	g.start()
	return g, nil
}

func parseBackend(raw string) (upstream, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return upstream{}, fmt.Errorf("backend %q: %w", raw, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return upstream{}, fmt.Errorf("backend %q: scheme must be http or https", raw)
	case u.Host == "":
		return upstream{}, fmt.Errorf("backend %q: no host", raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return upstream{}, fmt.Errorf("backend %q: must not have user info, query or fragment", raw)
	}
	base := strings.TrimRight(u.EscapedPath(), "/")
	if base != "" {
		if err := rewrite.Check(base); err != nil {
			return upstream{}, fmt.Errorf("backend %q: %w", raw, err)
		}
	}
	return upstream{scheme: u.Scheme, host: u.Host, base: base, basePath: strings.TrimRight(u.Path, "/")}, nil
}

// rootRoute is a service's "/" route, to register on the bare prefix as
// well once every declared route is registered.
type rootRoute struct {
	method, path string
	handle       httprouter.Handle
}

func (g *Gateway) compileRoute(c *config, s *ServiceSpec, svc *service, rs *routeSpec, roots *[]rootRoute) (rt *route, err error) {
	pattern := s.prefix + rs.path
	name := rs.method + " " + pattern
	fail := func(format string, args ...any) (*route, error) {
		return nil, fmt.Errorf("apigate: %s: %s", name, fmt.Sprintf(format, args...))
	}
	if len(rs.errs) > 0 {
		return nil, fmt.Errorf("apigate: %s: %w", name, errors.Join(rs.errs...))
	}
	rt = &route{gw: g, svc: svc, method: rs.method, pattern: pattern, strip: len(s.prefix), spec: rs}
	params := rewrite.Params(pattern)
	if rs.hasTo {
		t, err := rewrite.Compile(rs.to, params)
		if err != nil {
			return fail("To: %s", strings.TrimPrefix(err.Error(), "rewrite: "))
		}
		rt.tmpl = t
	}

	// Shared options: the route's own setting wins over the service's.
	rt.timeout = c.timeout
	if s.shared.hasTO {
		rt.timeout = s.shared.timeout
	}
	if rs.shared.hasTO {
		rt.timeout = rs.shared.timeout
	}
	for _, n := range []int64{s.shared.bodyLimit, rs.shared.bodyLimit} {
		if n < 0 {
			return fail("BodyLimit(%d): negative body limit", n)
		}
	}
	rt.bodyLimit = c.bodyLimit
	if s.shared.bodyLimit > 0 {
		rt.bodyLimit = s.shared.bodyLimit
	}
	if rs.shared.bodyLimit > 0 {
		rt.bodyLimit = rs.shared.bodyLimit
	}
	polName := c.defaultPolicy
	if s.shared.policy != "" {
		polName = s.shared.policy
	}
	if rs.shared.policy != "" {
		polName = rs.shared.policy
	}
	var pol policy.Policy
	if polName != "" {
		p, ok := c.policies[polName]
		if !ok {
			return fail("unknown policy %q (register it with WithPolicy)", polName)
		}
		pol = p
	}
	if err := pol.Check(pattern); err != nil {
		return fail("policy %q: %v", polName, err)
	}
	if err := rt.compileResilience(c, s, rs); err != nil {
		return fail("%v", err)
	}
	rt.strategy = pol.Strategy
	rt.newBal, rt.polName = pol.NewBalancer, polName

	var missing []error
	for _, n := range append(append([]stateNeed(nil), s.shared.needs...), rs.shared.needs...) {
		if !n.has(c.states) {
			missing = append(missing, fmt.Errorf("apigate: %s: RequireState: no %s registered (WithState)", name, n.typ))
		}
	}
	if len(missing) > 0 {
		return nil, errors.Join(missing...)
	}

	if rt.limit, err = g.compileLimit(c, s, rs, params); err != nil {
		return fail("%v", err)
	}

	hooks := append(append([]Hook(nil), s.shared.hooks...), rs.shared.hooks...)
	for i, h := range hooks {
		if h == nil {
			return fail("Before: hook %d is nil", i+1)
		}
	}
	for _, check := range append(append([]func(*Gateway) error(nil), s.shared.checks...), rs.shared.checks...) {
		if err := check(g); err != nil {
			return fail("%v", err)
		}
	}
	pipe, err := newPipeline(rt, hooks, &rs.in)
	if err != nil {
		return fail("%v", err)
	}
	rt.pipe = pipe
	if rt.after, err = compileAfter(&s.shared, &rs.shared); err != nil {
		return fail("%v", err)
	}

	var handle httprouter.Handle = rt.serve
	if mw := append(append([]func(http.Handler) http.Handler(nil), s.shared.mw...), rs.shared.mw...); len(mw) > 0 {
		h, err := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ps, _ := r.Context().Value(paramsKey{}).(httprouter.Params)
			rt.serve(w, r, ps)
		}), mw)
		if err != nil {
			return fail("Use: %v", err)
		}
		handle = func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
			h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), paramsKey{}, ps)))
		}
	}
	if rt.cors = corsFor(c, s, rs); rt.cors != nil {
		if handle, err = g.withCORS(rt.cors, rs.method, pattern, handle); err != nil {
			return fail("%v", err)
		}
	}
	if err := register(g.router, rs.method, pattern, handle); err != nil {
		return fail("%v", err)
	}
	if rs.path == "/" && s.prefix != "" {
		*roots = append(*roots, rootRoute{rs.method, s.prefix, handle})
	}
	return rt, nil
}

// wrap applies middleware to h, the first of mw outermost. A nil
// middleware, or one that returns a nil handler, is an error: it would
// fail on every request.
func wrap(h http.Handler, mw []func(http.Handler) http.Handler) (http.Handler, error) {
	for i := len(mw) - 1; i >= 0; i-- {
		if mw[i] == nil {
			return nil, fmt.Errorf("middleware %d is nil", i+1)
		}
		if h = mw[i](h); h == nil {
			return nil, fmt.Errorf("middleware %d returned a nil handler", i+1)
		}
	}
	return h, nil
}

// register adds a route, turning httprouter's panics on conflicting or
// duplicate patterns into errors.
func register(r *httprouter.Router, method, pattern string, h httprouter.Handle) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("route conflict: %v", p)
		}
	}()
	r.Handle(method, pattern, h)
	return nil
}
