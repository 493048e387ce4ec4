package apigate

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/apigate-go/apigate/internal/field"
)

// forwarded sets X-Forwarded-For, -Host and -Proto, and the RFC 7239
// Forwarded header in h, the outbound copy of the request header made by
// [Gateway.outHeader]. ip is the peer's address, "" when unknown. h holds
// the forwarding headers the peer sent only when the peer is trusted (the
// copy leaves them out otherwise): then the peer is appended to
// X-Forwarded-For and this hop's element to Forwarded, and its -Host and
// -Proto are kept; otherwise all are this hop's. spare has room for four
// values.
func (g *Gateway) forwarded(h http.Header, r *http.Request, ip string, spare []string) {
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	if ip != "" {
		xff := ip
		if prior, ok := h["X-Forwarded-For"]; ok {
			xff = strings.Join(prior, ", ") + ", " + ip
		}
		spare[0] = xff
		h["X-Forwarded-For"] = spare[0:1:1]
	}
	if _, ok := h["X-Forwarded-Host"]; !ok && r.Host != "" {
		spare[1] = r.Host
		h["X-Forwarded-Host"] = spare[1:2:2]
	}
	if _, ok := h["X-Forwarded-Proto"]; !ok {
		spare[2] = proto
		h["X-Forwarded-Proto"] = spare[2:3:3]
	}
	if g.noForwarded {
		return
	}
	spare[3] = forwardedElement(h["Forwarded"], ip, r.Host, proto)
	h["Forwarded"] = spare[3:4:4]
}

// isForwarding reports whether k is a forwarding header, kept only from
// trusted peers: Forwarded and every X-Forwarded-* field (those
// [Gateway.forwarded] sets, and the others backends read, such as
// X-Forwarded-Port and X-Forwarded-Prefix).
func isForwarding(k string) bool {
	if k == "Forwarded" {
		return true
	}
	return len(k) > len("X-Forwarded-") && k[:len("X-Forwarded-")] == "X-Forwarded-"
}

// forwardedElement returns the Forwarded header value: the prior values
// (already filtered by trust), then this hop's element with for, host and
// proto, quoted where RFC 7239 requires it (IPv6 addresses, hosts with a
// port). A peer with no IP address is "unknown". The client's port is
// left out, as in X-Forwarded-For. It allocates once.
func forwardedElement(prior []string, ip, host, proto string) string {
	v6 := strings.IndexByte(ip, ':') >= 0
	if ip == "" {
		ip = "unknown"
	}
	hostQuoted := !isToken(host)
	n := len("for=") + len(ip) + len(";proto=") + len(proto)
	if v6 {
		n += len(`"[]"`)
	}
	if host != "" {
		n += len(";host=") + len(host)
		if hostQuoted {
			n += 2 + strings.Count(host, `"`) + strings.Count(host, `\`)
		}
	}
	for _, p := range prior {
		n += len(p) + len(", ")
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range prior {
		b.WriteString(p)
		b.WriteString(", ")
	}
	b.WriteString("for=")
	if v6 {
		b.WriteString(`"[`)
		b.WriteString(ip)
		b.WriteString(`]"`)
	} else {
		b.WriteString(ip)
	}
	if host != "" {
		b.WriteString(";host=")
		if hostQuoted {
			writeQuoted(&b, host)
		} else {
			b.WriteString(host)
		}
	}
	b.WriteString(";proto=")
	b.WriteString(proto)
	return b.String()
}

// isToken reports whether s is an RFC 9110 token, which a Forwarded value
// may be without quotes: a valid field name is one.
func isToken(s string) bool { return field.ValidName(s) }

// writeQuoted writes s as an RFC 9110 quoted-string.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

func (g *Gateway) isTrusted(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range g.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
