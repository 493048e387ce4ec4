package main

import (
	"crypto/rand"
	"encoding/binary"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"unsafe"
)

// forwarded returns the RFC 7239 Forwarded header for a request received
// as r, replacing any the client sent: for=<client IP>;host=<Host>;proto=
// (the IPv6 address bracketed and quoted, a host that is not a token, such
// as one with a port, quoted), as apigate sends it. It allocates once.
func forwarded(r *http.Request) string {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil || ip == "" {
		ip = "unknown"
	}
	v6 := strings.IndexByte(ip, ':') >= 0
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	host := r.Host
	quote := !isToken(host)
	var b strings.Builder
	b.Grow(len("for=;host=;proto=") + len(ip) + len(host) + len(proto) + 8)
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
		if quote {
			b.WriteByte('"')
			for i := 0; i < len(host); i++ {
				if host[i] == '"' || host[i] == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(host[i])
			}
			b.WriteByte('"')
		} else {
			b.WriteString(host)
		}
	}
	b.WriteString(";proto=")
	b.WriteString(proto)
	return b.String()
}

// isToken reports whether s is an RFC 9110 token, which a Forwarded value
// may be without quotes.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// requestIDs makes request IDs like apigate's: a random per-process
// prefix, a dash and a scrambled sequence number, 33 bytes, for one atomic
// add and one small allocation each. It is safe for concurrent use.
type requestIDs struct {
	prefix [17]byte // 16 hex digits and '-'
	key    uint64
	seq    atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var seed [16]byte
	rand.Read(seed[:])
	ids := &requestIDs{key: binary.LittleEndian.Uint64(seed[8:])}
	hexUint64(ids.prefix[:16], binary.LittleEndian.Uint64(seed[:8]))
	ids.prefix[16] = '-'
	return ids
}

// idCell holds a new ID and the header value slice pointing to it, in one
// allocation.
type idCell struct {
	vals [1]string
	buf  [33]byte
}

// next returns a new ID as a one-value header slice.
func (ids *requestIDs) next() []string {
	n := ids.seq.Add(1)
	c := new(idCell)
	copy(c.buf[:17], ids.prefix[:])
	hexUint64(c.buf[17:], mix64(ids.key+n*0x9e3779b97f4a7c15))
	c.vals[0] = unsafe.String(&c.buf[0], len(c.buf)) // buf is never written again
	return c.vals[:1:1]
}

// mix64 is SplitMix64's finalizer, a bijection on uint64: distinct
// sequence numbers give distinct IDs, which do not reveal the request rate.
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
