package apigate

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/apigate-go/apigate/internal/decode"
)

// jsonBodyIn has a field of most kinds the compiled JSON decoder handles.
type jsonBodyIn struct {
	jsonBodyEmbedded
	Name   string         `json:"name" apigate:"required"`
	Count  int8           `json:"count"`
	Price  *float64       `json:"price,omitempty"`
	Tags   []string       `json:"tags"`
	Attrs  map[string]int `json:"attrs"`
	Nested struct {
		On  bool      `json:"on"`
		IDs [2]uint16 `json:"ids"`
	} `json:"nested"`
	Ref *jsonBodyRef `json:"ref"`
	Qty int          `json:"qty,string"`
	Raw []byte       `json:"raw"`
}

type jsonBodyEmbedded struct {
	Region string `json:"region"`
}

type jsonBodyRef struct {
	ID uint32 `json:"id"`
}

// jsonBodyOut is a Map output with what json.Marshal escapes and formats.
type jsonBodyOut struct {
	Name   string             `json:"name"`
	Note   string             `json:"note,omitempty"`
	Score  float64            `json:"score"`
	Small  float32            `json:"small"`
	Tags   []string           `json:"tags"`
	Attrs  map[string]int     `json:"attrs"`
	Ref    *jsonBodyRef       `json:"ref,omitzero"`
	Qty    int                `json:"qty,string"`
	Nested map[int][]*float64 `json:"nested"`
}

func mapJSONBody(in jsonBodyIn) jsonBodyOut {
	price := 0.0
	if in.Price != nil {
		price = *in.Price
	}
	return jsonBodyOut{
		Name: in.Name + " <&> \u2028", Score: price * 1e15, Small: float32(price) / 1e9, Tags: in.Tags,
		Attrs: in.Attrs, Ref: in.Ref, Qty: in.Qty, Nested: map[int][]*float64{int(in.Count): {in.Price, nil}, -1: nil},
	}
}

var jsonBodies = []string{
	``, `  `, `null`, `{}`, `[]`, `"x"`, `{"name":"lamp"}`, `{"name":"lamp"} `, `{"name":"lamp"}x`, `{"name":"lamp"}{}`,
	`{"name":`, `{"name":"a","count":127}`, `{"name":"a","count":128}`, `{"name":"a","count":"1"}`, `{"name":"a","count":1.5}`,
	`{"name":"a","price":1.25,"tags":["x","y"],"attrs":{"k":1,"j":2},"nested":{"on":true,"ids":[1,2,3]}}`,
	`{"name":"a","price":null,"tags":null,"attrs":null,"nested":null,"ref":null}`, `{"name":"a","ref":{"id":-1}}`,
	`{"name":"a","ref":{"id":4294967296}}`, `{"name":"a","ref":{"id":7},"ref":{}}`, `{"name":"a","qty":"12"}`, `{"name":"a","qty":12}`,
	`{"name":"a","qty":"x"}`, `{"NAME":"upper"}`, `{"name":"a","Name":"b"}`, `{"name":"a","region":"eu","Region":"us"}`,
	`{"name":"a","unknown":1}`, `{"name":"a","nested":{"x":1}}`, `{"name":"a","attrs":{"k":"v"}}`, `{"name":"a","tags":[1]}`,
	`{"name":"a","count":1,"count":"x","tags":{}}`, `{"name":"a","raw":"aGk="}`, `{"name":"a","raw":"a"}`,
	`{"name":"\ud800\u00e9\n"}`, "{\"name\":\"\xff\"}", `{"name":""}`, `{"count":1}`, `{"name":1,"count":"x"}`,
	`{"name":"a","nested":{"ids":[65536]}}`, `{"name":"a","price":1e400}`, `{"name":"a","tags":["x"],"tags":[]}`,
	`{"name":"a",}`, `{"name":'a'}`, `{"name":"a"}]`, `{"\u006eame":"escaped key"}`, "\ufeff{}",
}

// checkJSONBody decodes body as JSON[jsonBodyIn] does and as it did with
// encoding/json alone, and fails unless the outcomes match: the same
// value, or the same client message. It reports whether the compiled
// decoder took the body itself.
func checkJSONBody(t testing.TB, dec *decode.JSONDecoder, body []byte, strict bool) bool {
	t.Helper()
	got, gerr := decodeJSON[jsonBodyIn](dec, body, strict)
	want, werr := unmarshalJSONInto[jsonBodyIn](body, strict)
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("strict=%v %q: error %v, encoding/json %v", strict, body, gerr, werr)
	}
	if gerr != nil {
		var ge, we *Error
		if !errors.As(gerr, &ge) || !errors.As(werr, &we) || ge.Message != we.Message || ge.Status != we.Status || ge.Code != we.Code {
			t.Fatalf("strict=%v %q: error %v, encoding/json %v", strict, body, gerr, werr)
		}
		return false
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("strict=%v %q:\ncompiled      %+v\nencoding/json %+v", strict, body, got, want)
	}
	var v jsonBodyIn
	return dec.Decode(unsafe.Pointer(&v), body)
}

func compileJSONBody(t testing.TB, strict bool) *decode.JSONDecoder {
	dec, err := decode.CompileJSONDecoder(reflect.TypeFor[jsonBodyIn]())
	if err != nil {
		t.Fatal(err)
	}
	if strict {
		dec = dec.Strict()
	}
	return dec
}

func TestJSONBodySameAsEncodingJSON(t *testing.T) {
	for _, strict := range []bool{false, true} {
		dec := compileJSONBody(t, strict)
		compiled := 0
		for _, body := range jsonBodies {
			if checkJSONBody(t, dec, []byte(body), strict) {
				compiled++
			}
		}
		if compiled < 10 {
			t.Fatalf("strict=%v: the compiled decoder took only %d bodies", strict, compiled)
		}
	}
}

func FuzzJSONBody(f *testing.F) {
	for _, body := range jsonBodies {
		f.Add([]byte(body))
	}
	decs := [2]*decode.JSONDecoder{compileJSONBody(f, false), compileJSONBody(f, true)}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkJSONBody(t, decs[0], body, false)
		checkJSONBody(t, decs[1], body, true)
	})
}

// jsonFallbackIn holds types the compiled codecs leave to encoding/json.
type jsonFallbackIn struct {
	When  time.Time      `json:"when"`
	Extra map[string]any `json:"extra"`
}

// TestJSONCompiledOverSockets sends bodies through gateways on real
// sockets and checks the answer against encoding/json's own: the client
// message of each refused body, and the mapped body the upstream receives
// byte for byte, for compiled types and for types left to encoding/json.
func TestJSONCompiledOverSockets(t *testing.T) {
	up := newEcho(t)
	mapped := func(c *Ctx, in jsonBodyIn) (jsonBodyOut, error) { return mapJSONBody(in), nil }
	fallback := func(c *Ctx, in jsonFallbackIn) (jsonFallbackIn, error) {
		in.When = in.When.Add(time.Hour)
		return in, nil
	}
	nan := func(c *Ctx, in jsonBodyIn) (jsonBodyOut, error) {
		out := mapJSONBody(in)
		out.Score = math.NaN()
		return out, nil
	}
	svc := Service("/api",
		POST("/in", JSON[jsonBodyIn]()),
		POST("/strict", JSON[jsonBodyIn](), Strict()),
		POST("/map", JSON[jsonBodyIn](), Map(mapped)),
		POST("/fallback", JSON[jsonFallbackIn](), Map(fallback)),
		POST("/nan", JSON[jsonBodyIn](), Map(nan)),
	)
	_, gw := serveGateway(t, Mount(svc, up.URL))
	post := func(t *testing.T, path, body string) (*http.Response, string) {
		t.Helper()
		req := newReq(t, "POST", gw.URL+path, body)
		req.Header.Set("Content-Type", "application/json")
		return do(t, req)
	}
	for _, body := range jsonBodies {
		for _, path := range []string{"/in", "/strict"} {
			before := up.count()
			res, got := post(t, "/api"+path, body)
			want, werr := unmarshalJSONInto[jsonBodyIn]([]byte(body), path == "/strict")
			if werr == nil {
				werr = decodeRequired(want)
			}
			if werr == nil {
				if res.StatusCode != 200 || up.count() != before+1 || up.last(t).Body != body {
					t.Fatalf("%s %q: got %d %q, want the body forwarded", path, body, res.StatusCode, got)
				}
				continue
			}
			var we *Error
			if !errors.As(werr, &we) || res.StatusCode != we.Status || !strings.Contains(got, we.Message) || up.count() != before {
				t.Fatalf("%s %q: got %d %q, want %v", path, body, res.StatusCode, got, werr)
			}
		}
	}
	body := `{"name":"lamp","count":3,"price":0.000001234,"tags":["a<b"],"attrs":{"z":1,"a":2,"\u2029":3},"ref":{"id":9},"qty":"4"}`
	var in jsonBodyIn
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(mapJSONBody(in))
	if res, got := post(t, "/api/map", body); res.StatusCode != 200 || up.last(t).Body != string(want) {
		t.Fatalf("map: got %d %q, upstream saw %q, want %q", res.StatusCode, got, up.last(t).Body, want)
	}
	fb := `{"when":"2024-05-01T10:00:00Z","extra":{"b":[1,"x",null],"a":{"c":true}}}`
	var fin jsonFallbackIn
	if err := json.Unmarshal([]byte(fb), &fin); err != nil {
		t.Fatal(err)
	}
	fin.When = fin.When.Add(time.Hour)
	want, _ = json.Marshal(fin)
	if res, got := post(t, "/api/fallback", fb); res.StatusCode != 200 || up.last(t).Body != string(want) {
		t.Fatalf("fallback: got %d %q, upstream saw %q, want %q", res.StatusCode, got, up.last(t).Body, want)
	}
	before := up.count()
	if res, got := post(t, "/api/nan", body); res.StatusCode != 500 || up.count() != before {
		t.Fatalf("NaN output: got %d %q and %d upstream requests, want 500 and none", res.StatusCode, got, up.count()-before)
	}
}

// decodeRequired applies JSON[jsonBodyIn]'s required-field check.
func decodeRequired(v jsonBodyIn) error {
	req, err := decode.CompileJSON(reflect.TypeFor[jsonBodyIn]())
	if err != nil {
		return err
	}
	if err := req.Check(unsafe.Pointer(&v)); err != nil {
		return inputError(CodeInvalidJSON, err)
	}
	return nil
}
