package apigate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/apigate-go/apigate/internal/decode"
	"github.com/apigate-go/apigate/internal/h1"
	"github.com/apigate-go/apigate/internal/hop"
)

// CodeAuthUnavailable is the code of a request that [AuthRequest] could
// not check: the auth service failed, answered a status other than 2xx,
// 401 or 403, sent a response the gateway could not use, or timed out.
const CodeAuthUnavailable = "auth_unavailable"

// Defaults of [AuthRequest].
const (
	// DefaultAuthTimeout bounds a call to the auth service when the
	// route's timeout is longer or off.
	DefaultAuthTimeout = 5 * time.Second
	// DefaultAuthMaxBody caps the body of the auth service's 2xx
	// response.
	DefaultAuthMaxBody = 64 << 10
)

// AuthOption configures [AuthRequest].
type AuthOption struct{ apply func(*authCheck) }

// AuthMethod sets the method of the request to the auth service (default
// GET). No body is sent whatever the method. A GET is tried again on a
// fresh connection when a pooled one turns out to be closed; other
// methods are not (they might not be safe to repeat), so prefer GET when
// the auth service accepts it.
func AuthMethod(method string) AuthOption {
	return AuthOption{func(a *authCheck) { a.tmpl.Method = method }}
}

// AuthHeaders sets the client request headers sent to the auth service,
// replacing the default Authorization and Cookie. The values are the
// outbound ones, as earlier hooks left them. Hop-by-hop headers, Host,
// Content-Length and Content-Type are refused by [New].
func AuthHeaders(names ...string) AuthOption {
	names = append([]string(nil), names...)
	return AuthOption{func(a *authCheck) { a.names = names }}
}

// AuthTimeout bounds each call to the auth service, from sending the
// request to reading the end of the response (default: the route's
// timeout or [DefaultAuthTimeout], whichever is shorter). It must be
// positive.
func AuthTimeout(d time.Duration) AuthOption {
	return AuthOption{func(a *authCheck) { a.timeout, a.hasTimeout = d, true }}
}

// AuthMaxBody caps the body of the auth service's 2xx response (default
// [DefaultAuthMaxBody]); a longer one fails the request with 502. It must
// be positive.
func AuthMaxBody(n int) AuthOption {
	return AuthOption{func(a *authCheck) { a.maxBody = n }}
}

// AuthStrip removes the named headers from the request that goes
// upstream once the auth service has allowed it, before apply runs (which
// may set them again, to pass an internal token say); with no names it
// removes Authorization. By default the upstream receives the client's
// headers as they came, credentials included, as with nginx's
// auth_request.
func AuthStrip(names ...string) AuthOption {
	if len(names) == 0 {
		names = []string{"Authorization"}
	}
	names = append([]string(nil), names...)
	return AuthOption{func(a *authCheck) { a.strip = names }}
}

// AuthOriginalRequest sends the client's method and request URI to the
// auth service as X-Original-Method and X-Original-URI, for services that
// decide per path, as nginx setups commonly do.
func AuthOriginalRequest() AuthOption {
	return AuthOption{func(a *authCheck) { a.original = true }}
}

// AuthRequest checks every request of a service or route with an auth
// service before it goes upstream, as nginx's auth_request does, and hands
// the identity the service returns to apply, which typically passes it
// upstream with [Ctx.SetHeader]. It is a hook (see [Before]) that runs in
// declaration order among the other hooks of the service or route.
//
// The request to the auth service goes to rawURL, parsed once: an http://
// URL, or https:// with the net/http engine (an invalid URL, or https with
// [EngineHTTP1], is an error from [New] naming the route). Its method is
// GET ([AuthMethod] to change); it has no body, and carries the client's
// Authorization and Cookie headers ([AuthHeaders] to choose others), the
// X-Forwarded-For, X-Forwarded-Host, X-Forwarded-Proto and Forwarded
// headers and the request ID as the gateway sends them upstream, and with
// [AuthOriginalRequest] the client's method and URI. Hop-by-hop headers
// are never sent. It travels on the gateway's own upstream client and
// connection pools ([WithUpstream], [WithRoundTripper]), bounded by
// [AuthTimeout] and by the client's request: a client that leaves ends
// the call.
//
// The auth service's answer decides:
//
//   - 2xx: the request is allowed. The body, at most [AuthMaxBody] bytes,
//     is decoded as JSON into a T and passed to apply. When apply is nil
//     or T is struct{}, nothing is decoded and the body may be empty.
//     Then the headers named by [AuthStrip] are removed and apply runs;
//     an error from apply rejects the request as a hook's error does.
//   - 401: the client gets a 401 with code "unauthorized" and the auth
//     service's WWW-Authenticate fields; 403: a 403 with code
//     "forbidden". The auth service's body and other headers are not
//     passed on.
//   - anything else, a body over the limit or one that does not decode:
//     502 with code [CodeAuthUnavailable]; no answer before the timeout:
//     504 with that code. The cause goes to the observer.
//
// Nothing goes upstream unless the auth service answered 2xx and apply
// returned nil. The auth service's response is not cached: every request
// is checked. The option may be used on several services, routes and
// gateways; each gateway calls with its own client. See docs/auth.md.
func AuthRequest[T any](rawURL string, apply func(c *Ctx, id T) error, opts ...AuthOption) SharedOption {
	a := newAuthCheck(rawURL, opts)
	_, empty := any(*new(T)).(struct{})
	h := &authHook[T]{a: a, apply: apply, decode: apply != nil && !empty}
	if h.decode {
		// Types the compiled decoder leaves to encoding/json keep dec nil.
		h.dec, _ = decode.CompileJSONDecoder(reflect.TypeFor[T]())
	}
	return SharedOption{func(s *sharedSpec) {
		s.hooks = append(s.hooks, h.run)
		s.checks = append(s.checks, a.check)
	}}
}

// authHook is the typed part of an AuthRequest: decoding and apply.
type authHook[T any] struct {
	a      *authCheck
	apply  func(*Ctx, T) error
	decode bool
	dec    *decode.JSONDecoder // nil: encoding/json
}

func (h *authHook[T]) run(c *Ctx) error {
	call, e := h.a.verify(c)
	if e != nil {
		return e
	}
	var id T
	if h.decode {
		if err := decodeAuthJSON(h.dec, call.body, &id); err != nil {
			h.a.done(call)
			return authUnavailable(http.StatusBadGateway, "invalid auth response", err)
		}
	}
	h.a.done(call)
	for _, k := range h.a.strip {
		delete(c.header, k)
	}
	if h.apply != nil {
		return h.apply(c, id)
	}
	return nil
}

// decodeAuthJSON decodes the auth service's response body into v, a
// pointer to a zero value of the type dec was compiled for, with dec
// when it is set and encoding/json otherwise (and for the error of a
// body dec refuses). The body's storage is reused once it returns: v
// must not keep it (dec copies strings).
func decodeAuthJSON[T any](dec *decode.JSONDecoder, body []byte, v *T) error {
	if dec != nil && dec.Decode(unsafe.Pointer(v), body) {
		return nil
	}
	*v = *new(T)
	return json.Unmarshal(body, v)
}

// authCheck is the untyped part of an AuthRequest, built once and shared
// by every request of the routes it is on.
type authCheck struct {
	raw        string
	tmpl       http.Request // the request to the auth service, minus context and headers
	names      []string     // client headers to send, canonical
	timeout    time.Duration
	hasTimeout bool
	maxBody    int
	strip      []string // canonical
	original   bool
	err        error
	calls      sync.Pool // *authCall
}

// authCall is one call's storage. Its request and header map are reused
// only with apigate's HTTP/1.1 client, which is done with a request once
// its response body is closed; the body buffer always is.
type authCall struct {
	req  http.Request
	hdr  http.Header
	orig [2]string // X-Original-Method and X-Original-URI values
	buf  []byte
	body []byte // the response body, in buf
}

// forwardedHeaders are the outbound headers the gateway computes that go
// to the auth service too.
var forwardedHeaders = [...]string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded"}

func newAuthCheck(raw string, opts []AuthOption) *authCheck {
	a := &authCheck{raw: raw, names: []string{"Authorization", "Cookie"}, maxBody: DefaultAuthMaxBody}
	a.tmpl = http.Request{Method: http.MethodGet, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	for _, o := range opts {
		if o.apply != nil {
			o.apply(a)
		}
	}
	a.err = a.compile()
	a.calls.New = func() any {
		return &authCall{hdr: make(http.Header, len(a.names)+len(forwardedHeaders)+4), buf: make([]byte, 0, 512)}
	}
	return a
}

// compile validates the configuration and puts names in canonical form.
func (a *authCheck) compile() error {
	u, err := url.Parse(a.raw)
	var errs []error
	switch {
	case err != nil:
		errs = append(errs, err)
	case u.Scheme != "http" && u.Scheme != "https":
		errs = append(errs, errors.New("scheme must be http or https"))
	case u.Host == "":
		errs = append(errs, errors.New("no host"))
	case u.User != nil || u.Fragment != "":
		errs = append(errs, errors.New("must not have user info or a fragment"))
	default:
		a.tmpl.URL, a.tmpl.Host = u, u.Host
	}
	if !validMethod(a.tmpl.Method) {
		errs = append(errs, fmt.Errorf("AuthMethod: invalid method %q", a.tmpl.Method))
	}
	if a.hasTimeout && a.timeout <= 0 {
		errs = append(errs, fmt.Errorf("AuthTimeout(%v): must be positive", a.timeout))
	}
	if a.maxBody <= 0 {
		errs = append(errs, fmt.Errorf("AuthMaxBody(%d): must be positive", a.maxBody))
	}
	a.names = canonicalNames(a.names, "AuthHeaders", &errs)
	a.strip = canonicalNames(a.strip, "AuthStrip", &errs)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("AuthRequest(%q): %w", a.raw, err)
	}
	return nil
}

// canonicalNames returns names in canonical form, recording the ones that
// are not valid or that the gateway manages itself.
func canonicalNames(names []string, opt string, errs *[]error) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		k := textproto.CanonicalMIMEHeaderKey(n)
		h := http.Header{k: nil}
		hop.Remove(h)
		_, kept := h[k]
		switch {
		case n == "" || strings.ContainsAny(n, " \t\r\n:"):
			*errs = append(*errs, fmt.Errorf("%s: invalid header name %q", opt, n))
		case !kept || k == "Host" || k == "Content-Length" || k == "Content-Type":
			*errs = append(*errs, fmt.Errorf("%s: %s is managed by the gateway", opt, k))
		default:
			out = append(out, k)
		}
	}
	return out
}

// validMethod reports whether m is a non-empty HTTP token.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if c := m[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// check is run by New for each route the AuthRequest is on.
func (a *authCheck) check(g *Gateway) error {
	if a.err != nil {
		return a.err
	}
	if _, ok := g.eng.(h1Engine); ok && a.tmpl.URL.Scheme == "https" {
		return fmt.Errorf("AuthRequest(%q): https needs EngineNetHTTP", a.raw)
	}
	return nil
}

// verify asks the auth service about c's request. On success it returns
// the call, whose body holds the 2xx response's body, to give back with
// done.
func (a *authCheck) verify(c *Ctx) (*authCall, *Error) {
	call := a.calls.Get().(*authCall)
	ctx := c.r.Context()
	deadline := time.Now().Add(a.timeoutFor(c.rt))
	var res *http.Response
	var err error
	switch e := c.rt.gw.eng.(type) {
	case h1Engine:
		// The client takes the deadline as an argument, leaving the
		// context as the server made it (its cancellation is watched at
		// no cost), and is done with req once the body is closed.
		clear(call.hdr)
		call.req = *a.tmpl.WithContext(ctx) // inlined: the copy stays on the stack
		call.req.Header = a.header(call.hdr, call, c)
		res, err = e.t.RoundTripWith(&call.req, h1.RoundTripOptions{Deadline: deadline})
	default:
		// A RoundTripper may still read the request after it returns:
		// nothing of it is reused.
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
		req := a.tmpl.WithContext(ctx)
		req.Header = a.header(make(http.Header, len(a.names)+len(forwardedHeaders)+4), new(authCall), c)
		res, err = e.(netEngine).rt.RoundTrip(req)
	}
	if err != nil {
		a.done(call)
		return nil, a.failure(c, ctx, err)
	}
	limit := a.maxBody
	ok := res.StatusCode >= 200 && res.StatusCode < 300
	if !ok {
		limit = 4 << 10 // drained so the connection can be reused
	}
	var over bool
	call.body, over, err = readAuthBody(res, call.buf[:0], limit)
	res.Body.Close()
	call.buf = call.body[:0]
	status := res.StatusCode
	var challenge []string // a 401's WWW-Authenticate, passed to the client
	if status == http.StatusUnauthorized {
		challenge = slices.Clone(res.Header["Www-Authenticate"])
	}
	if e, isH1 := c.rt.gw.eng.(h1Engine); isH1 {
		e.t.Recycle(res) // nothing of it is kept: the body is copied
	}
	switch {
	case err != nil:
		a.done(call)
		return nil, a.failure(c, ctx, err)
	case ok && over:
		a.done(call)
		return nil, authUnavailable(http.StatusBadGateway, "invalid auth response",
			fmt.Errorf("apigate: auth response body over %d bytes", a.maxBody))
	case ok:
		return call, nil
	}
	a.done(call)
	switch status {
	case http.StatusUnauthorized:
		e := Unauthorized("authentication required")
		if len(challenge) > 0 {
			e.Header = http.Header{"Www-Authenticate": challenge}
		}
		return nil, e
	case http.StatusForbidden:
		return nil, Forbidden("access denied")
	}
	return nil, authUnavailable(http.StatusBadGateway, "auth service unavailable",
		errors.New("apigate: auth service answered "+strconv.Itoa(status)))
}

// done gives call back for another request, without a body buffer that
// an unusual response made large.
func (a *authCheck) done(call *authCall) {
	call.req = http.Request{}
	call.body = nil
	if cap(call.buf) > 16<<10 {
		call.buf = nil
	}
	a.calls.Put(call)
}

// timeoutFor returns the bound of one call on route rt.
func (a *authCheck) timeoutFor(rt *route) time.Duration {
	if a.hasTimeout {
		return a.timeout
	}
	if rt.timeout > 0 && rt.timeout < DefaultAuthTimeout {
		return rt.timeout
	}
	return DefaultAuthTimeout
}

// header fills h with the headers of c's call to the auth service. The
// values are the outbound header's own slices, which the client only
// reads.
func (a *authCheck) header(h http.Header, call *authCall, c *Ctx) http.Header {
	for _, k := range a.names {
		if v, ok := c.header[k]; ok {
			h[k] = v
		}
	}
	for _, k := range forwardedHeaders {
		if v, ok := c.header[k]; ok {
			h[k] = v
		}
	}
	if ids := c.rt.gw.ids; ids != nil {
		if v, ok := c.header[ids.header]; ok {
			h[ids.header] = v
		}
	}
	if a.original {
		call.orig[0] = c.r.Method
		call.orig[1] = c.r.RequestURI
		if call.orig[1] == "" {
			call.orig[1] = c.r.URL.RequestURI()
		}
		h["X-Original-Method"] = call.orig[0:1:1]
		h["X-Original-Uri"] = call.orig[1:2:2]
	}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = nil // keep Go's default User-Agent out
	}
	return h
}

// failure maps a failed call to the client's error; ctx is the call's.
func (a *authCheck) failure(c *Ctx, ctx context.Context, err error) *Error {
	if c.r.Context().Err() != nil {
		return clientClosed(err)
	}
	if isTimeout(ctx, err) {
		return authUnavailable(http.StatusGatewayTimeout, "auth service timed out", err)
	}
	return authUnavailable(http.StatusBadGateway, "auth service unavailable", err)
}

func authUnavailable(status int, message string, err error) *Error {
	return &Error{Status: status, Code: CodeAuthUnavailable, Message: message, Err: err}
}

// readAuthBody reads res's body into buf, up to limit bytes, and reports
// whether there was more.
func readAuthBody(res *http.Response, buf []byte, limit int) ([]byte, bool, error) {
	if res.ContentLength > int64(limit) {
		return buf, true, nil
	}
	if res.ContentLength >= 0 && cap(buf) < int(res.ContentLength)+1 {
		buf = make([]byte, 0, int(res.ContentLength)+1)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := res.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			return buf, true, nil
		}
		if err == io.EOF {
			return buf, false, nil
		}
		if err != nil {
			return buf, false, err
		}
	}
}
