package decode

import (
	"encoding"
	"errors"
	"math"
	"reflect"
	"strconv"
	"time"
	"unsafe"
)

// decFunc parses s into the value at p. buf is scratch space the text
// codecs may grow and return for reuse by later fields of the same call.
type decFunc func(p unsafe.Pointer, s string, buf []byte) ([]byte, error)

// encFunc formats the value at p.
type encFunc func(p unsafe.Pointer) (string, error)

// codec holds everything needed to read, write and allocate one element
// type, chosen once by [codecFor].
type codec struct {
	dec      decFunc
	enc      encFunc
	isZero   func(p unsafe.Pointer) bool
	newElem  func() unsafe.Pointer      // a fresh zero T, for pointer fields
	newSlice func(n int) unsafe.Pointer // the data of a fresh []T of length n
	size     uintptr                    // the size of T
	syntax   string                     // client-safe reason for a parse failure
}

var durationType = reflect.TypeFor[time.Duration]()

// codecFor returns the codec of element type t. Precedence: a type whose
// pointer implements encoding.TextUnmarshaler / TextMarshaler uses those
// methods; time.Duration uses time.ParseDuration and Duration.String; other
// types use their kind. The omitempty test is [zeroFunc]'s.
func codecFor(t reflect.Type) (codec, error) {
	var c codec
	basic := t == durationType
	if basic {
		c = durationCodec()
	} else {
		c, basic = kindCodec(t.Kind())
	}
	u, canUnmarshal := newIfaceAt[encoding.TextUnmarshaler](t)
	m, canMarshal := newIfaceAt[encoding.TextMarshaler](t)
	if !basic {
		switch {
		case !canUnmarshal && !canMarshal:
			return codec{}, errors.New("unsupported type " + t.String())
		case !canUnmarshal:
			return codec{}, errors.New("type " + t.String() + " implements encoding.TextMarshaler but not encoding.TextUnmarshaler")
		case !canMarshal:
			return codec{}, errors.New("type " + t.String() + " implements encoding.TextUnmarshaler but not encoding.TextMarshaler")
		}
		c.newElem = func() unsafe.Pointer { return reflect.New(t).UnsafePointer() }
		st := reflect.SliceOf(t)
		c.newSlice = func(n int) unsafe.Pointer { return reflect.MakeSlice(st, n, n).UnsafePointer() }
	}
	if canUnmarshal {
		c.dec = textDec(u)
		c.syntax = "invalid value"
	}
	if canMarshal {
		c.enc = textEnc(m)
	}
	c.isZero = zeroFunc(t)
	c.size = t.Size()
	return c, nil
}

// kindCodec returns the codec of a basic kind and reports whether k is one.
func kindCodec(k reflect.Kind) (codec, bool) {
	switch k {
	case reflect.String:
		return stringCodec(), true
	case reflect.Bool:
		return boolCodec(), true
	case reflect.Int:
		return intCodec[int](strconv.IntSize), true
	case reflect.Int8:
		return intCodec[int8](8), true
	case reflect.Int16:
		return intCodec[int16](16), true
	case reflect.Int32:
		return intCodec[int32](32), true
	case reflect.Int64:
		return intCodec[int64](64), true
	case reflect.Uint:
		return uintCodec[uint](strconv.IntSize), true
	case reflect.Uint8:
		return uintCodec[uint8](8), true
	case reflect.Uint16:
		return uintCodec[uint16](16), true
	case reflect.Uint32:
		return uintCodec[uint32](32), true
	case reflect.Uint64:
		return uintCodec[uint64](64), true
	case reflect.Float32:
		return floatCodec[float32](32), true
	case reflect.Float64:
		return floatCodec[float64](64), true
	}
	return codec{}, false
}

// allocs fills the allocation functions of c for element type T. A named
// type of a basic kind has the same memory layout as T, so values of the
// underlying type stand in for it.
func allocs[T any](c codec) codec {
	c.newElem = func() unsafe.Pointer { return unsafe.Pointer(new(T)) }
	c.newSlice = func(n int) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(make([]T, n))) }
	return c
}

func stringCodec() codec {
	return allocs[string](codec{
		dec: func(p unsafe.Pointer, s string, buf []byte) ([]byte, error) {
			*(*string)(p) = s
			return buf, nil
		},
		enc:    func(p unsafe.Pointer) (string, error) { return *(*string)(p), nil },
		isZero: func(p unsafe.Pointer) bool { return *(*string)(p) == "" },
	})
}

// parseBool is strconv.ParseBool extended with the "on" and "off" that HTML
// checkboxes send.
func parseBool(s string) (bool, error) {
	switch s {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return strconv.ParseBool(s)
}

func boolCodec() codec {
	return allocs[bool](codec{
		dec: func(p unsafe.Pointer, s string, buf []byte) ([]byte, error) {
			b, err := parseBool(s)
			if err == nil {
				*(*bool)(p) = b
			}
			return buf, err
		},
		enc:    func(p unsafe.Pointer) (string, error) { return strconv.FormatBool(*(*bool)(p)), nil },
		isZero: func(p unsafe.Pointer) bool { return !*(*bool)(p) },
		syntax: "not a boolean",
	})
}

func intCodec[T int | int8 | int16 | int32 | int64](bits int) codec {
	return allocs[T](codec{
		dec: func(p unsafe.Pointer, s string, buf []byte) ([]byte, error) {
			n, err := strconv.ParseInt(s, 10, bits)
			if err == nil {
				*(*T)(p) = T(n)
			}
			return buf, err
		},
		enc:    func(p unsafe.Pointer) (string, error) { return strconv.FormatInt(int64(*(*T)(p)), 10), nil },
		isZero: func(p unsafe.Pointer) bool { return *(*T)(p) == 0 },
		syntax: "not an integer",
	})
}

func uintCodec[T uint | uint8 | uint16 | uint32 | uint64](bits int) codec {
	return allocs[T](codec{
		dec: func(p unsafe.Pointer, s string, buf []byte) ([]byte, error) {
			n, err := strconv.ParseUint(s, 10, bits)
			if err == nil {
				*(*T)(p) = T(n)
			}
			return buf, err
		},
		enc:    func(p unsafe.Pointer) (string, error) { return strconv.FormatUint(uint64(*(*T)(p)), 10), nil },
		isZero: func(p unsafe.Pointer) bool { return *(*T)(p) == 0 },
		syntax: "not a non-negative integer",
	})
}

func floatCodec[T float32 | float64](bits int) codec {
	return allocs[T](codec{
		dec: func(p unsafe.Pointer, s string, buf []byte) ([]byte, error) {
			f, err := strconv.ParseFloat(s, bits)
			if err != nil {
				return buf, err
			}
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return buf, errNotFinite
			}
			*(*T)(p) = T(f)
			return buf, nil
		},
		enc: func(p unsafe.Pointer) (string, error) {
			return strconv.FormatFloat(float64(*(*T)(p)), 'g', -1, bits), nil
		},
		isZero: func(p unsafe.Pointer) bool { return *(*T)(p) == 0 },
		syntax: "not a number",
	})
}

func durationCodec() codec {
	return allocs[time.Duration](codec{
		dec: func(p unsafe.Pointer, s string, buf []byte) ([]byte, error) {
			d, err := time.ParseDuration(s)
			if err == nil {
				*(*time.Duration)(p) = d
			}
			return buf, err
		},
		enc:    func(p unsafe.Pointer) (string, error) { return (*(*time.Duration)(p)).String(), nil },
		syntax: "not a duration",
	})
}

// textDec decodes with UnmarshalText, copying s into the reusable buf: the
// encoding.TextUnmarshaler contract lets the method modify its input but
// obliges it to copy what it keeps.
func textDec(u textUnmarshalerAt) decFunc {
	return func(p unsafe.Pointer, s string, buf []byte) ([]byte, error) {
		buf = append(buf[:0], s...)
		return buf, u.at(p).UnmarshalText(buf)
	}
}

// textEnc encodes with MarshalText.
func textEnc(m textMarshalerAt) encFunc {
	return func(p unsafe.Pointer) (string, error) {
		b, err := m.at(p).MarshalText()
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
}
