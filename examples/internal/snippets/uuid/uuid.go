// Package uuid stands in for a UUID package such as github.com/google/uuid
// in the snippets: its UUID decodes from text.
package uuid

import "errors"

// UUID stands in for a UUID type with UnmarshalText, such as
// github.com/google/uuid's.
type UUID [16]byte

// UnmarshalText parses 32 hexadecimal digits, dashes allowed.
func (u *UUID) UnmarshalText(b []byte) error {
	n := 0
	for _, c := range b {
		var v byte
		switch {
		case c == '-':
			continue
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		default:
			return errors.New("invalid UUID")
		}
		if n == 32 {
			return errors.New("invalid UUID")
		}
		u[n/2] |= v << (4 * (1 - n%2))
		n++
	}
	if n != 32 {
		return errors.New("invalid UUID")
	}
	return nil
}
