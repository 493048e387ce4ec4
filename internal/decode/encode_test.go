package decode

import (
	"errors"
	"math"
	"net/url"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

// sentinel is a string kind whose IsZero method overrides the kind's rule.
type sentinel string

func (s sentinel) IsZero() bool { return s == "" || s == "none" }

type lookupOut struct {
	Mode   sentinel      `query:"mode,omitempty"`
	Query  string        `query:"q"`
	Limit  int           `query:"limit,omitempty"`
	Exact  bool          `query:"exact,omitempty"`
	Score  float64       `query:"score,omitempty"`
	After  time.Time     `query:"after,omitempty"`
	ID     uuid          `query:"id,omitempty"`
	Up     upper         `query:"up,omitempty"`
	Lv     level         `query:"lv,omitempty"`
	Wait   time.Duration `query:"wait,omitempty"`
	Cursor *string       `query:"cursor"`
	Page   *int          `query:"page,omitempty"`
	Tags   []string      `query:"tag"`
	IDs    []uuid        `query:"ids,omitempty"`
	Hidden string
}

func encodeQuery[T any](t *testing.T, p *Plan, v T) string {
	t.Helper()
	dst := url.Values{}
	if err := p.Encode(unsafe.Pointer(&v), dst); err != nil {
		t.Fatalf("Encode(%+v): %v", v, err)
	}
	return dst.Encode()
}

func TestEncode(t *testing.T) {
	p := compile[lookupOut](t, SourceQuery)
	after := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		in   lookupOut
		want string
	}{
		{"zero: only fields without omitempty", lookupOut{}, "q="},
		{"values", lookupOut{Query: "a b&c", Limit: 20, Exact: true, Score: 0.5},
			"exact=true&limit=20&q=a+b%26c&score=0.5"},
		{"time and IsZero", lookupOut{After: after}, "after=2024-01-02T03%3A04%3A05Z&q="},
		{"text type", lookupOut{ID: mustUUID(uuid1)}, "id=" + uuid1 + "&q="},
		{"zero named string with text methods omitted", lookupOut{Up: ""}, "q="},
		{"zero array text type omitted", lookupOut{ID: uuid{}}, "q="},
		{"text methods win over kind", lookupOut{Up: "ABC"}, "q=&up=abc"},
		{"unmarshal-only type encodes by kind", lookupOut{Lv: 2}, "lv=2&q="},
		{"duration", lookupOut{Wait: 1500 * time.Millisecond}, "q=&wait=1.5s"},
		{"nil pointers omitted", lookupOut{Cursor: nil, Page: nil}, "q="},
		{"pointer to zero kept", lookupOut{Cursor: ptr(""), Page: ptr(0)}, "cursor=&page=0&q="},
		{"slices repeat keys in order", lookupOut{Tags: []string{"b", "a", ""}}, "q=&tag=b&tag=a&tag="},
		{"slice of text types", lookupOut{IDs: []uuid{mustUUID(uuid2), mustUUID(uuid1)}}, "ids=" + uuid2 + "&ids=" + uuid1 + "&q="},
		{"untagged field skipped", lookupOut{Hidden: "x"}, "q="},
		{"IsZero method wins over kind", lookupOut{Mode: "none"}, "q="},
		{"IsZero method false", lookupOut{Mode: "fast"}, "mode=fast&q="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := encodeQuery(t, p, tt.in); got != tt.want {
				t.Errorf("Encode(%+v)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestEncodeNumbers(t *testing.T) {
	p := compile[allKinds](t, SourceQuery)
	v := allKinds{I: -1, I8: math.MinInt8, I64: math.MaxInt64, U64: math.MaxUint64, F32: 0.1, F64: 1e21, MI: -7}
	got, err := url.ParseQuery(encodeQuery(t, p, v))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"i": "-1", "i8": "-128", "i64": "9223372036854775807", "u64": "18446744073709551615",
		"f32": "0.1", "f64": "1e+21", "mi": "-7", "b": "false", "u": "0", "d": "0s", "t": "0001-01-01T00:00:00Z",
		"id": "00000000-0000-0000-0000-000000000000"}
	for k, w := range want {
		if g := got.Get(k); g != w {
			t.Errorf("Encode: %s = %q, want %q", k, g, w)
		}
	}
}

func TestEncodeAppends(t *testing.T) {
	p := compile[lookupOut](t, SourceQuery)
	dst := url.Values{"q": {"first"}, "other": {"kept"}}
	v := lookupOut{Query: "second"}
	if err := p.Encode(unsafe.Pointer(&v), dst); err != nil {
		t.Fatal(err)
	}
	if got, want := dst.Encode(), "other=kept&q=first&q=second"; got != want {
		t.Errorf("Encode into non-empty Values = %s, want %s", got, want)
	}
}

type badText struct{}

var errBadText = errors.New("cannot marshal")

func (*badText) UnmarshalText([]byte) error  { return nil }
func (badText) MarshalText() ([]byte, error) { return nil, errBadText }

func TestEncodeMarshalError(t *testing.T) {
	type out struct {
		B badText `form:"b"`
	}
	p := compile[out](t, SourceForm)
	var v out
	err := p.Encode(unsafe.Pointer(&v), url.Values{})
	if !errors.Is(err, errBadText) {
		t.Fatalf("Encode error = %v, want wrapping %v", err, errBadText)
	}
	if want := "decode: form field decode.out.B: MarshalText: cannot marshal"; err.Error() != want {
		t.Errorf("Encode error = %q, want %q", err, want)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	kinds := compile[allKinds](t, SourceQuery)
	opt := compile[optional](t, SourceQuery)
	rep := compile[repeated](t, SourceQuery)
	ts := time.Date(2030, 12, 31, 23, 59, 59, 123456789, time.FixedZone("", 3600))
	tests := []struct {
		name string
		p    *Plan
		in   any
	}{
		{"zero kinds", kinds, &allKinds{}},
		{"kinds", kinds, &allKinds{S: "x=y&z", B: true, I: -1, I8: 127, I16: -300, I32: 1 << 30, I64: math.MinInt64,
			U: 1, U8: 200, U16: 60000, U32: 1 << 31, U64: math.MaxUint64, F32: math.MaxFloat32, F64: math.SmallestNonzeroFloat64,
			D: -time.Nanosecond, T: ts, ID: mustUUID(uuid1), Up: "UP", Lv: 1, MS: "ms", MI: math.MinInt16}},
		{"zero optional", opt, &optional{}},
		{"optional", opt, &optional{S: ptr("s"), B: ptr(false), I: ptr(0), I8: ptr(int8(1)), U: ptr(uint64(2)),
			F: ptr(float32(-1.25)), D: ptr(time.Hour), ID: ptr(mustUUID(uuid2)), MI: ptr(myInt(0))}},
		{"zero repeated", rep, &repeated{}},
		{"repeated", rep, &repeated{S: []string{"a", "b"}, B: []bool{false}, I: []int{0, -1}, U8: []uint8Alias{9},
			F: []float64{0.1, 0.2}, D: []time.Duration{time.Minute}, ID: []uuid{mustUUID(uuid1)}, MS: []myString{"m"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := reflect.ValueOf(tt.in)
			dst := url.Values{}
			if err := tt.p.Encode(src.UnsafePointer(), dst); err != nil {
				t.Fatalf("Encode: %v", err)
			}
			back, err := url.ParseQuery(dst.Encode())
			if err != nil {
				t.Fatal(err)
			}
			got := reflect.New(src.Type().Elem())
			if err := tt.p.DecodeValues(got.UnsafePointer(), back); err != nil {
				t.Fatalf("DecodeValues(%s): %v", dst.Encode(), err)
			}
			if !equalTimes(got.Interface(), tt.in) {
				t.Errorf("round trip via %s\n got %+v\nwant %+v", dst.Encode(), got.Elem(), src.Elem())
			}
		})
	}
}

// equalTimes is reflect.DeepEqual, except that a time.Time field compares
// with Equal (a decoded time has a different *Location).
func equalTimes(a, b any) bool {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := range va.NumField() {
		fa, fb := va.Field(i), vb.Field(i)
		if ta, ok := fa.Interface().(time.Time); ok {
			if !ta.Equal(fb.Interface().(time.Time)) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
			return false
		}
	}
	return true
}
