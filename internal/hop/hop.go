// Package hop removes hop-by-hop headers, which describe one connection and
// must never be forwarded by a proxy (RFC 9110 section 7.6.1).
package hop

import (
	"net/http"
	"net/textproto"
	"strings"
)

// headers are removed from every forwarded request and response, in
// canonical form. Proxy-Connection is not standard but old clients send it.
var headers = [...]string{
	"Connection",
	"Proxy-Connection",
	"Keep-Alive",
	"Proxy-Authenticate",
	"Proxy-Authorization",
	"Te",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
}

// Remove deletes the hop-by-hop headers from h, including every header
// named in its Connection header. It allocates only when Connection lists
// a header that is not already canonical.
func Remove(h http.Header) {
	for _, v := range h["Connection"] {
		for v != "" {
			var name string
			name, v, _ = strings.Cut(v, ",")
			name = textproto.TrimString(name)
			if name != "" {
				delete(h, textproto.CanonicalMIMEHeaderKey(name))
			}
		}
	}
	if len(h) < len(headers) {
		// A small header: checking its keys beats looking up every
		// hop-by-hop name.
		for k := range h {
			if IsHop(k) {
				delete(h, k)
			}
		}
		return
	}
	for _, k := range headers {
		delete(h, k)
	}
}

// IsHop reports whether k, in canonical form, is one of headers.
func IsHop(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// UpgradeType returns the protocol a request or response asks to upgrade
// to, lower-cased, or "" when its Connection header does not name upgrade.
func UpgradeType(h http.Header) string {
	if !HasToken(h["Connection"], "upgrade") {
		return ""
	}
	return strings.ToLower(textproto.TrimString(h.Get("Upgrade")))
}

// TE reports whether h's TE header accepts trailers, which a proxy must
// keep forwarding so gRPC-style trailers survive.
func TE(h http.Header) bool {
	return HasToken(h["Te"], "trailers")
}

// HasToken reports whether the comma-separated values of a header hold
// token, in any case.
func HasToken(vals []string, token string) bool {
	for _, v := range vals {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(textproto.TrimString(t), token) {
				return true
			}
		}
	}
	return false
}
