package h1

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"strings"
)

// Body framings (RFC 9112, section 6).
const (
	framedLength  uint8 = iota // Content-Length bytes
	framedChunked              // chunked transfer coding, then trailers
	framedClose                // until the connection ends (responses only)
)

// framed reads a message body off a connection's reader, as its framing
// says; it is the body of both the requests the server reads and the
// responses the client reads.
type framed struct {
	br         *bufio.Reader
	mode       uint8
	n          int64        // bytes left, for framedLength
	chunked    io.Reader    // the decoder, for framedChunked
	trailer    *http.Header // where trailers go, for framedChunked
	maxTrailer int          // bound on the trailer section
	eof        bool         // read to its end, trailers included
	err        error        // sticky read error
}

// init sets up f for a body of length bytes (-1: chunked; -2: until the
// connection ends).
func (f *framed) init(br *bufio.Reader, length int64, trailer *http.Header, maxTrailer int) {
	f.br, f.trailer, f.maxTrailer = br, trailer, maxTrailer
	switch {
	case length >= 0:
		f.mode, f.n, f.eof = framedLength, length, length == 0
	case length == -1:
		f.mode, f.chunked = framedChunked, httputil.NewChunkedReader(br)
	default:
		f.mode = framedClose
	}
}

func (f *framed) Read(p []byte) (int, error) {
	if f.eof {
		return 0, io.EOF
	}
	if f.err != nil {
		return 0, f.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	switch f.mode {
	case framedLength:
		if int64(len(p)) > f.n {
			p = p[:f.n]
		}
		n, err := f.br.Read(p)
		f.n -= int64(n)
		switch {
		case f.n == 0:
			f.eof = true
			return n, io.EOF
		case err == io.EOF:
			err = io.ErrUnexpectedEOF
		}
		f.err = err
		return n, err
	case framedChunked:
		n, err := f.chunked.Read(p)
		if err == io.EOF {
			if err = f.readTrailer(); err == nil {
				f.eof = true
				return n, io.EOF
			}
		}
		f.err = err
		return n, err
	default:
		n, err := f.br.Read(p)
		if err == io.EOF {
			f.eof = true
		} else {
			f.err = err
		}
		return n, err
	}
}

// readTrailer reads the trailer section after the last chunk. As in
// net/http, its lines must end in CRLF: a bare LF there is an error, not
// the section's end, so that where a message ends is never in doubt.
func (f *framed) readTrailer() error {
	buf, err := readCRLFLines(f.br, f.maxTrailer)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if len(buf) == 0 {
		return nil
	}
	h, err := parseFields(string(buf))
	if err != nil {
		return err
	}
	if *f.trailer == nil {
		*f.trailer = make(http.Header, len(h))
	}
	for k, vv := range h {
		(*f.trailer)[k] = append((*f.trailer)[k], vv...)
	}
	return nil
}

// declaredTrailers moves the fields a chunked message's "Trailer" header
// names out of h into a new trailer header, with nil values until the
// body is read, as net/http does for requests and responses. It returns
// nil when h declares none, and an error for a field that may not be a
// trailer.
func declaredTrailers(h http.Header) (http.Header, error) {
	vv, ok := h["Trailer"]
	if !ok {
		return nil, nil
	}
	delete(h, "Trailer")
	tr := make(http.Header)
	for _, k := range trailerKeys(vv) {
		switch k {
		case "Transfer-Encoding", "Trailer", "Content-Length":
			return nil, fmt.Errorf("bad trailer key %q", k)
		}
		tr[k] = nil
	}
	return tr, nil
}

// trailerKeys returns the field names a "Trailer" header declares.
func trailerKeys(vv []string) []string {
	var keys []string
	for _, v := range vv {
		for _, k := range strings.Split(v, ",") {
			if k = textproto.TrimString(k); k != "" {
				keys = append(keys, http.CanonicalHeaderKey(k))
			}
		}
	}
	return keys
}
