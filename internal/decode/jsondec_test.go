package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// Types for the differential tests: every kind the compiled codecs handle,
// nested, behind pointers, in slices, arrays and maps, embedded with Go's
// visibility and depth rules, with tags and options.

type jString string
type jByte byte

type jInner struct {
	A int    `json:"a"`
	B string `json:"b,omitempty"`
	C *bool  `json:"c,omitzero"`
	D []int  `json:"d"`
}

type JEmbedded struct {
	E1     int `json:"e1"`
	Shadow string
	Deep   string
}

type jembedded2 struct {
	E2     string
	Shadow string // ties with JEmbedded.Shadow: both dropped
	Deep   string `json:"deep"` // tagged, so it beats JEmbedded.Deep
}

type JPtrEmb struct {
	P1 int `json:"p1"`
}

type jptremb struct {
	P2 int
}

// JTagEmb is embedded with a tag, which makes it a named field.
type JTagEmb struct {
	T1 int `json:"t1"`
}

// JInt and jint are embedded non-structs: the exported one is a field
// named JInt, the unexported one is ignored.
type (
	JInt int
	jint int
)

type jAll struct {
	JEmbedded
	jembedded2
	JTagEmb `json:"tagemb"`
	JInt
	jint
	*JPtrEmb
	*jptremb // unexported pointer: encoding/json cannot allocate it

	S       string             `json:"s"`
	B       bool               `json:"b"`
	I       int                `json:"i"`
	I8      int8               `json:"i8"`
	I16     int16              `json:",omitempty"`
	I32     int32              `json:"i32"`
	I64     int64              `json:"i64"`
	U       uint               `json:"u"`
	U8      uint8              `json:"u8"`
	U16     uint16             `json:"u16,omitzero"`
	U32     uint32             `json:"u32"`
	U64     uint64             `json:"u64"`
	UP      uintptr            `json:"up"`
	F32     float32            `json:"f32"`
	F64     float64            `json:"f64,omitempty"`
	PS      *string            `json:"ps"`
	PPI     **int              `json:"ppi"`
	Bytes   []byte             `json:"bytes"`
	MyBytes []jByte            `json:"mybytes"`
	Sl      []int              `json:"sl"`
	SlS     []jInner           `json:"sls"`
	SlP     []*jInner          `json:"slp"`
	Arr     [3]int             `json:"arr"`
	ArrS    [2]jInner          `json:"arrs"`
	ArrB    [2]byte            `json:"arrb"`
	M       map[string]int     `json:"m"`
	MI      map[int8]string    `json:"mi"`
	MU      map[uint16]*jInner `json:"mu"`
	MS      map[jString][]string
	N       jInner   `json:"n"`
	PN      *jInner  `json:"pn"`
	Q       int      `json:"q,string"`
	QP      *float64 `json:"qp,string"`
	QS      string   `json:"qs,string"`
	QB      bool     `json:",string"`
	QU      *uint8   `json:"qu,string,omitempty"`
	QF32    float32  `json:"qf32,string"`
	//lint:ignore SA5008 encoding/json ignores ",string" on a slice, as tested here
	QSl  []int `json:"qsl,string"`
	Skip int   `json:"-"`
	//lint:ignore SA5008 the key "-" is tested here
	Dash   int `json:"-,"`
	unexp  int
	Named  jString  `json:"named"`
	Kelvin string   `json:"k"`
	LongS  string   `json:"s2"`
	Upper  string   `json:"ÀB"`
	Empty  struct{} `json:"empty"`
	//lint:ignore SA5008 an invalid tag name, for which encoding/json uses the Go name, is tested here
	Bad   int `json:"a\"b"`
	Punct int `json:"<&>"`
}

// jSearch is the shape of the bench contract's search body.
type jSearch struct {
	Category *string `json:"category"`
	MaxPrice *int    `json:"max_price"`
}

type jLookup struct {
	Q string `json:"q" apigate:"required"`
}

type jLookupOut struct {
	Query  string `json:"query"`
	Limit  int    `json:"limit"`
	Source string `json:"source"`
}

// jDeep nests embedded structs several levels, by value and by pointer.
type jDeep struct {
	jDeep1
	X int `json:"x"`
}

type jDeep1 struct {
	*JDeep2
	Y int `json:"y"`
}

type JDeep2 struct {
	Z int `json:"z"`
	X int `json:"x"` // shadowed by jDeep.X
	JEmbedded
}

var (
	jsonDecoders sync.Map // reflect.Type -> *JSONDecoder
	jsonEncoders sync.Map // reflect.Type -> *JSONEncoder
)

func testDecoder[T any](t testing.TB) *JSONDecoder {
	typ := reflect.TypeFor[T]()
	if d, ok := jsonDecoders.Load(typ); ok {
		return d.(*JSONDecoder)
	}
	d, err := CompileJSONDecoder(typ)
	if err != nil {
		t.Fatalf("CompileJSONDecoder(%v): %v", typ, err)
	}
	jsonDecoders.Store(typ, d)
	return d
}

// refDecode decodes as apigate's JSON input did before the compiled
// decoder: Unmarshal, or a Decoder refusing unknown fields and trailing
// data.
func refDecode(data []byte, v any, strict bool) error {
	if !strict {
		return json.Unmarshal(data, v)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// diffDecode decodes data with the compiled decoder and with encoding/json
// and fails unless both succeed with equal values or both fail.
func diffDecode[T any](t testing.TB, data []byte, strict bool) bool {
	t.Helper()
	d := testDecoder[T](t)
	if strict {
		d = d.Strict()
	}
	var want T
	werr := refDecode(data, &want, strict)
	var got T
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%T strict=%v %q: panic %v", got, strict, data, r)
		}
	}()
	ok := d.decode(unsafe.Pointer(&got), data)
	if ok != (werr == nil) {
		t.Fatalf("%T strict=%v %q: compiled ok=%v, encoding/json err=%v", got, strict, data, ok, werr)
	}
	if ok && !reflect.DeepEqual(got, want) {
		t.Fatalf("%T strict=%v %q:\ncompiled      %+v\nencoding/json %+v", got, strict, data, got, want)
	}
	return ok
}

func diffDecodeAll(t testing.TB, data []byte) (succeeded int) {
	for _, strict := range []bool{false, true} {
		for _, f := range []func(testing.TB, []byte, bool) bool{
			diffDecode[jAll], diffDecode[jSearch], diffDecode[jLookup], diffDecode[jInner],
			diffDecode[jDeep], diffDecode[[]jInner], diffDecode[map[string]*jInner],
			diffDecode[*jSearch], diffDecode[[2]*int], diffDecode[map[int]bool], diffDecode[string],
			diffDecode[float32], diffDecode[[]byte], diffDecode[**jLookupOut],
		} {
			if f(t, data, strict) {
				succeeded++
			}
		}
	}
	return succeeded
}

// jsonSeeds are documents that exercise each rule of encoding/json the
// compiled decoder reproduces.
var jsonSeeds = []string{
	``, ` `, `{}`, `[]`, `null`, ` null `, `{"a":1}`, `{"a":1} `, `{"a":1}x`, `{"a":1}{}`, `{"a":1`, `{"a":}`,
	`{"category":"lighting","max_price":120}`, `{"category":null,"max_price":null}`, `{"max_price":1.5}`,
	`{"max_price":"1"}`, `{"q":"  desk lamp "}`, `{"q":1}`, `{"Q":"x","q":"y"}`, `{"q":"x","Q":"y"}`,
	`{"s":"a","s":"b"}`, `{"S":"up"}`, `{"unknown":1}`, `{"unknown":{"a":[1,2,{"b":null}]}}`,
	`{"i8":127}`, `{"i8":128}`, `{"i8":-128}`, `{"i8":-129}`, `{"u8":255}`, `{"u8":256}`, `{"u":-1}`,
	`{"i":1.0}`, `{"i":1e2}`, `{"i":-0}`, `{"i64":9223372036854775807}`, `{"i64":9223372036854775808}`,
	`{"u64":18446744073709551615}`, `{"u64":18446744073709551616}`, `{"up":12}`,
	`{"f32":3.4028235e38}`, `{"f32":3.5e38}`, `{"f64":1e308}`, `{"f64":1e309}`, `{"f64":-0.0}`, `{"f32":1e-46}`,
	`{"b":true,"b":false}`, `{"b":"true"}`, `{"b":1}`, `{"b":null}`,
	`{"s":"\u00e9\ud83d\ude00\n\t\"\\\/\b\f\r"}`, `{"s":"\ud800"}`, `{"s":"\udc00\ud800x"}`, `{"s":"\ud800\u0041"}`,
	"{\"s\":\"\xff\xfe ok \xc3\"}", "{\"s\":\"\xed\xa0\x80\"}", `{"s":"` + strings.Repeat("x", 100) + `\u0000"}`,
	`{"ps":"p"}`, `{"ps":null}`, `{"ps":1}`, `{"ppi":5}`, `{"ppi":null}`, `{"ppi":5,"ppi":null,"ppi":6}`,
	`{"bytes":"aGVsbG8="}`, `{"bytes":"aGVsbG8"}`, `{"bytes":"aGVs\nbG8="}`, `{"bytes":[1,2,300]}`, `{"bytes":[1,2]}`,
	`{"bytes":null}`, `{"bytes":""}`, `{"mybytes":"AAE="}`, `{"arrb":"AAE="}`, `{"arrb":[1,2,3]}`,
	`{"sl":[]}`, `{"sl":null}`, `{"sl":[1,2,3]}`, `{"sl":[1,"x"]}`, `{"sl":[1,2,3],"sl":[4]}`, `{"sl":[1],"sl":[]}`,
	`{"sls":[{"a":1,"d":[1,2]},{"b":"x"}],"sls":[{"b":"y"}],"sls":[{"c":true},{"c":false},{}]}`,
	`{"slp":[null,{"a":1}],"slp":[{"b":"x"},{"a":2}]}`,
	`{"arr":[1]}`, `{"arr":[1,2,3,4,5]}`, `{"arr":[1,2,3],"arr":[9]}`, `{"arr":null}`, `{"arr":{}}`,
	`{"arrs":[{"a":1,"d":[1]},{"a":2}],"arrs":[{"b":"x"}]}`,
	`{"m":{"a":1,"b":2}}`, `{"m":{}}`, `{"m":null}`, `{"m":{"a":1},"m":{"b":2}}`, `{"m":{"a":"x"}}`,
	`{"mi":{"1":"a","-128":"b"}}`, `{"mi":{"128":"a"}}`, `{"mi":{"x":"a"}}`, `{"mi":{"01":"a"}}`, `{"mi":{"+1":"a"}}`,
	`{"mu":{"65535":{"a":1},"0":null}}`, `{"mu":{"65536":null}}`, `{"mu":{"-1":null}}`, `{"MS":{"k":["v"],"k":null}}`,
	`{"n":{"a":1},"n":{"b":"x"}}`, `{"n":null}`, `{"n":[]}`, `{"pn":{"a":1},"pn":{"b":"x"}}`, `{"pn":null}`,
	`{"q":"12"}`, `{"q":12}`, `{"q":"x"}`, `{"q":"1.0"}`, `{"q":null}`, `{"q":"null"}`, `{"q":""}`, `{"q":" 1"}`,
	`{"qp":"1.5"}`, `{"qp":"null"}`, `{"qp":null}`, `{"qp":"nul"}`, `{"qp":"-Inf"}`, `{"qp":"0x1p-2"}`, `{"qp":"1e400"}`,
	`{"qs":"\"abc\""}`, `{"qs":"abc"}`, `{"qs":"\"a\\u00e9\""}`, `{"qs":"\"a"}`, `{"qs":"\"\\q\""}`, `{"qs":"\"\\'\""}`,
	`{"QB":"true"}`, `{"QB":"false"}`, `{"QB":"tru"}`, `{"QB":true}`, `{"qu":"255"}`, `{"qu":"256"}`, `{"qf32":"1e39"}`,
	`{"qsl":[1]}`, `{"qsl":"[1]"}`,
	`{"Skip":1}`, `{"-":3}`, `{"Dash":1}`, `{"unexp":1}`, `{"named":"n"}`,
	`{"K":"x"}`, "{\"\u212a\":\"kelvin\"}", "{\"\u017f2\":\"long s\"}", `{"S2":"x"}`, `{"àb":"x"}`, `{"ÀB":"y"}`,
	`{"empty":{}}`, `{"empty":{"x":1}}`, `{"empty":null}`, `{"Bad":1}`, `{"a\"b":1}`, `{"<&>":1}`,
	`{"tagemb":{"t1":1},"t1":2,"JInt":3,"jint":4}`, `{"JINT":3,"tagEmb":null}`,
	`{"e1":1,"shadow":"x","Shadow":"y","Deep":"d","deep":"e","E2":"f"}`, `{"p1":1}`, `{"P2":1}`, `{"p1":null}`,
	`{"x":1,"y":2,"z":3,"e1":4,"Deep":"d"}`, `{"z":null}`,
	`[{"a":1},{"a":2}]`, `[null]`, `{"a":{"a":1}}`, `{"1":true,"-1":false}`, `"str"`, `"\u00e9"`, `1.5`, `1e39`,
	`[1,2,3]`, `[null,5]`, `"AQID"`, `{"query":"q","limit":1}`,
	`{"a":1,"a":"x"}`, `{"a":"x","a":1}`, `{"a":[],"d":{}}`, `{"c":true,"c":null}`,
	`{"i":1, "s" : "x" ,"b":true }`, "\t{\n\"i\"\r:\n1}\n",
}

func TestJSONDecoderDifferential(t *testing.T) {
	succeeded := 0
	for _, s := range jsonSeeds {
		succeeded += diffDecodeAll(t, []byte(s))
	}
	if succeeded < len(jsonSeeds) {
		t.Fatalf("only %d decodes succeeded: the seeds test too little", succeeded)
	}
}

func FuzzJSONDecoder(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		diffDecodeAll(t, data)
	})
}

func TestCompileJSONDecoderUnsupported(t *testing.T) {
	type recursive struct {
		Next *recursive
	}
	type withTime struct {
		T time.Time
	}
	type withAny struct {
		A map[string]any
	}
	type withNumber struct {
		N json.Number
	}
	type withText struct {
		U []uuid
	}
	type withChan struct {
		C chan int
	}
	type withStructKey struct {
		M map[struct{}]int
	}
	for _, typ := range []reflect.Type{
		reflect.TypeFor[recursive](), reflect.TypeFor[withTime](), reflect.TypeFor[withAny](),
		reflect.TypeFor[withNumber](), reflect.TypeFor[withText](), reflect.TypeFor[withChan](),
		reflect.TypeFor[withStructKey](), reflect.TypeFor[any](), reflect.TypeFor[json.RawMessage](), nil,
	} {
		if _, err := CompileJSONDecoder(typ); !errors.Is(err, ErrJSONUnsupported) {
			t.Errorf("CompileJSONDecoder(%v) = %v, want ErrJSONUnsupported", typ, err)
		}
	}
}

func TestJSONDecoderAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	d := testDecoder[jLookup](t)
	data := []byte(`{"q":"desk lamp"}`)
	var v jLookup
	allocs := testing.AllocsPerRun(100, func() {
		v = jLookup{}
		if !d.Decode(unsafe.Pointer(&v), data) {
			t.Fatal("decode failed")
		}
	})
	if allocs != 1 { // the string
		t.Fatalf("Decode allocates %v times, want 1", allocs)
	}
}

func checkValidJSON(t testing.TB, data []byte) {
	t.Helper()
	if got, want := validJSON(data), json.Valid(data); got != want {
		t.Fatalf("validJSON(%q) = %v, json.Valid %v", data, got, want)
	}
}

func TestValidJSON(t *testing.T) {
	for _, s := range jsonSeeds {
		checkValidJSON(t, []byte(s))
	}
	for _, s := range []string{
		`-`, `-0`, `-01`, `01`, `0.`, `0.e1`, `1e`, `1e+`, `1E-5`, `1.5e+05`, `.5`, `+1`, `1 2`, `tru`, `truee`, `nul`,
		`"\u12"`, `"\u12G4"`, `"\x"`, `"\'"`, "\"\t\"", "\"\x7f\"", `"abc`, `"\"`, `[1,]`, `[,1]`, `{"a" 1}`, `{"a":1,}`,
		`{1:2}`, `{"a":1 "b":2}`, `[1 2]`, `[`, `{`, `]`, `}`, "\v1", "1\f", "\u00a01", "[\n1\r,\t2 ]",
	} {
		checkValidJSON(t, []byte(s))
	}
	for _, depth := range []int{maxJSONDepth - 1, maxJSONDepth, maxJSONDepth + 1} {
		checkValidJSON(t, []byte(strings.Repeat("[", depth)+strings.Repeat("]", depth)))
		checkValidJSON(t, []byte(strings.Repeat(`{"a":`, depth)+"1"+strings.Repeat("}", depth)))
		checkValidJSON(t, []byte(strings.Repeat(`[{"a":`, depth/2)+"1"+strings.Repeat("}]", depth/2)))
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkValidJSON(t, data)
	})
}
