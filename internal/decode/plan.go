package decode

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Sources, which are also the struct tag keys [Compile] reads.
const (
	SourcePath  = "path"
	SourceQuery = "query"
	SourceForm  = "form"
	SourceJSON  = "json"
)

// fieldMode says how a field holds its element type.
type fieldMode uint8

const (
	modeValue   fieldMode = iota // T
	modePointer                  // *T: nil when absent
	modeSlice                    // []T: one element per non-empty value
)

// field is the compiled form of one tagged struct field.
type field struct {
	name      string  // key in the input
	goName    string  // Go field path, for Compile errors
	offset    uintptr // from the start of the struct
	mode      fieldMode
	required  bool
	omitempty bool
	codec     codec
}

// Plan is a compiled decoder and encoder of one struct type for one source
// ("path", "query" or "form"). All reflection happens in [Compile]; decoding
// and encoding read and write fields through precomputed offsets and
// kind-specific functions. A Plan is immutable and safe for concurrent use.
type Plan struct {
	typ    reflect.Type
	source string
	fields []field
	index  map[string]struct{} // field names, for strict decoding
	strict bool
}

// Compile builds the plan of struct type t for tag "path", "query" or
// "form".
//
// A field takes part when it carries the tag: `query:"name"` or
// `query:"name,required,omitempty"`. An empty name means the Go field name;
// "-" skips the field. Untagged fields are skipped, except that the fields
// of an untagged embedded struct are flattened into the outer struct, as
// encoding/json does (an embedded struct pointer holding tagged fields is
// an error). Two fields with the same key are an error.
//
// Supported field types: string, bool, int, int8..int64, uint, uint8..uint64,
// float32, float64, time.Duration, any type T where *T implements both
// encoding.TextUnmarshaler and encoding.TextMarshaler, named types of those
// kinds, pointers to any of those (nil when the value is absent) and, for
// "query" and "form", slices of any of those (one element per value of a
// repeated key). Anything else is an error naming the field and type.
func Compile(t reflect.Type, tag string) (*Plan, error) {
	switch tag {
	case SourcePath, SourceQuery, SourceForm:
	default:
		return nil, fmt.Errorf("decode: unknown source %q (want %q, %q or %q)", tag, SourcePath, SourceQuery, SourceForm)
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("decode: %s input type %v is not a struct", tag, t)
	}
	p := &Plan{typ: t, source: tag, index: make(map[string]struct{})}
	byName := make(map[string]string) // key -> Go field path
	err := walkStruct(t, tag, func(sf reflect.StructField, goName string, offset uintptr, tagValue string) error {
		f, err := compileField(sf, tag, tagValue)
		if err != nil {
			return fmt.Errorf("decode: %s field %s.%s: %w", tag, t, goName, err)
		}
		if other, dup := byName[f.name]; dup {
			return fmt.Errorf("decode: %s fields %s.%s and %s.%s both use key %q", tag, t, other, t, goName, f.name)
		}
		byName[f.name] = goName
		f.goName = goName
		f.offset = offset
		p.fields = append(p.fields, f)
		p.index[f.name] = struct{}{}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Strict returns a copy of p that rejects keys no field names with a
// [FieldError] wrapping [ErrUnknown]. By default a plan ignores such keys.
func (p *Plan) Strict() *Plan {
	c := *p
	c.strict = true
	return &c
}

// Names returns the keys of the plan's fields in struct order, for example
// to check them against the parameters of a route pattern.
func (p *Plan) Names() []string {
	names := make([]string, len(p.fields))
	for i := range p.fields {
		names[i] = p.fields[i].name
	}
	return names
}

// Source returns the source the plan was compiled for.
func (p *Plan) Source() string { return p.source }

// Type returns the struct type the plan was compiled for.
func (p *Plan) Type() reflect.Type { return p.typ }

// compileField parses the tag of sf and picks its codec.
func compileField(sf reflect.StructField, source, tagValue string) (field, error) {
	if !sf.IsExported() {
		return field{}, errors.New("unexported field carries a tag")
	}
	name, opts, _ := strings.Cut(tagValue, ",")
	if name == "" {
		name = sf.Name
	}
	f := field{name: name}
	for opts != "" {
		var opt string
		opt, opts, _ = strings.Cut(opts, ",")
		switch opt {
		case "required":
			f.required = true
		case "omitempty":
			f.omitempty = true
		default:
			return field{}, fmt.Errorf("unknown tag option %q (want required or omitempty)", opt)
		}
	}
	t := sf.Type
	elem := t
	switch {
	case isScalar(t):
	case t.Kind() == reflect.Pointer && isScalar(t.Elem()):
		f.mode, elem = modePointer, t.Elem()
	case t.Kind() == reflect.Slice && t.Elem() == byteType:
		return field{}, fmt.Errorf("unsupported type %s (use string, or a type with text methods)", t)
	case t.Kind() == reflect.Slice && isScalar(t.Elem()):
		if source == SourcePath {
			return field{}, fmt.Errorf("type %s: a path parameter holds one value, slices are not supported", t)
		}
		f.mode, elem = modeSlice, t.Elem()
	default:
		return field{}, fmt.Errorf("unsupported type %s", t)
	}
	c, err := codecFor(elem)
	if err != nil {
		return field{}, err
	}
	f.codec = c
	return f, nil
}

var byteType = reflect.TypeFor[byte]()

// isScalar reports whether t is an element type a codec may handle: a basic
// kind, time.Duration, or a type with text methods. codecFor checks the
// details.
func isScalar(t reflect.Type) bool {
	if _, ok := kindCodec(t.Kind()); ok || t == durationType {
		return true
	}
	p := reflect.PointerTo(t)
	return p.Implements(textUnmarshalerType) || p.Implements(textMarshalerType)
}

// walkStruct calls visit for every field of struct t carrying tag, with its
// offset from the start of t, flattening untagged embedded structs.
func walkStruct(t reflect.Type, tag string, visit func(sf reflect.StructField, goName string, offset uintptr, tagValue string) error) error {
	return walkFields(t, tag, "", 0, visit)
}

func walkFields(t reflect.Type, tag, prefix string, base uintptr, visit func(reflect.StructField, string, uintptr, string) error) error {
	for i := range t.NumField() {
		sf := t.Field(i)
		goName := prefix + sf.Name
		tagValue, tagged := sf.Tag.Lookup(tag)
		if tagValue == "-" {
			continue
		}
		if !tagged {
			if !sf.Anonymous {
				continue
			}
			ft := sf.Type
			switch {
			case ft.Kind() == reflect.Struct:
				if err := walkFields(ft, tag, goName+".", base+sf.Offset, visit); err != nil {
					return err
				}
			case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct && hasTagged(ft.Elem(), tag, make(map[reflect.Type]bool)):
				return fmt.Errorf("decode: %s field %s: embedded struct pointer %s holds tagged fields; embed the struct by value", tag, goName, ft)
			}
			continue
		}
		if err := visit(sf, goName, base+sf.Offset, tagValue); err != nil {
			return err
		}
	}
	return nil
}

// hasTagged reports whether struct t, or a struct embedded in it by value
// or by pointer, has a field carrying tag.
func hasTagged(t reflect.Type, tag string, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	for i := range t.NumField() {
		sf := t.Field(i)
		if v, ok := sf.Tag.Lookup(tag); ok && v != "-" {
			return true
		}
		if !sf.Anonymous {
			continue
		}
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && hasTagged(ft, tag, seen) {
			return true
		}
	}
	return false
}
