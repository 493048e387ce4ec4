package decode

import (
	"reflect"
	"unsafe"
)

// zeroFunc returns a test of whether the value of type t at a pointer is
// zero, the rule behind omitempty and JSON required fields. A type whose
// pointer has an IsZero() bool method (time.Time) decides for itself;
// otherwise the value is zero when it equals the zero value of its type as
// the == operator sees it, except that a slice is zero only when nil and
// structs and arrays are zero when all their fields or elements are.
func zeroFunc(t reflect.Type) func(unsafe.Pointer) bool { return zeroTest(t, true) }

// plainZeroFunc is reflect.Value.IsZero for type t, the omitzero rule for
// types without an IsZero method: zeroFunc without asking any IsZero
// method, at any depth.
func plainZeroFunc(t reflect.Type) func(unsafe.Pointer) bool { return zeroTest(t, false) }

// zeroTest is zeroFunc, asking IsZero methods when methods is set.
func zeroTest(t reflect.Type, methods bool) func(unsafe.Pointer) bool {
	if methods {
		if z, ok := newIfaceAt[zeroer](t); ok {
			return func(p unsafe.Pointer) bool { return z.at(p).IsZero() }
		}
	}
	if c, ok := kindCodec(t.Kind()); ok {
		return c.isZero
	}
	switch t.Kind() {
	case reflect.Uintptr:
		return isZeroOf[uintptr]
	case reflect.Complex64:
		return isZeroOf[complex64]
	case reflect.Complex128:
		return isZeroOf[complex128]
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer, reflect.Slice, reflect.Interface:
		// The first word is the pointer, map, channel, function, slice data
		// or interface type: nil exactly when the value is nil.
		return func(p unsafe.Pointer) bool { return *(*unsafe.Pointer)(p) == nil }
	case reflect.Array:
		n, size := t.Len(), t.Elem().Size()
		if k := t.Elem().Kind(); k == reflect.Uint8 || k == reflect.Int8 || k == reflect.Bool {
			return func(p unsafe.Pointer) bool { return allZeroBytes(p, uintptr(n)) }
		}
		elem := zeroTest(t.Elem(), methods)
		return func(p unsafe.Pointer) bool {
			for i := range n {
				if !elem(unsafe.Add(p, uintptr(i)*size)) {
					return false
				}
			}
			return true
		}
	case reflect.Struct:
		type part struct {
			offset uintptr
			isZero func(unsafe.Pointer) bool
		}
		parts := make([]part, 0, t.NumField())
		for i := range t.NumField() {
			sf := t.Field(i)
			if sf.Name == "_" || sf.Type.Size() == 0 {
				continue
			}
			parts = append(parts, part{sf.Offset, zeroTest(sf.Type, methods)})
		}
		return func(p unsafe.Pointer) bool {
			for _, pt := range parts {
				if !pt.isZero(unsafe.Add(p, pt.offset)) {
					return false
				}
			}
			return true
		}
	}
	return func(unsafe.Pointer) bool { return false }
}

// isZeroOf reports whether the T at p equals zero.
func isZeroOf[T uintptr | complex64 | complex128](p unsafe.Pointer) bool {
	return *(*T)(p) == 0
}

// allZeroBytes reports whether the n bytes at p are zero.
func allZeroBytes(p unsafe.Pointer, n uintptr) bool {
	for _, b := range unsafe.Slice((*byte)(p), n) {
		if b != 0 {
			return false
		}
	}
	return true
}
