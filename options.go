package apigate

import (
	"fmt"
	"net/http"
	"net/netip"
	"reflect"
	"strings"
	"time"

	"github.com/apigate-go/apigate/observe"
	"github.com/apigate-go/apigate/policy"
)

// Option configures a [Gateway] built by [New].
type Option interface {
	applyGateway(*config)
}

type optionFunc func(*config)

func (f optionFunc) applyGateway(c *config) { f(c) }

// Defaults used by [New] when no option says otherwise.
const (
	DefaultRequestTimeout = 30 * time.Second
	DefaultBodyLimit      = 2 << 20
	// DefaultUpgradeIdleTimeout is long enough for WebSocket applications
	// that never ping, and still reclaims connections whose peers left
	// without closing them.
	DefaultUpgradeIdleTimeout = time.Hour
)

type mount struct {
	svc      *ServiceSpec
	backends []Backend
}

// Backend is one upstream server of a service, for [MountBackends].
type Backend struct {
	// URL is the backend's base URL, as for [Mount].
	URL string
	// Weight is its relative share of traffic under weighted policies
	// (round-robin and consistent hash); 0 means 1.
	Weight int
}

// config is the gateway's configuration as given to New.
type config struct {
	mounts        []mount
	backends      map[string][]string
	sources       map[string]Source // see Discover
	policies      map[string]policy.Policy
	defaultPolicy string
	states        []any
	timeout       time.Duration
	bodyLimit     int64
	upstream      UpstreamOptions
	transport     http.RoundTripper
	trusted       []netip.Prefix
	preserveHost  bool
	noForwarded   bool
	no1xx         bool
	streamLimit   int64
	upgradeIdle   time.Duration
	upgrades      []string
	renderer      ErrorRenderer
	observer      observe.Observer
	mw            []func(http.Handler) http.Handler
	requestID     string // request ID header; "" with requestIDSet is off
	requestIDSet  bool
	noRecover     bool
	rl            rateLimitConfig
	res           resilienceSpec
	cors          *corsPolicy
	openapi       OpenAPIInfo
	errs          []error
}

// Mount adds a service to the gateway with its backends' base URLs
// ("http://192.0.2.1:8080", optionally with a base path that every
// upstream path is joined to). Without URLs, the backends come from
// [Backends] registered under the service's name.
func Mount(svc *ServiceSpec, urls ...string) Option {
	bs := make([]Backend, len(urls))
	for i, u := range urls {
		bs[i] = Backend{URL: u, Weight: 1}
	}
	return MountBackends(svc, bs...)
}

// MountBackends is [Mount] with weighted backends: a backend of weight 3
// takes three times the share of a backend of weight 1 under round-robin
// and consistent hashing.
func MountBackends(svc *ServiceSpec, backends ...Backend) Option {
	backends = append([]Backend(nil), backends...)
	return optionFunc(func(c *config) {
		if svc == nil {
			c.errs = append(c.errs, fmt.Errorf("apigate: Mount of a nil service"))
			return
		}
		c.mounts = append(c.mounts, mount{svc: svc, backends: backends})
	})
}

// Backends registers backend URLs for the service named name (see [Name]),
// for services mounted with [Mount] without URLs.
func Backends(name string, urls ...string) Option {
	urls = append([]string(nil), urls...)
	return optionFunc(func(c *config) {
		if c.backends == nil {
			c.backends = map[string][]string{}
		}
		c.backends[name] = append(c.backends[name], urls...)
	})
}

// WithPolicy registers a policy under name, for [Policy] and
// [WithDefaultPolicy]. Each route that uses it gets its own balancer state;
// a balancer factory that returns nil for a route is an error from [New].
func WithPolicy(name string, p policy.Policy) Option {
	return optionFunc(func(c *config) {
		if c.policies == nil {
			c.policies = map[string]policy.Policy{}
		}
		if _, dup := c.policies[name]; dup {
			c.errs = append(c.errs, fmt.Errorf("apigate: policy %q registered twice", name))
		}
		c.policies[name] = p
	})
}

// WithDefaultPolicy names the policy for routes and services that do not
// choose one. Without it they use round-robin.
func WithDefaultPolicy(name string) Option {
	return optionFunc(func(c *config) { c.defaultPolicy = name })
}

// WithState registers a shared value (a client, a cache, configuration)
// that hooks and maps read by type with [State]. Register pointers to
// share without copying. Two values of the same type are an error.
// [RequireState] on the services or routes that read it makes [New] check
// that it was registered.
func WithState(v any) Option {
	return optionFunc(func(c *config) {
		if v == nil {
			c.errs = append(c.errs, fmt.Errorf("apigate: WithState(nil)"))
			return
		}
		for _, s := range c.states {
			if reflect.TypeOf(s) == reflect.TypeOf(v) {
				c.errs = append(c.errs, fmt.Errorf("apigate: WithState: a %T is registered twice", v))
				return
			}
		}
		c.states = append(c.states, v)
	})
}

// WithRequestTimeout bounds each upstream exchange, from sending the
// request to the end of the response body (default 30s; 0 disables).
// Past it the client gets 504 if no response has started, and a cut
// stream otherwise. [Timeout] overrides it per service or route. The
// deadline is rounded up to a 64th of d (470ms of the default 30s), so
// that a pooled upstream connection keeps the one it has armed.
func WithRequestTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.timeout = d })
}

// WithBodyLimit sets the largest body a JSON or form route reads (default
// 2 MiB); [BodyLimit] overrides it per service or route. A negative n is
// an error from [New].
func WithBodyLimit(n int64) Option {
	return optionFunc(func(c *config) { c.bodyLimit = n })
}

// WithUpstream tunes the http.Transport the gateway builds for upstream
// requests. It is ignored when [WithRoundTripper] replaces the transport.
func WithUpstream(o UpstreamOptions) Option {
	return optionFunc(func(c *config) { c.upstream = o })
}

// WithRoundTripper replaces the upstream transport entirely. The gateway
// still sets timeouts through the request context.
func WithRoundTripper(rt http.RoundTripper) Option {
	return optionFunc(func(c *config) { c.transport = rt })
}

// WithTrustedProxies lists the proxies (CIDRs or single addresses) whose
// Forwarded and X-Forwarded-* headers the gateway keeps: for a request
// from one of them it appends the peer to X-Forwarded-For and keeps
// X-Forwarded-Host and X-Forwarded-Proto. From anyone else those headers
// are replaced, so a client cannot spoof its address.
func WithTrustedProxies(cidrs ...string) Option {
	return optionFunc(func(c *config) {
		for _, s := range cidrs {
			var p netip.Prefix
			var err error
			if strings.Contains(s, "/") {
				p, err = netip.ParsePrefix(s)
			} else {
				var a netip.Addr
				a, err = netip.ParseAddr(s)
				p = netip.PrefixFrom(a, a.BitLen())
			}
			if err != nil {
				c.errs = append(c.errs, fmt.Errorf("apigate: trusted proxy %q: %w", s, err))
				continue
			}
			c.trusted = append(c.trusted, p.Masked())
		}
	})
}

// WithoutForwardedHeader stops the gateway from setting the RFC 7239
// Forwarded header (X-Forwarded-* are still set). An incoming Forwarded
// header is still removed unless the peer is a trusted proxy
// ([WithTrustedProxies]), whose header is then passed on as it is.
func WithoutForwardedHeader() Option {
	return optionFunc(func(c *config) { c.noForwarded = true })
}

// WithStreamLimit sets the largest request body the gateway streams
// upstream on routes that do not read the body themselves (passthrough
// and multipart routes); 0, the default, sets no limit. A larger
// Content-Length is refused with 413 before anything goes upstream; a
// body of unknown length that grows past the limit aborts the upstream
// request, and the client gets 413 unless a response has started.
func WithStreamLimit(n int64) Option {
	return optionFunc(func(c *config) { c.streamLimit = n })
}

// WithUpgradeIdleTimeout closes an upgraded (WebSocket) connection, on
// both sides, when no byte has crossed it either way for d (default
// [DefaultUpgradeIdleTimeout]; 0 disables). The request timeout does not
// apply to upgraded connections.
func WithUpgradeIdleTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.upgradeIdle = d })
}

// WithoutInformational stops the gateway from forwarding the upstream's
// 1xx informational responses (103 Early Hints, 102 Processing) to the
// client, which it does by default (RFC 9110 section 15.2). Forwarding
// them costs the EngineHTTP1 client nothing; with the EngineNetHTTP
// client (or one given with WithRoundTripper) it puts an
// [net/http/httptrace.ClientTrace] in every outbound request's context,
// one small allocation per request. Turn it off when no upstream sends
// 1xx responses and that allocation matters.
func WithoutInformational() Option {
	return optionFunc(func(c *config) { c.no1xx = true })
}

// WithPreserveHost forwards the client's Host header instead of the
// backend's host.
func WithPreserveHost() Option {
	return optionFunc(func(c *config) { c.preserveHost = true })
}

// WithUpgrades sets the protocols a client may upgrade to through the
// gateway (101 Switching Protocols), case-insensitively. The default is
// "websocket". Upgrade requests for other protocols are forwarded as
// ordinary requests without their Upgrade header; "h2c" is never allowed,
// since it would let a client bypass routing.
func WithUpgrades(protocols ...string) Option {
	return optionFunc(func(c *config) {
		c.upgrades = c.upgrades[:0:0]
		for _, p := range protocols {
			p = strings.ToLower(p)
			if p == "h2c" {
				c.errs = append(c.errs, fmt.Errorf("apigate: WithUpgrades: h2c cannot be allowed"))
				continue
			}
			c.upgrades = append(c.upgrades, p)
		}
	})
}

// WithErrorRenderer sets how every error the gateway sends is written (the
// default is [TextErrors]; [JSONErrors] writes a JSON envelope).
func WithErrorRenderer(r ErrorRenderer) Option {
	return optionFunc(func(c *config) { c.renderer = r })
}

// WithObserver sets the observer of runtime events (see package
// observe). Without one, observation costs a nil check.
func WithObserver(o observe.Observer) Option {
	return optionFunc(func(c *config) { c.observer = o })
}
