package apigate

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/apigate-go/apigate/internal/field"
	"github.com/apigate-go/apigate/internal/hop"
)

// Stable error codes. Every error a client can see carries one; they never
// change meaning between releases.
const (
	CodeNotFound             = "not_found"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeBadRequest           = "bad_request"
	CodeInvalidPath          = "invalid_path"
	CodeInvalidQuery         = "invalid_query"
	CodeInvalidJSON          = "invalid_json"
	CodeInvalidForm          = "invalid_form"
	CodeInvalidHeader        = "invalid_header"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodePayloadTooLarge      = "payload_too_large"
	CodeValidationFailed     = "validation_failed"
	CodeUnauthorized         = "unauthorized"
	CodeForbidden            = "forbidden"
	CodeTooManyRequests      = "too_many_requests"
	CodeInternal             = "internal"
	CodeNoBackend            = "no_backend"
	CodeUpstreamUnavailable  = "upstream_unavailable"
	CodeUpstreamTimeout      = "upstream_timeout"
	CodeBadGateway           = "bad_gateway"
	CodeClientClosed         = "client_closed"
	// CodeCustomResponse is reported to observers (never to clients) when a
	// hook or map answered the request itself with a [Response].
	CodeCustomResponse = "custom_response"
)

// StatusClientClosedRequest is the status logged (never sent) when the
// client went away before the response was written, as nginx does. The
// gateway's handler then panics with [http.ErrAbortHandler], so the server
// closes the connection instead of sending an empty 200; a test that calls
// ServeHTTP directly with a cancelled context sees that panic.
const StatusClientClosedRequest = 499

// Error is an error a client can see: an HTTP status, a stable machine code,
// a client-safe message, and an internal detail that only observers see.
// Hooks and maps return one (usually through a constructor such as
// [BadRequest]) to reject a request; the gateway renders it with the
// configured [ErrorRenderer]. errors.As finds an *Error through wrapping.
type Error struct {
	// Status is the HTTP status sent to the client.
	Status int
	// Code is a stable machine-readable code such as "invalid_json".
	Code string
	// Message is safe to show to the client.
	Message string
	// Detail is for operators: it goes to the observer, never the client.
	Detail string
	// Err is the underlying cause, if any (also internal).
	Err error
	// Header holds fields sent with the error response, such as
	// WWW-Authenticate on a 401 (RFC 9110 requires one) or Retry-After on
	// a 503. The gateway sets them before calling the [ErrorRenderer],
	// which may replace them. Fields that would change the response's
	// framing (Content-Length, Transfer-Encoding and the other hop-by-hop
	// fields), fields with an invalid name and invalid values are not
	// sent.
	Header http.Header
}

// Error returns "apigate: code: message", with the detail and cause when
// present.
func (e *Error) Error() string {
	s := "apigate: " + e.Code + ": " + e.Message
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	if e.Err != nil {
		if m := e.Err.Error(); m != e.Message {
			s += ": " + m
		}
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// WithDetail returns a copy of e with an internal detail, for observers.
func (e *Error) WithDetail(format string, args ...any) *Error {
	c := *e
	c.Detail = fmt.Sprintf(format, args...)
	return &c
}

// NewError returns an *Error with the given status, code and client-safe
// message.
func NewError(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// BadRequest returns a 400 error with code "bad_request".
func BadRequest(message string) *Error {
	return NewError(http.StatusBadRequest, CodeBadRequest, message)
}

// Unauthorized returns a 401 error with code "unauthorized".
func Unauthorized(message string) *Error {
	return NewError(http.StatusUnauthorized, CodeUnauthorized, message)
}

// Forbidden returns a 403 error with code "forbidden".
func Forbidden(message string) *Error { return NewError(http.StatusForbidden, CodeForbidden, message) }

// NotFound returns a 404 error with code "not_found".
func NotFound(message string) *Error { return NewError(http.StatusNotFound, CodeNotFound, message) }

// PayloadTooLarge returns a 413 error with code "payload_too_large".
func PayloadTooLarge(message string) *Error {
	return NewError(http.StatusRequestEntityTooLarge, CodePayloadTooLarge, message)
}

// UnsupportedMediaType returns a 415 error with code
// "unsupported_media_type".
func UnsupportedMediaType(message string) *Error {
	return NewError(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, message)
}

// Unprocessable returns a 422 error with code "validation_failed".
func Unprocessable(message string) *Error {
	return NewError(http.StatusUnprocessableEntity, CodeValidationFailed, message)
}

// TooManyRequests returns a 429 error with code "too_many_requests".
func TooManyRequests(message string) *Error {
	return NewError(http.StatusTooManyRequests, CodeTooManyRequests, message)
}

// Internal returns a 500 error with code "internal". The message is shown
// to the client; put internal facts in [Error.Detail].
func Internal(message string) *Error {
	return NewError(http.StatusInternalServerError, CodeInternal, message)
}

// BadGateway returns a 502 error with code "bad_gateway".
func BadGateway(message string) *Error {
	return NewError(http.StatusBadGateway, CodeBadGateway, message)
}

// GatewayTimeout returns a 504 error with code "upstream_timeout".
func GatewayTimeout(message string) *Error {
	return NewError(http.StatusGatewayTimeout, CodeUpstreamTimeout, message)
}

// Response is a complete response a hook or map returns as its error to
// answer the client directly: the renderer is bypassed and nothing goes
// upstream. Build one with [Respond] or [RespondJSON]. Content-Length is
// set from Body; as with [Error].Header, hop-by-hop fields, fields with an
// invalid name and invalid values in Header are not sent.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Error describes the response; it is never shown to the client.
func (r *Response) Error() string { return "apigate: custom response " + strconv.Itoa(r.Status) }

// Respond returns a [Response] error with any status, headers and body.
// The header map is copied.
func Respond(status int, header http.Header, body []byte) error {
	return &Response{Status: status, Header: header.Clone(), Body: body}
}

// RespondJSON returns a [Response] error whose body is v encoded as JSON,
// with Content-Type application/json. If v cannot be encoded, the error is
// an internal *Error instead.
func RespondJSON(status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return &Error{Status: http.StatusInternalServerError, Code: CodeInternal,
			Message: "internal error", Err: fmt.Errorf("apigate: encode custom response: %w", err)}
	}
	return &Response{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: b}
}

func (r *Response) write(w http.ResponseWriter) {
	h := w.Header()
	setClientHeader(h, r.Header)
	h.Set("Content-Length", strconv.Itoa(len(r.Body)))
	w.WriteHeader(r.Status)
	w.Write(r.Body)
}

// render sends e to the client through the gateway's renderer, with the
// fields of e.Header that may go out.
func (g *Gateway) render(w http.ResponseWriter, r *http.Request, e *Error) {
	if len(e.Header) > 0 {
		setClientHeader(w.Header(), e.Header)
	}
	g.renderer(w, r, e)
}

// setClientHeader copies the fields a hook or map chose for the client
// (an [Error]'s or a [Response]'s) from src into dst, replacing dst's
// values, except those that are invalid or would change the response's
// framing.
func setClientHeader(dst, src http.Header) {
	for k, vv := range src {
		k, valid := field.CanonicalName(k)
		if !valid || hop.IsHop(k) || k == "Content-Length" {
			continue
		}
		var ok []string
		for _, v := range vv {
			if field.ValidValue(v) {
				ok = append(ok, v)
			}
		}
		if len(ok) > 0 {
			dst[k] = ok
		}
	}
}

// ErrorRenderer writes an *Error to the client. It is called for every
// error the gateway sends: routing misses, input failures, hook rejections
// and upstream failures. It must not keep w or r.
type ErrorRenderer func(w http.ResponseWriter, r *http.Request, e *Error)

// TextErrors is the default [ErrorRenderer]: a text/plain body
// "code: message\n".
func TextErrors(w http.ResponseWriter, _ *http.Request, e *Error) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status)
	w.Write([]byte(e.Code + ": " + e.Message + "\n"))
}

// JSONErrors is an [ErrorRenderer] that writes the envelope
// {"error":{"code":"…","message":"…"}} with Content-Type application/json.
func JSONErrors(w http.ResponseWriter, _ *http.Request, e *Error) {
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	b, _ := json.Marshal(struct {
		Error body `json:"error"`
	}{body{e.Code, e.Message}})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status)
	w.Write(append(b, '\n'))
}

// asError turns any error from user code into an *Error or a *Response.
// A plain Go error becomes a 500 whose message reveals nothing; the cause
// stays in Err for observers.
func asError(err error) (*Error, *Response) {
	var resp *Response
	if errors.As(err, &resp) {
		return nil, resp
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Status < 400 || e.Status > 599 {
			c := *e
			c.Status = http.StatusInternalServerError
			return &c, nil
		}
		if e.Err == nil && err != error(e) {
			c := *e
			c.Err = err
			return &c, nil
		}
		return e, nil
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error", Err: err}, nil
}
