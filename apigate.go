package apigate

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apigate-go/apigate/internal/rewrite"
	"github.com/apigate-go/apigate/observe"
	"github.com/julienschmidt/httprouter"
)

// Gateway is a compiled gateway, an [http.Handler]. It is safe for
// concurrent use; build it with [New].
type Gateway struct {
	router       *httprouter.Router
	handler      http.Handler
	eng          engine
	poolHeaders  bool // eng reuses outbound state, so a Ctx may keep header storage
	ownTransport idleCloser
	renderer     ErrorRenderer
	obs          observe.Observer
	tracer       observe.Tracer // obs, when it is a Tracer
	ids          *requestIDs    // nil when request IDs are off
	recover      bool
	trusted      []netip.Prefix
	preserveHost bool
	noForwarded  bool
	streamLimit  int64
	upgradeIdle  time.Duration
	upgrades     []string
	states       []any
	methods      []string
	routes       []*route
	services     []*service
	bufPool      sync.Pool
	ctxPool      sync.Pool
	bg           background

	preflights *httprouter.Router // CORS routes, for preflights; nil without CORS
	openapi    openAPIState
}

// New builds a gateway from options. It reports every configuration
// problem it finds at once (joined with errors.Join), each naming the
// service or route at fault.
func New(opts ...Option) (*Gateway, error) {
	c := &config{timeout: DefaultRequestTimeout, bodyLimit: DefaultBodyLimit, upgrades: []string{"websocket"},
		upgradeIdle: DefaultUpgradeIdleTimeout}
	for _, o := range opts {
		if o != nil {
			o.applyGateway(c)
		}
	}
	return build(c)
}

// MustNew is like [New] but panics on error, for main functions and tests.
func MustNew(opts ...Option) *Gateway {
	g, err := New(opts...)
	if err != nil {
		panic(err)
	}
	return g
}

// ServeHTTP routes and forwards one request.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.handler.ServeHTTP(w, r)
}

// CloseIdleConnections closes the idle upstream connections of the
// gateway's own transport (not of one given with [WithRoundTripper]).
func (g *Gateway) CloseIdleConnections() {
	if g.ownTransport != nil {
		g.ownTransport.CloseIdleConnections()
	}
}

// routePath returns the escaped, normalized path the router matches on, so
// that "%2F" inside a segment stays inside it.
func routePath(r *http.Request) string {
	return rewrite.Normalize(r.URL.EscapedPath())
}

// dispatch matches the request and runs its route; misses get 404, 405
// with Allow, or an automatic OPTIONS answer.
func (g *Gateway) dispatch(w http.ResponseWriter, r *http.Request) {
	p := routePath(r)
	if r.Method == http.MethodOptions && g.preflights != nil && g.servePreflight(w, r, p) {
		return
	}
	if h, ps, _ := g.router.Lookup(r.Method, p); h != nil {
		h(w, r, ps)
		return
	}
	if r.Method == http.MethodHead {
		if h, ps, _ := g.router.Lookup(http.MethodGet, p); h != nil {
			h(w, r, ps)
			return
		}
	}
	allow := g.allowed(p)
	if allow != "" && r.Method == http.MethodOptions {
		w.Header().Set("Allow", allow)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	x := exchange{g: g, w: w, r: r}
	defer x.finish()
	x.start()
	e := &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "no route for " + clipString(r.URL.Path)}
	if allow != "" {
		w.Header().Set("Allow", allow)
		e = &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed, Message: "method not allowed"}
	}
	if g.obs != nil {
		x.emit(observe.Event{Kind: observe.NoRoute, Backend: -1, Status: e.Status, Code: e.Code})
	}
	x.status = e.Status
	g.render(w, x.r, e)
	x.done = true
}

// allowed lists the methods that have a route for path, for the Allow
// header. A path with a GET route lists HEAD too: dispatch answers HEAD
// through the GET route when the path has no HEAD route of its own.
func (g *Gateway) allowed(path string) string {
	var allow []string
	for _, m := range g.methods {
		if h, _, _ := g.router.Lookup(m, path); h != nil {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		return ""
	}
	if i := slices.Index(allow, http.MethodGet); i >= 0 && !slices.Contains(allow, http.MethodHead) {
		allow = slices.Insert(allow, i+1, http.MethodHead)
	}
	if !slices.Contains(allow, http.MethodOptions) {
		allow = append(allow, http.MethodOptions)
	}
	return strings.Join(allow, ", ")
}

// fail renders e for the client (unless the client is gone) and tells the
// observer: DispatchFailed when no backend was available, PipelineFailed
// for everything the gateway refused before going upstream.
func (x *exchange) fail(e *Error) {
	if x.g.obs != nil {
		kind := observe.PipelineFailed
		switch e.Code {
		case CodeNoBackend, CodeOverloaded, CodeCircuitOpen:
			kind = observe.DispatchFailed
		}
		x.emit(observe.Event{Kind: kind, Backend: -1, Status: e.Status, Code: e.Code, Err: e})
	}
	if e.Status == StatusClientClosedRequest {
		abandon()
	}
	x.status = e.Status
	x.g.render(x.w, x.r, e)
}

// emit passes ev, completed with the request's fields, to the observer,
// which must be set.
func (x *exchange) emit(ev observe.Event) {
	ev.Request = x.r
	ev.Method = x.r.Method
	ev.RequestID = x.id
	if x.rt != nil {
		ev.Service = x.rt.svc.name
		ev.Route = x.rt.pattern
	}
	if ev.Kind.Terminal() {
		x.terminal = true
	}
	x.g.obs.Observe(x.r.Context(), ev)
}

func clipString(s string) string {
	if len(s) > 128 {
		return s[:128] + "..."
	}
	return s
}
