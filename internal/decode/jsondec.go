package decode

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"unsafe"
)

// JSONDecoder is a compiled decoder of JSON documents into one Go type,
// with the semantics of encoding/json's Unmarshal. A JSONDecoder is
// immutable and safe for concurrent use.
type JSONDecoder struct {
	typ    reflect.Type
	root   jdecFn
	strict bool
	scans  *sync.Pool // of *jscan: the decode functions, called indirectly, make a jscan escape
}

// jdecFn decodes the value at s.off into the value at p and moves past
// it. It reports false where encoding/json would report an error.
type jdecFn func(s *jscan, p unsafe.Pointer) bool

// CompileJSONDecoder builds the decoder of type t. Types it leaves to
// encoding/json yield [ErrJSONUnsupported]: any type in t implementing
// json.Unmarshaler or encoding.TextUnmarshaler (on the value or the
// pointer), interfaces, json.Number, recursive types, and kinds
// encoding/json cannot decode into (channels, functions, complex numbers,
// maps with other key kinds).
func CompileJSONDecoder(t reflect.Type) (*JSONDecoder, error) {
	if t == nil {
		return nil, ErrJSONUnsupported
	}
	c := &jsonSupport{ifaces: []reflect.Type{jsonUnmarshalerType, textUnmarshalerType}, onPath: map[reflect.Type]bool{}}
	if !c.check(t) {
		return nil, fmt.Errorf("%w: %v", ErrJSONUnsupported, t)
	}
	return &JSONDecoder{typ: t, root: jdecFor(t), scans: &sync.Pool{New: func() any { return new(jscan) }}}, nil
}

// Strict returns a copy of d that fails on object keys no struct field
// takes, as encoding/json's Decoder.DisallowUnknownFields does.
func (d *JSONDecoder) Strict() *JSONDecoder {
	c := *d
	c.strict = true
	return &c
}

// Decode decodes data into the value at dst, a pointer to a value of the
// compiled type, and reports whether it succeeded. It succeeds exactly
// when encoding/json's Unmarshal (for a strict decoder: a Decoder with
// DisallowUnknownFields that finds nothing but white space after the
// value) would, leaving the same value. On failure dst holds a partial
// result; callers decode again with encoding/json into a fresh value to
// obtain its error.
//
// Decode never panics: should a bug in the compiled decoder make it do
// so, it recovers and reports failure, sending the caller to
// encoding/json.
func (d *JSONDecoder) Decode(dst unsafe.Pointer, data []byte) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return d.decode(dst, data)
}

// decode is Decode without the recover, for tests.
func (d *JSONDecoder) decode(dst unsafe.Pointer, data []byte) bool {
	if !validJSON(data) {
		return false
	}
	s := d.scans.Get().(*jscan)
	*s = jscan{data: data, strict: d.strict, buf: s.buf[:0]}
	s.ws()
	ok := d.root(s, dst)
	s.data = nil
	if cap(s.buf) > maxScratch {
		s.buf = nil
	}
	d.scans.Put(s)
	return ok
}

// maxScratch is the largest key buffer a pooled jscan keeps.
const maxScratch = 4 << 10

// Type returns the type the decoder was compiled for.
func (d *JSONDecoder) Type() reflect.Type { return d.typ }

func jdecFor(t reflect.Type) jdecFn {
	if store := numberStore(t.Kind()); store != nil {
		return jdecNumber(store)
	}
	switch t.Kind() {
	case reflect.Bool:
		return jdecBool
	case reflect.String:
		return jdecString
	case reflect.Pointer:
		return jdecPointer(t)
	case reflect.Slice:
		return jdecSlice(t)
	case reflect.Array:
		return jdecArray(t)
	case reflect.Map:
		return jdecMap(t)
	case reflect.Struct:
		return jdecStruct(t)
	}
	panic("decode: unchecked JSON type " + t.String())
}

// skipNull moves past a null and reports whether there was one.
func (s *jscan) skipNull() bool {
	if s.data[s.off] == 'n' {
		s.off += 4
		return true
	}
	return false
}

func jdecBool(s *jscan, p unsafe.Pointer) bool {
	switch s.data[s.off] {
	case 't':
		*(*bool)(p) = true
		s.off += 4
	case 'f':
		*(*bool)(p) = false
		s.off += 5
	case 'n':
		s.off += 4
	default:
		return false
	}
	return true
}

func jdecString(s *jscan, p unsafe.Pointer) bool {
	switch s.data[s.off] {
	case '"':
		t, _ := unquoteJSON(s.rawString(), &s.buf)
		*(*string)(p) = string(t)
		return true
	case 'n':
		s.off += 4
		return true
	}
	return false
}

// isNumberStart reports whether c starts a JSON number.
func isNumberStart(c byte) bool { return c == '-' || '0' <= c && c <= '9' }

// bytesString views b as a string for a parse that does not keep it.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// numberStore returns the function that stores a JSON number into a value
// of kind k, or nil when k is not a number kind.
func numberStore(k reflect.Kind) func(item []byte, p unsafe.Pointer) bool {
	switch k {
	case reflect.Int:
		return storeInt[int]
	case reflect.Int8:
		return storeInt[int8]
	case reflect.Int16:
		return storeInt[int16]
	case reflect.Int32:
		return storeInt[int32]
	case reflect.Int64:
		return storeInt[int64]
	case reflect.Uint:
		return storeUint[uint]
	case reflect.Uint8:
		return storeUint[uint8]
	case reflect.Uint16:
		return storeUint[uint16]
	case reflect.Uint32:
		return storeUint[uint32]
	case reflect.Uint64:
		return storeUint[uint64]
	case reflect.Uintptr:
		return storeUint[uintptr]
	case reflect.Float32:
		return storeFloat32
	case reflect.Float64:
		return storeFloat64
	}
	return nil
}

// jdecNumber decodes a number with store, or null, which leaves the value
// as it is.
func jdecNumber(store func(item []byte, p unsafe.Pointer) bool) jdecFn {
	return func(s *jscan, p unsafe.Pointer) bool {
		if !isNumberStart(s.data[s.off]) {
			return s.skipNull()
		}
		return store(s.rawNumber(), p)
	}
}

func storeInt[T int | int8 | int16 | int32 | int64](item []byte, p unsafe.Pointer) bool {
	n, err := strconv.ParseInt(bytesString(item), 10, 64)
	if err != nil || int64(T(n)) != n {
		return false
	}
	*(*T)(p) = T(n)
	return true
}

func storeUint[T uint | uint8 | uint16 | uint32 | uint64 | uintptr](item []byte, p unsafe.Pointer) bool {
	n, err := strconv.ParseUint(bytesString(item), 10, 64)
	if err != nil || uint64(T(n)) != n {
		return false
	}
	*(*T)(p) = T(n)
	return true
}

func storeFloat32(item []byte, p unsafe.Pointer) bool {
	f, err := strconv.ParseFloat(bytesString(item), 32)
	if err != nil {
		return false
	}
	// reflect's OverflowFloat for float32.
	if a := max(f, -f); 3.40282346638528859811704183484516925440e+38 < a && a <= 1.79769313486231570814527423731704356798070e+308 {
		return false
	}
	*(*float32)(p) = float32(f)
	return true
}

func storeFloat64(item []byte, p unsafe.Pointer) bool {
	f, err := strconv.ParseFloat(bytesString(item), 64)
	if err != nil {
		return false
	}
	*(*float64)(p) = f
	return true
}

// newFunc returns an allocator of zero values of t.
func newFunc(t reflect.Type) func() unsafe.Pointer {
	return func() unsafe.Pointer { return reflect.New(t).UnsafePointer() }
}

func jdecPointer(t reflect.Type) jdecFn {
	elem := jdecFor(t.Elem())
	alloc := newFunc(t.Elem())
	return func(s *jscan, p unsafe.Pointer) bool {
		pp := (*unsafe.Pointer)(p)
		if s.data[s.off] == 'n' {
			s.off += 4
			*pp = nil
			return true
		}
		if *pp == nil {
			*pp = alloc()
		}
		return elem(s, *pp)
	}
}

func jdecSlice(t reflect.Type) jdecFn {
	et := t.Elem()
	elem := jdecFor(et)
	size := et.Size()
	isBytes := et.Kind() == reflect.Uint8
	empty := reflect.MakeSlice(t, 0, 0).UnsafePointer() // non-nil, for []
	return func(s *jscan, p unsafe.Pointer) bool {
		h := (*sliceHeader)(p)
		switch s.data[s.off] {
		case 'n':
			s.off += 4
			*h = sliceHeader{}
			return true
		case '"':
			if !isBytes {
				return false
			}
			str, _ := unquoteJSON(s.rawString(), nil)
			b := make([]byte, base64.StdEncoding.DecodedLen(len(str)))
			n, err := base64.StdEncoding.Decode(b, str)
			if err != nil {
				return false
			}
			*h = sliceHeader{unsafe.Pointer(unsafe.SliceData(b)), n, len(b)}
			return true
		case '[':
		default:
			return false
		}
		if h.data != nil {
			// A repeated key: reuse the slice as encoding/json does.
			return jdecSliceInto(s, reflect.NewAt(t, p).Elem(), elem)
		}
		n := s.countElems()
		s.off++ // '['
		s.ws()
		if n == 0 {
			s.off++ // ']'
			*h = sliceHeader{empty, 0, 0}
			return true
		}
		data := reflect.MakeSlice(t, n, n).UnsafePointer()
		*h = sliceHeader{data, n, n}
		for i := range n {
			if !elem(s, unsafe.Add(data, uintptr(i)*size)) {
				return false
			}
			s.ws()
			s.off++ // ',' or ']'
			s.ws()
		}
		return true
	}
}

// jdecSliceInto decodes the array at s.off into the non-nil slice v the
// way encoding/json does: elements already there are decoded into, not
// replaced, and the slice is truncated to the array's length.
func jdecSliceInto(s *jscan, v reflect.Value, elem jdecFn) bool {
	s.off++ // '['
	s.ws()
	i := 0
	if s.data[s.off] != ']' {
		for {
			if i >= v.Cap() {
				v.Grow(1)
			}
			if i >= v.Len() {
				v.SetLen(i + 1)
			}
			if !elem(s, v.Index(i).Addr().UnsafePointer()) {
				return false
			}
			i++
			s.ws()
			if s.data[s.off] == ']' {
				break
			}
			s.off++ // ','
			s.ws()
		}
	}
	s.off++ // ']'
	if i < v.Len() {
		v.SetLen(i)
	}
	if i == 0 {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
	}
	return true
}

func jdecArray(t reflect.Type) jdecFn {
	et := t.Elem()
	elem := jdecFor(et)
	size, n := et.Size(), t.Len()
	clearElem := func(p unsafe.Pointer) { clear(unsafe.Slice((*byte)(p), size)) }
	if hasPointers(et) {
		clearElem = func(p unsafe.Pointer) { reflect.NewAt(et, p).Elem().SetZero() }
	}
	return func(s *jscan, p unsafe.Pointer) bool {
		switch s.data[s.off] {
		case 'n':
			s.off += 4
			return true
		case '[':
		default:
			return false
		}
		s.off++
		s.ws()
		i := 0
		if s.data[s.off] != ']' {
			for {
				if i < n {
					if !elem(s, unsafe.Add(p, uintptr(i)*size)) {
						return false
					}
				} else {
					s.skip()
				}
				i++
				s.ws()
				if s.data[s.off] == ']' {
					break
				}
				s.off++ // ','
				s.ws()
			}
		}
		s.off++ // ']'
		for ; i < n; i++ {
			clearElem(unsafe.Add(p, uintptr(i)*size))
		}
		return true
	}
}

func jdecMap(t reflect.Type) jdecFn {
	kt, et := t.Key(), t.Elem()
	elem := jdecFor(et)
	var key func(kv reflect.Value, k []byte) bool
	switch kt.Kind() {
	case reflect.String:
		key = func(kv reflect.Value, k []byte) bool { kv.SetString(string(k)); return true }
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		key = func(kv reflect.Value, k []byte) bool {
			n, err := strconv.ParseInt(bytesString(k), 10, 64)
			if err != nil || kt.OverflowInt(n) {
				return false
			}
			kv.SetInt(n)
			return true
		}
	default:
		key = func(kv reflect.Value, k []byte) bool {
			n, err := strconv.ParseUint(bytesString(k), 10, 64)
			if err != nil || kt.OverflowUint(n) {
				return false
			}
			kv.SetUint(n)
			return true
		}
	}
	return func(s *jscan, p unsafe.Pointer) bool {
		switch s.data[s.off] {
		case 'n':
			s.off += 4
			*(*unsafe.Pointer)(p) = nil
			return true
		case '{':
		default:
			return false
		}
		m := reflect.NewAt(t, p).Elem()
		if m.IsNil() {
			m.Set(reflect.MakeMap(t))
		}
		ev := reflect.New(et).Elem()
		ep := ev.Addr().UnsafePointer()
		kv := reflect.New(kt).Elem()
		s.off++
		s.ws()
		if s.data[s.off] == '}' {
			s.off++
			return true
		}
		for {
			k, _ := unquoteJSON(s.rawString(), &s.buf)
			if !key(kv, k) {
				return false
			}
			s.ws()
			s.off++ // ':'
			s.ws()
			ev.SetZero()
			if !elem(s, ep) {
				return false
			}
			m.SetMapIndex(kv, ev)
			s.ws()
			if s.data[s.off] == '}' {
				s.off++
				return true
			}
			s.off++ // ','
			s.ws()
		}
	}
}

// jfield is a compiled struct field.
type jfield struct {
	name   string
	hops   []jhop // embedded struct pointers on the way to the field
	offset uintptr
	dec    jdecFn
	quoted func(item []byte, p unsafe.Pointer) bool // for ",string" fields
}

// jhop is an embedded struct pointer at offset; alloc is nil when
// encoding/json cannot set it (a pointer to an unexported struct type).
type jhop struct {
	offset uintptr
	alloc  func() unsafe.Pointer
}

// addr returns the address of f in the struct at p, allocating embedded
// pointers on the way, or nil where encoding/json would fail.
func (f *jfield) addr(p unsafe.Pointer) unsafe.Pointer {
	for _, h := range f.hops {
		pp := (*unsafe.Pointer)(unsafe.Add(p, h.offset))
		if *pp == nil {
			if h.alloc == nil {
				return nil
			}
			*pp = h.alloc()
		}
		p = *pp
	}
	return unsafe.Add(p, f.offset)
}

// maxLinearFields is the field count up to which keys are looked up by a
// linear scan rather than a map.
const maxLinearFields = 8

func jdecStruct(t reflect.Type) jdecFn {
	tf := jsonFields(t)
	fields := make([]jfield, len(tf))
	exact := make(map[string]*jfield, len(tf))
	folded := make(map[string]*jfield, len(tf))
	for i, f := range tf {
		jf := &fields[i]
		jf.name = f.name
		var prev reflect.StructField
		st := t
		for _, x := range f.index {
			if st.Kind() == reflect.Pointer {
				// An embedded struct pointer, allocated when nil unless
				// its field is unexported.
				st = st.Elem()
				var alloc func() unsafe.Pointer
				if prev.IsExported() {
					alloc = newFunc(st)
				}
				jf.hops = append(jf.hops, jhop{offset: jf.offset, alloc: alloc})
				jf.offset = 0
			}
			sf := st.Field(x)
			jf.offset += sf.Offset
			prev, st = sf, sf.Type
		}
		jf.dec = jdecFor(st)
		if f.quoted {
			jf.quoted = quotedStore(st)
		}
		exact[f.name] = jf
		k := string(foldJSONName(nil, []byte(f.name)))
		if _, ok := folded[k]; !ok {
			folded[k] = jf
		}
	}
	lookup := func(key []byte) *jfield {
		if f, ok := exact[string(key)]; ok {
			return f
		}
		var arr [32]byte
		return folded[string(foldJSONName(arr[:0], key))]
	}
	if len(fields) <= maxLinearFields {
		lookup = func(key []byte) *jfield {
			for i := range fields {
				if fields[i].name == string(key) {
					return &fields[i]
				}
			}
			var arr [32]byte
			return folded[string(foldJSONName(arr[:0], key))]
		}
	}
	return func(s *jscan, p unsafe.Pointer) bool {
		switch s.data[s.off] {
		case 'n':
			s.off += 4
			return true
		case '{':
		default:
			return false
		}
		s.off++
		s.ws()
		if s.data[s.off] == '}' {
			s.off++
			return true
		}
		for {
			k, _ := unquoteJSON(s.rawString(), &s.buf)
			f := lookup(k)
			s.ws()
			s.off++ // ':'
			s.ws()
			switch {
			case f == nil:
				if s.strict {
					return false
				}
				s.skip()
			default:
				fp := f.addr(p)
				if fp == nil {
					return false
				}
				if !f.decode(s, fp) {
					return false
				}
			}
			s.ws()
			if s.data[s.off] == '}' {
				s.off++
				return true
			}
			s.off++ // ','
			s.ws()
		}
	}
}

// decode decodes the value at s.off into the field at p.
func (f *jfield) decode(s *jscan, p unsafe.Pointer) bool {
	if f.quoted == nil {
		return f.dec(s, p)
	}
	switch s.data[s.off] {
	case 'n':
		return f.dec(s, p) // a plain null
	case '"':
		inner, _ := unquoteJSON(s.rawString(), nil)
		return f.quoted(inner, p)
	}
	return false
}

// quotedStore returns the decoder of the inner literal of a ",string"
// field of type t (a basic kind, or a pointer to one), following
// encoding/json's literalStore with fromQuoted set.
func quotedStore(t reflect.Type) func(item []byte, p unsafe.Pointer) bool {
	if t.Kind() == reflect.Pointer {
		elem := quotedStore(t.Elem())
		alloc := newFunc(t.Elem())
		return func(item []byte, p unsafe.Pointer) bool {
			if len(item) == 0 {
				return false
			}
			pp := (*unsafe.Pointer)(p)
			if item[0] == 'n' {
				if string(item) != "null" {
					return false
				}
				*pp = nil
				return true
			}
			if *pp == nil {
				*pp = alloc()
			}
			return elem(item, *pp)
		}
	}
	num := numberStore(t.Kind())
	kind := t.Kind()
	return func(item []byte, p unsafe.Pointer) bool {
		if len(item) == 0 {
			return false
		}
		switch c := item[0]; c {
		case 'n':
			return string(item) == "null"
		case 't', 'f':
			if string(item) != "true" && string(item) != "false" || kind != reflect.Bool {
				return false
			}
			*(*bool)(p) = c == 't'
			return true
		case '"':
			str, ok := unquoteJSON(item, nil)
			if !ok || kind != reflect.String {
				return false
			}
			*(*string)(p) = string(str)
			return true
		default:
			if !isNumberStart(c) || num == nil {
				return false
			}
			return num(item, p)
		}
	}
}
