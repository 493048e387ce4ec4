package h1

import (
	"bufio"
	"net/http"
	"net/textproto"
	"strings"
	"unsafe"

	"github.com/apigate-go/apigate/internal/field"
	"github.com/apigate-go/apigate/internal/hop"
)

// A raw head is an upstream response's header fields kept as they came,
// for a proxy that relays them unchanged: the client reads them without
// building a header map ([RoundTripOptions.RawHead]), and the server
// writes them to its client from the text ([WriteRawHeader]), leaving
// out the hop-by-hop fields as it goes. Only the common case is kept
// raw: a final response whose body is framed by one Content-Length,
// with a Content-Type, and whose Connection header names no field. Any
// other response is read into a header map as usual.

// rawFraming is what the client learns of a head it keeps raw.
type rawFraming struct {
	length int64 // the body's Content-Length
	close  bool  // the upstream closes the connection after the response
}

// scanRaw checks the header fields s of a final response head (lines
// ending in '\n') for keeping them raw, and returns its framing. It
// validates every field as [parseFieldsInto] does; ok is false for a
// head to read into a map instead: a field that is not valid, no
// Content-Length or more than one, a Transfer-Encoding or Trailer
// header, no Content-Type or that of an event stream (which a proxy
// flushes as it goes), or a Connection header with a token other than
// close, keep-alive and upgrade.
func scanRaw(s string, minor int) (f rawFraming, ok bool) {
	f.length = -1
	var closeTok, keepAlive, contentType bool
	for s != "" {
		var k, v string
		var found bool
		k, v, s, found = nextField(s)
		if !found || !field.ValidName(k) || !field.ValidValue(v) {
			return f, false
		}
		switch len(k) {
		case len("Trailer"):
			if strings.EqualFold(k, "Trailer") {
				return f, false
			}
		case len("Connection"):
			if !strings.EqualFold(k, "Connection") {
				break
			}
			for v != "" {
				var t string
				t, v, _ = strings.Cut(v, ",")
				switch t = textproto.TrimString(t); {
				case t == "":
				case strings.EqualFold(t, "close"):
					closeTok = true
				case strings.EqualFold(t, "keep-alive"):
					keepAlive = true
				case strings.EqualFold(t, "upgrade"):
				default:
					return f, false
				}
			}
		case len("Content-Type"):
			if strings.EqualFold(k, "Content-Type") {
				if contentType || isEventStream(textproto.TrimString(v)) {
					return f, false
				}
				contentType = true
			}
		case len("Content-Length"):
			if strings.EqualFold(k, "Content-Length") {
				n, valid := parseLength(textproto.TrimString(v))
				if !valid || f.length >= 0 {
					return f, false
				}
				f.length = n
			}
		case len("Transfer-Encoding"):
			if strings.EqualFold(k, "Transfer-Encoding") {
				return f, false
			}
		}
	}
	if f.length < 0 || !contentType {
		return f, false
	}
	if minor == 0 {
		f.close = !keepAlive
	} else {
		f.close = closeTok
	}
	return f, true
}

// nextField cuts the first line off s, fields each ending in '\n', and
// returns its name and value (untrimmed) and the rest of s; found is
// false for a line without a colon.
func nextField(s string) (k, v, rest string, found bool) {
	line := s
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		line, rest = s[:i], s[i+1:]
	}
	i := strings.IndexByte(line, ':')
	if i < 0 {
		return line, "", rest, false
	}
	return line[:i], line[i+1:], rest, true
}

// isEventStream reports whether a Content-Type is text/event-stream.
func isEventStream(ct string) bool {
	return len(ct) >= 17 && strings.EqualFold(ct[:17], "text/event-stream")
}

// rawCandidate reports whether a response to req with status code may
// be kept raw: a final response that has a body.
func rawCandidate(req *http.Request, code int) bool {
	return code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified &&
		req.Method != http.MethodHead
}

// RawFields returns the header fields of res as the upstream sent them,
// when [RoundTripOptions.RawHead] kept them raw: one line per field,
// each ending in '\n', validated, with a Content-Length and a
// Content-Type among them. res.Header is then empty. ok is false for a
// response read into its header map. res must be a response of t's.
func (t *Transport) RawFields(res *http.Response) (fields string, ok bool) {
	ra := (*respAlloc)(unsafe.Pointer(res))
	return ra.raw, ra.raw != ""
}

// FillHeader reads the fields of a response kept raw (see
// [Transport.RawFields]) into its header map, for a caller that cannot
// relay them raw after all. It does nothing for any other response.
func (t *Transport) FillHeader(res *http.Response) {
	ra := (*respAlloc)(unsafe.Pointer(res))
	if ra.raw == "" {
		return
	}
	// The fields were validated when they were kept raw.
	res.Header, _ = parseFieldsInto(res.Header, ra.raw, nil)
	ra.raw = ""
}

// RawHeaderWriter is implemented by the [http.ResponseWriter] of this
// package's server: it answers with an upstream's raw head.
type RawHeaderWriter interface {
	// WriteRawHeader is WriteHeader(code) for a response whose header
	// fields are fields, as [Transport.RawFields] returns them, and
	// whose body is length bytes long. The upstream's fields come after
	// those of the response's Header map, and replace the map's fields
	// of the same name, except Set-Cookie, RateLimit and
	// RateLimit-Policy, whose values are added; the hop-by-hop fields
	// and the field named skip (canonical, "" for none) are left out.
	// It reports false, and does nothing, when the response cannot be
	// written so (its head was written, it answers a HEAD request, code
	// is not that of a response with a body, or the Header map declares
	// trailers): the caller then sets the fields in the Header map and
	// calls WriteHeader.
	WriteRawHeader(code int, fields string, length int64, skip string) bool
}

// WriteRawHeader implements [RawHeaderWriter].
func (w *response) WriteRawHeader(code int, fields string, length int64, skip string) bool {
	if w.wroteHead || w.c.hijacked || w.head || fields == "" || length < 0 ||
		code < 200 || code > 999 || code == http.StatusNoContent || code == http.StatusNotModified ||
		hasTrailers(w.c.resHdr) {
		return false
	}
	w.wroteHead, w.status, w.length = true, code, length
	w.c.raw, w.c.rawSkip = fields, skip
	// The raw Content-Length replaces the map's; a Transfer-Encoding in
	// the map would contradict it.
	delete(w.c.resHdr, "Transfer-Encoding")
	return true
}

// writeRawHead writes the header fields of the response given raw (see
// WriteRawHeader): those of h the raw fields do not replace, then the
// raw ones, and a Date unless either had one.
func (c *srvConn) writeRawHead(bw *bufio.Writer, h http.Header) {
	date := false
	for k, vv := range h {
		if !field.ValidName(k) {
			continue // also skips TrailerPrefix keys
		}
		if replaced(k, c.rawSkip) && hasRawField(c.raw, k) {
			continue
		}
		date = date || k == "Date"
		for _, v := range vv {
			writeField(bw, k, v)
		}
	}
	for s := c.raw; s != ""; {
		var k, v string
		k, v, s, _ = nextField(s)
		if hop.IsHopFold(k) || len(k) == len(c.rawSkip) && strings.EqualFold(k, c.rawSkip) {
			continue
		}
		if len(k) == len("Date") && strings.EqualFold(k, "Date") {
			date = true
		}
		putRawField(bw, k, textproto.TrimString(v))
	}
	if !date {
		c.writeDate(bw)
	}
}

// replaced reports whether a field k of the Header map gives way to a
// raw field of the same name: it does unless the raw one is left out
// (hop-by-hop, or skip) or both are kept.
func replaced(k, skip string) bool {
	return !field.Accumulates(k) && k != skip && !hop.IsHop(k)
}

// hasRawField reports whether the raw fields s hold one named k.
func hasRawField(s, k string) bool {
	for s != "" {
		i := strings.IndexByte(s, ':')
		if i == len(k) && strings.EqualFold(s[:i], k) {
			return true
		}
		j := strings.IndexByte(s, '\n')
		if j < 0 {
			return false
		}
		s = s[j+1:]
	}
	return false
}

// putRawField writes a field whose name k is valid but may not be
// canonical: it goes out canonical, as a header map would write it. v
// holds no line break. It is built in the writer's free space, which a
// field longer than that outgrows at the cost of an allocation.
func putRawField(bw *bufio.Writer, k, v string) {
	b := field.AppendCanonical(bw.AvailableBuffer(), k)
	b = append(b, ':', ' ')
	b = append(b, v...)
	b = append(b, '\r', '\n')
	bw.Write(b)
}
