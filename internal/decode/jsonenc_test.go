package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

func testEncoder[T any](t testing.TB) *JSONEncoder {
	typ := reflect.TypeFor[T]()
	if e, ok := jsonEncoders.Load(typ); ok {
		return e.(*JSONEncoder)
	}
	e, err := CompileJSONEncoder(typ)
	if err != nil {
		t.Fatalf("CompileJSONEncoder(%v): %v", typ, err)
	}
	jsonEncoders.Store(typ, e)
	return e
}

// diffEncode encodes v with the compiled encoder and with json.Marshal
// and fails unless both fail or both produce the same bytes.
func diffEncode[T any](t testing.TB, v T) {
	t.Helper()
	e := testEncoder[T](t)
	want, werr := json.Marshal(v)
	got, ok := e.Marshal(unsafe.Pointer(&v))
	if ok != (werr == nil) {
		t.Fatalf("%T %+v: compiled ok=%v, json.Marshal err=%v", v, v, ok, werr)
	}
	if ok && !bytes.Equal(got, want) {
		t.Fatalf("%T:\ncompiled     %s\njson.Marshal %s", v, got, want)
	}
	// Append to a non-empty buffer gives the same bytes after it.
	app, ok := e.Append([]byte("x"), unsafe.Pointer(&v))
	if ok && !bytes.Equal(app[1:], want) {
		t.Fatalf("%T: Append wrote %s, want %s", v, app[1:], want)
	}
}

type jOmit struct {
	S    string             `json:"s,omitempty"`
	B    bool               `json:"b,omitempty"`
	I    int                `json:"i,omitempty"`
	F    float64            `json:"f,omitempty"`
	F32  float32            `json:"f32,omitzero"`
	P    *int               `json:"p,omitempty"`
	Sl   []int              `json:"sl,omitempty"`
	Slz  []int              `json:"slz,omitzero"`
	M    map[string]int     `json:"m,omitempty"`
	Mz   map[string]int     `json:"mz,omitzero"`
	A0   [0]int             `json:"a0,omitempty"`
	A    [2]float64         `json:"a,omitzero"`
	St   jInner             `json:"st,omitempty"`
	Stz  jInner             `json:"stz,omitzero"`
	Stc  struct{ X, Y int } `json:"stc,omitzero"`
	Both string             `json:"both,omitempty,omitzero"`
	Q    *int               `json:"q,string,omitempty"`
	QS   *string            `json:"qs,string"`
	U    uint64             `json:"u,string"`
}

func TestJSONEncoderDifferential(t *testing.T) {
	i, s := 7, "a<b>&c\u2028\u2029\x00\x1f\"\\\b\f\n\r\t\xff"
	pi := &i
	tr := true
	all := jAll{
		JEmbedded:  JEmbedded{E1: 1, Shadow: "x", Deep: "d"},
		jembedded2: jembedded2{E2: "e2", Shadow: "y", Deep: "deep"},
		JPtrEmb:    &JPtrEmb{P1: 2},
		jptremb:    &jptremb{P2: 3},
		JTagEmb:    JTagEmb{T1: 6}, JInt: 7, jint: 8,
		S: s, B: true, I: -1, I8: -128, I16: 16, I32: 32, I64: math.MinInt64,
		U: 1, U8: 255, U16: 0, U32: 32, U64: math.MaxUint64, UP: 9,
		F32: 1e-7, F64: 1e21, PS: &s, PPI: &pi, Bytes: []byte("hello\x00"), MyBytes: []jByte{1, 2, 3},
		Sl: []int{}, SlS: []jInner{{A: 1, C: &tr}, {}}, SlP: []*jInner{nil, {D: []int{1}}},
		Arr: [3]int{1, 2, 3}, ArrB: [2]byte{4, 5},
		M: map[string]int{"b": 2, "a": 1, "<": 0, "\u2028": 3, "\xff": 4}, MI: map[int8]string{-1: "m", 10: "t", 2: "s"},
		MU: map[uint16]*jInner{7: nil, 65535: {A: 1}}, MS: map[jString][]string{"k": nil, "j": {"v"}},
		N: jInner{B: s}, PN: &jInner{}, Q: 12, QP: new(1.5), QS: s, QB: true, QU: new(uint8(0)), QF32: 1e21,
		QSl: []int{1}, Skip: 1, Dash: 2, unexp: 3, Named: "n", Kelvin: "k", LongS: "l", Upper: "u", Bad: 4, Punct: 5,
	}
	diffEncode(t, all)
	diffEncode(t, jAll{})
	diffEncode(t, jAll{JPtrEmb: &JPtrEmb{}})
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1, 1e-6, 1e-7, 9.999999e-7, 1e20, 1e21, 123456789.125, 5e-324,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 1.5e-9, 3.4028235e38, float64(float32(0.1)), 0.1, math.NaN(), math.Inf(1), math.Inf(-1)} {
		diffEncode(t, jAll{F32: float32(f), F64: f})
		diffEncode(t, jAll{QF32: float32(f)})
		diffEncode(t, jOmit{F: f, F32: float32(f), A: [2]float64{f, 0}})
		diffEncode(t, map[string]float64{"f": f})
		diffEncode(t, []float32{float32(f)})
	}
	diffEncode(t, jOmit{})
	diffEncode(t, jOmit{Sl: []int{}, Slz: []int{}, M: map[string]int{}, Mz: map[string]int{}, P: new(0), St: jInner{A: 1}, Stc: struct{ X, Y int }{0, 1}, Both: "b", Q: new(3), QS: &s, U: 5})
	diffEncode(t, jSearch{})
	diffEncode(t, jLookupOut{Query: "desk lamp", Limit: 20, Source: "gateway"})
	diffEncode(t, jDeep{jDeep1: jDeep1{JDeep2: &JDeep2{Z: 1, X: 2, JEmbedded: JEmbedded{E1: 3}}, Y: 4}, X: 5})
	diffEncode[[]byte](t, nil)
	diffEncode(t, []byte{})
	diffEncode[map[int]bool](t, nil)
	diffEncode(t, map[int]bool{})
	diffEncode(t, map[int]bool{-5: true, 10: false, 9: true})
	diffEncode[*jSearch](t, nil)
	diffEncode(t, "\xed\xa0\x80 is not valid UTF-8, \U0001F600 is")
	diffEncode(t, [2]*int{nil, pi})
}

func FuzzJSONEncoder(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s), "a<b>&\u2028\xff", 1.5, int64(-3))
	}
	f.Add([]byte(`{"m":{"a":1}}`), "", math.Inf(1), int64(0))
	f.Add([]byte(`{}`), "\x00\x7f\u00e9\"\\", 1e-7, int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, data []byte, s string, fl float64, n int64) {
		var all jAll
		_ = json.Unmarshal(data, &all) // any value, even partly decoded
		diffEncode(t, all)
		all.S, all.QS, all.Named, all.F64, all.F32, all.QF32, all.I64, all.I8 = s, s, jString(s), fl, float32(fl), float32(fl), n, int8(n)
		if all.M == nil {
			all.M = map[string]int{}
		}
		all.M[s] = int(n)
		diffEncode(t, all)
		var o jOmit
		_ = json.Unmarshal(data, &o)
		o.F, o.F32, o.A[1] = fl, float32(fl), fl
		diffEncode(t, o)
		diffEncode(t, jLookupOut{Query: s, Limit: int(n), Source: string(data)})
	})
}

func TestCompileJSONEncoderUnsupported(t *testing.T) {
	type withTime struct {
		T time.Time
	}
	type zeroerField struct {
		Z withIsZero `json:"z,omitzero"`
	}
	type withAny struct {
		A []any
	}
	type recursive struct {
		Next []recursive
	}
	for _, typ := range []reflect.Type{
		reflect.TypeFor[withTime](), reflect.TypeFor[zeroerField](), reflect.TypeFor[withAny](), reflect.TypeFor[recursive](),
		reflect.TypeFor[json.RawMessage](), reflect.TypeFor[map[uuid]int](), reflect.TypeFor[func()](), reflect.TypeFor[complex64](), nil,
	} {
		if _, err := CompileJSONEncoder(typ); !errors.Is(err, ErrJSONUnsupported) {
			t.Errorf("CompileJSONEncoder(%v) = %v, want ErrJSONUnsupported", typ, err)
		}
	}
}

type withIsZero struct{ N int }

func (w withIsZero) IsZero() bool { return w.N == 1 }

func TestJSONEncoderAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	e := testEncoder[jLookupOut](t)
	v := jLookupOut{Query: "desk lamp", Limit: 20, Source: "gateway"}
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := e.Marshal(unsafe.Pointer(&v)); !ok {
			t.Fatal("encode failed")
		}
	})
	if allocs != 1 { // the result
		t.Fatalf("Marshal allocates %v times, want 1", allocs)
	}
}
