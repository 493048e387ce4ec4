package decode

import (
	"encoding"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// onlyUnmarshal and onlyMarshal are non-basic types with one text method.
type onlyUnmarshal struct{ v string }

func (o *onlyUnmarshal) UnmarshalText(b []byte) error { o.v = string(b); return nil }

type onlyMarshal struct{ v string }

func (o onlyMarshal) MarshalText() ([]byte, error) { return []byte(o.v), nil }

type Base struct {
	Tenant string `query:"tenant"`
	Trace  string
}

type inner struct {
	Deep int `query:"deep"`
}

type Mid struct {
	inner
	Mid string `query:"mid"`
}

type withEmbedded struct {
	Base
	*Mid
	Q string `query:"q"`
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		typ  reflect.Type
		tag  string
		want string // substring of the error
	}{
		{"not a struct", reflect.TypeFor[int](), "query", "decode: query input type int is not a struct"},
		{"pointer to struct", reflect.TypeFor[*allKinds](), "query", "input type *decode.allKinds is not a struct"},
		{"nil type", nil, "query", "input type <nil> is not a struct"},
		{"unknown source", reflect.TypeFor[allKinds](), "header", `unknown source "header"`},
		{"map", reflect.TypeFor[struct {
			M map[string]string `query:"m"`
		}](), "query", "field struct { M map[string]string \"query:\\\"m\\\"\" }.M: unsupported type map[string]string"},
		{"chan", reflect.TypeFor[struct {
			C chan int `form:"c"`
		}](), "form", "form field struct { C chan int \"form:\\\"c\\\"\" }.C: unsupported type chan int"},
		{"plain struct", reflect.TypeFor[struct {
			S inner `query:"s"`
		}](), "query", "unsupported type decode.inner"},
		{"interface", reflect.TypeFor[struct {
			A any `query:"a"`
		}](), "query", "unsupported type interface {}"},
		{"complex", reflect.TypeFor[struct {
			C complex64 `query:"c"`
		}](), "query", "unsupported type complex64"},
		{"pointer to pointer", reflect.TypeFor[struct {
			P **int `query:"p"`
		}](), "query", "unsupported type **int"},
		{"slice of pointers", reflect.TypeFor[struct {
			P []*int `query:"p"`
		}](), "query", "unsupported type []*int"},
		{"pointer to slice", reflect.TypeFor[struct {
			P *[]int `query:"p"`
		}](), "query", "unsupported type *[]int"},
		{"slice of slices", reflect.TypeFor[struct {
			P [][]string `query:"p"`
		}](), "query", "unsupported type [][]string"},
		{"bytes", reflect.TypeFor[struct {
			B []byte `query:"b"`
		}](), "query", "unsupported type []uint8 (use string, or a type with text methods)"},
		{"slice in path", reflect.TypeFor[struct {
			IDs []int `path:"ids"`
		}](), "path", "a path parameter holds one value, slices are not supported"},
		{"unmarshal only", reflect.TypeFor[struct {
			O onlyUnmarshal `query:"o"`
		}](), "query", "type decode.onlyUnmarshal implements encoding.TextUnmarshaler but not encoding.TextMarshaler"},
		{"marshal only", reflect.TypeFor[struct {
			O onlyMarshal `query:"o"`
		}](), "query", "type decode.onlyMarshal implements encoding.TextMarshaler but not encoding.TextUnmarshaler"},
		{"unknown option", reflect.TypeFor[struct {
			Q string `query:"q,requird"`
		}](), "query", `unknown tag option "requird" (want required or omitempty)`},
		{"unexported", reflect.TypeFor[struct {
			q string `query:"q"`
		}](), "query", ".q: unexported field carries a tag"},
		{"duplicate key", reflect.TypeFor[struct {
			A string `query:"x"`
			B int    `query:"x"`
		}](), "query", `.A and struct { A string "query:\"x\""; B int "query:\"x\"" }.B both use key "x"`},
		{"duplicate through embedding", reflect.TypeFor[struct {
			Base
			T string `query:"tenant"`
		}](), "query", `.Base.Tenant and `},
		{"embedded pointer with tags", reflect.TypeFor[withEmbedded](), "query", "decode: query field Mid: embedded struct pointer *decode.Mid holds tagged fields; embed the struct by value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(tt.typ, tt.tag)
			if err == nil {
				t.Fatalf("Compile(%v, %q) = %v, want error containing %q", tt.typ, tt.tag, p, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "decode: ") {
				t.Errorf("Compile(%v, %q) error =\n%q\nwant it to contain\n%q", tt.typ, tt.tag, err, tt.want)
			}
		})
	}
}

func TestCompileNames(t *testing.T) {
	type flat struct {
		Base
		Mid
		Q       string `query:"q,required"`
		Skipped string `query:"-"`
		NoTag   string
		Default int `query:",omitempty"`
		Other   string
	}
	tests := []struct {
		name string
		typ  reflect.Type
		tag  string
		want []string
	}{
		{"flattened embedding in struct order", reflect.TypeFor[flat](), "query", []string{"tenant", "deep", "mid", "q", "Default"}},
		{"other tag sees nothing", reflect.TypeFor[flat](), "form", []string{}},
		{"untagged embedded pointer without tags is fine", reflect.TypeFor[struct {
			*inner `form:"-"`
			*Base
			A int `form:"a"`
		}](), "form", []string{"a"}},
		{"path", reflect.TypeFor[itemPath](), "path", []string{"org", "id", "ref"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(tt.typ, tt.tag)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Names(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Names() = %q, want %q", got, tt.want)
			}
			if p.Source() != tt.tag || p.Type() != tt.typ {
				t.Errorf("Source(), Type() = %q, %v; want %q, %v", p.Source(), p.Type(), tt.tag, tt.typ)
			}
		})
	}
}

func TestEmbeddedDecodeEncode(t *testing.T) {
	type in struct {
		Base
		Mid
		Q string `query:"q"`
	}
	p := compile[in](t, SourceQuery)
	got, err := decodeQuery[in](t, p, "tenant=t1&deep=3&mid=m&q=x&Trace=no")
	if err != nil {
		t.Fatal(err)
	}
	want := in{Base: Base{Tenant: "t1"}, Mid: Mid{inner: inner{Deep: 3}, Mid: "m"}, Q: "x"}
	if got != want {
		t.Errorf("DecodeValues = %+v, want %+v", got, want)
	}
	dst := url.Values{}
	if err := p.Encode(unsafe.Pointer(&got), dst); err != nil {
		t.Fatal(err)
	}
	if got, want := dst.Encode(), "deep=3&mid=m&q=x&tenant=t1"; got != want {
		t.Errorf("Encode = %s, want %s", got, want)
	}
}

// TestIfaceAt checks the method-table shortcut against the reflect package
// and the fallback.
func TestIfaceAt(t *testing.T) {
	u := mustUUID(uuid1)
	fast, ok := newIfaceAt[encoding.TextMarshaler](reflect.TypeFor[uuid]())
	if !ok || fast.tab == nil {
		t.Fatalf("newIfaceAt(uuid) = %+v, %v; want the method-table form", fast, ok)
	}
	slow := fast
	slow.tab = nil
	for _, a := range []textMarshalerAt{fast, slow} {
		m := a.at(unsafe.Pointer(&u))
		if m != encoding.TextMarshaler(&u) {
			t.Errorf("at(&u) = %#v, want %#v", m, &u)
		}
		b, err := m.MarshalText()
		if string(b) != uuid1 || err != nil {
			t.Errorf("MarshalText() = %q, %v; want %q", b, err, uuid1)
		}
	}
	if _, ok := newIfaceAt[encoding.TextMarshaler](reflect.TypeFor[chan int]()); ok {
		t.Error("newIfaceAt(chan int) reported an implementation")
	}
}
