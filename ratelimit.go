package apigate

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apigate-go/apigate/internal/field"
	"github.com/apigate-go/apigate/ratelimit"
	"github.com/julienschmidt/httprouter"
)

// LimitKey says what a rate limit counts requests by: the client's address
// ([LimitByIP], the zero LimitKey), a request header ([LimitByHeader]), a
// path parameter ([LimitByParam]) or a function of the request
// ([LimitByFunc]). A request whose key is empty is counted by its
// client's address instead, in a budget of its own.
type LimitKey struct {
	kind keyKind
	name string // canonical header name, or path parameter name
	fn   func(c *Ctx) string
}

type keyKind uint8

const (
	keyIP keyKind = iota
	keyHeader
	keyParam
	keyFunc
)

// LimitByIP counts requests by client address: the connection's peer, or,
// when the peer is a proxy trusted with [WithTrustedProxies], the
// rightmost address in X-Forwarded-For that is not itself a trusted
// proxy. IPv6 clients are counted by their /64 network, since one host
// usually holds a whole /64.
func LimitByIP() LimitKey { return LimitKey{kind: keyIP} }

// LimitByHeader counts requests by the first value of an inbound request
// header, such as an API key. Anyone can send any value, so use it for
// headers a gateway in front (or the upstream) authenticates, or combine
// it with a per-IP limit; for a key that a hook establishes (a user id
// after authentication), use [LimitByFunc].
func LimitByHeader(name string) LimitKey {
	return LimitKey{kind: keyHeader, name: textproto.CanonicalMIMEHeaderKey(name)}
}

// LimitByParam counts requests by a path parameter of the route, in its
// escaped form: RateLimit on GET /tenants/:tenant/... with
// LimitByParam("tenant") gives every tenant its own budget. Every route
// the limit applies to must have the parameter.
func LimitByParam(name string) LimitKey { return LimitKey{kind: keyParam, name: name} }

// LimitByFunc counts requests by the key fn returns. fn runs after the
// route's [Before] hooks, so it can read what they established, such as
// a user id stored with [Set] or an outbound header; it runs before the
// query and body are decoded, so a refused request costs no body read.
// fn must be fast and safe for concurrent use.
func LimitByFunc(fn func(c *Ctx) string) LimitKey { return LimitKey{kind: keyFunc, fn: fn} }

// limitSpec is a RateLimit option as declared.
type limitSpec struct {
	lim ratelimit.Limit
	key LimitKey
	off bool
}

// RateLimit limits a service's or a route's requests to l (see
// [ratelimit.Limit]) per key. A refused request gets 429
// "too_many_requests" through the error renderer, with Retry-After and
// the RateLimit and RateLimit-Policy headers, and never reaches the
// upstream; allowed responses carry RateLimit and RateLimit-Policy too
// unless [WithRateLimitHeaders] turns them off.
//
// On a service it applies to every route, and the routes share one
// budget per key (the limit's Name); a route's own RateLimit (or
// [NoRateLimit]) replaces the service's. Limits that share a Name must
// be equal. State lives in the gateway's store: in memory unless
// [WithRateLimiter] chooses another, such as Redis for limits shared by
// replicas.
//
// When it runs: a limit keyed by address, header or path parameter is
// checked first, before hooks and decoding; one keyed by [LimitByFunc]
// after the [Before] hooks and before the query and body are decoded.
// An invalid limit or key is an error from [New].
func RateLimit(l ratelimit.Limit, key LimitKey) SharedOption {
	return SharedOption{func(s *sharedSpec) { s.limit = &limitSpec{lim: l, key: key} }}
}

// NoRateLimit exempts a route from its service's [RateLimit].
func NoRateLimit() SharedOption {
	return SharedOption{func(s *sharedSpec) { s.limit = &limitSpec{off: true} }}
}

// rateLimitConfig is the gateway-wide rate-limit configuration.
type rateLimitConfig struct {
	store  ratelimit.Limiter
	quiet  bool                       // no headers on allowed responses
	byName map[string]ratelimit.Limit // to check that equal names mean equal limits
}

// WithRateLimiter sets the store every [RateLimit] of the gateway keeps
// its state in. The default is a [ratelimit.Local] of
// [ratelimit.DefaultMaxKeys] keys, made for each gateway; give a Redis
// store (github.com/apigate-go/apigate/ratelimit/redis) to share limits
// between replicas.
func WithRateLimiter(l ratelimit.Limiter) Option {
	return optionFunc(func(c *config) { c.rl.store = l })
}

// WithRateLimitHeaders sets whether allowed responses of rate-limited
// routes carry the RateLimit and RateLimit-Policy headers (default true).
// Refused responses always carry them, with Retry-After.
func WithRateLimitHeaders(onAllowed bool) Option {
	return optionFunc(func(c *config) { c.rl.quiet = !onAllowed })
}

// CodeLimiterUnavailable is the code of the 503 sent when the rate-limit
// store cannot decide and fails closed.
const CodeLimiterUnavailable = "limiter_unavailable"

// rateLimit is a route's compiled limit.
type rateLimit struct {
	gw      *Gateway
	store   ratelimit.Limiter
	lim     ratelimit.Limit
	byIP    ratelimit.Limit // lim under a name of its own, for requests without a key
	key     LimitKey
	late    bool       // checked after the hooks (LimitByFunc)
	quiet   bool       // no headers on allowed responses
	policy  []string   // the RateLimit-Policy value
	prefix  string     // `"name";r=`
	oneSec  [][]string // RateLimit values with t=1, by remaining, when the interval is at most 1s
	refused *Error
}

// compileLimit compiles the limit that applies to a route: its own, else
// its service's; nil for none.
func (g *Gateway) compileLimit(c *config, s *ServiceSpec, rs *routeSpec, params []string) (*rateLimit, error) {
	spec := s.shared.limit
	if rs.shared.limit != nil {
		spec = rs.shared.limit
	}
	if spec == nil || spec.off {
		return nil, nil
	}
	l := spec.lim
	if err := l.Check(); err != nil {
		return nil, fmt.Errorf("RateLimit: %s", strings.TrimPrefix(err.Error(), "ratelimit: "))
	}
	name := l.PolicyName()
	if prev, ok := c.rl.byName[name]; ok && prev != l {
		return nil, fmt.Errorf("RateLimit: limit %q declared twice with different values (%d/%v burst %d and %d/%v burst %d)",
			name, prev.Rate, prev.Per, prev.Capacity(), l.Rate, l.Per, l.Capacity())
	}
	if c.rl.byName == nil {
		c.rl.byName = map[string]ratelimit.Limit{}
	}
	c.rl.byName[name] = l
	k := spec.key
	switch k.kind {
	case keyHeader:
		if !field.ValidName(k.name) {
			return nil, fmt.Errorf("RateLimit: LimitByHeader(%q): invalid header name", k.name)
		}
	case keyParam:
		if !slices.Contains(params, k.name) {
			return nil, fmt.Errorf("RateLimit: LimitByParam(%q): the route has no such path parameter", k.name)
		}
	case keyFunc:
		if k.fn == nil {
			return nil, fmt.Errorf("RateLimit: LimitByFunc(nil)")
		}
	}
	if c.rl.store == nil {
		c.rl.store = ratelimit.NewLocal(0)
	}
	byIP := l
	byIP.Name = name + "/ip" // '/' is not allowed in names: no clash
	// The policy as the draft wants it: q requests per w whole seconds.
	w := seconds(l.Per)
	q := int64(float64(l.Rate) * float64(time.Duration(w)*time.Second) / float64(l.Per))
	rl := &rateLimit{
		gw: g, store: c.rl.store, lim: l, byIP: byIP, key: k, late: k.kind == keyFunc, quiet: c.rl.quiet,
		policy:  []string{`"` + name + `";q=` + strconv.FormatInt(q, 10) + ";w=" + strconv.Itoa(w)},
		prefix:  `"` + name + `";r=`,
		refused: &Error{Status: http.StatusTooManyRequests, Code: CodeTooManyRequests, Message: "too many requests"},
	}
	// At a second or less a request, an allowed response's t is always 1:
	// its RateLimit values are few enough to prepare (up to 256).
	if l.Interval() <= time.Second && !rl.quiet {
		rl.oneSec = make([][]string, min(l.Capacity(), 256))
		for r := range rl.oneSec {
			rl.oneSec[r] = []string{rl.state(r, 1)}
		}
	}
	return rl, nil
}

// check counts the request and reports nil to go ahead, or the error to
// render; it sets the rate-limit headers on w. c is nil on the early
// path.
func (l *rateLimit) check(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c *Ctx) *Error {
	lim, key := l.lim, ""
	switch l.key.kind {
	case keyHeader:
		if vv := r.Header[l.key.name]; len(vv) > 0 {
			key = vv[0]
		}
	case keyParam:
		key = ps.ByName(l.key.name)
	case keyFunc:
		key = l.key.fn(c)
	}
	if key == "" {
		key = l.gw.clientKey(r)
		if l.key.kind != keyIP {
			lim = l.byIP
		}
	}
	d, err := l.store.Allow(r.Context(), lim, key, time.Now())
	if err != nil {
		if d.Allowed {
			return nil
		}
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeLimiterUnavailable, Message: "rate limiter unavailable", Err: err}
	}
	h := w.Header()
	if d.Allowed {
		if !l.quiet {
			h["Ratelimit-Policy"] = l.policy
			t := seconds(l.nextUnit(d.Reset))
			if t == 1 && d.Remaining < len(l.oneSec) {
				h["Ratelimit"] = l.oneSec[d.Remaining] // len = cap: appending copies
			} else {
				h["Ratelimit"] = []string{l.state(d.Remaining, t)}
			}
		}
		return nil
	}
	after := seconds(d.RetryAfter)
	h["Retry-After"] = []string{strconv.Itoa(after)}
	h["Ratelimit-Policy"] = l.policy
	h["Ratelimit"] = []string{l.state(0, after)}
	return l.refused
}

// state formats a RateLimit value: `"name";r=remaining;t=seconds`.
func (l *rateLimit) state(remaining, t int) string {
	var buf [96]byte
	b := append(buf[:0], l.prefix...)
	b = strconv.AppendInt(b, int64(remaining), 10)
	b = append(b, ";t="...)
	b = strconv.AppendInt(b, int64(t), 10)
	return string(b)
}

// nextUnit returns how long until the budget grows by one request, given
// how long until it is full: the RateLimit header's t, "the time within
// which the client can use no more than the available quota".
func (l *rateLimit) nextUnit(full time.Duration) time.Duration {
	t := l.lim.Interval()
	if full <= 0 {
		return t
	}
	return (full-1)%t + 1
}

// seconds rounds d up to whole seconds, for delay-seconds fields.
func seconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

// clientKey returns the client's address for rate limiting: the peer, or
// for a trusted proxy the rightmost untrusted X-Forwarded-For entry; an
// IPv6 address as its /64.
func (g *Gateway) clientKey(r *http.Request) string {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	if len(g.trusted) > 0 && g.isTrusted(ip) {
		ip = g.forwardedClient(r.Header["X-Forwarded-For"], ip)
	}
	if strings.IndexByte(ip, ':') < 0 {
		return ip // IPv4, as the peer's text: no allocation
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a = a.Unmap(); a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	var buf [64]byte
	return string(p.AppendTo(buf[:0]))
}

// forwardedClient walks X-Forwarded-For from the right, past trusted
// proxies, and returns the first address that is not one. When every
// entry is trusted it returns the leftmost, and peer when there are none.
func (g *Gateway) forwardedClient(xff []string, peer string) string {
	client := peer
	for i := len(xff) - 1; i >= 0; i-- {
		s := xff[i]
		for s != "" {
			part := s
			if j := strings.LastIndexByte(s, ','); j >= 0 {
				part, s = s[j+1:], s[:j]
			} else {
				s = ""
			}
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			if !g.isTrusted(part) {
				return part
			}
			client = part
		}
	}
	return client
}
