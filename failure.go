package apigate

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/apigate-go/apigate/balancer"
)

// failure maps the failed attempt on backend b to the client's error, and
// reports whether the request may go to another backend instead. The
// client's side is checked first: a client that left, sent too much, or
// was still sending when the deadline passed is not the backend's fault.
func (x *exchange) failure(b balancer.Backend, attempt int, err error) (*Error, bool) {
	if x.streamed && x.o.body.expired.Load() {
		// The deadline interrupted the client's upload; the server may
		// take the interrupted read for a client that left, but the
		// client is still there to be told.
		return timeoutError(err), false
	}
	if x.r.Context().Err() != nil {
		return &Error{Status: StatusClientClosedRequest, Code: CodeClientClosed, Message: "client closed request", Err: err}, false
	}
	if x.streamed {
		body := x.o.body
		switch {
		case body.tooLarge.Load():
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodePayloadTooLarge, Message: "request body too large", Err: err}, false
		case body.failed.Load():
			return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: "could not read the request body", Err: err}, false
		}
	}
	x.rt.svc.health.failure(b.Index)
	if attempt == 0 && len(x.cands) > 1 && canRetry(&x.o.req, x.streamed, err) {
		return nil, true
	}
	return upstreamError(x.o.req.Context(), err), false
}

// canRetry reports whether a failed exchange may be sent to another
// backend: the method is idempotent, the body (if any) can be sent again,
// and the connection was never established, so the upstream saw nothing.
func canRetry(out *http.Request, streamed bool, err error) bool {
	switch out.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
	default:
		return false
	}
	return !streamed && isDialError(err)
}

// isDialError reports whether err is a failure to connect, so the
// upstream received nothing.
func isDialError(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// upstreamError maps a transport failure to the client-facing error; ctx
// is the outbound request's.
func upstreamError(ctx context.Context, err error) *Error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || errors.As(err, &ne) && ne.Timeout() {
		return timeoutError(err)
	}
	if isDialError(err) {
		return &Error{Status: http.StatusBadGateway, Code: CodeUpstreamUnavailable, Message: "upstream unavailable", Err: err}
	}
	return &Error{Status: http.StatusBadGateway, Code: CodeBadGateway, Message: "bad gateway", Err: err}
}

func timeoutError(err error) *Error {
	return &Error{Status: http.StatusGatewayTimeout, Code: CodeUpstreamTimeout, Message: "upstream timed out", Err: err}
}
