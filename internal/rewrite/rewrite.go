// Package rewrite builds upstream paths: it normalizes the escaped request
// path the router matches on, fills To templates from path parameters, joins
// a backend's base path, and refuses paths that could escape it.
package rewrite

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnsafePath reports an upstream path with a dot segment, an empty inner
// segment or an encoded separator that hides one. Such a path could leave
// the route's rewrite upstream, so it is never sent.
var ErrUnsafePath = errors.New("rewrite: unsafe path")

// Normalize returns the form of an escaped request path the router matches
// on: percent-escapes of unreserved characters (RFC 3986 section 2.3) are
// decoded, every other escape is kept with upper-case hex digits. So
// "/a%41" becomes "/aA", "%2e%2e" becomes "..", and "%2f" stays "%2F"
// inside its segment. A path with no '%' is returned unchanged, without
// allocating. Malformed escapes are kept as they are.
func Normalize(p string) string {
	i := strings.IndexByte(p, '%')
	if i < 0 {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	b.WriteString(p[:i])
	for ; i < len(p); i++ {
		c := p[i]
		if c != '%' || i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			b.WriteByte(c)
			continue
		}
		d := unhex(p[i+1])<<4 | unhex(p[i+2])
		if isUnreserved(d) {
			b.WriteByte(d)
		} else {
			b.WriteByte('%')
			b.WriteByte(upper(p[i+1]))
			b.WriteByte(upper(p[i+2]))
		}
		i += 2
	}
	return b.String()
}

// Check reports whether p, an escaped absolute upstream path, is safe: it
// starts with '/', and no segment, nor any piece of a segment split at an
// encoded '/' or '\' (or a literal '\'), is "." or ".." (also when
// followed by ";params", as in "..;x"), and no segment but the last is
// empty. Escapes of '.' must already be decoded (see
// [Normalize]). It allocates nothing.
func Check(p string) error {
	if p == "" || p[0] != '/' {
		return fmt.Errorf("%w: %q does not start with /", ErrUnsafePath, clip(p))
	}
	start := 1
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		seg := p[start:i]
		if seg == "" && i < len(p) {
			return fmt.Errorf("%w: empty segment in %q", ErrUnsafePath, clip(p))
		}
		if hasDotPiece(seg) {
			return fmt.Errorf("%w: dot segment in %q", ErrUnsafePath, clip(p))
		}
		start = i + 1
	}
	return nil
}

// hasDotPiece reports whether seg, split at encoded slashes and
// backslashes, has a piece that is "." or "..", or an empty piece created
// by a separator (which a decoding upstream would see as "//").
func hasDotPiece(seg string) bool {
	start := 0
	for i := 0; i <= len(seg); i++ {
		sep := 0
		if i < len(seg) {
			switch {
			case seg[i] == '\\':
				sep = 1
			case seg[i] == '%' && i+2 < len(seg) && seg[i+1] == '2' && (seg[i+2] == 'F' || seg[i+2] == 'f'):
				sep = 3
			case seg[i] == '%' && i+2 < len(seg) && seg[i+1] == '5' && (seg[i+2] == 'C' || seg[i+2] == 'c'):
				sep = 3
			default:
				continue
			}
		}
		piece := seg[start:i]
		// Servlet containers and others drop ";params" before resolving
		// dot segments: "..;x" is ".." to them.
		if j := strings.IndexByte(piece, ';'); j >= 0 {
			piece = piece[:j]
		}
		if piece == "." || piece == ".." {
			return true
		}
		if sep > 0 && piece == "" {
			return true
		}
		if i == len(seg) {
			break
		}
		start = i + sep
		i += sep - 1
	}
	return false
}

// Join joins a backend base path (no trailing '/', possibly "") and an
// absolute path. It allocates only when base is not empty.
func Join(base, p string) string {
	if base == "" {
		return p
	}
	return base + p
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
