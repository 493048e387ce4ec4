package decode

import (
	"net/url"
	"unsafe"

	"github.com/julienschmidt/httprouter"
)

// sliceHeader is the runtime layout of a slice value of any element type.
type sliceHeader struct {
	data unsafe.Pointer
	len  int
	cap  int
}

// DecodeValues decodes v into the struct at dst, which must point to a value
// of the plan's type (and therefore escapes to the heap).
//
// A scalar or pointer field takes the first value of its key; a slice field
// takes every non-empty value, in order. An absent key and an empty value
// are the same: the field is left as it is (nil for a pointer or slice) or,
// when required, the call fails with [ErrMissing]. Fields are decoded in
// struct order and the first failure is returned as a *[FieldError]; fields
// before it have been written. Then a strict plan ([Plan.Strict]) rejects
// keys that no field names, reporting the smallest such key.
//
// Strings share memory with v. DecodeValues allocates only for pointer and
// slice fields that are present and, once per call, a scratch buffer when a
// field type uses UnmarshalText.
func (p *Plan) DecodeValues(dst unsafe.Pointer, v url.Values) error {
	var buf []byte
	known := 0 // keys of v that fields name
	for i := range p.fields {
		f := &p.fields[i]
		vals, ok := v[f.name]
		if ok {
			known++
		}
		var err error
		if f.mode == modeSlice {
			buf, err = p.decodeSlice(f, dst, vals, buf)
		} else {
			s := ""
			if len(vals) > 0 {
				s = vals[0]
			}
			buf, err = p.decodeOne(f, dst, s, buf)
		}
		if err != nil {
			return err
		}
	}
	if p.strict && known != len(v) {
		return p.unknown(v)
	}
	return nil
}

// DecodeParams decodes the route parameters ps into the struct at dst, by
// the rules of [Plan.DecodeValues]. Parameters that no field names are
// ignored, even by a strict plan: the route pattern fixes them. It allocates
// nothing for a struct of strings, numbers and bools.
func (p *Plan) DecodeParams(dst unsafe.Pointer, ps httprouter.Params) error {
	var buf []byte
	for i := range p.fields {
		f := &p.fields[i]
		var err error
		if f.mode == modeSlice {
			// Compile refuses slices for path plans; a query or form plan
			// used on parameters sees at most one value per key.
			s := ps.ByName(f.name)
			var one [1]string
			one[0] = s
			buf, err = p.decodeSlice(f, dst, one[:], buf)
		} else {
			buf, err = p.decodeOne(f, dst, ps.ByName(f.name), buf)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// decodeOne decodes s into a value or pointer field.
func (p *Plan) decodeOne(f *field, dst unsafe.Pointer, s string, buf []byte) ([]byte, error) {
	if s == "" {
		if f.required {
			return buf, p.missing(f)
		}
		return buf, nil
	}
	at := unsafe.Add(dst, f.offset)
	if f.mode == modeValue {
		var err error
		buf, err = f.codec.dec(at, s, buf)
		if err != nil {
			return buf, p.invalid(f, err)
		}
		return buf, nil
	}
	elem := f.codec.newElem()
	buf, err := f.codec.dec(elem, s, buf)
	if err != nil {
		return buf, p.invalid(f, err)
	}
	*(*unsafe.Pointer)(at) = elem
	return buf, nil
}

// decodeSlice decodes the non-empty values of vals into a fresh slice.
func (p *Plan) decodeSlice(f *field, dst unsafe.Pointer, vals []string, buf []byte) ([]byte, error) {
	n := 0
	for _, s := range vals {
		if s != "" {
			n++
		}
	}
	if n == 0 {
		if f.required {
			return buf, p.missing(f)
		}
		return buf, nil
	}
	data := f.codec.newSlice(n)
	i := 0
	for _, s := range vals {
		if s == "" {
			continue
		}
		var err error
		buf, err = f.codec.dec(unsafe.Add(data, uintptr(i)*f.codec.size), s, buf)
		if err != nil {
			return buf, p.invalid(f, err)
		}
		i++
	}
	*(*sliceHeader)(unsafe.Add(dst, f.offset)) = sliceHeader{data: data, len: n, cap: n}
	return buf, nil
}

// unknown reports the smallest key of v that no field names.
func (p *Plan) unknown(v url.Values) error {
	unknown := ""
	found := false
	for k := range v {
		if _, ok := p.index[k]; ok {
			continue
		}
		if !found || k < unknown {
			unknown, found = k, true
		}
	}
	return &FieldError{Source: p.source, Field: truncateName(unknown), Reason: "unknown", Err: ErrUnknown}
}

func (p *Plan) missing(f *field) error {
	return &FieldError{Source: p.source, Field: f.name, Reason: "missing", Err: ErrMissing}
}

func (p *Plan) invalid(f *field, err error) error {
	return &FieldError{Source: p.source, Field: f.name, Reason: reasonFor(err, f.codec.syntax), Err: err}
}
