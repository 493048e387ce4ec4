package apigate

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/apigate-go/apigate/internal/h1"
	"github.com/apigate-go/apigate/internal/rewrite"
	"github.com/apigate-go/apigate/observe"
	"github.com/julienschmidt/httprouter"
)

// Gateway is a compiled gateway, an [http.Handler]. It is safe for
// concurrent use; build it with [New].
type Gateway struct {
	router       *httprouter.Router
	handler      http.Handler
	transport    http.RoundTripper
	ownTransport idleCloser
	h1           *h1.Transport // transport, when it is apigate's own HTTP/1.1 client
	renderer     ErrorRenderer
	obs          observe.Observer
	trusted      []netip.Prefix
	preserveHost bool
	upgrades     []string
	states       []any
	methods      []string
	routes       []*route
	bufPool      sync.Pool
	ctxPool      sync.Pool
	fwdPool      sync.Pool // *fwdState, with EngineHTTP1

	preflights *httprouter.Router // CORS routes, for preflights; nil without CORS
	openapi    openAPIState
}

// New builds a gateway from options. It reports every configuration
// problem it finds at once (joined with errors.Join), each naming the
// service or route at fault.
func New(opts ...Option) (*Gateway, error) {
	c := &config{timeout: DefaultRequestTimeout, bodyLimit: DefaultBodyLimit, upgrades: []string{"websocket"},
		failures: DefaultFailureThreshold, coolDown: DefaultCoolDown}
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
	if g.obs != nil {
		g.emit(r, nil, observe.Event{Kind: observe.RequestStarted, Backend: -1})
	}
	switch {
	case allow != "":
		w.Header().Set("Allow", allow)
		g.fail(w, r, nil, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed, Message: "method not allowed"})
	default:
		g.fail(w, r, nil, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "no route for " + clipString(r.URL.Path)})
	}
}

// allowed lists the methods that have a route for path, for the Allow
// header.
func (g *Gateway) allowed(path string) string {
	var allow []string
	for _, m := range g.methods {
		if h, _, _ := g.router.Lookup(m, path); h != nil {
			allow = append(allow, m)
			if m == http.MethodGet && !slices.Contains(g.methods, http.MethodHead) {
				allow = append(allow, http.MethodHead)
			}
		}
	}
	if len(allow) == 0 {
		return ""
	}
	if !slices.Contains(allow, http.MethodOptions) {
		allow = append(allow, http.MethodOptions)
	}
	return strings.Join(allow, ", ")
}

// fail renders e for the client (unless the client is gone) and tells the
// observer: DispatchFailed when no backend was available, PipelineFailed
// for everything the gateway refused before going upstream.
func (g *Gateway) fail(w http.ResponseWriter, r *http.Request, rt *route, e *Error) {
	if g.obs != nil {
		kind := observe.PipelineFailed
		if e.Code == CodeNoBackend {
			kind = observe.DispatchFailed
		}
		g.emit(r, rt, observe.Event{Kind: kind, Backend: -1, Status: e.Status, Code: e.Code, Err: e})
	}
	if e.Status == StatusClientClosedRequest {
		return
	}
	g.renderer(w, r, e)
}

func (g *Gateway) emit(r *http.Request, rt *route, ev observe.Event) {
	ev.Request = r
	ev.Method = r.Method
	if rt != nil {
		ev.Service = rt.svc.name
		ev.Route = rt.pattern
	}
	g.obs.Observe(r.Context(), ev)
}

func clipString(s string) string {
	if len(s) > 128 {
		return s[:128] + "..."
	}
	return s
}
