package decode

import (
	"cmp"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrJSONUnsupported is returned by [CompileJSONDecoder] and
// [CompileJSONEncoder] for types they leave to encoding/json: types with
// custom (un)marshalers, interfaces, json.Number, recursive types and
// kinds encoding/json itself rejects. Callers use encoding/json for those.
var ErrJSONUnsupported = errors.New("decode: type left to encoding/json")

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	jsonMarshalerType   = reflect.TypeFor[json.Marshaler]()
	jsonNumberType      = reflect.TypeFor[json.Number]()
	zeroerType          = reflect.TypeFor[zeroer]()
)

// jsonTypeField is one field of a struct as encoding/json sees it, after
// the flattening of embedded structs and the dominance rules.
type jsonTypeField struct {
	name      string
	tagged    bool
	index     []int
	typ       reflect.Type // the field type, one unnamed pointer level removed
	decl      reflect.Type // the field type as declared
	omitEmpty bool
	omitZero  bool
	quoted    bool
	required  bool // `json:",required"` or `apigate:"required"`
}

// JSONField is a field of a struct as encoding/json encodes and decodes
// it.
type JSONField struct {
	Name     string
	Index    []int        // as for reflect.Value.FieldByIndex
	Type     reflect.Type // as declared
	Quoted   bool         // the ",string" option applies to it
	Required bool         // marked required, as [CompileJSON] reads it
}

// JSONFields returns the fields of struct t that encoding/json encodes,
// in its order and with its names: exported fields, tag names, "-"
// skipped, embedded structs flattened, and among fields of one name the
// shallowest, then a tagged one, wins, and a tie hides them all.
func JSONFields(t reflect.Type) []JSONField {
	fs := jsonFields(t)
	out := make([]JSONField, len(fs))
	for i, f := range fs {
		out[i] = JSONField{Name: f.name, Index: f.index, Type: f.decl, Quoted: f.quoted, Required: f.required}
	}
	return out
}

// jsonFields returns the fields of struct t in the order and with the
// names encoding/json gives them (a port of its typeFields).
func jsonFields(t reflect.Type) []jsonTypeField {
	type level struct {
		typ   reflect.Type
		index []int
	}
	var current []level
	next := []level{{typ: t}}
	var count, nextCount map[reflect.Type]int
	visited := map[reflect.Type]bool{}
	var fields []jsonTypeField
	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, f := range current {
			if visited[f.typ] {
				continue
			}
			visited[f.typ] = true
			for i := range f.typ.NumField() {
				sf := f.typ.Field(i)
				if sf.Anonymous {
					t := sf.Type
					if t.Kind() == reflect.Pointer {
						t = t.Elem()
					}
					if !sf.IsExported() && t.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !isValidJSONTag(name) {
					name = ""
				}
				index := make([]int, len(f.index)+1)
				copy(index, f.index)
				index[len(f.index)] = i
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				quoted := false
				if hasOption(opts, "string") {
					switch ft.Kind() {
					case reflect.Bool,
						reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
						reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
						reflect.Float32, reflect.Float64,
						reflect.String:
						quoted = true
					}
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					tagged := name != ""
					if name == "" {
						name = sf.Name
					}
					fields = append(fields, jsonTypeField{
						name: name, tagged: tagged, index: index, typ: ft, decl: sf.Type,
						omitEmpty: hasOption(opts, "omitempty"),
						omitZero:  hasOption(opts, "omitzero"),
						quoted:    quoted,
						required:  hasOption(opts, "required") || sf.Tag.Get(RequiredTag) == "required",
					})
					if count[f.typ] > 1 {
						// Two copies at this level annihilate each other below.
						fields = append(fields, fields[len(fields)-1])
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, level{typ: ft, index: index})
				}
			}
		}
	}
	slices.SortFunc(fields, func(a, b jsonTypeField) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.index), len(b.index)); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return +1
		}
		return slices.Compare(a.index, b.index)
	})
	out := fields[:0]
	for advance, i := 0, 0; i < len(fields); i += advance {
		fi := fields[i]
		for advance = 1; i+advance < len(fields); advance++ {
			if fields[i+advance].name != fi.name {
				break
			}
		}
		if advance == 1 {
			out = append(out, fi)
			continue
		}
		// The first is dominant unless the next ties with it.
		if f1 := fields[i+1]; len(fi.index) == len(f1.index) && fi.tagged == f1.tagged {
			continue
		}
		out = append(out, fi)
	}
	fields = out
	slices.SortFunc(fields, func(a, b jsonTypeField) int { return slices.Compare(a.index, b.index) })
	return fields
}

// isValidJSONTag is encoding/json's test of a tag name.
func isValidJSONTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// foldJSONName is encoding/json's case folding of a field name: ASCII
// letters upper-cased, other runes replaced by the smallest rune of their
// fold orbit (so the Kelvin sign matches k and the long s matches s).
func foldJSONName(out, in []byte) []byte {
	for i := 0; i < len(in); {
		if c := in[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(in[i:])
		out = utf8.AppendRune(out, foldRune(r))
		i += n
	}
	return out
}

func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// jsonSupport checks, once per type, whether the compiled JSON codecs
// handle t: no custom (un)marshalers, interfaces, json.Number, recursion
// or kinds encoding/json rejects anywhere in it.
type jsonSupport struct {
	ifaces []reflect.Type // method interfaces that send a type to encoding/json
	onPath map[reflect.Type]bool
	ok     map[reflect.Type]bool // types found supported
}

func (c *jsonSupport) check(t reflect.Type) bool {
	if c.ok[t] {
		return true
	}
	if c.onPath[t] {
		return false // recursive type
	}
	if !c.checkOnce(t) {
		return false
	}
	if c.ok == nil {
		c.ok = map[reflect.Type]bool{}
	}
	c.ok[t] = true
	return true
}

func (c *jsonSupport) checkOnce(t reflect.Type) bool {
	if t == jsonNumberType {
		return false
	}
	for _, it := range c.ifaces {
		if t.Implements(it) || reflect.PointerTo(t).Implements(it) {
			return false
		}
	}
	c.onPath[t] = true
	defer delete(c.onPath, t)
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return c.check(t.Elem())
	case reflect.Map:
		switch t.Key().Kind() {
		case reflect.String,
			reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		default:
			return false
		}
		return c.check(t.Key()) && c.check(t.Elem())
	case reflect.Struct:
		for _, f := range jsonFields(t) {
			if !c.check(fieldType(t, f.index)) {
				return false
			}
		}
		return true
	}
	return false
}

// fieldType is the type of the field at index, through embedded pointers.
func fieldType(t reflect.Type, index []int) reflect.Type {
	for _, i := range index {
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		t = t.Field(i).Type
	}
	return t
}

// hasPointers reports whether values of t hold pointers the garbage
// collector must see, so that clearing them needs typed writes.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	}
	return true
}
