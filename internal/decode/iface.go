package decode

import (
	"encoding"
	"reflect"
	"unsafe"
)

// zeroer is implemented by types that know their zero value, such as
// time.Time.
type zeroer interface{ IsZero() bool }

var (
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
)

// ifaceWords is the runtime layout of a non-empty interface value: the
// method table of the dynamic type, then the data word (for a pointer
// type, the pointer itself).
type ifaceWords struct {
	tab  unsafe.Pointer
	data unsafe.Pointer
}

// ifaceAt turns the address of a T into an interface value I whose dynamic
// type is *T, without reflection: the method table of *T for I is captured
// once, at compile time, and paired with the address at run time.
//
// newIfaceAt checks that pairing against an interface value built by the
// reflect package; should the runtime layout ever differ, ifaceAt falls back
// to reflect.NewAt, which is slower but correct.
type ifaceAt[I any] struct {
	tab unsafe.Pointer // method table of *T for I; nil selects the fallback
	typ reflect.Type   // T, for the fallback
}

// newIfaceAt reports whether *t implements I and, if so, returns the
// converter.
func newIfaceAt[I any](t reflect.Type) (ifaceAt[I], bool) {
	if !reflect.PointerTo(t).Implements(reflect.TypeFor[I]()) {
		return ifaceAt[I]{}, false
	}
	probe := reflect.New(t)
	want := probe.Interface().(I)
	a := ifaceAt[I]{tab: (*ifaceWords)(unsafe.Pointer(&want)).tab, typ: t}
	if any(a.at(probe.UnsafePointer())) != any(want) {
		a.tab = nil
	}
	return a, true
}

// at returns the *T at p as an I.
func (a ifaceAt[I]) at(p unsafe.Pointer) I {
	if a.tab == nil {
		return reflect.NewAt(a.typ, p).Interface().(I)
	}
	var i I
	w := (*ifaceWords)(unsafe.Pointer(&i))
	w.tab, w.data = a.tab, p
	return i
}

// textUnmarshalerAt and textMarshalerAt name the instantiations used by the
// text codecs.
type (
	textUnmarshalerAt = ifaceAt[encoding.TextUnmarshaler]
	textMarshalerAt   = ifaceAt[encoding.TextMarshaler]
)
