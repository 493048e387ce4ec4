package apigate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/apigate-go/apigate/internal/decode"
	"github.com/apigate-go/apigate/internal/rewrite"
	"github.com/julienschmidt/httprouter"
)

// Body modes of a route.
const (
	bodyNone = iota
	bodyJSON
	bodyForm
	bodyMultipart
)

var bodyModeName = [...]string{"none", "JSON", "Form", "Multipart"}

// inputSpec is a route's declared typed inputs, as options left them.
type inputSpec struct {
	path   *inputDecl
	query  *inputDecl
	body   *inputDecl
	mode   int
	mapper *mapDecl
	strict bool
}

// inputDecl is one declared typed input: its type and how to compile its
// decoder once the route is known.
type inputDecl struct {
	typ   reflect.Type
	build func(b *inputBuild) (step, error)
}

// inputBuild is what a decoder needs to know about its route.
type inputBuild struct {
	rt     *route
	params []string
	strict bool
	isGet  bool
}

// step is one compiled pipeline step.
type step func(c *Ctx) error

// inputPlan is a route's compiled typed inputs; nil when it has none.
type inputPlan struct {
	path  step
	rest  []step // query, body, map, in that order
	limit int64
}

type inputOption struct {
	mode int // for body inputs; bodyNone for path and query
	slot int // 0 path, 1 query, 2 body
	decl *inputDecl
}

func (o inputOption) applyRoute(r *routeSpec) {
	in := &r.in
	switch o.slot {
	case 0:
		if in.path != nil {
			r.errs = append(r.errs, errors.New("Path given twice"))
		}
		in.path = o.decl
	case 1:
		if in.query != nil {
			r.errs = append(r.errs, errors.New("Query given twice"))
		}
		in.query = o.decl
	default:
		if in.mode != bodyNone {
			r.errs = append(r.errs, fmt.Errorf("two body modes (%s and %s) on one route", bodyModeName[in.mode], bodyModeName[o.mode]))
			return
		}
		in.mode, in.body = o.mode, o.decl
	}
}

// Path decodes the route's path parameters into a T, a struct whose fields
// carry `path:"name"` tags, before the hooks run. A value that does not
// decode is a 400 "invalid_path" naming the parameter. Hooks and maps read
// the result with [Value]. A field naming a parameter the route lacks is
// an error from [New].
func Path[T any]() RouteOption {
	t := reflect.TypeFor[T]()
	return inputOption{slot: 0, decl: &inputDecl{typ: t, build: func(b *inputBuild) (step, error) {
		plan, err := decode.Compile(t, "path")
		if err != nil {
			return nil, err
		}
		for _, n := range plan.Names() {
			if !slices.Contains(b.params, n) {
				return nil, fmt.Errorf("path input %v: field names parameter %q, which the route lacks (it has %v)", t, n, b.params)
			}
		}
		st := storeFor[T]()
		return func(c *Ctx) error {
			var v T
			if err := plan.DecodeParams(unsafe.Pointer(&v), unescapeParams(c.ps)); err != nil {
				return inputError(CodeInvalidPath, err)
			}
			return st(c, v)
		}, nil
	}}}
}

// Query decodes the query string into a T, a struct whose fields carry
// `query:"name"` tags (slices for repeated keys, pointers for optional
// values, ",required" for required ones). It never reads the body. A
// value that does not decode is a 400 "invalid_query".
func Query[T any]() RouteOption {
	t := reflect.TypeFor[T]()
	return inputOption{slot: 1, decl: &inputDecl{typ: t, build: func(b *inputBuild) (step, error) {
		plan, err := decode.Compile(t, "query")
		if err != nil {
			return nil, err
		}
		if b.strict {
			plan = plan.Strict()
		}
		st := storeFor[T]()
		return func(c *Ctx) error {
			var v T
			if err := plan.DecodeValues(unsafe.Pointer(&v), c.r.URL.Query()); err != nil {
				return inputError(CodeInvalidQuery, err)
			}
			return st(c, v)
		}, nil
	}}}
}

// JSON decodes the request body into a T. The request must declare a JSON
// content type (application/json or any +json type, parameters such as
// charset allowed), else 415. The body is read up to the route's
// [BodyLimit] (413 past it); malformed JSON, trailing data or a type
// mismatch is a 400 "invalid_json". Fields tagged `apigate:"required"`
// must be present and non-zero. Without a [Map], the original bytes are
// forwarded unchanged.
//
// The decoder is compiled for T when the gateway is built, like those of
// [Path], [Query] and [Form]: decoding a request uses no reflection
// (except to fill map fields). It follows encoding/json's Unmarshal exactly (field names and tags,
// case-insensitive matching, embedded structs, ",string", null, escapes
// and invalid UTF-8) and a failing body gets the same error message it
// would get from encoding/json. A T holding a type with its own
// UnmarshalJSON or UnmarshalText method, an interface (any) or
// json.Number is decoded with encoding/json instead.
func JSON[T any]() RouteOption {
	t := reflect.TypeFor[T]()
	return inputOption{slot: 2, mode: bodyJSON, decl: &inputDecl{typ: t, build: func(b *inputBuild) (step, error) {
		req, err := decode.CompileJSON(t)
		if err != nil {
			return nil, err
		}
		limit, strict := b.rt.bodyLimit, b.strict
		dec, err := decode.CompileJSONDecoder(t)
		switch {
		case errors.Is(err, decode.ErrJSONUnsupported):
			dec = nil // encoding/json decodes T
		case err != nil:
			return nil, err
		case strict:
			dec = dec.Strict()
		}
		st := storeFor[T]()
		return func(c *Ctx) error {
			if !isJSONType(c.r.Header.Get("Content-Type")) {
				return UnsupportedMediaType("want a JSON body (Content-Type: application/json)")
			}
			body, err := readBody(c.r, limit)
			if err != nil {
				return err
			}
			v, err := decodeJSON[T](dec, body, strict)
			if err != nil {
				return err
			}
			if err := req.Check(unsafe.Pointer(&v)); err != nil {
				return inputError(CodeInvalidJSON, err)
			}
			c.body, c.hasBody = body, true
			return st(c, v)
		}, nil
	}}}
}

// Form decodes an application/x-www-form-urlencoded body into a T, a
// struct whose fields carry `form:"name"` tags; on GET and HEAD it decodes
// the query string instead. Other content types are refused with 415; the
// body is read up to the route's [BodyLimit]; a value that does not decode
// is a 400 "invalid_form". Without a [Map], the original bytes are
// forwarded unchanged.
func Form[T any]() RouteOption {
	t := reflect.TypeFor[T]()
	return inputOption{slot: 2, mode: bodyForm, decl: &inputDecl{typ: t, build: func(b *inputBuild) (step, error) {
		plan, err := decode.Compile(t, "form")
		if err != nil {
			return nil, err
		}
		if b.strict {
			plan = plan.Strict()
		}
		limit := b.rt.bodyLimit
		st := storeFor[T]()
		return func(c *Ctx) error {
			var vals url.Values
			if m := c.r.Method; m == http.MethodGet || m == http.MethodHead {
				vals = c.r.URL.Query()
			} else {
				if mediaType(c.r.Header.Get("Content-Type")) != "application/x-www-form-urlencoded" {
					return UnsupportedMediaType("want a form body (Content-Type: application/x-www-form-urlencoded)")
				}
				body, err := readBody(c.r, limit)
				if err != nil {
					return err
				}
				vals, err = url.ParseQuery(string(body))
				if err != nil {
					return &Error{Status: http.StatusBadRequest, Code: CodeInvalidForm, Message: "malformed form body", Err: err}
				}
				c.body, c.hasBody = body, true
			}
			var v T
			if err := plan.DecodeValues(unsafe.Pointer(&v), vals); err != nil {
				return inputError(CodeInvalidForm, err)
			}
			return st(c, v)
		}, nil
	}}}
}

// Multipart declares a multipart/form-data upload route. The body is never
// read by the gateway: it streams to the upstream as it arrives. A request
// with another content type is refused with 415. Multipart cannot be
// combined with another body input or with [Map].
func Multipart() RouteOption {
	return inputOption{slot: 2, mode: bodyMultipart, decl: &inputDecl{build: func(*inputBuild) (step, error) {
		return func(c *Ctx) error {
			if !strings.HasPrefix(mediaType(c.r.Header.Get("Content-Type")), "multipart/") {
				return UnsupportedMediaType("want a multipart body (Content-Type: multipart/form-data)")
			}
			return nil
		}, nil
	}}}
}

type strictOption struct{}

func (strictOption) applyRoute(r *routeSpec) { r.in.strict = true }

// Strict makes a route's typed inputs refuse what their types do not name:
// unknown JSON fields and unknown query or form keys are a 400. By default
// they are ignored.
func Strict() RouteOption { return strictOption{} }

func compileInputs(rt *route, spec *inputSpec) (*inputPlan, error) {
	if spec.path == nil && spec.query == nil && spec.body == nil {
		if spec.mapper != nil {
			return nil, errors.New("Map needs a Query, JSON or Form input to map from")
		}
		return nil, nil
	}
	b := &inputBuild{rt: rt, params: rewrite.Params(rt.pattern), strict: spec.strict,
		isGet: rt.method == http.MethodGet || rt.method == http.MethodHead}
	p := &inputPlan{limit: rt.bodyLimit}
	var errs []error
	add := func(d *inputDecl) step {
		if d == nil {
			return nil
		}
		s, err := d.build(b)
		if err != nil {
			errs = append(errs, err)
		}
		return s
	}
	p.path = add(spec.path)
	if s := add(spec.query); s != nil {
		p.rest = append(p.rest, s)
	}
	if s := add(spec.body); s != nil {
		p.rest = append(p.rest, s)
	}
	if spec.mapper != nil {
		s, err := spec.mapper.compile(spec, b)
		if err != nil {
			errs = append(errs, err)
		} else {
			p.rest = append(p.rest, s)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *inputPlan) decodePath(c *Ctx) error {
	if p.path == nil {
		return nil
	}
	return p.path(c)
}

func (p *inputPlan) decodeRest(c *Ctx) error {
	for _, s := range p.rest {
		if err := s(c); err != nil {
			return err
		}
	}
	return nil
}

// store validates v (when it has a Validate method) and keeps it as the
// request's value of its type and as the map's input.
func store[T any](c *Ctx, v T) error {
	var a any = v
	c.vals = append(c.vals, a)
	c.input = a
	return nil
}

// storeValidated is store for a T with a Validate method, which runs
// first.
func storeValidated[T any](c *Ctx, v T) error {
	if err := validate(&v); err != nil {
		return err
	}
	return store(c, v)
}

// storeFor returns the store function for T, chosen when the route is
// built: checking for a Validate method at each request would copy the
// input into an interface.
func storeFor[T any]() func(*Ctx, T) error {
	t := reflect.TypeFor[T]()
	vt := reflect.TypeFor[Validator]()
	if t.Implements(vt) || reflect.PointerTo(t).Implements(vt) {
		return storeValidated[T]
	}
	return store[T]
}

// Validator is implemented by input types that check themselves after
// decoding. An error from Validate is a 422 "validation_failed" with the
// error's text as the message, or the *[Error] it returns.
type Validator interface {
	Validate() error
}

func validate[T any](v *T) error {
	var err error
	if vv, ok := any(v).(Validator); ok {
		err = vv.Validate()
	} else if vv, ok := any(*v).(Validator); ok {
		err = vv.Validate()
	}
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Status: http.StatusUnprocessableEntity, Code: CodeValidationFailed, Message: err.Error(), Err: err}
}

// inputError turns a decode error into a 400 with a client-safe message.
func inputError(code string, err error) error {
	var fe *decode.FieldError
	if errors.As(err, &fe) {
		return &Error{Status: http.StatusBadRequest, Code: code, Message: fe.Error(), Err: err}
	}
	return &Error{Status: http.StatusBadRequest, Code: code, Message: "invalid input", Err: err}
}

// unescapeParams returns ps with percent-escapes decoded, the same slice
// when no value has one. The router matches on the escaped path.
func unescapeParams(ps httprouter.Params) httprouter.Params {
	for i := range ps {
		if strings.IndexByte(ps[i].Value, '%') >= 0 {
			out := append(httprouter.Params(nil), ps...)
			for j := i; j < len(out); j++ {
				if v, err := url.PathUnescape(out[j].Value); err == nil {
					out[j].Value = v
				}
			}
			return out
		}
	}
	return ps
}

// firstBodyBuf is the most readBody allocates before the body arrives.
const firstBodyBuf = 16 << 10

// readBody reads the whole request body if it fits in limit bytes, and
// fails with 413 without reading further if it does not, whether or not
// the request declared a Content-Length.
//
// Memory follows what arrives, not what the client declared: the buffer
// starts at the declared length up to 16 KiB and grows fourfold as it
// fills (to the declared length at most while the body keeps to it), so a
// client that declares 2 MiB and sends 100 bytes holds 16 KiB, not 2 MiB,
// and one that sends n bytes never holds more than 16 KiB + 4n.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	tooLarge := func() error {
		return PayloadTooLarge("body larger than " + strconv.FormatInt(limit, 10) + " bytes")
	}
	cl := r.ContentLength
	if cl > limit {
		return nil, tooLarge()
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	// One byte beyond the declared length leaves room to see the end.
	size := int64(512)
	if cl >= 0 {
		size = min(cl, firstBodyBuf) + 1
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			n := int64(len(buf))
			grow := 3 * n // to four times the size
			if cl >= n {
				grow = min(grow, cl+1-n)
			}
			buf = slices.Grow(buf, int(min(grow, limit+1-n)))
		}
		room := buf[len(buf):min(int64(cap(buf)), limit+1)]
		n, err := r.Body.Read(room)
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, tooLarge()
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil && r.Context().Err() != nil {
			return nil, &Error{Status: StatusClientClosedRequest, Code: CodeClientClosed, Message: "client closed request", Err: err}
		}
		if err != nil {
			return nil, &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: "could not read the request body", Err: err}
		}
	}
}

// decodeJSON decodes body into a new T with dec, compiled for T (nil when
// T is left to encoding/json). A body dec refuses is decoded afresh by
// encoding/json, which words the error.
func decodeJSON[T any](dec *decode.JSONDecoder, body []byte, strict bool) (T, error) {
	var v T
	if dec != nil && dec.Decode(unsafe.Pointer(&v), body) {
		return v, nil
	}
	return unmarshalJSONInto[T](body, strict)
}

// unmarshalJSONInto decodes body into a new T with encoding/json, as
// unmarshalJSON does.
func unmarshalJSONInto[T any](body []byte, strict bool) (T, error) {
	var v T
	err := unmarshalJSON(body, &v, strict)
	return v, err
}

func unmarshalJSON(body []byte, v any, strict bool) error {
	var err error
	if !strict {
		err = json.Unmarshal(body, v)
	} else {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err = dec.Decode(v); err == nil {
			if _, terr := dec.Token(); terr != io.EOF {
				err = errors.New("apigate: data after the JSON value")
			}
		}
	}
	if err == nil {
		return nil
	}
	msg := "malformed JSON body"
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		msg = "empty JSON body"
	case errors.As(err, &se):
		msg = "malformed JSON body at byte " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &te) && te.Field != "":
		msg = "invalid JSON field " + strconv.Quote(clipString(te.Field)) + ": expected " + jsonKind(te.Type)
	case errors.As(err, &te):
		msg = "invalid JSON body: expected " + jsonKind(te.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		msg = "unknown JSON field " + clipString(strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: msg, Err: err}
}

func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "a value"
}

// mediaType returns the lower-cased media type of a Content-Type value,
// without parameters.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	for i := 0; i < len(ct); i++ {
		if c := ct[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(ct)
		}
	}
	return ct
}

// isJSONType reports whether ct is application/json or a +json type.
func isJSONType(ct string) bool {
	mt := mediaType(ct)
	if mt == "application/json" {
		return true
	}
	if !strings.HasSuffix(mt, "+json") {
		return false
	}
	_, _, err := mime.ParseMediaType(ct)
	return err == nil
}
