package decode

import (
	"errors"
	"math"
	"net/url"
	"reflect"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/julienschmidt/httprouter"
)

// checkFieldError fails unless err is a *FieldError with a short message.
func checkFieldError(t *testing.T, err error) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FieldError", err, err)
	}
	if n := len(err.Error()); n > 200 {
		t.Fatalf("error message is %d bytes long: %q", n, err.Error())
	}
}

// first returns the first value of key, as DecodeValues reads scalars.
func first(v url.Values, key string) string {
	if vs := v[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func FuzzDecodeValues(f *testing.F) {
	for _, seed := range []string{
		"", "s=a&i=1&u8=2&f64=3.5&b=on&d=1h&id=" + uuid1,
		"i=-9223372036854775808&u8=256&f64=NaN", "b=maybe&d=1x", "s=%zz&i=1", "i=&i=2&s=&s=x",
		"ids=1&ids=&ids=x&id=" + uuid2, "f64=0x1p-2&i=+0&u8=-0", "x=1&y=2&s=%E2%82%AC",
	} {
		f.Add(seed)
	}
	kinds := compile[allKinds](f, SourceQuery)
	strict := kinds.Strict()
	rep := compile[repeated](f, SourceQuery)
	opt := compile[optional](f, SourceQuery)
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw) // keeps what parses
		var got allKinds
		err := kinds.DecodeValues(unsafe.Pointer(&got), v)
		if err != nil {
			checkFieldError(t, err)
		} else {
			// Compare with the reference parsers, field by field.
			if want := first(v, "s"); got.S != want {
				t.Errorf("S = %q, want %q", got.S, want)
			}
			if s := first(v, "i"); s != "" {
				want, _ := strconv.ParseInt(s, 10, strconv.IntSize)
				if int64(got.I) != want {
					t.Errorf("I = %d, want %d from %q", got.I, want, s)
				}
			}
			if s := first(v, "u8"); s != "" {
				want, _ := strconv.ParseUint(s, 10, 8)
				if uint64(got.U8) != want {
					t.Errorf("U8 = %d, want %d from %q", got.U8, want, s)
				}
			}
			if s := first(v, "f64"); s != "" {
				want, _ := strconv.ParseFloat(s, 64)
				if got.F64 != want || math.IsNaN(want) || math.IsInf(want, 0) {
					t.Errorf("F64 = %v, want %v from %q", got.F64, want, s)
				}
			}
			if s := first(v, "d"); s != "" {
				want, _ := time.ParseDuration(s)
				if got.D != want {
					t.Errorf("D = %v, want %v from %q", got.D, want, s)
				}
			}
		}
		// Strict decoding fails exactly when lenient decoding fails (with the
		// same error) or a key is unknown.
		unknown := false
		for k := range v {
			if _, ok := kinds.index[k]; !ok {
				unknown = true
			}
		}
		var s allKinds
		serr := strict.DecodeValues(unsafe.Pointer(&s), v)
		if (serr != nil) != (unknown || err != nil) {
			t.Errorf("strict error = %v, lenient error = %v, unknown key = %v", serr, err, unknown)
		}
		switch {
		case err != nil && serr != nil && serr.Error() != err.Error():
			t.Errorf("strict error = %v, want the lenient error %v", serr, err)
		case err == nil && unknown && !errors.Is(serr, ErrUnknown):
			t.Errorf("strict error = %v, want ErrUnknown", serr)
		}

		var r repeated
		if err := rep.DecodeValues(unsafe.Pointer(&r), v); err != nil {
			checkFieldError(t, err)
		} else {
			var want []string
			for _, s := range v["s"] {
				if s != "" {
					want = append(want, s)
				}
			}
			if !reflect.DeepEqual(r.S, want) {
				t.Errorf("repeated S = %q, want %q", r.S, want)
			}
		}
		var o optional
		if err := opt.DecodeValues(unsafe.Pointer(&o), v); err != nil {
			checkFieldError(t, err)
		} else if (o.S == nil) != (first(v, "s") == "") || (o.S != nil && *o.S != first(v, "s")) {
			t.Errorf("optional S = %v, want pointer to %q or nil when empty", o.S, first(v, "s"))
		}
	})
}

func FuzzDecodeParams(f *testing.F) {
	f.Add("acme", "42", uuid1)
	f.Add("", "", "")
	f.Add("a/b", "-0", "not-a-uuid")
	f.Add("é", "99999999999999999999", uuid2)
	f.Add("x", "+7", "123E4567-E89B-12D3-A456-426614174000")
	p := compile[itemPath](f, SourcePath)
	f.Fuzz(func(t *testing.T, org, id, ref string) {
		ps := httprouter.Params{{Key: "org", Value: org}, {Key: "id", Value: id}, {Key: "ref", Value: ref}}
		var got itemPath
		err := p.DecodeParams(unsafe.Pointer(&got), ps)

		// The reference: strconv, the type's own UnmarshalText, and the
		// empty-is-absent rule.
		var want itemPath
		want.Org = org
		wantErr := id == ""
		if !wantErr {
			n, perr := strconv.ParseInt(id, 10, 64)
			want.ID, wantErr = n, perr != nil
		}
		if !wantErr && ref != "" {
			var u uuid
			if uerr := u.UnmarshalText([]byte(ref)); uerr != nil {
				wantErr = true
			} else {
				want.Ref = &u
			}
		}
		if wantErr {
			if err == nil {
				t.Fatalf("DecodeParams(%v) = %+v, want an error", ps, got)
			}
			checkFieldError(t, err)
			return
		}
		if err != nil {
			t.Fatalf("DecodeParams(%v): %v", ps, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("DecodeParams(%v) = %+v, want %+v", ps, got, want)
		}
	})
}

// roundTrip is the struct FuzzEncodeRoundTrip encodes and decodes.
type roundTrip struct {
	S    string        `form:"s"`
	I    int64         `form:"i,omitempty"`
	U    uint16        `form:"u"`
	F    float64       `form:"f,omitempty"`
	F32  float32       `form:"f32"`
	B    bool          `form:"b,omitempty"`
	D    time.Duration `form:"d"`
	ID   uuid          `form:"id,omitempty"`
	P    *string       `form:"p"`
	PI   *int8         `form:"pi"`
	Tags []string      `form:"tag"`
	Nums []int32       `form:"n"`
}

func FuzzEncodeRoundTrip(f *testing.F) {
	f.Add("a b", int64(-1), uint16(7), 1.5, true, int64(time.Second), []byte("0123456789abcdef"), "p", int8(3), "t1", "", int32(5))
	f.Add("", int64(0), uint16(0), 0.0, false, int64(0), []byte{}, "", int8(0), "", "x", int32(0))
	f.Add("&=?#", int64(math.MinInt64), uint16(math.MaxUint16), math.Inf(1), false, int64(math.MaxInt64), []byte{1}, "\x00", int8(-128), "é", "&", int32(-1))
	f.Add("x", int64(1), uint16(1), math.NaN(), true, int64(-1), []byte("ffffffffffffffffff"), "y", int8(1), "a", "b", int32(1))
	p := compile[roundTrip](f, SourceForm)
	f.Fuzz(func(t *testing.T, s string, i int64, u uint16, fl float64, b bool, d int64, id []byte, ps string, pi int8, tag1, tag2 string, n int32) {
		in := roundTrip{S: s, I: i, U: u, F: fl, F32: float32(fl), B: b, D: time.Duration(d), P: &ps, PI: &pi,
			Tags: []string{tag1, tag2}, Nums: []int32{n, -n}}
		copy(in.ID[:], id)
		dst := url.Values{}
		if err := p.Encode(unsafe.Pointer(&in), dst); err != nil {
			t.Fatalf("Encode(%+v): %v", in, err)
		}
		body := dst.Encode()
		v, err := url.ParseQuery(body)
		if err != nil {
			t.Fatalf("ParseQuery(%q): %v", body, err)
		}
		var got roundTrip
		err = p.DecodeValues(unsafe.Pointer(&got), v)

		// Non-finite floats encode but do not decode.
		if math.IsNaN(fl) || math.IsInf(fl, 0) || math.IsInf(float64(in.F32), 0) {
			if err == nil {
				t.Fatalf("DecodeValues(%q) accepted a non-finite float", body)
			}
			checkFieldError(t, err)
			return
		}
		if err != nil {
			t.Fatalf("DecodeValues(%q): %v", body, err)
		}
		// Empty values decode as absent: a pointer to "" becomes nil and
		// empty slice elements are dropped.
		want := in
		if ps == "" {
			want.P = nil
		}
		want.Tags = nil
		for _, s := range in.Tags {
			if s != "" {
				want.Tags = append(want.Tags, s)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip via %q\n got %+v\nwant %+v", body, got, want)
		}
	})
}
