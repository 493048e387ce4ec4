package h1

import (
	"errors"
	"io"
	"net"
	"net/http"
)

// maxDiscard is the most unread request body the server reads and drops
// after the handler returns, to keep the connection; a longer rest closes
// it.
const maxDiscard = 256 << 10

// reqBody is a request body as the handler reads it. It sends the
// interim "100 Continue" on the first read when the client waits for one.
type reqBody struct {
	framed
	c      *srvConn
	w      *response
	expect bool // 100 Continue not sent yet
	closed bool // closed by the handler
}

func (b *reqBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	return b.read(p)
}

// Close marks the body closed; the server drains what is left after the
// handler returns.
func (b *reqBody) Close() error {
	b.closed = true
	return nil
}

func (b *reqBody) read(p []byte) (int, error) {
	if b.expect && !b.eof {
		b.expect = false
		if err := b.c.writeContinue(b.w); err != nil {
			b.err = err
			return 0, err
		}
	}
	n, err := b.framed.Read(p)
	if err != nil && err != io.EOF {
		b.w.keep = false
		var ne net.Error
		if err == io.ErrUnexpectedEOF || errors.As(err, &ne) {
			b.w.ctx.cancel() // the client is gone
		}
	}
	return n, err
}

// drain reads and drops what the handler left of the body, up to
// maxDiscard, and reports whether the connection can carry another
// request.
func (b *reqBody) drain() bool {
	if b.eof {
		return true
	}
	if b.err != nil || b.expect {
		// A client waiting for 100 Continue may not send the body.
		return false
	}
	if b.mode == framedLength && b.n > maxDiscard {
		return false
	}
	n, _ := io.CopyN(io.Discard, readerFunc(b.read), maxDiscard+1)
	return b.eof && n <= maxDiscard
}

// remainsLarge reports whether what is left unread of the body is known
// to be too long to be drained, or will not be sent. A chunked rest is
// hoped to be short: if draining it fails, the connection closes after a
// response that did not announce it.
func (b *reqBody) remainsLarge() bool {
	return !b.eof && (b.expect || b.mode == framedLength && b.n > maxDiscard)
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
