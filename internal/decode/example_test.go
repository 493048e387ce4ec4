package decode_test

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"time"
	"unsafe"

	"github.com/apigate-go/apigate/internal/decode"
)

type Search struct {
	Q     string   `query:"q,required"`
	Limit *int     `query:"limit"`
	Tags  []string `query:"tag,omitempty"`
	Debug bool     `query:"debug,omitempty"`
}

func Example() {
	plan, err := decode.Compile(reflect.TypeFor[Search](), "query")
	if err != nil {
		panic(err)
	}

	// Per request: no reflection.
	var in Search
	v, _ := url.ParseQuery("q=shoes&limit=20&tag=red&tag=&tag=blue")
	if err := plan.DecodeValues(unsafe.Pointer(&in), v); err != nil {
		panic(err)
	}
	fmt.Println(in.Q, *in.Limit, in.Tags)

	// Errors name the parameter, never echo the value.
	var bad Search
	err = plan.DecodeValues(unsafe.Pointer(&bad), url.Values{"q": {"x"}, "limit": {"lots"}})
	var fe *decode.FieldError
	fmt.Println(err, errors.As(err, &fe) && fe.Field == "limit")
	err = plan.DecodeValues(unsafe.Pointer(&bad), url.Values{})
	fmt.Println(err, errors.Is(err, decode.ErrMissing))

	// Re-serialization.
	out := url.Values{}
	in.Q = "boots"
	if err := plan.Encode(unsafe.Pointer(&in), out); err != nil {
		panic(err)
	}
	fmt.Println(out.Encode())
	// Output:
	// shoes 20 [red blue]
	// invalid query parameter "limit": not an integer true
	// missing required query parameter "q" true
	// limit=20&q=boots&tag=red&tag=blue
}

type LookupIn struct {
	Q     string `json:"q" apigate:"required"`
	Limit *int   `json:"limit" apigate:"required"`
}

func ExampleJSONPlan_Check() {
	plan, err := decode.CompileJSON(reflect.TypeFor[LookupIn]())
	if err != nil {
		panic(err)
	}
	zero := 0
	for _, in := range []LookupIn{{Q: "x", Limit: &zero}, {Q: "x"}, {}} {
		fmt.Println(plan.Check(unsafe.Pointer(&in)))
	}
	// Output:
	// <nil>
	// missing required field "limit"
	// missing required field "q"
}

type Item struct {
	Name  string            `json:"name"`
	Price *float64          `json:"price,omitempty"`
	Tags  map[string]string `json:"tags,omitempty"`
}

func ExampleCompileJSONDecoder() {
	dec, err := decode.CompileJSONDecoder(reflect.TypeFor[Item]())
	if err != nil {
		panic(err)
	}

	// Per request: no reflection, encoding/json's semantics.
	var in Item
	ok := dec.Decode(unsafe.Pointer(&in), []byte(`{"NAME":"lamp","price":12.5,"tags":{"room":"desk"}}`))
	fmt.Println(ok, in.Name, *in.Price, in.Tags)

	// A document encoding/json refuses is refused too: decode it again
	// with encoding/json for the error.
	var bad Item
	fmt.Println(dec.Decode(unsafe.Pointer(&bad), []byte(`{"price":"cheap"}`)))

	// Types with their own unmarshalers are left to encoding/json.
	_, err = decode.CompileJSONDecoder(reflect.TypeFor[struct{ When time.Time }]())
	fmt.Println(errors.Is(err, decode.ErrJSONUnsupported))
	// Output:
	// true lamp 12.5 map[room:desk]
	// false
	// true
}

func ExampleCompileJSONEncoder() {
	enc, err := decode.CompileJSONEncoder(reflect.TypeFor[Item]())
	if err != nil {
		panic(err)
	}
	price := 3.0
	out := Item{Name: "<lamp>", Price: &price, Tags: map[string]string{"b": "2", "a": "1"}}
	b, ok := enc.Marshal(unsafe.Pointer(&out))
	fmt.Println(ok, string(b))
	// Output:
	// true {"name":"\u003clamp\u003e","price":3,"tags":{"a":"1","b":"2"}}
}
