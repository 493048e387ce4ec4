package decode

import (
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// jscan walks a JSON document that validJSON has accepted, so it never
// meets a syntax error: it only needs to find where values end.
type jscan struct {
	data   []byte
	off    int
	strict bool   // unknown object keys fail the decode
	buf    []byte // scratch for unquoted object keys
}

func isJSONSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// ws skips white space.
func (s *jscan) ws() {
	for s.off < len(s.data) && isJSONSpace(s.data[s.off]) {
		s.off++
	}
}

// rawString returns the string literal at the offset, quotes included,
// and moves past it.
func (s *jscan) rawString() []byte {
	start := s.off
	i := start + 1
	for {
		switch s.data[i] {
		case '"':
			s.off = i + 1
			return s.data[start:s.off]
		case '\\':
			i += 2
		default:
			i++
		}
	}
}

// rawNumber returns the number literal at the offset and moves past it.
func (s *jscan) rawNumber() []byte {
	start := s.off
	i := start
	for i < len(s.data) {
		switch s.data[i] {
		case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '-', '+', '.', 'e', 'E':
			i++
			continue
		}
		break
	}
	s.off = i
	return s.data[start:i]
}

// skip moves past the value at the offset.
func (s *jscan) skip() {
	switch s.data[s.off] {
	case '"':
		s.rawString()
	case 't', 'n':
		s.off += 4
	case 'f':
		s.off += 5
	case '{', '[':
		depth := 0
		for {
			switch s.data[s.off] {
			case '"':
				s.rawString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.off++
					return
				}
			}
			s.off++
		}
	default:
		s.rawNumber()
	}
}

// countElems returns the number of elements of the array starting at the
// offset, without moving.
func (s *jscan) countElems() int {
	off := s.off
	s.off++
	s.ws()
	n := 0
	if s.data[s.off] != ']' {
		for {
			n++
			s.skip()
			s.ws()
			if s.data[s.off] == ']' {
				break
			}
			s.off++ // ','
			s.ws()
		}
	}
	s.off = off
	return n
}

// unquoteJSON is encoding/json's unquoteBytes: it returns the contents of
// the string literal s with escapes resolved, invalid UTF-8 and unpaired
// surrogates replaced by U+FFFD. When nothing needs resolving the result
// aliases s; otherwise it is built in *scratch (when scratch is not nil),
// which keeps the grown buffer for the next call. ok is false for a literal
// encoding/json would refuse (only possible for the inner literal of a
// ",string" field, which json.Valid has not checked).
func unquoteJSON(s []byte, scratch *[]byte) (t []byte, ok bool) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return nil, false
	}
	s = s[1 : len(s)-1]
	r := 0
	for r < len(s) {
		c := s[r]
		if c == '\\' || c == '"' || c < ' ' {
			break
		}
		if c < utf8.RuneSelf {
			r++
			continue
		}
		rr, size := utf8.DecodeRune(s[r:])
		if rr == utf8.RuneError && size == 1 {
			break
		}
		r += size
	}
	if r == len(s) {
		return s, true
	}
	var b []byte
	if scratch != nil {
		b = (*scratch)[:0]
	}
	b = append(b, s[:r]...)
	for r < len(s) {
		switch c := s[r]; {
		case c == '\\':
			r++
			if r >= len(s) {
				return nil, false
			}
			switch s[r] {
			default:
				return nil, false
			case '"', '\\', '/', '\'':
				b = append(b, s[r])
				r++
			case 'b', 'f', 'n', 'r', 't':
				b = append(b, controlEscape[s[r]])
				r++
			case 'u':
				r--
				rr := getu4(s[r:])
				if rr < 0 {
					return nil, false
				}
				r += 6
				if utf16.IsSurrogate(rr) {
					rr1 := getu4(s[r:])
					if dec := utf16.DecodeRune(rr, rr1); dec != unicode.ReplacementChar {
						r += 6
						b = utf8.AppendRune(b, dec)
						break
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
			}
		case c == '"', c < ' ':
			return nil, false
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			r += size
			b = utf8.AppendRune(b, rr)
		}
	}
	if scratch != nil {
		*scratch = b[:0]
	}
	return b, true
}

// getu4 decodes \uXXXX from the beginning of s, returning the hex value,
// or -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// maxJSONDepth is encoding/json's limit on nesting.
const maxJSONDepth = 10000

// validJSON reports whether data is one JSON value surrounded by optional
// white space, accepting exactly what json.Valid accepts (invalid UTF-8 in
// strings included, nesting beyond 10000 levels not), only faster.
func validJSON(data []byte) bool {
	v := jvalid{data: data}
	v.ws()
	if !v.value(0) {
		return false
	}
	v.ws()
	return v.off == len(v.data)
}

type jvalid struct {
	data []byte
	off  int
}

func (v *jvalid) ws() {
	for v.off < len(v.data) && isJSONSpace(v.data[v.off]) {
		v.off++
	}
}

// next skips white space and returns the next byte, 0 at the end.
func (v *jvalid) next() byte {
	v.ws()
	if v.off < len(v.data) {
		return v.data[v.off]
	}
	return 0
}

// value checks the value at the offset, inside depth containers, and
// moves past it.
func (v *jvalid) value(depth int) bool {
	if v.off >= len(v.data) {
		return false
	}
	switch c := v.data[v.off]; c {
	case '{':
		if depth >= maxJSONDepth {
			return false
		}
		v.off++
		if v.next() == '}' {
			v.off++
			return true
		}
		for {
			if v.next() != '"' || !v.str() || v.next() != ':' {
				return false
			}
			v.off++
			v.ws()
			if !v.value(depth + 1) {
				return false
			}
			switch v.next() {
			case ',':
				v.off++
			case '}':
				v.off++
				return true
			default:
				return false
			}
		}
	case '[':
		if depth >= maxJSONDepth {
			return false
		}
		v.off++
		if v.next() == ']' {
			v.off++
			return true
		}
		for {
			v.ws()
			if !v.value(depth + 1) {
				return false
			}
			switch v.next() {
			case ',':
				v.off++
			case ']':
				v.off++
				return true
			default:
				return false
			}
		}
	case '"':
		return v.str()
	case 't':
		return v.literal("true")
	case 'f':
		return v.literal("false")
	case 'n':
		return v.literal("null")
	default:
		return v.number()
	}
}

func (v *jvalid) literal(lit string) bool {
	if len(v.data)-v.off < len(lit) || string(v.data[v.off:v.off+len(lit)]) != lit {
		return false
	}
	v.off += len(lit)
	return true
}

// str checks the string at the offset and moves past it.
func (v *jvalid) str() bool {
	d := v.data
	i := v.off + 1
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			v.off = i + 1
			return true
		case c == '\\':
			if i+1 >= len(d) {
				return false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) {
					return false
				}
				for _, h := range d[i+2 : i+6] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				i += 6
			default:
				return false
			}
		case c < ' ':
			return false
		default:
			i++
		}
	}
	return false
}

// number checks the number at the offset and moves past it.
func (v *jvalid) number() bool {
	d := v.data
	i := v.off
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i >= len(d):
		return false
	case d[i] == '0':
		i++
	case '1' <= d[i] && d[i] <= '9':
		i = digits(d, i+1)
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		j := digits(d, i+1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := digits(d, i)
		if j == i {
			return false
		}
		i = j
	}
	v.off = i
	return true
}

// digits returns the offset of the first non-digit at or after i.
func digits(d []byte, i int) int {
	for i < len(d) && '0' <= d[i] && d[i] <= '9' {
		i++
	}
	return i
}

// controlEscape maps the letter of a JSON escape for a control character
// to the character: 'n' to '\n'.
var controlEscape = [256]byte{'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}
