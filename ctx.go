package apigate

import (
	"context"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"

	"github.com/apigate-go/apigate/internal/field"
	"github.com/julienschmidt/httprouter"
)

// Ctx is the request as hooks and maps see it: the inbound request head,
// the outbound headers, path parameters, per-request values and the
// gateway's shared state. A Ctx is pooled: it is valid only until the hook
// or map returns, and must not be kept or used from other goroutines.
type Ctx struct {
	r       *http.Request
	ps      httprouter.Params
	rt      *route
	header  http.Header // outbound headers
	hbuf    headerBuf   // header's storage, kept across requests
	vals    []any
	hdrErr  error
	upgrade string // allowed upgrade protocol, "" for none
	reqID   string

	// set by the body decoder and by maps
	body        []byte
	hasBody     bool
	contentType string
	rawQuery    string
	hasQuery    bool
	input       any // the decoded input the map reads

	res UpstreamResponse // what After hooks edit (after.go)
}

func (c *Ctx) reset() {
	clear(c.vals)
	*c = Ctx{vals: c.vals[:0], hbuf: c.hbuf}
}

// Request returns the inbound request. Treat it as read-only: change what
// goes upstream through the Ctx methods.
func (c *Ctx) Request() *http.Request { return c.r }

// Context returns the request's context, cancelled when the client goes
// away.
func (c *Ctx) Context() context.Context { return c.r.Context() }

// Method returns the request method.
func (c *Ctx) Method() string { return c.r.Method }

// URL returns the inbound request URL. Do not modify it.
func (c *Ctx) URL() *url.URL { return c.r.URL }

// Path returns the inbound, decoded request path.
func (c *Ctx) Path() string { return c.r.URL.Path }

// Route returns the matched route's full pattern, such as
// "/api/items/:id".
func (c *Ctx) Route() string { return c.rt.pattern }

// Service returns the logical name of the route's service.
func (c *Ctx) Service() string { return c.rt.svc.name }

// Param returns the decoded value of the path parameter name, "" if the
// route has none by that name.
func (c *Ctx) Param(name string) string {
	v := c.ps.ByName(name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// Header returns the first value of the outbound header key, as hooks
// have left it so far.
func (c *Ctx) Header(key string) string { return c.header.Get(key) }

// HeaderValues returns all values of the outbound header key. Do not
// modify the slice.
func (c *Ctx) HeaderValues(key string) []string {
	return c.header.Values(key)
}

// SetHeader sets the outbound header key to value. A key or value that is
// not valid in HTTP/1.1 (a value with CR or LF, say) is refused: SetHeader
// returns an error and the request fails with 400 "invalid_header" even if
// the hook ignores the error.
func (c *Ctx) SetHeader(key, value string) error {
	if err := c.checkHeader(key, value); err != nil {
		return err
	}
	c.header.Set(key, value)
	return nil
}

// AddHeader adds value to the outbound header key; invalid input is
// refused as by [Ctx.SetHeader].
func (c *Ctx) AddHeader(key, value string) error {
	if err := c.checkHeader(key, value); err != nil {
		return err
	}
	c.header.Add(key, value)
	return nil
}

// SetHeaderIfAbsent sets the outbound header key to value unless it is
// already present; invalid input is refused as by [Ctx.SetHeader].
func (c *Ctx) SetHeaderIfAbsent(key, value string) error {
	if err := c.checkHeader(key, value); err != nil {
		return err
	}
	k := textproto.CanonicalMIMEHeaderKey(key)
	if _, ok := c.header[k]; !ok {
		c.header[k] = []string{value}
	}
	return nil
}

// DelHeader removes the outbound header key.
func (c *Ctx) DelHeader(key string) { c.header.Del(key) }

func (c *Ctx) checkHeader(key, value string) error {
	var err error
	switch {
	case !field.ValidName(key):
		err = fmt.Errorf("apigate: invalid header name %q", key)
	case !field.ValidValue(value):
		err = fmt.Errorf("apigate: invalid value for header %q", key)
	default:
		return nil
	}
	e := &Error{Status: http.StatusBadRequest, Code: CodeInvalidHeader, Message: "invalid header", Err: err}
	if c.hdrErr == nil {
		c.hdrErr = e
	}
	return e
}

// Set stores v as the request's value of type T, replacing an earlier
// one; later hooks and the map read it with [Value].
func Set[T any](c *Ctx, v T) {
	for i, x := range c.vals {
		if _, ok := x.(T); ok {
			c.vals[i] = v
			return
		}
	}
	c.vals = append(c.vals, v)
}

// Value returns the request's value of type T stored with [Set] (or by a
// typed input such as [Path]), and whether there is one.
func Value[T any](c *Ctx) (T, bool) {
	for _, x := range c.vals {
		if v, ok := x.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// State returns the gateway's shared value of type T registered with
// [WithState] (for an interface T, the first registered value that
// implements it), or the zero T when none was registered. It does not copy
// what a registered pointer points to.
//
// Declare the state a service's or route's hooks read with
// [RequireState], so that [New] fails when it was not registered instead
// of the first request finding a nil client. Use [StateOK] for state that
// is optional.
func State[T any](c *Ctx) T {
	v, _ := StateOK[T](c)
	return v
}

// StateOK is [State] that also reports whether a value of type T was
// registered.
func StateOK[T any](c *Ctx) (T, bool) {
	for _, x := range c.rt.gw.states {
		if v, ok := x.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// stateNeed is a state type declared with RequireState.
type stateNeed struct {
	typ string
	has func(states []any) bool
}

// RequireState declares that the hooks or map of a service or route read
// the shared value of type T with [State]: [New] fails, naming each route
// and the type, when no value of type T (for an interface T, none that
// implements it) was registered with [WithState].
func RequireState[T any]() SharedOption {
	n := stateNeed{typ: reflect.TypeFor[T]().String(), has: func(states []any) bool {
		for _, x := range states {
			if _, ok := x.(T); ok {
				return true
			}
		}
		return false
	}}
	return SharedOption{func(s *sharedSpec) { s.needs = append(s.needs, n) }}
}
