package h1

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/apigate-go/apigate/internal/field"
)

// bodyReadError marks a failure to read the request body, as opposed to a
// failure to write to the upstream.
type bodyReadError struct{ err error }

func (e *bodyReadError) Error() string { return "reading request body: " + e.err.Error() }
func (e *bodyReadError) Unwrap() error { return e.err }

// writeHead writes the request line and header block into bw. length is
// the body length, -1 for chunked. It returns only validation errors.
func writeHead(bw *bufio.Writer, req *http.Request, host string, length int64) error {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	} else if !field.ValidName(method) {
		return fmt.Errorf("invalid method %q", method)
	}
	bw.WriteString(method)
	bw.WriteByte(' ')
	if err := writeTarget(bw, req.URL); err != nil {
		return err
	}
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(host)
	bw.WriteString("\r\n")
	for k, vv := range req.Header {
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		}
		if !field.ValidName(k) {
			return fmt.Errorf("invalid header name %q", k)
		}
		for _, v := range vv {
			if !field.ValidValue(v) {
				return fmt.Errorf("invalid value for header %q", k)
			}
			putField(bw, k, v)
		}
	}
	switch {
	case length < 0:
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	case length > 0 || bodyExpected(method):
		bw.WriteString("Content-Length: ")
		bw.Write(strconv.AppendInt(bw.AvailableBuffer(), length, 10))
		bw.WriteString("\r\n")
	}
	if req.Close {
		bw.WriteString("Connection: close\r\n")
	}
	bw.WriteString("\r\n")
	return nil // write errors are sticky in bw and surface at Flush
}

// putField writes the field "k: v" and its CRLF into bw, in one copy
// when the buffer has room: a head is many short strings, and four
// WriteString calls per field cost more than the bytes they move.
func putField(bw *bufio.Writer, k, v string) {
	if bw.Available() < len(k)+len(v)+4 {
		bw.WriteString(k)
		bw.WriteString(": ")
		bw.WriteString(v)
		bw.WriteString("\r\n")
		return
	}
	b := bw.AvailableBuffer()
	b = append(b, k...)
	b = append(b, ':', ' ')
	b = append(b, v...)
	b = append(b, '\r', '\n')
	bw.Write(b)
}

// writeTarget writes the request target: the escaped path (RawPath when
// it is a valid encoding of Path) and the raw query.
func writeTarget(bw *bufio.Writer, u *url.URL) error {
	if u.Opaque != "" {
		// As net/http, which refuses control characters in a target:
		// one would end the request line early.
		ruri := u.RequestURI()
		if !validTarget(ruri) {
			return errors.New("invalid request target")
		}
		bw.WriteString(ruri)
		return nil
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if !validTarget(p) {
		return errors.New("invalid request path")
	}
	bw.WriteString(p)
	if u.ForceQuery || u.RawQuery != "" {
		if !validTarget(u.RawQuery) {
			return errors.New("invalid request query")
		}
		bw.WriteByte('?')
		bw.WriteString(u.RawQuery)
	}
	return nil
}

// writeBody copies body to bw: length bytes with a flush after each read
// that leaves more to come, or chunked (length -1) with a flush per chunk.
// The last bytes stay in bw for the caller to flush. Read failures are
// *bodyReadError.
func (t *Transport) writeBody(bw *bufio.Writer, body io.Reader, length int64) error {
	bp := t.bufs.Get().(*[]byte)
	defer t.bufs.Put(bp)
	buf := *bp
	chunked := length < 0
	for chunked || length > 0 {
		b := buf
		if !chunked && int64(len(b)) > length {
			b = b[:length]
		}
		n, rerr := body.Read(b)
		if n > 0 {
			if chunked {
				bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(n), 16))
				bw.WriteString("\r\n")
			} else {
				length -= int64(n)
			}
			bw.Write(b[:n])
			if chunked {
				bw.WriteString("\r\n")
			}
			// More may come later: send what we have now.
			if rerr == nil && (chunked || length > 0) {
				if err := bw.Flush(); err != nil {
					return err
				}
			}
		}
		if rerr == io.EOF {
			if !chunked && length > 0 {
				return &bodyReadError{fmt.Errorf("body ended %d bytes before its ContentLength: %w", length, io.ErrUnexpectedEOF)}
			}
			break
		}
		if rerr != nil {
			return &bodyReadError{rerr}
		}
	}
	if chunked {
		bw.WriteString("0\r\n\r\n")
	}
	return nil
}

// bodyExpected reports whether a request with this method carries
// "Content-Length: 0" when it has no body, as net/http does.
func bodyExpected(method string) bool {
	return method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch
}

// validTarget reports whether s, a request target or a part of one (its
// path, its raw query), can go on the request line: no space, control
// character or DEL.
func validTarget(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// validHost reports whether s can be sent as the Host header.
func validHost(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f {
			return false
		}
		switch c {
		case '/', '?', '#', '@', '\\':
			return false
		}
	}
	return true
}
