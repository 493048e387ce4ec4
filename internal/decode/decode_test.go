package decode

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/julienschmidt/httprouter"
)

func TestDecodeValuesKinds(t *testing.T) {
	p := compile[allKinds](t, SourceQuery)
	ts := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name  string
		query string
		want  allKinds
	}{
		{"empty", "", allKinds{}},
		{"string", "s=hello+world", allKinds{S: "hello world"}},
		{"string unicode", "s=%C3%A9t%C3%A9", allKinds{S: "été"}},
		{"bool true", "b=true", allKinds{B: true}},
		{"bool 1", "b=1", allKinds{B: true}},
		{"bool on", "b=on", allKinds{B: true}},
		{"bool off", "b=off", allKinds{}},
		{"bool FALSE", "b=FALSE", allKinds{}},
		{"int", "i=-42", allKinds{I: -42}},
		{"int plus sign", "i=%2B7", allKinds{I: 7}},
		{"int8 bounds", "i8=-128", allKinds{I8: -128}},
		{"int16", "i16=32767", allKinds{I16: 32767}},
		{"int32", "i32=-2147483648", allKinds{I32: math.MinInt32}},
		{"int64", "i64=9223372036854775807", allKinds{I64: math.MaxInt64}},
		{"uint", "u=7", allKinds{U: 7}},
		{"uint8", "u8=255", allKinds{U8: 255}},
		{"uint16", "u16=65535", allKinds{U16: 65535}},
		{"uint32", "u32=4294967295", allKinds{U32: math.MaxUint32}},
		{"uint64", "u64=18446744073709551615", allKinds{U64: math.MaxUint64}},
		{"float32", "f32=1.5", allKinds{F32: 1.5}},
		{"float64 exp", "f64=-2.5e3", allKinds{F64: -2500}},
		{"duration", "d=1m30s", allKinds{D: 90 * time.Second}},
		{"time", "t=2024-05-06T07:08:09Z", allKinds{T: ts}},
		{"uuid", "id=" + uuid1, allKinds{ID: mustUUID(uuid1)}},
		{"text methods win over kind", "up=abc", allKinds{Up: "ABC"}},
		{"unmarshal-only int kind", "lv=high", allKinds{Lv: 2}},
		{"named string", "ms=x", allKinds{MS: "x"}},
		{"named int", "mi=-3", allKinds{MI: -3}},
		{"first value wins", "i=1&i=2", allKinds{I: 1}},
		{"empty value is absent", "i=&f64=&b=&id=", allKinds{}},
		{"unknown keys ignored", "zzz=1&i=5", allKinds{I: 5}},
		{"all at once", "s=a&b=t&i=1&u=2&f64=3&d=1s&id=" + uuid2 + "&mi=4",
			allKinds{S: "a", B: true, I: 1, U: 2, F64: 3, D: time.Second, ID: mustUUID(uuid2), MI: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeQuery[allKinds](t, p, tt.query)
			if err != nil {
				t.Fatalf("DecodeValues(%q): %v", tt.query, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeValues(%q)\n got %+v\nwant %+v", tt.query, got, tt.want)
			}
		})
	}
}

func TestDecodeValuesErrors(t *testing.T) {
	p := compile[allKinds](t, SourceQuery)
	tests := []struct {
		name   string
		query  string
		msg    string
		target error // errors.Is target, nil to skip
	}{
		{"int syntax", "i=12x", `invalid query parameter "i": not an integer`, strconv.ErrSyntax},
		{"int hex refused", "i=0x10", `invalid query parameter "i": not an integer`, strconv.ErrSyntax},
		{"int underscore refused", "i=1_000", `invalid query parameter "i": not an integer`, strconv.ErrSyntax},
		{"int8 range", "i8=128", `invalid query parameter "i8": out of range`, strconv.ErrRange},
		{"int64 range", "i64=9223372036854775808", `invalid query parameter "i64": out of range`, strconv.ErrRange},
		{"uint negative", "u=-1", `invalid query parameter "u": not a non-negative integer`, strconv.ErrSyntax},
		{"uint8 range", "u8=256", `invalid query parameter "u8": out of range`, strconv.ErrRange},
		{"float syntax", "f64=abc", `invalid query parameter "f64": not a number`, strconv.ErrSyntax},
		{"float NaN", "f64=NaN", `invalid query parameter "f64": not a finite number`, errNotFinite},
		{"float Inf", "f32=-Inf", `invalid query parameter "f32": not a finite number`, errNotFinite},
		{"float32 range", "f32=1e39", `invalid query parameter "f32": out of range`, strconv.ErrRange},
		{"bool", "b=yes", `invalid query parameter "b": not a boolean`, strconv.ErrSyntax},
		{"duration", "d=5", `invalid query parameter "d": not a duration`, nil},
		{"uuid", "id=nope", `invalid query parameter "id": invalid value`, errBadUUID},
		{"time", "t=yesterday", `invalid query parameter "t": invalid value`, nil},
		{"level", "lv=mid", `invalid query parameter "lv": invalid value`, nil},
		{"first error in struct order", "u=x&i=y", `invalid query parameter "i": not an integer`, nil},
		{"huge value not echoed", "i=" + strings.Repeat("9", 10000), `invalid query parameter "i": out of range`, strconv.ErrRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeQuery[allKinds](t, p, tt.query)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("DecodeValues(%q) error = %v, want *FieldError", tt.query, err)
			}
			if got := err.Error(); got != tt.msg {
				t.Errorf("message = %q, want %q", got, tt.msg)
			}
			if fe.Source != SourceQuery {
				t.Errorf("Source = %q, want %q", fe.Source, SourceQuery)
			}
			if tt.target != nil && !errors.Is(err, tt.target) {
				t.Errorf("errors.Is(%v, %v) = false, want true", err, tt.target)
			}
		})
	}
}

func TestDecodeValuesPointers(t *testing.T) {
	p := compile[optional](t, SourceQuery)
	tests := []struct {
		name  string
		query string
		want  optional
	}{
		{"absent is nil", "", optional{}},
		{"empty is nil", "s=&i=&id=", optional{}},
		{"string", "s=x", optional{S: ptr("x")}},
		{"bool false present", "b=false", optional{B: ptr(false)}},
		{"zero int present", "i=0", optional{I: ptr(0)}},
		{"int8", "i8=-5", optional{I8: ptr(int8(-5))}},
		{"uint64", "u=18446744073709551615", optional{U: ptr(uint64(math.MaxUint64))}},
		{"float32", "f=0.25", optional{F: ptr(float32(0.25))}},
		{"duration", "d=2h", optional{D: ptr(2 * time.Hour)}},
		{"uuid", "id=" + uuid1, optional{ID: ptr(mustUUID(uuid1))}},
		{"named int", "mi=9", optional{MI: ptr(myInt(9))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeQuery[optional](t, p, tt.query)
			if err != nil {
				t.Fatalf("DecodeValues(%q): %v", tt.query, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeValues(%q)\n got %s\nwant %s", tt.query, dump(got), dump(tt.want))
			}
		})
	}
	t.Run("invalid leaves nil", func(t *testing.T) {
		got, err := decodeQuery[optional](t, p, "i=x")
		if err == nil || got.I != nil {
			t.Errorf("DecodeValues(i=x) = %s, %v; want nil I and an error", dump(got), err)
		}
	})
}

// dump renders pointer fields by value for failure messages.
func dump(v any) string {
	rv := reflect.ValueOf(v)
	var b strings.Builder
	for i := range rv.NumField() {
		f := rv.Field(i)
		s := "nil"
		if !f.IsNil() {
			s = fmt.Sprint(f.Elem().Interface())
		}
		fmt.Fprintf(&b, "%s:%s ", rv.Type().Field(i).Name, s)
	}
	return "{" + strings.TrimSpace(b.String()) + "}"
}

func TestDecodeValuesSlices(t *testing.T) {
	p := compile[repeated](t, SourceQuery)
	tests := []struct {
		name    string
		query   string
		want    repeated
		wantErr string
	}{
		{name: "absent is nil", query: "", want: repeated{}},
		{name: "strings in order", query: "s=b&s=a&s=c", want: repeated{S: []string{"b", "a", "c"}}},
		{name: "empty values skipped", query: "s=&s=x&s=&i=&i=3", want: repeated{S: []string{"x"}, I: []int{3}}},
		{name: "only empty values is nil", query: "s=&s=", want: repeated{}},
		{name: "bools", query: "b=1&b=off", want: repeated{B: []bool{true, false}}},
		{name: "named uint8 is a number", query: "u8=1&u8=255", want: repeated{U8: []uint8Alias{1, 255}}},
		{name: "floats", query: "f=1.5&f=-0", want: repeated{F: []float64{1.5, math.Copysign(0, -1)}}},
		{name: "durations", query: "d=1s&d=1ms", want: repeated{D: []time.Duration{time.Second, time.Millisecond}}},
		{name: "uuids", query: "id=" + uuid1 + "&id=" + uuid2, want: repeated{ID: []uuid{mustUUID(uuid1), mustUUID(uuid2)}}},
		{name: "named strings", query: "ms=a", want: repeated{MS: []myString{"a"}}},
		{name: "bad element", query: "i=1&i=x", wantErr: `invalid query parameter "i": not an integer`},
		{name: "bad uuid element", query: "id=" + uuid1 + "&id=bad", wantErr: `invalid query parameter "id": invalid value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeQuery[repeated](t, p, tt.query)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("DecodeValues(%q) error = %v, want %q", tt.query, err, tt.wantErr)
				}
				if got.I != nil || got.ID != nil {
					t.Errorf("DecodeValues(%q) wrote a partial slice: %+v", tt.query, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeValues(%q): %v", tt.query, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeValues(%q)\n got %+v\nwant %+v", tt.query, got, tt.want)
			}
			if len(got.S) > 0 && cap(got.S) != len(got.S) {
				t.Errorf("cap(S) = %d, want len %d", cap(got.S), len(got.S))
			}
		})
	}
}

type requiredIn struct {
	Q     string   `form:"q,required"`
	Limit *int     `form:"limit,required"`
	Tags  []string `form:"tag,required"`
	Page  int      `form:"page"`
}

func TestDecodeValuesRequired(t *testing.T) {
	p := compile[requiredIn](t, SourceForm)
	tests := []struct {
		name    string
		body    string
		wantErr string
	}{
		{"all present", "q=a&limit=0&tag=x", ""},
		{"string absent", "limit=1&tag=x", `missing required form field "q"`},
		{"string empty", "q=&limit=1&tag=x", `missing required form field "q"`},
		{"pointer absent", "q=a&tag=x", `missing required form field "limit"`},
		{"pointer empty", "q=a&limit=&tag=x", `missing required form field "limit"`},
		{"slice absent", "q=a&limit=1", `missing required form field "tag"`},
		{"slice of empties", "q=a&limit=1&tag=&tag=", `missing required form field "tag"`},
		{"invalid before missing", "limit=x", `missing required form field "q"`},
		{"invalid required", "q=a&limit=x&tag=y", `invalid form field "limit": not an integer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeQuery[requiredIn](t, p, tt.body)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("DecodeValues(%q): %v", tt.body, err)
				}
				if got.Limit == nil || *got.Limit != 0 {
					t.Errorf("Limit = %v, want pointer to 0", got.Limit)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("DecodeValues(%q) error = %v, want %q", tt.body, err, tt.wantErr)
			}
			if strings.HasPrefix(tt.wantErr, "missing") && !errors.Is(err, ErrMissing) {
				t.Errorf("errors.Is(%v, ErrMissing) = false", err)
			}
		})
	}
}

func TestDecodeValuesStrict(t *testing.T) {
	type in struct {
		A string `query:"a"`
		B int    `query:"b"`
	}
	lenient := compile[in](t, SourceQuery)
	strict := lenient.Strict()
	long := strings.Repeat("é", 100)
	tests := []struct {
		name    string
		query   string
		wantErr string
	}{
		{"known keys", "a=1&b=2", ""},
		{"empty", "", ""},
		{"unknown", "a=1&c=2", `unknown query parameter "c"`},
		{"smallest unknown reported", "z=1&y=2&a=1&x=3", `unknown query parameter "x"`},
		{"values checked before unknown keys", "b=bad&c=1", `invalid query parameter "b": not an integer`},
		{"control characters quoted", "%0A=1", `unknown query parameter "\n"`},
		{"long key truncated", long + "=1", `unknown query parameter "` + strings.Repeat("é", 32) + `..."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeQuery[in](t, lenient, tt.query); err != nil && !strings.Contains(tt.query, "bad") {
				t.Errorf("lenient DecodeValues(%q): %v", tt.query, err)
			}
			_, err := decodeQuery[in](t, strict, tt.query)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("strict DecodeValues(%q): %v", tt.query, err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("strict DecodeValues(%q) error = %v, want %q", tt.query, err, tt.wantErr)
			}
			if !errors.Is(err, ErrUnknown) && !strings.Contains(tt.query, "bad") {
				t.Errorf("errors.Is(%v, ErrUnknown) = false", err)
			}
		})
	}
	if lenient.strict {
		t.Error("Strict modified the receiver")
	}
}

type itemPath struct {
	Org  string `path:"org"`
	ID   int64  `path:"id,required"`
	Kind myString
	Ref  *uuid `path:"ref"`
}

func TestDecodeParams(t *testing.T) {
	p := compile[itemPath](t, SourcePath)
	id1 := mustUUID(uuid1)
	tests := []struct {
		name    string
		params  httprouter.Params
		want    itemPath
		wantErr string
	}{
		{name: "all", params: httprouter.Params{{Key: "org", Value: "acme"}, {Key: "id", Value: "42"}, {Key: "ref", Value: uuid1}},
			want: itemPath{Org: "acme", ID: 42, Ref: &id1}},
		{name: "order and extras ignored", params: httprouter.Params{{Key: "x", Value: "?"}, {Key: "id", Value: "7"}, {Key: "org", Value: "o"}},
			want: itemPath{Org: "o", ID: 7}},
		{name: "missing required", params: httprouter.Params{{Key: "org", Value: "o"}}, wantErr: `missing required path parameter "id"`},
		{name: "empty required", params: httprouter.Params{{Key: "id", Value: ""}}, wantErr: `missing required path parameter "id"`},
		{name: "invalid", params: httprouter.Params{{Key: "id", Value: "4.2"}}, wantErr: `invalid path parameter "id": not an integer`},
		{name: "invalid uuid", params: httprouter.Params{{Key: "id", Value: "1"}, {Key: "ref", Value: "x"}}, wantErr: `invalid path parameter "ref": invalid value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got itemPath
			err := p.DecodeParams(unsafe.Pointer(&got), tt.params)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("DecodeParams(%v) error = %v, want %q", tt.params, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeParams(%v): %v", tt.params, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeParams(%v)\n got %+v\nwant %+v", tt.params, got, tt.want)
			}
		})
	}
}

func TestDecodeParamsStrictIgnoresExtras(t *testing.T) {
	p := compile[itemPath](t, SourcePath).Strict()
	var got itemPath
	err := p.DecodeParams(unsafe.Pointer(&got), httprouter.Params{{Key: "id", Value: "1"}, {Key: "other", Value: "x"}})
	if err != nil || got.ID != 1 {
		t.Errorf("DecodeParams = %+v, %v; want ID 1 and no error", got, err)
	}
}

func TestDecodeParamsSliceField(t *testing.T) {
	// A query plan used on route parameters sees one value per key.
	p := compile[repeated](t, SourceQuery)
	var got repeated
	if err := p.DecodeParams(unsafe.Pointer(&got), httprouter.Params{{Key: "i", Value: "5"}}); err != nil {
		t.Fatal(err)
	}
	if want := []int{5}; !reflect.DeepEqual(got.I, want) || got.S != nil {
		t.Errorf("DecodeParams = %+v, want I %v and nil S", got, want)
	}
}

func TestDecodeLeavesAbsentFields(t *testing.T) {
	p := compile[allKinds](t, SourceQuery)
	got := allKinds{S: "default", I: 9}
	if err := p.DecodeValues(unsafe.Pointer(&got), url.Values{"i": {"3"}}); err != nil {
		t.Fatal(err)
	}
	if got.S != "default" || got.I != 3 {
		t.Errorf("got S=%q I=%d, want S=%q I=3", got.S, got.I, "default")
	}
}

// TestNumbersMatchStrconv checks the integer and float setters against
// strconv on inputs around the edges.
func TestNumbersMatchStrconv(t *testing.T) {
	p := compile[allKinds](t, SourceQuery)
	inputs := []string{"0", "-0", "+0", "1", "-1", "127", "128", "-129", "255", "256", "65536",
		"2147483648", "-9223372036854775809", "18446744073709551616", "00012", " 1", "1 ", "1e3", "0b1", "٣",
		"1.5", ".5", "5.", "1e-400", "1e400", "0x1p-2", "inf", "-Infinity", "nan", "1_0"}
	for _, s := range inputs {
		for _, c := range []struct {
			key  string
			bits int
		}{{"i8", 8}, {"i64", 64}, {"u16", 16}, {"f32", 32}} {
			got, err := decodeQuery[allKinds](t, p, url.Values{c.key: {s}}.Encode())
			var want any
			var wantErr error
			var gotV any
			switch c.key {
			case "i8", "i64":
				n, e := strconv.ParseInt(s, 10, c.bits)
				want, wantErr = n, e
				gotV = int64(got.I8) + got.I64
			case "u16":
				n, e := strconv.ParseUint(s, 10, c.bits)
				want, wantErr = n, e
				gotV = uint64(got.U16)
			case "f32":
				f, e := strconv.ParseFloat(s, 32)
				if e == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
					e = errNotFinite
				}
				want, wantErr = f, e
				gotV = float64(got.F32)
			}
			if (err != nil) != (wantErr != nil) {
				t.Errorf("%s=%q: error = %v, strconv error = %v", c.key, s, err, wantErr)
				continue
			}
			if err == nil && gotV != want {
				t.Errorf("%s=%q: got %v, strconv %v", c.key, s, gotV, want)
			}
		}
	}
}

func TestBoolMatchesStrconv(t *testing.T) {
	p := compile[allKinds](t, SourceQuery)
	for _, s := range []string{"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False", "tRuE", "yes", "2", "on", "off", "ON"} {
		got, err := decodeQuery[allKinds](t, p, "b="+s)
		want, wantErr := strconv.ParseBool(s)
		switch s {
		case "on":
			want, wantErr = true, nil
		case "off":
			want, wantErr = false, nil
		}
		if (err != nil) != (wantErr != nil) || got.B != want {
			t.Errorf("b=%q: got %v, %v; want %v, %v", s, got.B, err, want, wantErr)
		}
	}
}
