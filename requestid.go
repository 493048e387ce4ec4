package apigate

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"sync/atomic"
	"unsafe"

	"github.com/apigate-go/apigate/internal/field"
	"github.com/apigate-go/apigate/observe"
)

// DefaultRequestIDHeader is the header that carries request IDs unless
// [WithRequestIDHeader] names another.
const DefaultRequestIDHeader = "X-Request-Id"

// MaxRequestIDLen is the longest request ID the gateway accepts from a
// trusted proxy; longer ones are replaced.
const MaxRequestIDLen = 128

// WithRequestIDHeader sets the header that carries request IDs (default
// [DefaultRequestIDHeader], "X-Request-Id"); "" turns request IDs off.
//
// With request IDs on, every request routed by the gateway gets an ID: the
// one in that header when the request comes from a trusted proxy (see
// [WithTrustedProxies]) and the value is valid (at most [MaxRequestIDLen]
// bytes of letters, digits and "-_.:+=/@"), otherwise a new one. The
// gateway sends it upstream in that header, returns it to the client in
// the same response header (replacing any the upstream sent), passes it to
// observers (observe.Event.RequestID, which the slog observer logs as
// "request_id") and to hooks ([Ctx.RequestID]). A value from an untrusted
// client is never forwarded: a client cannot choose the ID the services
// behind the gateway log.
//
// A new ID is 33 bytes: a random per-gateway prefix, a dash and a 64-bit
// sequence number scrambled so that IDs do not reveal the request rate,
// like "4f1c9a02b7d3e851-93b0c4e1a27f6d58". IDs are unique within a
// gateway for 2^64 requests and, by the random prefix, across gateways
// with overwhelming probability. Making one costs an atomic add and one
// small allocation, which holds both the ID and the response header's
// value.
func WithRequestIDHeader(name string) Option {
	return optionFunc(func(c *config) {
		if name != "" && !field.ValidName(name) {
			c.errs = append(c.errs, fmt.Errorf("apigate: WithRequestIDHeader: invalid header name %q", name))
			return
		}
		c.requestID = textproto.CanonicalMIMEHeaderKey(name)
		c.requestIDSet = true
	})
}

// configureTracing sets up request IDs, recovery and the tracer seam.
func (g *Gateway) configureTracing(c *config) {
	g.tracer, _ = g.obs.(observe.Tracer)
	g.recover = !c.noRecover
	header := c.requestID
	if !c.requestIDSet {
		header = DefaultRequestIDHeader
	}
	if header != "" {
		g.ids = newRequestIDs(header)
	}
}

// requestIDs makes the IDs of one gateway. It is safe for concurrent use.
type requestIDs struct {
	header string        // canonical header name
	prefix [17]byte      // 16 hex digits of the random prefix, and '-'
	key    uint64        // random offset of the sequence
	seq    atomic.Uint64 // requests numbered so far
	_      [0]func()     // not comparable
}

// newRequestIDs returns an ID maker for header with a fresh random
// prefix and key.
func newRequestIDs(header string) *requestIDs {
	var seed [16]byte
	rand.Read(seed[:]) // never fails (crypto/rand panics rather)
	ids := &requestIDs{header: header, key: binary.LittleEndian.Uint64(seed[8:])}
	hexUint64(ids.prefix[:16], binary.LittleEndian.Uint64(seed[:8]))
	ids.prefix[16] = '-'
	return ids
}

// idCell holds one new ID and the one-value slice a header map points
// to, in one allocation.
type idCell struct {
	vals [1]string
	buf  [33]byte
}

// next returns a new ID, and a one-element slice holding it for a header
// map. The slice's capacity is 1: appending to it copies.
func (ids *requestIDs) next() (string, []string) {
	n := ids.seq.Add(1)
	c := new(idCell)
	copy(c.buf[:17], ids.prefix[:])
	hexUint64(c.buf[17:], mix64(ids.key+n*0x9e3779b97f4a7c15))
	// buf is never written again: the string may share it.
	c.vals[0] = unsafe.String(&c.buf[0], len(c.buf))
	return c.vals[0], c.vals[:1:1]
}

// pick returns the request's ID: the one in its header when the request
// came from a trusted proxy and the ID is valid, else a new one. vals is
// a one-element slice holding it, nil when the ID is the inbound
// header's own value (the caller may then reuse that header's slice).
func (ids *requestIDs) pick(r *http.Request, trusted bool) (id string, vals []string) {
	if trusted {
		if in := r.Header[ids.header]; len(in) == 1 && validRequestID(in[0]) {
			return in[0], nil
		}
	}
	return ids.next()
}

// mix64 is SplitMix64's finalizer (Steele, Lea and Flood, "Fast
// splittable pseudorandom number generators", 2014), a bijection on
// uint64: distinct sequence numbers give distinct IDs.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// hexUint64 writes v as 16 lower-case hex digits into dst[:16].
func hexUint64(dst []byte, v uint64) {
	const digits = "0123456789abcdef"
	_ = dst[15]
	for i := 15; i >= 0; i-- {
		dst[i] = digits[v&0xf]
		v >>= 4
	}
}

// validRequestID reports whether s is acceptable as a request ID from a
// trusted proxy: 1 to MaxRequestIDLen bytes of ASCII letters, digits and
// "-_.:+=/@". That covers UUIDs, ULIDs, hex and base64 IDs, and keeps
// anything that could break a log line or a header out.
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '+', c == '=', c == '/', c == '@':
		default:
			return false
		}
	}
	return true
}

// RequestID returns the request's ID (see [WithRequestIDHeader]), "" when
// request IDs are off.
func (c *Ctx) RequestID() string { return c.reqID }

// start begins the request's observed life: it picks the request ID and
// sets it on the response, lets a tracer give the request its context,
// and emits RequestStarted.
func (x *exchange) start() {
	g := x.g
	if ids := g.ids; ids != nil {
		x.id, x.idVals = ids.pick(x.r, len(g.trusted) > 0 && g.isTrustedPeer(x.r))
		if x.idVals == nil {
			x.idVals = x.r.Header[ids.header]
		}
		x.w.Header()[ids.header] = x.idVals
	}
	if g.obs == nil {
		return
	}
	ev := observe.Event{Kind: observe.RequestStarted, Backend: -1}
	if g.tracer != nil {
		ev.Request, ev.Method, ev.RequestID = x.r, x.r.Method, x.id
		if x.rt != nil {
			ev.Service, ev.Route = x.rt.svc.name, x.rt.pattern
		}
		x.r = x.r.WithContext(g.tracer.StartRequest(x.r.Context(), ev))
	}
	x.emit(ev)
}

// tagOutbound sets the request ID on the outbound headers h, replacing
// any the client sent.
func (x *exchange) tagOutbound(h http.Header) {
	if x.idVals != nil {
		h[x.g.ids.header] = x.idVals
	}
}

// isTrustedPeer reports whether r comes from a trusted proxy.
func (g *Gateway) isTrustedPeer(r *http.Request) bool {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	return err == nil && g.isTrusted(ip)
}
