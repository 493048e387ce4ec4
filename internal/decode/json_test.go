package decode

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

type Paging struct {
	//lint:ignore SA5008 the json option spelling is supported and tested here
	Cursor string `json:"cursor,required"`
	Size   int    `json:"size"`
}

type lookupIn struct {
	Paging
	Q       string             `json:"q" apigate:"required"`
	Limit   *int               `json:"limit,omitempty" apigate:"required"`
	Exact   bool               `json:"exact" apigate:"required"`
	Score   float64            `json:"score" apigate:"required"`
	Tags    []string           `json:"tags" apigate:"required"`
	Meta    map[string]string  `json:"meta" apigate:"required"`
	Any     any                `json:"any" apigate:"required"`
	When    time.Time          `json:"when" apigate:"required"`
	ID      uuid               `json:"id" apigate:"required"`
	Point   struct{ X, Y int } `json:"point" apigate:"required"`
	NoName  string             `apigate:"required"`
	Ignored string             `json:"-"`
	Free    string             `json:"free"`
}

const fullLookup = `{"cursor":"c","q":"x","limit":0,"exact":true,"score":-1,"tags":[],"meta":{},"any":0,
	"when":"2024-01-01T00:00:00Z","id":"` + uuid1 + `","point":{"X":0,"Y":1},"NoName":"n"}`

func TestJSONPlanCheck(t *testing.T) {
	p, err := CompileJSON(reflect.TypeFor[lookupIn]())
	if err != nil {
		t.Fatal(err)
	}
	wantNames := []string{"cursor", "q", "limit", "exact", "score", "tags", "meta", "any", "when", "id", "point", "NoName"}
	if got := p.Required(); !reflect.DeepEqual(got, wantNames) {
		t.Errorf("Required() = %q, want %q", got, wantNames)
	}
	tests := []struct {
		name    string
		body    string
		wantErr string
	}{
		{"all present", fullLookup, ""},
		{"embedded field", strings.Replace(fullLookup, `"cursor":"c",`, "", 1), `missing required field "cursor"`},
		{"empty string", strings.Replace(fullLookup, `"q":"x"`, `"q":""`, 1), `missing required field "q"`},
		{"pointer null", strings.Replace(fullLookup, `"limit":0`, `"limit":null`, 1), `missing required field "limit"`},
		{"false", strings.Replace(fullLookup, `"exact":true`, `"exact":false`, 1), `missing required field "exact"`},
		{"zero number", strings.Replace(fullLookup, `"score":-1`, `"score":0`, 1), `missing required field "score"`},
		{"slice null", strings.Replace(fullLookup, `"tags":[]`, `"tags":null`, 1), `missing required field "tags"`},
		{"map absent", strings.Replace(fullLookup, `"meta":{},`, ``, 1), `missing required field "meta"`},
		{"interface null", strings.Replace(fullLookup, `"any":0`, `"any":null`, 1), `missing required field "any"`},
		{"zero time", strings.Replace(fullLookup, `"when":"2024-01-01T00:00:00Z"`, `"when":"0001-01-01T00:00:00Z"`, 1), `missing required field "when"`},
		{"zero array", strings.Replace(fullLookup, uuid1, "00000000-0000-0000-0000-000000000000", 1), `missing required field "id"`},
		{"zero struct", strings.Replace(fullLookup, `"Y":1`, `"Y":0`, 1), `missing required field "point"`},
		{"go name", strings.Replace(fullLookup, `,"NoName":"n"`, ``, 1), `missing required field "NoName"`},
		{"first in struct order", `{}`, `missing required field "cursor"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in lookupIn
			if err := json.Unmarshal([]byte(tt.body), &in); err != nil {
				t.Fatalf("json.Unmarshal: %v", err)
			}
			err := p.Check(unsafe.Pointer(&in))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("Check error = %v, want %q", err, tt.wantErr)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Source != SourceJSON || !errors.Is(err, ErrMissing) {
				t.Errorf("Check error = %#v, want *FieldError from json wrapping ErrMissing", err)
			}
		})
	}
}

func TestCompileJSON(t *testing.T) {
	tests := []struct {
		name    string
		typ     reflect.Type
		want    []string
		wantErr string
	}{
		{name: "no required", typ: reflect.TypeFor[struct {
			A string `json:"a,omitempty"`
		}](), want: []string{}},
		{name: "not a struct", typ: reflect.TypeFor[map[string]any](), want: []string{}},
		{name: "nil", typ: nil, want: []string{}},
		{name: "named embedded is a field", typ: reflect.TypeFor[struct {
			Paging `json:"paging" apigate:"required"`
		}](), want: []string{"paging"}},
		{name: "json option", typ: reflect.TypeFor[struct {
			//lint:ignore SA5008 the json option spelling is supported and tested here
			A string `json:"a,omitempty,required"`
			B string `json:"b,omitempty" apigate:"required"`
		}](), want: []string{"a", "b"}},
		{name: "embedded pointer without required", typ: reflect.TypeFor[struct {
			*Base
			Q string `json:"q" apigate:"required"`
		}](), want: []string{"q"}},
		{name: "embedded pointer with required", typ: reflect.TypeFor[struct {
			*Paging
		}](), wantErr: "field Paging.Cursor: required field inside an embedded struct pointer"},
		{name: "unknown apigate tag", typ: reflect.TypeFor[struct {
			C string `json:"c" apigate:"optional"`
		}](), wantErr: `field C: unknown apigate tag "optional" (want "required")`},
		{name: "unexported required", typ: reflect.TypeFor[struct {
			q string `apigate:"required"`
		}](), wantErr: "field q: unexported field marked required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := CompileJSON(tt.typ)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "decode: json input type ") {
					t.Fatalf("CompileJSON error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Required(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Required() = %q, want %q", got, tt.want)
			}
		})
	}
}
