package apigate

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"unsafe"

	"github.com/apigate-go/apigate/internal/decode"
)

// mapDecl is a declared Map: its types and how to compile it for a route.
type mapDecl struct {
	in, out reflect.Type
	build   func(target int, isGet bool) (step, error)
	nilFn   bool
}

// Map transforms a route's decoded input into the shape the upstream
// wants, after the hooks ran. In must be the route's declared input type:
// the body's ([JSON] or [Form]) when it has one, else the [Query]'s; any
// other type is an error from [New] naming both. The result is
// re-serialized in the same form: a JSON body, a form body (or the query
// string on GET and HEAD), or the query string, with Content-Type and
// Content-Length set to match. fn may return an *[Error] or a [Response]
// like a hook. A nil fn is an error from [New].
//
// A JSON body is the bytes json.Marshal would produce, written by an
// encoder compiled for Out when the gateway is built; json.Marshal itself
// encodes an Out holding types with their own MarshalJSON or MarshalText
// methods or interfaces. An output json.Marshal refuses (a NaN float) is a
// 500.
func Map[In, Out any](fn func(c *Ctx, in In) (Out, error)) RouteOption {
	out := reflect.TypeFor[Out]()
	return &mapDecl{in: reflect.TypeFor[In](), out: out, nilFn: fn == nil, build: func(target int, isGet bool) (step, error) {
		call := func(c *Ctx) (Out, error) {
			in, _ := c.input.(In)
			return fn(c, in)
		}
		switch target {
		case bodyJSON:
			enc, err := decode.CompileJSONEncoder(out)
			if err != nil {
				enc = nil // json.Marshal encodes Out
			}
			return func(c *Ctx) error {
				o, err := call(c)
				if err != nil {
					return err
				}
				var b []byte
				ok := false
				if enc != nil {
					b, ok = enc.Marshal(unsafe.Pointer(&o))
				}
				if !ok {
					b, err = json.Marshal(o) // also words the error of a NaN or infinity
				}
				if err != nil {
					return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error",
						Err: fmt.Errorf("apigate: encode Map output %v: %w", out, err)}
				}
				c.body, c.hasBody, c.contentType = b, true, "application/json"
				return nil
			}, nil
		case bodyForm, bodyNone:
			tag := "form"
			if target == bodyNone {
				tag = "query"
			}
			plan, err := decode.Compile(out, tag)
			if err != nil {
				return nil, fmt.Errorf("Map output: %w", err)
			}
			toQuery := target == bodyNone || isGet
			return func(c *Ctx) error {
				o, err := call(c)
				if err != nil {
					return err
				}
				vals := url.Values{}
				if err := plan.Encode(unsafe.Pointer(&o), vals); err != nil {
					return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error",
						Err: fmt.Errorf("apigate: encode Map output %v: %w", out, err)}
				}
				enc := vals.Encode()
				if toQuery {
					c.rawQuery, c.hasQuery = enc, true
					return nil
				}
				c.body, c.hasBody, c.contentType = []byte(enc), true, "application/x-www-form-urlencoded"
				return nil
			}, nil
		}
		return nil, errors.New("Map cannot re-serialize a multipart body")
	}}
}

func (m *mapDecl) applyRoute(r *routeSpec) {
	if r.in.mapper != nil {
		r.errs = append(r.errs, errors.New("Map given twice"))
	}
	if m.nilFn {
		r.errs = append(r.errs, errors.New("Map(nil)"))
	}
	r.in.mapper = m
}

// compile checks the map's input type against the route's input and
// builds its step.
func (m *mapDecl) compile(spec *inputSpec, b *inputBuild) (step, error) {
	var src *inputDecl
	target := spec.mode
	switch {
	case spec.mode == bodyMultipart:
		return nil, errors.New("Map cannot be combined with Multipart (the body is streamed, never decoded)")
	case spec.body != nil:
		src = spec.body
	case spec.query != nil:
		src = spec.query
	default:
		return nil, errors.New("Map needs a Query, JSON or Form input to map from")
	}
	if src.typ != m.in {
		return nil, fmt.Errorf("Map takes %v but the route's input is %s[%v]", m.in, inputName(spec, src), src.typ)
	}
	return m.build(target, b.isGet)
}

func inputName(spec *inputSpec, d *inputDecl) string {
	if d == spec.query {
		return "Query"
	}
	return bodyModeName[spec.mode]
}
