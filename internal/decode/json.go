package decode

import (
	"fmt"
	"reflect"
	"strings"
	"unsafe"
)

// RequiredTag is the struct tag key that marks a JSON field required without
// touching its json tag: `json:"q" apigate:"required"`. It is equivalent to
// `json:"q,required"`, which staticcheck reports as an unknown json option
// (SA5008).
const RequiredTag = "apigate"

// JSONPlan checks the required fields of a struct decoded by encoding/json.
// A JSONPlan is immutable and safe for concurrent use.
type JSONPlan struct {
	fields []jsonField
}

type jsonField struct {
	name   string
	offset uintptr
	isZero func(p unsafe.Pointer) bool
}

// CompileJSON builds the required-field check of type t. A field is
// required when its json tag carries the option "required"
// (`json:"q,required"`, which encoding/json ignores) or it has the tag
// `apigate:"required"`. Its name in errors is the json name.
//
// Only top-level fields count, including those of embedded structs that
// encoding/json flattens; nested structs are not searched. A required
// field is missing when it holds its zero value after decoding: "", 0,
// false, a nil pointer, slice, map or interface, a struct or array whose
// fields or elements are all zero, or any value whose IsZero method reports
// true (time.Time). A required pointer therefore means
// "present and not null", so declare *int to accept an explicit 0, and a
// required slice accepts [] but not null. Required fields behind an
// embedded struct pointer are a Compile error.
//
// A t that is not a struct yields a plan with no required fields.
func CompileJSON(t reflect.Type) (*JSONPlan, error) {
	p := &JSONPlan{}
	if t == nil || t.Kind() != reflect.Struct {
		return p, nil
	}
	if err := p.walk(t, "", 0, false); err != nil {
		return nil, fmt.Errorf("decode: json input type %s: %w", t, err)
	}
	return p, nil
}

// Check reports the first required field, in struct order, that holds its
// zero value in the struct at src (a pointer to a value of the compiled
// type) as a *[FieldError] with Source "json" wrapping [ErrMissing].
func (p *JSONPlan) Check(src unsafe.Pointer) error {
	for i := range p.fields {
		f := &p.fields[i]
		if f.isZero(unsafe.Add(src, f.offset)) {
			return &FieldError{Source: SourceJSON, Field: f.name, Reason: "missing", Err: ErrMissing}
		}
	}
	return nil
}

// Required returns the json names of the required fields in struct order.
func (p *JSONPlan) Required() []string {
	names := make([]string, len(p.fields))
	for i := range p.fields {
		names[i] = p.fields[i].name
	}
	return names
}

// walk collects the required fields of struct t at base, following
// encoding/json's flattening of embedded structs.
func (p *JSONPlan) walk(t reflect.Type, prefix string, base uintptr, viaPointer bool) error {
	for i := range t.NumField() {
		sf := t.Field(i)
		goName := prefix + sf.Name
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		required := hasOption(opts, "required")
		if v, ok := sf.Tag.Lookup(RequiredTag); ok {
			if v != "required" {
				return fmt.Errorf("field %s: unknown %s tag %q (want %q)", goName, RequiredTag, v, "required")
			}
			required = true
		}
		if sf.Anonymous && name == "" {
			ft := sf.Type
			ptr := ft.Kind() == reflect.Pointer
			if ptr {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if err := p.walk(ft, goName+".", base+sf.Offset, viaPointer || ptr); err != nil {
					return err
				}
				continue
			}
		}
		if !required {
			continue
		}
		if !sf.IsExported() {
			return fmt.Errorf("field %s: unexported field marked required", goName)
		}
		if viaPointer {
			return fmt.Errorf("field %s: required field inside an embedded struct pointer", goName)
		}
		if name == "" {
			name = sf.Name
		}
		p.fields = append(p.fields, jsonField{name: name, offset: base + sf.Offset, isZero: zeroFunc(sf.Type)})
	}
	return nil
}

// hasOption reports whether the comma-separated opts contain opt.
func hasOption(opts, opt string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == opt {
			return true
		}
	}
	return false
}
