package apigate

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/apigate-go/apigate/internal/decode"
)

// jsonSchema is a JSON Schema 2020-12 schema, the subset the OpenAPI
// generator writes. The zero value is {}, which accepts anything.
type jsonSchema struct {
	Ref                  string        `json:"$ref,omitempty"`
	Type                 any           `json:"type,omitempty"` // a string, or []string with "null"
	Format               string        `json:"format,omitempty"`
	ContentEncoding      string        `json:"contentEncoding,omitempty"`
	Description          string        `json:"description,omitempty"`
	Minimum              *int          `json:"minimum,omitempty"`
	Items                *jsonSchema   `json:"items,omitempty"`
	MinItems             *int          `json:"minItems,omitempty"`
	MaxItems             *int          `json:"maxItems,omitempty"`
	Properties           *properties   `json:"properties,omitempty"`
	Required             []string      `json:"required,omitempty"`
	AdditionalProperties *jsonSchema   `json:"additionalProperties,omitempty"`
	AnyOf                []*jsonSchema `json:"anyOf,omitempty"`
}

// properties keeps an object's properties in struct order.
type properties struct {
	names   []string
	schemas []*jsonSchema
}

func (p *properties) add(name string, s *jsonSchema) {
	p.names = append(p.names, name)
	p.schemas = append(p.schemas, s)
}

// MarshalJSON writes the properties as an object, in order.
func (p *properties) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, n := range p.names {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(n)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(p.schemas[i])
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	rawMessageType    = reflect.TypeFor[json.RawMessage]()
	numberType        = reflect.TypeFor[json.Number]()
	jsonMarshaler     = reflect.TypeFor[json.Marshaler]()
	jsonUnmarshaler   = reflect.TypeFor[json.Unmarshaler]()
	textMarshaler     = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshaler   = reflect.TypeFor[encoding.TextUnmarshaler]()
	durationReflect   = reflect.TypeFor[time.Duration]()
	zeroInt           = 0
	requiredTagOption = "required"
)

// schemaGen turns Go types into JSON Schemas following encoding/json's
// rules. Named struct types become components referenced with $ref.
type schemaGen struct {
	components map[string]*jsonSchema
	names      map[reflect.Type]string
}

func newSchemaGen() *schemaGen {
	return &schemaGen{components: map[string]*jsonSchema{}, names: map[reflect.Type]string{}}
}

// implements reports whether t or *t implements iface.
func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(iface)
}

// schema returns the schema of values of t as encoding/json reads and
// writes them; nil for types encoding/json cannot handle.
func (g *schemaGen) schema(t reflect.Type) *jsonSchema {
	switch {
	case t == timeType:
		return &jsonSchema{Type: "string", Format: "date-time"}
	case t == rawMessageType:
		return &jsonSchema{}
	case t == numberType:
		return &jsonSchema{Type: "number"}
	case t.Kind() == reflect.Pointer:
		inner := g.schema(t.Elem())
		if inner == nil {
			return nil
		}
		return nullable(inner)
	case implements(t, jsonMarshaler) || implements(t, jsonUnmarshaler):
		return &jsonSchema{}
	case implements(t, textMarshaler) || implements(t, textUnmarshaler):
		return &jsonSchema{Type: "string"}
	}
	switch t.Kind() {
	case reflect.Bool:
		return &jsonSchema{Type: "boolean"}
	case reflect.Int, reflect.Int64:
		return &jsonSchema{Type: "integer", Format: "int64"}
	case reflect.Int8, reflect.Int16, reflect.Int32:
		return &jsonSchema{Type: "integer", Format: "int32"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return &jsonSchema{Type: "integer", Minimum: &zeroInt}
	case reflect.Float32:
		return &jsonSchema{Type: "number", Format: "float"}
	case reflect.Float64:
		return &jsonSchema{Type: "number", Format: "double"}
	case reflect.String:
		return &jsonSchema{Type: "string"}
	case reflect.Interface:
		return &jsonSchema{}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !implements(t.Elem(), jsonMarshaler) && !implements(t.Elem(), textMarshaler) {
			return &jsonSchema{Type: "string", ContentEncoding: "base64"}
		}
		items := g.schema(t.Elem())
		if items == nil {
			return nil
		}
		return &jsonSchema{Type: "array", Items: items}
	case reflect.Array:
		items := g.schema(t.Elem())
		if items == nil {
			return nil
		}
		n := t.Len()
		return &jsonSchema{Type: "array", Items: items, MinItems: &n, MaxItems: &n}
	case reflect.Map:
		switch k := t.Key(); {
		case k.Kind() == reflect.String, implements(k, textMarshaler):
		case k.Kind() >= reflect.Int && k.Kind() <= reflect.Uintptr:
		default:
			return nil
		}
		values := g.schema(t.Elem())
		if values == nil {
			return nil
		}
		return &jsonSchema{Type: "object", AdditionalProperties: values}
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		return &jsonSchema{Ref: "#/components/schemas/" + g.component(t)}
	}
	return nil // chan, func, complex, unsafe.Pointer
}

// nullable returns s that also accepts null.
func nullable(s *jsonSchema) *jsonSchema {
	switch typ := s.Type.(type) {
	case string:
		c := *s
		c.Type = []string{typ, "null"}
		return &c
	case []string:
		return s
	}
	if s.Ref == "" && s.AnyOf == nil {
		return s // {} accepts null already
	}
	return &jsonSchema{AnyOf: []*jsonSchema{s, {Type: "null"}}}
}

// component returns the component name of named struct type t, generating
// its schema the first time.
func (g *schemaGen) component(t reflect.Type) string {
	if n, ok := g.names[t]; ok {
		return n
	}
	name := componentName(t.Name())
	if _, taken := g.components[name]; taken {
		pkg := t.PkgPath()
		pkg = pkg[strings.LastIndexByte(pkg, '/')+1:]
		name = componentName(pkg + "." + t.Name())
		for i := 2; ; i++ {
			if _, taken := g.components[name]; !taken {
				break
			}
			name = componentName(pkg+"."+t.Name()) + strconv.Itoa(i)
		}
	}
	g.names[t] = name
	g.components[name] = &jsonSchema{} // reserved, for recursive types
	g.components[name] = g.object(t)
	return name
}

// componentName maps a Go type name (generic ones included) to the
// characters OpenAPI allows in component names.
func componentName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return strings.Trim(string(b), "_")
}

// object returns the schema of struct type t: its JSON fields, in order,
// and the fields marked required.
func (g *schemaGen) object(t reflect.Type) *jsonSchema {
	s := &jsonSchema{Type: "object", Properties: &properties{}}
	for _, f := range decode.JSONFields(t) {
		fs := g.schema(f.Type)
		if fs == nil {
			continue
		}
		if f.Quoted {
			if q := quotedSchema(f.Type); q != nil {
				fs = q
			}
		}
		s.Properties.add(f.Name, fs)
		if f.Required {
			s.Required = append(s.Required, f.Name)
		}
	}
	return s
}

// quotedSchema is the schema of a field with the ",string" option: a
// number or boolean inside a JSON string.
func quotedSchema(t reflect.Type) *jsonSchema {
	ptr := t.Kind() == reflect.Pointer
	if ptr {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		if ptr {
			return &jsonSchema{Type: []string{"string", "null"}}
		}
		return &jsonSchema{Type: "string"}
	}
	return nil
}

func hasTagOption(opts, opt string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == opt {
			return true
		}
	}
	return false
}

// paramField is one field of a path, query or form input type.
type paramField struct {
	name     string
	typ      reflect.Type
	required bool
}

// paramFields lists the fields of a path, query or form input struct
// carrying tag, as the decoder reads them: tagged fields, "-" skipped,
// untagged embedded structs flattened.
func paramFields(t reflect.Type, tag string) []paramField {
	var out []paramField
	for i := range t.NumField() {
		sf := t.Field(i)
		v, ok := sf.Tag.Lookup(tag)
		if v == "-" {
			continue
		}
		if !ok {
			if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
				out = append(out, paramFields(sf.Type, tag)...)
			}
			continue
		}
		name, opts, _ := strings.Cut(v, ",")
		if name == "" {
			name = sf.Name
		}
		out = append(out, paramField{name: name, typ: sf.Type, required: hasTagOption(opts, requiredTagOption)})
	}
	return out
}

// paramSchema is the schema of a path, query or form value of type t as
// the decoder parses it.
func paramSchema(t reflect.Type) *jsonSchema {
	switch {
	case t.Kind() == reflect.Pointer:
		return paramSchema(t.Elem())
	case t.Kind() == reflect.Slice:
		return &jsonSchema{Type: "array", Items: paramSchema(t.Elem())}
	case t == durationReflect:
		return &jsonSchema{Type: "string", Description: "a Go duration such as 1.5s or 2h45m"}
	case implements(t, textUnmarshaler):
		return &jsonSchema{Type: "string"}
	}
	s := newSchemaGen().schema(t)
	if s == nil || s.Type == nil {
		return &jsonSchema{Type: "string"}
	}
	return s
}
