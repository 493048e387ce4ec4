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
// a header that is not already canonical, other than the usual
// "keep-alive", "close" and "upgrade".
func Remove(h http.Header) {
	RemoveListed(h, h["Connection"])
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

// RemoveListed deletes from h every header named in conn, the values of
// a Connection header, except the hop-by-hop headers ([IsHop]), which the
// caller removes: [Remove] after it, and a copy of a header that left
// them out as it was made, with the original's Connection values. It
// allocates only when conn lists a header that is not already canonical,
// other than the usual "keep-alive", "close" and "upgrade".
func RemoveListed(h http.Header, conn []string) {
	for _, v := range conn {
		for v != "" {
			var name string
			name, v, _ = strings.Cut(v, ",")
			name = textproto.TrimString(name)
			switch {
			case name == "" || IsHopFold(name):
			case strings.EqualFold(name, "close"):
				delete(h, "Close")
			default:
				delete(h, textproto.CanonicalMIMEHeaderKey(name))
			}
		}
	}
}

// IsHopFold reports whether name is a hop-by-hop header's, in any case.
func IsHopFold(name string) bool {
	for _, k := range headers {
		if len(k) == len(name) && strings.EqualFold(k, name) {
			return true
		}
	}
	return false
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
// to, lower-cased, or "" when it has no Upgrade header or its Connection
// header does not name upgrade.
func UpgradeType(h http.Header) string {
	// Most messages have no Upgrade header: one lookup tells.
	up := h["Upgrade"]
	if len(up) == 0 || !HasToken(h["Connection"], "upgrade") {
		return ""
	}
	return strings.ToLower(textproto.TrimString(up[0]))
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
