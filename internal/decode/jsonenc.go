package decode

import (
	"encoding/base64"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// JSONEncoder is a compiled encoder of one Go type to JSON whose output is
// byte for byte that of encoding/json's Marshal. A JSONEncoder is
// immutable and safe for concurrent use.
type JSONEncoder struct {
	typ  reflect.Type
	root jencFn
	bufs *sync.Pool // of *[]byte, scratch for Marshal
}

// jencFn appends the encoding of the value at p to b. It reports false
// where encoding/json would fail: a NaN or infinite float.
type jencFn func(b []byte, p unsafe.Pointer) ([]byte, bool)

// CompileJSONEncoder builds the encoder of type t. Types it leaves to
// encoding/json yield [ErrJSONUnsupported]: any type in t implementing
// json.Marshaler or encoding.TextMarshaler (on the value or the pointer),
// interfaces, json.Number, recursive types, omitzero fields whose type has
// an IsZero method, and kinds encoding/json cannot encode.
func CompileJSONEncoder(t reflect.Type) (*JSONEncoder, error) {
	if t == nil {
		return nil, ErrJSONUnsupported
	}
	c := &jsonSupport{ifaces: []reflect.Type{jsonMarshalerType, textMarshalerType}, onPath: map[reflect.Type]bool{}}
	if !c.check(t) || hasZeroerOmitZero(t, map[reflect.Type]bool{}) {
		return nil, fmt.Errorf("%w: %v", ErrJSONUnsupported, t)
	}
	return &JSONEncoder{typ: t, root: jencFor(t, false), bufs: &sync.Pool{New: func() any { return new([]byte) }}}, nil
}

// Append appends the JSON encoding of the value at p, a pointer to a
// value of the compiled type, to dst. It reports false where
// encoding/json's Marshal fails (a NaN or infinite float); callers then
// call Marshal for its error.
func (e *JSONEncoder) Append(dst []byte, p unsafe.Pointer) ([]byte, bool) {
	return e.root(dst, p)
}

// Marshal returns the JSON encoding of the value at p in a new slice of
// exactly its length, built in a pooled buffer, and reports false as
// Append does.
func (e *JSONEncoder) Marshal(p unsafe.Pointer) ([]byte, bool) {
	bp := e.bufs.Get().(*[]byte)
	b, ok := e.root((*bp)[:0], p)
	var out []byte
	if ok {
		out = append([]byte(nil), b...)
	}
	if cap(b) <= maxPooledOutput {
		*bp = b[:0]
		e.bufs.Put(bp)
	}
	return out, ok
}

// maxPooledOutput is the largest scratch buffer Marshal keeps.
const maxPooledOutput = 64 << 10

// Type returns the type the encoder was compiled for.
func (e *JSONEncoder) Type() reflect.Type { return e.typ }

// hasZeroerOmitZero reports whether a struct in t has an omitzero field
// whose type has an IsZero method, which encoding/json calls.
func hasZeroerOmitZero(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return hasZeroerOmitZero(t.Elem(), seen)
	case reflect.Map:
		return hasZeroerOmitZero(t.Elem(), seen)
	case reflect.Struct:
		for _, f := range jsonFields(t) {
			ft := fieldType(t, f.index)
			if f.omitZero && (ft.Implements(zeroerType) || reflect.PointerTo(ft).Implements(zeroerType)) {
				return true
			}
			if hasZeroerOmitZero(ft, seen) {
				return true
			}
		}
	}
	return false
}

func jencFor(t reflect.Type, quoted bool) jencFn {
	switch t.Kind() {
	case reflect.Bool:
		if quoted {
			return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
				return append(strconv.AppendBool(append(b, '"'), *(*bool)(p)), '"'), true
			}
		}
		return func(b []byte, p unsafe.Pointer) ([]byte, bool) { return strconv.AppendBool(b, *(*bool)(p)), true }
	case reflect.String:
		if quoted {
			return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
				return appendJSONString(b, appendJSONString(nil, *(*string)(p), true), false), true
			}
		}
		return func(b []byte, p unsafe.Pointer) ([]byte, bool) { return appendJSONString(b, *(*string)(p), true), true }
	case reflect.Int:
		return jencInt[int](quoted)
	case reflect.Int8:
		return jencInt[int8](quoted)
	case reflect.Int16:
		return jencInt[int16](quoted)
	case reflect.Int32:
		return jencInt[int32](quoted)
	case reflect.Int64:
		return jencInt[int64](quoted)
	case reflect.Uint:
		return jencUint[uint](quoted)
	case reflect.Uint8:
		return jencUint[uint8](quoted)
	case reflect.Uint16:
		return jencUint[uint16](quoted)
	case reflect.Uint32:
		return jencUint[uint32](quoted)
	case reflect.Uint64:
		return jencUint[uint64](quoted)
	case reflect.Uintptr:
		return jencUint[uintptr](quoted)
	case reflect.Float32:
		return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
			return appendJSONFloat(b, float64(*(*float32)(p)), 32, quoted)
		}
	case reflect.Float64:
		return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
			return appendJSONFloat(b, *(*float64)(p), 64, quoted)
		}
	case reflect.Pointer:
		elem := jencFor(t.Elem(), quoted)
		return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
			if pp := *(*unsafe.Pointer)(p); pp != nil {
				return elem(b, pp)
			}
			return append(b, "null"...), true
		}
	case reflect.Slice:
		return jencSlice(t)
	case reflect.Array:
		elem, size, n := jencFor(t.Elem(), false), t.Elem().Size(), t.Len()
		return func(b []byte, p unsafe.Pointer) ([]byte, bool) { return appendElems(b, elem, size, p, n) }
	case reflect.Map:
		return jencMap(t)
	case reflect.Struct:
		return jencStruct(t)
	}
	panic("decode: unchecked JSON type " + t.String())
}

func jencInt[T int | int8 | int16 | int32 | int64](quoted bool) jencFn {
	if quoted {
		return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
			return append(strconv.AppendInt(append(b, '"'), int64(*(*T)(p)), 10), '"'), true
		}
	}
	return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
		return strconv.AppendInt(b, int64(*(*T)(p)), 10), true
	}
}

func jencUint[T uint | uint8 | uint16 | uint32 | uint64 | uintptr](quoted bool) jencFn {
	if quoted {
		return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
			return append(strconv.AppendUint(append(b, '"'), uint64(*(*T)(p)), 10), '"'), true
		}
	}
	return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
		return strconv.AppendUint(b, uint64(*(*T)(p)), 10), true
	}
}

// appendJSONFloat formats f as encoding/json does: like ES6, 'f' format
// except for very small or large magnitudes, and exponents not padded.
func appendJSONFloat(b []byte, f float64, bits int, quoted bool) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	if quoted {
		b = append(b, '"')
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	if quoted {
		b = append(b, '"')
	}
	return b, true
}

const hexDigits = "0123456789abcdef"

// appendJSONString is encoding/json's appendString: it quotes s, escaping
// control characters, quotes and backslashes (and with escapeHTML <, >
// and &), replacing invalid UTF-8 with U+FFFD and escaping U+2028 and
// U+2029.
func appendJSONString[S []byte | string](dst []byte, src S, escapeHTML bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(src); {
		if b := src[i]; b < utf8.RuneSelf {
			if b >= ' ' && b != '"' && b != '\\' && (!escapeHTML || b != '<' && b != '>' && b != '&') {
				i++
				continue
			}
			dst = append(dst, src[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		n := min(len(src)-i, utf8.UTFMax)
		c, size := utf8.DecodeRuneInString(string(src[i : i+n]))
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, src[start:]...)
	return append(dst, '"')
}

// appendHTMLEscapedName is encoding/json's appendHTMLEscape, used on
// field names.
func appendHTMLEscapedName(dst []byte, src string) []byte {
	start := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == '<' || c == '>' || c == '&' {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			start = i + 1
		}
		if c == 0xE2 && i+2 < len(src) && src[i+1] == 0x80 && src[i+2]&^1 == 0xA8 {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[src[i+2]&0xF])
			start = i + len("\u2029")
		}
	}
	return append(dst, src[start:]...)
}

func jencSlice(t reflect.Type) jencFn {
	if t.Elem().Kind() == reflect.Uint8 {
		return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
			h := (*sliceHeader)(p)
			if h.data == nil {
				return append(b, "null"...), true
			}
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, unsafe.Slice((*byte)(h.data), h.len))
			return append(b, '"'), true
		}
	}
	elem, size := jencFor(t.Elem(), false), t.Elem().Size()
	return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
		h := (*sliceHeader)(p)
		if h.data == nil {
			return append(b, "null"...), true
		}
		return appendElems(b, elem, size, h.data, h.len)
	}
}

// appendElems encodes the n elements of the given size at data as an
// array.
func appendElems(b []byte, elem jencFn, size uintptr, data unsafe.Pointer, n int) ([]byte, bool) {
	b = append(b, '[')
	ok := true
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		if b, ok = elem(b, unsafe.Add(data, uintptr(i)*size)); !ok {
			return b, false
		}
	}
	return append(b, ']'), true
}

// mapEntry is a map entry's key as encoding/json writes it and the index
// of its value in a copy of the values.
type mapEntry struct {
	key string
	i   int
}

// jencMap encodes maps with their keys sorted, as encoding/json does.
// Iterating a map whose type is known only at run time takes the reflect
// package: this is the one place the encoder uses it per call.
func jencMap(t reflect.Type) jencFn {
	kt, et := t.Key(), t.Elem()
	elem, size := jencFor(et, false), et.Size()
	st := reflect.SliceOf(et)
	var keyString func(k reflect.Value) string
	switch kt.Kind() {
	case reflect.String:
		keyString = reflect.Value.String
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		keyString = func(k reflect.Value) string { return strconv.FormatInt(k.Int(), 10) }
	default:
		keyString = func(k reflect.Value) string { return strconv.FormatUint(k.Uint(), 10) }
	}
	return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
		m := reflect.NewAt(t, p).Elem()
		if m.IsNil() {
			return append(b, "null"...), true
		}
		n := m.Len()
		if n == 0 {
			return append(b, "{}"...), true
		}
		entries := make([]mapEntry, n)
		vals := reflect.MakeSlice(st, n, n)
		k := reflect.New(kt).Elem()
		it := m.MapRange()
		for i := 0; it.Next() && i < n; i++ {
			k.SetIterKey(it)
			vals.Index(i).SetIterValue(it)
			entries[i] = mapEntry{keyString(k), i}
		}
		slices.SortFunc(entries, func(a, b mapEntry) int { return strings.Compare(a.key, b.key) })
		data := vals.UnsafePointer()
		b = append(b, '{')
		ok := true
		for i, e := range entries {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, e.key, true)
			b = append(b, ':')
			if b, ok = elem(b, unsafe.Add(data, uintptr(e.i)*size)); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	}
}

// efield is a compiled struct field of the encoder.
type efield struct {
	prefix []byte // "name": with HTML escaping
	hops   []uintptr
	offset uintptr
	enc    jencFn
	skip   func(p unsafe.Pointer) bool // omitempty and omitzero; nil when neither
}

func jencStruct(t reflect.Type) jencFn {
	tf := jsonFields(t)
	fields := make([]efield, len(tf))
	for i, f := range tf {
		ef := &fields[i]
		ef.prefix = append(appendHTMLEscapedName(append([]byte(nil), '"'), f.name), '"', ':')
		st := t
		for _, x := range f.index {
			if st.Kind() == reflect.Pointer {
				st = st.Elem()
				ef.hops = append(ef.hops, ef.offset)
				ef.offset = 0
			}
			sf := st.Field(x)
			ef.offset += sf.Offset
			st = sf.Type
		}
		ef.enc = jencFor(st, f.quoted)
		var empty, zero func(unsafe.Pointer) bool
		if f.omitEmpty {
			empty = emptyFunc(st)
		}
		if f.omitZero {
			zero = plainZeroFunc(st)
		}
		switch {
		case empty != nil && zero != nil:
			ef.skip = func(p unsafe.Pointer) bool { return empty(p) || zero(p) }
		case empty != nil:
			ef.skip = empty
		case zero != nil:
			ef.skip = zero
		}
	}
	return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
		next := byte('{')
		ok := true
	fields:
		for i := range fields {
			f := &fields[i]
			fp := p
			for _, h := range f.hops {
				if fp = *(*unsafe.Pointer)(unsafe.Add(fp, h)); fp == nil {
					continue fields
				}
			}
			fp = unsafe.Add(fp, f.offset)
			if f.skip != nil && f.skip(fp) {
				continue
			}
			b = append(b, next)
			next = ','
			b = append(b, f.prefix...)
			if b, ok = f.enc(b, fp); !ok {
				return b, false
			}
		}
		if next == '{' {
			return append(b, "{}"...), true
		}
		return append(b, '}'), true
	}
}

// emptyFunc is encoding/json's isEmptyValue for type t, the omitempty
// rule.
func emptyFunc(t reflect.Type) func(unsafe.Pointer) bool {
	switch t.Kind() {
	case reflect.Array:
		n := t.Len()
		return func(unsafe.Pointer) bool { return n == 0 }
	case reflect.Map:
		return func(p unsafe.Pointer) bool {
			return *(*unsafe.Pointer)(p) == nil || reflect.NewAt(t, p).Elem().Len() == 0
		}
	case reflect.Slice:
		return func(p unsafe.Pointer) bool { return (*sliceHeader)(p).len == 0 }
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Pointer:
		return plainZeroFunc(t)
	}
	return nil
}
