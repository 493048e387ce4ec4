// Package field checks the syntax of HTTP header fields (RFC 9110,
// section 5): the one place the gateway, its policies and its HTTP/1.1
// client and server ask whether a name or value may be sent or accepted.
package field

import "net/textproto"

// tchar marks the characters of an RFC 9110 token.
var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range []byte("!#$%&'*+-.^_`|~") {
		t[c] = true
	}
	return t
}()

// ValidName reports whether s is a non-empty token, as a field name (and
// a method) must be.
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tchar[s[i]] {
			return false
		}
	}
	return true
}

// ValidValue reports whether s may be a field value: no control
// characters other than horizontal tab (obs-text is allowed).
func ValidValue(s string) bool {
	// Eight bytes at a time: a byte below 0x20, or equal to 0x7f, sets
	// the high bit of its lane in ctl (and may set lanes above it, where
	// the subtraction borrows). Only a word with a lane set is looked at
	// byte by byte, since a tab is allowed.
	for len(s) >= 8 {
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		del := w ^ 0x7f7f7f7f7f7f7f7f // a 0x7f byte becomes 0
		ctl := ((w-0x2020202020202020)&^w | (del-0x0101010101010101)&^del) & 0x8080808080808080
		if ctl != 0 && !validBytes(s[:8]) {
			return false
		}
		s = s[8:]
	}
	return validBytes(s)
}

// validBytes is ValidValue one byte at a time.
func validBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// AppendCanonical appends the valid field name s to b in the canonical
// form of [textproto.CanonicalMIMEHeaderKey], without allocating when b
// has room: the first letter and any letter after a hyphen upper-case,
// the others lower-case.
func AppendCanonical(b []byte, s string) []byte {
	upper := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
		upper = c == '-'
	}
	return b
}

// CanonicalName reports whether s is a valid field name (see [ValidName])
// and returns it in the canonical form of [textproto.CanonicalMIMEHeaderKey]:
// s itself, without allocating, when it is canonical already. It reads s
// once, where checking it and then canonicalizing it reads it three times.
func CanonicalName(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	canonical, upper := true, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !tchar[c] {
			return "", false
		}
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			canonical = false
		}
		upper = c == '-'
	}
	if canonical {
		return s, true
	}
	return textproto.CanonicalMIMEHeaderKey(s), true
}

// Accumulates reports whether a response field named k (canonical)
// gathers the values of every source that sets it, instead of taking
// the last one's: Set-Cookie, each value a cookie of its own, and
// RateLimit and RateLimit-Policy, lists whose items name their policy,
// so that a gateway's limit and its upstream's both hold.
func Accumulates(k string) bool {
	switch k {
	case "Set-Cookie", "Ratelimit", "Ratelimit-Policy":
		return true
	}
	return false
}
