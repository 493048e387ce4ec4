package h1

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apigate-go/apigate/internal/field"
	"github.com/apigate-go/apigate/internal/hop"
)

// maxPending is how much of a response body without a Content-Length is
// held back, so that a short body gets one computed rather than chunked
// framing.
const maxPending = 4 << 10

// response is the [http.ResponseWriter] of one request. It also
// implements the methods [http.ResponseController] looks for: Flush,
// FlushError, Hijack, SetReadDeadline, SetWriteDeadline and
// EnableFullDuplex.
type response struct {
	c    *srvConn
	req  *http.Request
	body *reqBody
	ctx  *reqCtx

	status    int
	wroteHead bool  // WriteHeader called (or implied)
	committed bool  // the head is in the connection's buffer
	head      bool  // a HEAD request: no body goes out
	length    int64 // the declared Content-Length, -1 if none
	written   int64 // body bytes accepted
	chunked   bool
	noBody    bool // the status allows no body
	keep      bool // the connection can be reused after this response
	failed    bool // a write to the client failed

	// A body read on another goroutine may send "100 Continue" while the
	// handler writes: contMu orders the two, and canContinue is cleared
	// (under contMu) once the response has begun.
	contMu      sync.Mutex
	canContinue atomic.Bool
}

// endContinue stops body reads from sending "100 Continue": the response
// is about to begin.
func (w *response) endContinue() {
	if w.canContinue.Load() {
		w.contMu.Lock()
		w.canContinue.Store(false)
		w.contMu.Unlock()
	}
}

var errHijacked = http.ErrHijacked

func (w *response) Header() http.Header { return w.c.resHdr }

func (w *response) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.wroteHead || w.c.hijacked {
		return
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		w.writeInformational(code)
		return
	}
	w.wroteHead, w.status = true, code
	h := w.c.resHdr
	w.noBody = code < 200 || code == http.StatusNoContent || code == http.StatusNotModified
	if cl, ok := h["Content-Length"]; ok {
		n, valid := int64(-1), false
		if len(cl) == 1 {
			n, valid = parseLength(cl[0])
		}
		switch {
		case !valid || code < 200 || code == http.StatusNoContent:
			delete(h, "Content-Length")
		case !w.noBody:
			w.length = n
		}
	}
	delete(h, "Transfer-Encoding")
	if _, ok := h["Trailer"]; ok && !w.noBody && w.req.ProtoMinor >= 1 {
		w.length = -1
		delete(h, "Content-Length")
	}
}

// writeInformational sends a 1xx response at once, with the header as it
// is now.
func (w *response) writeInformational(code int) {
	if w.req.ProtoMinor == 0 || w.failed {
		return
	}
	if w.canContinue.Load() {
		w.contMu.Lock() // a body read may be sending "100 Continue"
		defer w.contMu.Unlock()
		if code == http.StatusContinue {
			// The handler sends it: a body read must not send another.
			w.canContinue.Store(false)
		}
	}
	bw := w.c.bw
	writeStatus(bw, code)
	// A 1xx response has no body, and says nothing of the final one's
	// (RFC 9110, sections 6.1 and 8.6): no framing field, as in net/http.
	writeFields(bw, w.c.resHdr, false)
	bw.WriteString("\r\n")
	w.check(bw.Flush())
}

func (w *response) Write(p []byte) (int, error) {
	if w.c.hijacked {
		return 0, errHijacked
	}
	if !w.wroteHead {
		w.WriteHeader(http.StatusOK)
	}
	if w.noBody {
		return 0, http.ErrBodyNotAllowed
	}
	if w.failed {
		return 0, errClientGone
	}
	if w.length >= 0 && w.written+int64(len(p)) > w.length {
		return 0, http.ErrContentLength
	}
	if !w.committed {
		if w.length < 0 && len(w.c.pending)+len(p) <= maxPending {
			w.c.pending = append(w.c.pending, p...)
			w.written += int64(len(p))
			return len(p), nil
		}
		if err := w.commit(false, p); err != nil {
			return 0, err
		}
	}
	w.written += int64(len(p))
	if w.head {
		return len(p), nil
	}
	if err := w.writeBody(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// writeBody writes p, as a chunk when the response is chunked.
func (w *response) writeBody(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	bw := w.c.bw
	if w.chunked {
		bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(len(p)), 16))
		bw.WriteString("\r\n")
		bw.Write(p)
		_, err := bw.WriteString("\r\n")
		return w.check(err)
	}
	_, err := bw.Write(p)
	return w.check(err)
}

// check records a failed write: the client is gone, so the request's
// context is cancelled and the connection will close.
func (w *response) check(err error) error {
	if err != nil && !w.failed {
		w.failed, w.keep = true, false
		w.ctx.cancel()
	}
	return err
}

var errClientGone = errors.New("h1: connection to the client failed")

// commit writes the head into the connection's buffer, and the body held
// back so far. final is set when the handler has returned, so the body
// is whole; next is the body about to be written, if any (for sniffing
// the Content-Type).
func (w *response) commit(final bool, next []byte) error {
	w.endContinue()
	w.committed = true
	c := w.c
	h := c.resHdr
	minor := w.req.ProtoMinor
	var length int64 = -1
	switch {
	case w.noBody:
	case w.length >= 0:
		length = w.length
	case final && !hasTrailers(h):
		length = int64(len(c.pending))
		if w.head && length == 0 {
			length = -1 // a HEAD answer without a body says nothing of its length
		}
	case minor >= 1 && !w.head:
		w.chunked = true
	case !w.head:
		w.keep = false // HTTP/1.0: the end of the body is the end of the connection
	}
	if w.keep && w.body.remainsLarge() {
		w.keep = false
	}
	handlerClose := hop.HasToken(h["Connection"], "close")
	if w.keep && (c.srv.closing.Load() || handlerClose) {
		w.keep = false
	}
	if sniff := c.pending; !w.noBody && c.raw == "" {
		if len(sniff) == 0 {
			sniff = next
		}
		if _, ok := h["Content-Type"]; !ok && len(sniff) > 0 {
			h["Content-Type"] = []string{http.DetectContentType(sniff)}
		}
	}

	// The framing fields are written from what WriteHeader settled, not
	// from the map: a handler's later changes to them have no effect, as
	// in net/http, which snapshots the header. A raw head carries its
	// own Content-Length; a 304's, which describes the representation,
	// goes out as the handler set it.
	bw := c.bw
	writeStatus(bw, w.status)
	raw := c.raw != ""
	if raw {
		c.writeRawHead(bw, h)
		c.raw, c.rawSkip = "", ""
	} else {
		writeFields(bw, h, w.status == http.StatusNotModified)
		if _, ok := h["Date"]; !ok {
			c.writeDate(bw)
		}
	}
	if length >= 0 && !raw {
		bw.WriteString("Content-Length: ")
		bw.Write(strconv.AppendInt(bw.AvailableBuffer(), length, 10))
		bw.WriteString("\r\n")
	}
	if w.chunked {
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	switch {
	case !w.keep && !handlerClose:
		bw.WriteString("Connection: close\r\n")
	case w.keep && minor == 0:
		bw.WriteString("Connection: keep-alive\r\n")
	}
	_, err := bw.WriteString("\r\n")
	if w.check(err) != nil {
		return err
	}
	p := c.pending
	c.pending = c.pending[:0]
	if w.head {
		return nil
	}
	return w.writeBody(p)
}

// finish completes the response after the handler returned and reports
// whether the connection can carry another request. The response goes
// out before the server takes the request body back (see
// [reqBody.release]): a goroutine the handler left reading it may be
// waiting for the client, and the client for the response.
func (w *response) finish() bool {
	w.ctx.cancel()
	if !w.wroteHead {
		w.WriteHeader(http.StatusOK)
	}
	drained := false
	if !w.committed && w.keep && !w.failed && w.body.mode == framedChunked {
		// A chunked rest may be too long to drain: drain it before the
		// head, when no other goroutine reads it, so that the head says
		// "Connection: close" when the connection cannot be kept, as
		// net/http does. (mode is set before the handler runs; eof is
		// the reader's, read under the body's lock.)
		drained, w.keep = w.body.drainFirst(w.c.srv.drainWait)
	}
	if !w.committed {
		w.commit(true, nil)
	}
	bw := w.c.bw
	if w.chunked && !w.failed {
		bw.WriteString("0\r\n")
		writeTrailers(bw, w.c.resHdr)
		_, err := bw.WriteString("\r\n")
		w.check(err)
	}
	if w.length >= 0 && w.written < w.length && !w.head {
		w.keep = false // the body is short: only a close can tell
	}
	if !w.failed {
		w.check(bw.Flush())
	}
	if !drained {
		w.keep = w.body.release(w.keep && !w.failed, w.c.srv.drainWait)
	}
	if !w.keep && !w.failed && !w.body.eof {
		w.c.closeWriteAndWait()
	}
	return w.keep && !w.failed
}

// Flush sends the head and any buffered body to the client.
func (w *response) Flush() { w.FlushError() }

// FlushError is Flush reporting the write error, for
// [http.ResponseController].
func (w *response) FlushError() error {
	if w.c.hijacked {
		return errHijacked
	}
	if !w.wroteHead {
		w.WriteHeader(http.StatusOK)
	}
	if w.failed {
		return errClientGone
	}
	if !w.committed {
		if err := w.commit(false, nil); err != nil {
			return err
		}
	}
	return w.check(w.c.bw.Flush())
}

// Hijack hands the connection to the handler, with a reader holding any
// bytes the client sent ahead.
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c := w.c
	if c.hijacked {
		return nil, nil, errHijacked
	}
	if w.wroteHead && !w.committed {
		w.commit(false, nil)
	}
	if err := c.bw.Flush(); err != nil {
		return nil, nil, err
	}
	w.endContinue()
	w.body.state.Store(reqBodyReleased) // the body must not be used after Hijack
	c.hijacked = true
	c.state.Store(stateClosed)
	c.srv.forget(c)
	c.srv.hangups.remove(c)
	nc := plainConn(c.nc)
	nc.SetDeadline(time.Time{})
	return nc, bufio.NewReadWriter(c.br, bufio.NewWriter(nc)), nil
}

// SetReadDeadline sets the connection's read deadline, for this request:
// the server clears it before the next one (see serve).
func (w *response) SetReadDeadline(t time.Time) error {
	w.c.handlerDL.Store(true)
	return w.c.nc.SetReadDeadline(t)
}

// SetWriteDeadline sets the connection's write deadline, for this
// request, as SetReadDeadline does.
func (w *response) SetWriteDeadline(t time.Time) error {
	w.c.handlerDL.Store(true)
	return w.c.nc.SetWriteDeadline(t)
}

// EnableFullDuplex is a no-op: the request body can always be read while
// the response is written.
func (w *response) EnableFullDuplex() error { return nil }

// hasTrailers reports whether the handler declared trailers.
func hasTrailers(h http.Header) bool {
	_, ok := h["Trailer"]
	return ok
}

// writeTrailers writes the declared trailers and those set with
// [http.TrailerPrefix].
func writeTrailers(bw *bufio.Writer, h http.Header) {
	for _, k := range trailerKeys(h["Trailer"]) {
		if !field.ValidName(k) {
			continue
		}
		for _, v := range h[k] {
			writeField(bw, k, v)
		}
	}
	for k, vv := range h {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok && field.ValidName(name) {
			for _, v := range vv {
				writeField(bw, name, v)
			}
		}
	}
}

// writeStatus writes the status line.
func writeStatus(bw *bufio.Writer, code int) {
	bw.WriteString("HTTP/1.1 ")
	bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(code), 10))
	bw.WriteByte(' ')
	if text := http.StatusText(code); text != "" {
		bw.WriteString(text)
	} else {
		bw.WriteString("status code ")
		bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(code), 10))
	}
	bw.WriteString("\r\n")
}

// writeDate writes the server's Date field.
func (c *srvConn) writeDate(bw *bufio.Writer) {
	bw.WriteString("Date: ")
	bw.Write(c.srv.dateValue())
	bw.WriteString("\r\n")
}

// writeFields writes the header's fields, but not those with the
// trailer prefix.
func writeFields(bw *bufio.Writer, h http.Header, keepLength bool) {
	for k, vv := range h {
		if !field.ValidName(k) {
			continue // also skips TrailerPrefix keys
		}
		if k == "Transfer-Encoding" || k == "Content-Length" && !keepLength {
			continue // the server writes the framing itself
		}
		for _, v := range vv {
			writeField(bw, k, v)
		}
	}
}

// writeField writes one field, turning CR and LF in the value into
// spaces so that a value cannot split the head.
func writeField(bw *bufio.Writer, k, v string) {
	if strings.IndexByte(v, '\n') < 0 && strings.IndexByte(v, '\r') < 0 {
		putField(bw, k, v)
		return
	}
	bw.WriteString(k)
	bw.WriteString(": ")
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		bw.WriteByte(c)
	}
	bw.WriteString("\r\n")
}

// closeWriteAndWait sends FIN and reads what the client still sends, for
// a short while, so that closing with unread data does not reset the
// connection before the client has read the response.
func (c *srvConn) closeWriteAndWait() {
	type closeWriter interface{ CloseWrite() error }
	cw, ok := c.nc.(closeWriter)
	if !ok {
		return
	}
	c.bw.Flush()
	cw.CloseWrite()
	c.nc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	io.CopyN(io.Discard, c.nc, 1<<20)
}
