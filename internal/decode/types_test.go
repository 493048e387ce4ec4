package decode

import (
	"encoding/hex"
	"errors"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// uuid is a text type in the style of the popular UUID packages: an array
// with pointer-receiver UnmarshalText and value-receiver MarshalText.
type uuid [16]byte

var errBadUUID = errors.New("uuid: bad format")

func (u *uuid) UnmarshalText(b []byte) error {
	if len(b) != 36 || b[8] != '-' || b[13] != '-' || b[18] != '-' || b[23] != '-' {
		return errBadUUID
	}
	h := make([]byte, 0, 32)
	for i, c := range b {
		if i != 8 && i != 13 && i != 18 && i != 23 {
			h = append(h, c)
		}
	}
	if _, err := hex.Decode(u[:], h); err != nil {
		return errBadUUID
	}
	return nil
}

func (u uuid) MarshalText() ([]byte, error) {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return b[:], nil
}

func mustUUID(s string) uuid {
	var u uuid
	if err := u.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return u
}

const uuid1 = "123e4567-e89b-12d3-a456-426614174000"
const uuid2 = "00000000-0000-0000-0000-0000000000ff"

// upper is a string kind with text methods: they take precedence over the
// kind, so decoding upper-cases and encoding lower-cases.
type upper string

func (u *upper) UnmarshalText(b []byte) error {
	*u = upper(strings.ToUpper(string(b)))
	return nil
}

func (u upper) MarshalText() ([]byte, error) { return []byte(strings.ToLower(string(u))), nil }

// level is an int kind with only UnmarshalText: it decodes by name (or
// number) and encodes as its number.
type level int

func (l *level) UnmarshalText(b []byte) error {
	switch string(b) {
	case "low":
		*l = 1
	case "high":
		*l = 2
	default:
		n, err := strconv.Atoi(string(b))
		if err != nil {
			return errors.New("level: unknown")
		}
		*l = level(n)
	}
	return nil
}

type (
	myString string
	myInt    int16
)

// allKinds has one field of every supported element type.
type allKinds struct {
	S   string        `query:"s"`
	B   bool          `query:"b"`
	I   int           `query:"i"`
	I8  int8          `query:"i8"`
	I16 int16         `query:"i16"`
	I32 int32         `query:"i32"`
	I64 int64         `query:"i64"`
	U   uint          `query:"u"`
	U8  uint8         `query:"u8"`
	U16 uint16        `query:"u16"`
	U32 uint32        `query:"u32"`
	U64 uint64        `query:"u64"`
	F32 float32       `query:"f32"`
	F64 float64       `query:"f64"`
	D   time.Duration `query:"d"`
	T   time.Time     `query:"t"`
	ID  uuid          `query:"id"`
	Up  upper         `query:"up"`
	Lv  level         `query:"lv"`
	MS  myString      `query:"ms"`
	MI  myInt         `query:"mi"`
}

// optional has a pointer to every kind of element.
type optional struct {
	S  *string        `query:"s"`
	B  *bool          `query:"b"`
	I  *int           `query:"i"`
	I8 *int8          `query:"i8"`
	U  *uint64        `query:"u"`
	F  *float32       `query:"f"`
	D  *time.Duration `query:"d"`
	ID *uuid          `query:"id"`
	MI *myInt         `query:"mi"`
}

// repeated has a slice of every kind of element.
type repeated struct {
	S  []string        `query:"s"`
	B  []bool          `query:"b"`
	I  []int           `query:"i"`
	U8 []uint8Alias    `query:"u8"`
	F  []float64       `query:"f"`
	D  []time.Duration `query:"d"`
	ID []uuid          `query:"id"`
	MS []myString      `query:"ms"`
}

// uint8Alias is a uint8 kind that is not byte, so []uint8Alias is a
// repeated number rather than the rejected []byte.
type uint8Alias uint8

// compile is Compile for T, failing the test on error.
func compile[T any](t testing.TB, tag string) *Plan {
	t.Helper()
	p, err := Compile(reflect.TypeFor[T](), tag)
	if err != nil {
		t.Fatalf("Compile(%v, %q): %v", reflect.TypeFor[T](), tag, err)
	}
	return p
}

// decodeQuery parses raw and decodes it with p into a fresh T.
func decodeQuery[T any](t testing.TB, p *Plan, raw string) (T, error) {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("ParseQuery(%q): %v", raw, err)
	}
	var out T
	err = p.DecodeValues(unsafe.Pointer(&out), v)
	return out, err
}

func ptr[T any](v T) *T { return &v }
