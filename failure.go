package apigate

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/apigate-go/apigate/balancer"
)

// failure maps the failed attempt on backend b, the last of attempts, to
// the client's error, and reports whether the request may be tried again
// instead (see [RetryOptions]). The
// client's side is checked first: a client that left, sent too much, or
// was still sending when the deadline passed is not the backend's fault.
func (x *exchange) failure(b balancer.Backend, attempts int, err error) (*Error, bool) {
	if x.streamed && x.o.body.expired.Load() {
		// The deadline interrupted the client's upload; the server may
		// take the interrupted read for a client that left, but the
		// client is still there to be told.
		return timeoutError(err), false
	}
	if x.r.Context().Err() != nil {
		return clientClosed(err), false
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
	x.bs.health.failure(b.Index)
	if x.mayRetry(attempts, x.classify(err)) {
		return nil, true
	}
	return upstreamError(x.o.req.Context(), err), false
}

// clientClosed is the error of a request whose client went away.
func clientClosed(err error) *Error {
	return &Error{Status: StatusClientClosedRequest, Code: CodeClientClosed, Message: "client closed request", Err: err}
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
	if isTimeout(ctx, err) {
		return timeoutError(err)
	}
	if isDialError(err) {
		return &Error{Status: http.StatusBadGateway, Code: CodeUpstreamUnavailable, Message: "upstream unavailable", Err: err}
	}
	return &Error{Status: http.StatusBadGateway, Code: CodeBadGateway, Message: "bad gateway", Err: err}
}

// isTimeout reports whether err is a timeout; ctx is the outbound
// request's.
func isTimeout(ctx context.Context, err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || errors.As(err, &ne) && ne.Timeout()
}

func timeoutError(err error) *Error {
	return &Error{Status: http.StatusGatewayTimeout, Code: CodeUpstreamTimeout, Message: "upstream timed out", Err: err}
}

// abandon ends a request whose client is gone, or whose connection can
// carry nothing more (a server cancels a connection's requests once a read
// on it failed): the handler aborts, so the server closes the connection
// instead of sending an empty 200 that a client still reading would take
// for the answer. Nothing has been written when it is called.
func abandon() {
	panic(http.ErrAbortHandler)
}
