package apigate

import (
	"fmt"
	"net/http"
	"time"
	"unsafe"

	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/internal/hop"
	"github.com/apigate-go/apigate/observe"
)

// UpstreamResponse is the head of an upstream's response as [AfterHook]s
// see it, before anything of it is sent to the client. Hooks edit it in
// place: what Status and Header hold when the last hook returns is what
// the client gets, followed by the upstream's body, streamed untouched.
// It is valid only until the hook returns.
type UpstreamResponse struct {
	// Status is the upstream's status code. A hook may replace it with
	// any final status (200 to 599); anything else fails the request with
	// 500 "internal".
	Status int
	// Header holds the upstream's fields, less the hop-by-hop ones (and
	// the request ID header, when the gateway sets one). The map is the
	// gateway's, reused for a later response once this one is sent: a
	// hook that keeps it past the request must keep a Clone. Each field
	// replaces the one of the same name that middleware set (Set-Cookie
	// is added to it); fields not in Header, deleted ones included, stay
	// as middleware set them. The
	// framing fields (Content-Length, Transfer-Encoding) describe the
	// body that will still be streamed: leave them alone. Both of
	// apigate's servers and net/http's turn CR and LF in a value into
	// spaces.
	Header http.Header
	// Backend is the URL, as configured, of the backend that answered.
	Backend string
}

// AfterHook runs once an upstream has answered and before the client
// sees the response: it may read the request through c (its outbound
// headers as they were sent, and what [Before] hooks stored with [Set]),
// edit the status and headers in res, or replace the whole response by
// returning an error. An *[Error] is rendered by the [ErrorRenderer] and
// a [Response] (see [Respond]) is written as it is, in both cases instead
// of the upstream's body, which is discarded; any other error becomes a
// 500 "internal" whose message reveals nothing (the cause goes to the
// observer). Changing c's outbound headers has no effect: the request
// has gone.
type AfterHook func(c *Ctx, res *UpstreamResponse) error

// sameHeader reports whether a and b are the same map (not equal maps).
func sameHeader(a, b http.Header) bool {
	return *(*unsafe.Pointer)(unsafe.Pointer(&a)) == *(*unsafe.Pointer)(unsafe.Pointer(&b))
}

// After adds hooks that see each upstream response of a service or route.
// They run in order, service hooks first, on the response that is
// delivered (after any retries); the first error stops the chain and
// replaces the response. They do not run when there is no upstream
// response (the gateway's own errors: no backend, timeouts, refused
// input, a [Before] hook's rejection), nor on a 101 Switching Protocols
// that completes an upgrade. The request's UpstreamSucceeded event (see
// package observe) is emitted after them, with the status the client
// gets. After hooks cost nothing on routes without them; a route with
// only After hooks forwards its request as a route without hooks does.
// A nil hook is an error from [New].
//
// A panic in an After hook is recovered as one in a [Before] hook is (see
// [WithoutRecover]): nothing has been sent, so the client gets a 500. The
// upstream's response body is closed either way.
//
// On a route with [CORS], the hooks see the upstream's fields without its
// Access-Control-* ones (the gateway's stand); a hook that sets one
// replaces the gateway's.
func After(hooks ...AfterHook) SharedOption {
	hooks = append([]AfterHook(nil), hooks...)
	return SharedOption{func(s *sharedSpec) { s.after = append(s.after, hooks...) }}
}

// compileAfter returns the route's After hooks, service hooks first, or
// an error naming a nil one.
func compileAfter(s, r *sharedSpec) ([]AfterHook, error) {
	if len(s.after)+len(r.after) == 0 {
		return nil, nil
	}
	hooks := append(append([]AfterHook(nil), s.after...), r.after...)
	for i, h := range hooks {
		if h == nil {
			return nil, fmt.Errorf("After: hook %d is nil", i+1)
		}
	}
	return hooks, nil
}

// after runs the route's After hooks on backend b's response head, then
// delivers the response as they left it, or the one that replaced it. The
// one UpstreamSucceeded event of the exchange is emitted after the hooks,
// with the status the client gets and, when a hook replaced the response,
// its code and error.
func (x *exchange) after(b balancer.Backend, res *http.Response, lat time.Duration) {
	g := x.g
	c := x.c
	if c == nil {
		// A route without a pipeline borrows a Ctx for its hooks only.
		c = g.ctxPool.Get().(*Ctx)
		c.r, c.ps, c.rt, c.reqID = x.r, x.ps, x.rt, x.id
		c.header, c.upgrade = x.o.req.Header, x.upType
		defer func() {
			c.reset()
			g.ctxPool.Put(c)
		}()
	}
	replaced := true
	defer func() {
		if replaced {
			// Also when a hook panics: the upstream connection is not
			// left with an unread body.
			res.Body.Close()
		}
	}()
	hop.Remove(res.Header)
	if x.rt.cors != nil {
		// The gateway's CORS headers stand, unless a hook sets its own.
		x.rt.cors.fromUpstream(x.w.Header(), res.Header)
	}
	ur := &c.res
	orig := res.Header
	*ur = UpstreamResponse{Status: res.StatusCode, Header: res.Header, Backend: b.Addr}
	var err error
	for _, h := range x.rt.after {
		if err = h(c, ur); err != nil {
			break
		}
	}
	if err == nil && (ur.Status < 200 || ur.Status > 599) {
		err = fmt.Errorf("apigate: After hook set status %d", ur.Status)
	}
	ev := observe.Event{Kind: observe.UpstreamSucceeded, Backend: b.Index, Addr: b.Addr, Status: ur.Status, Latency: lat}
	if err == nil {
		res.StatusCode, res.Header = ur.Status, ur.Header
		*ur = UpstreamResponse{}
		replaced = false
		if g.obs != nil {
			x.emit(ev)
		}
		x.status = res.StatusCode
		g.respond(x.w, x.r, res)
		if sameHeader(res.Header, orig) {
			// As in deliver: the response may be recycled, its header map
			// with it, unless a hook put a map of its own in its place.
			x.o.done = res
		}
		return
	}
	*ur = UpstreamResponse{}
	e, resp := asError(err)
	if resp != nil {
		ev.Status, ev.Code = resp.Status, CodeCustomResponse
	} else {
		ev.Status, ev.Code, ev.Err = e.Status, e.Code, e
	}
	if g.obs != nil {
		x.emit(ev)
	}
	switch {
	case resp != nil:
		x.status = resp.Status
		resp.write(x.w)
	case e.Status != StatusClientClosedRequest:
		x.status = e.Status
		g.render(x.w, x.r, e)
	}
}
