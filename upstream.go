package apigate

import (
	"net"
	"net/http"
	"time"
)

// UpstreamOptions tunes the http.Transport that carries upstream requests.
// The zero value is useful: each zero field takes the default named on it.
// The gateway copies the value; it never writes into yours.
type UpstreamOptions struct {
	// ConnectTimeout bounds dialing a backend (default 5s).
	ConnectTimeout time.Duration
	// IdleConnTimeout closes pooled connections idle this long (default
	// 90s).
	IdleConnTimeout time.Duration
	// MaxIdleConnsPerHost is how many idle connections are kept per
	// backend (default 256; the standard library's 2 starves a proxy).
	MaxIdleConnsPerHost int
	// MaxConnsPerHost caps connections per backend, 0 for no cap.
	MaxConnsPerHost int
	// MaxResponseHeaderBytes caps an upstream's response headers (default
	// 1 MiB); larger ones are a 502.
	MaxResponseHeaderBytes int64
	// ResponseHeaderTimeout bounds the wait for response headers after the
	// request is written, 0 for none (the request timeout still applies).
	ResponseHeaderTimeout time.Duration
	// Configure, if set, is called with the transport after the gateway
	// has set it up, to change anything else (TLS, proxies, HTTP/2).
	Configure func(*http.Transport)
}

// Default upstream settings.
const (
	DefaultConnectTimeout         = 5 * time.Second
	DefaultIdleConnTimeout        = 90 * time.Second
	DefaultMaxIdleConnsPerHost    = 256
	DefaultMaxResponseHeaderBytes = 1 << 20
)

// newTransport builds the upstream transport. It never compresses (a proxy
// must pass bodies as they are), ignores proxy environment variables, and
// speaks HTTP/1.1 to backends unless Configure says otherwise.
func newTransport(o UpstreamOptions) *http.Transport {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.IdleConnTimeout <= 0 {
		o.IdleConnTimeout = DefaultIdleConnTimeout
	}
	if o.MaxResponseHeaderBytes <= 0 {
		o.MaxResponseHeaderBytes = DefaultMaxResponseHeaderBytes
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	}
	d := &net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		DialContext:            d.DialContext,
		MaxIdleConnsPerHost:    o.MaxIdleConnsPerHost,
		MaxConnsPerHost:        o.MaxConnsPerHost,
		IdleConnTimeout:        o.IdleConnTimeout,
		ResponseHeaderTimeout:  o.ResponseHeaderTimeout,
		MaxResponseHeaderBytes: o.MaxResponseHeaderBytes,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		DisableCompression:     true,
	}
	if o.Configure != nil {
		o.Configure(t)
	}
	return t
}
