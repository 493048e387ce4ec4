package decode

import (
	"fmt"
	"net/url"
	"unsafe"
)

// Encode adds the fields of the struct at src, which must point to a value
// of the plan's type, to dst (as url.Values.Add does), in struct order:
//
//   - a value field adds one value, or none with omitempty when it is zero:
//     its IsZero method reports true when it has one, else it is "", 0 or
//     false, or a struct or array of zero fields or elements;
//   - a pointer field adds nothing when nil, else its element's value;
//   - a slice field adds one value per element, under a repeated key.
//
// Strings are written as they are, numbers in the shortest form that
// decodes to the same value, time.Duration with its String method, types
// with text methods with MarshalText. dst.Encode() then gives the query
// string or form body. The only error is a failing MarshalText method.
func (p *Plan) Encode(src unsafe.Pointer, dst url.Values) error {
	for i := range p.fields {
		f := &p.fields[i]
		at := unsafe.Add(src, f.offset)
		switch f.mode {
		case modeValue:
			if f.omitempty && f.codec.isZero(at) {
				continue
			}
			if err := p.add(f, at, dst); err != nil {
				return err
			}
		case modePointer:
			elem := *(*unsafe.Pointer)(at)
			if elem == nil {
				continue
			}
			if err := p.add(f, elem, dst); err != nil {
				return err
			}
		case modeSlice:
			h := (*sliceHeader)(at)
			for j := range h.len {
				if err := p.add(f, unsafe.Add(h.data, uintptr(j)*f.codec.size), dst); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// add appends the value at elem to dst under f's key.
func (p *Plan) add(f *field, elem unsafe.Pointer, dst url.Values) error {
	s, err := f.codec.enc(elem)
	if err != nil {
		return fmt.Errorf("decode: %s field %s.%s: MarshalText: %w", p.source, p.typ, f.goName, err)
	}
	dst[f.name] = append(dst[f.name], s)
	return nil
}
