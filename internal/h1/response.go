package h1

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unsafe"

	"github.com/apigate-go/apigate/internal/hop"
)

// respAlloc is a response and its body, allocated together. res is its
// first field: a response of the transport's is the start of its
// respAlloc (see [Transport.Recycle]).
type respAlloc struct {
	res  http.Response
	body respBody // its faulty field is set here, for any response
	raw  string   // the header fields kept raw (see RawFields), or ""
}

// maxRecycledFields is the largest header map [Transport.Recycle] keeps:
// clearing a map does not shrink it.
const maxRecycledFields = 32

// getResp returns a zero response, with an empty header map when it is
// a recycled one.
func (t *Transport) getResp() *respAlloc {
	ra, ok := t.resps.Get().(*respAlloc)
	if !ok {
		return &respAlloc{}
	}
	h := ra.res.Header // emptied by Recycle
	*ra = respAlloc{}
	ra.res.Header = h
	return ra
}

// Recycle hands back a response that [Transport.RoundTripWith] returned,
// for a later response to reuse its storage and header map. The caller
// must have closed its body and must hold no reference to it, to its
// header map or to its body any more; the header's value slices are not
// reused and may still be held. A 101 response, whose body is the
// connection, is never recycled.
func (t *Transport) Recycle(res *http.Response) {
	if res == nil || res.StatusCode == http.StatusSwitchingProtocols {
		return
	}
	ra := (*respAlloc)(unsafe.Pointer(res))
	t.putResp(ra)
}

// putResp pools ra, its header map emptied.
func (t *Transport) putResp(ra *respAlloc) {
	h := ra.res.Header
	if len(h) > maxRecycledFields {
		h = nil
	}
	clear(h)
	*ra = respAlloc{}
	ra.res.Header = h
	t.resps.Put(ra)
}

// readResponse reads a response head from c for req and frames its body,
// as [http.ReadResponse] does, with one allocation for the head's strings
// and one for the response. The body is not yet wrapped for the pool.
//
// With raw set, a final response with a body keeps its header fields
// raw when scanRaw allows it, and its header map stays empty.
func (c *conn) readResponse(req *http.Request, max int, raw bool) (*respAlloc, error) {
	buf, err := readLines(c.br, c.head[:0], max, false)
	c.head = buf[:0]
	if err != nil {
		switch {
		case err == errHeadTooLarge:
			err = errHeaderTooLarge
		case err == io.EOF || err == errUnexpectedEOFHead:
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	head := string(buf)
	line, rest, _ := strings.Cut(head, "\n")
	proto, status, _ := strings.Cut(line, " ")
	major, minor, ok := parseVersion(proto)
	if !ok || major != 1 {
		return nil, fmt.Errorf("malformed HTTP version %q", clipQuote(proto))
	}
	if len(status) < 3 || !isDigit(status[0]) || !isDigit(status[1]) || !isDigit(status[2]) ||
		len(status) > 3 && status[3] != ' ' || status[0] == '0' {
		return nil, fmt.Errorf("malformed status line %q", clipQuote(line))
	}
	code := int(status[0]-'0')*100 + int(status[1]-'0')*10 + int(status[2]-'0')
	ra := c.pool.t.getResp()
	res := &ra.res
	res.Status, res.StatusCode = status, code
	res.Proto, res.ProtoMajor, res.ProtoMinor = proto, major, minor
	res.Request = req
	if raw && rawCandidate(req, code) {
		if f, ok := scanRaw(rest, minor); ok {
			res.Close, res.ContentLength = f.close, f.length
			ra.raw = rest
			if f.length == 0 {
				res.Body = http.NoBody
			} else {
				ra.body.f.init(c.br, f.length, &res.Trailer, max)
			}
			return ra, nil
		}
	}
	h, err := parseFieldsInto(ra.res.Header, rest, nil)
	if err != nil {
		c.pool.t.putResp(ra)
		var re *reqError
		if errors.As(err, &re) {
			err = errors.New(re.msg)
		}
		return nil, err
	}
	res.Header = h
	if minor == 0 {
		res.Close = !hop.HasToken(h["Connection"], "keep-alive")
	} else {
		res.Close = hop.HasToken(h["Connection"], "close")
	}

	length := int64(-2) // until the connection ends
	te, hasTE := h["Transfer-Encoding"]
	if hasTE {
		// As net/http does, the field goes, and HTTP/1.0 ignores it; but
		// with a Content-Length too, or in HTTP/1.0, it makes the framing
		// suspect.
		delete(h, "Transfer-Encoding")
		_, hasCL := h["Content-Length"]
		ra.body.faulty = hasCL || minor == 0
	}
	if cl, ok := h["Content-Length"]; ok {
		n, valid := parseLength(cl[0])
		for _, v := range cl[1:] {
			valid = valid && v == cl[0]
		}
		if !valid {
			return nil, fmt.Errorf("invalid Content-Length %q", clipQuote(strings.Join(cl, ", ")))
		}
		if len(cl) > 1 {
			h["Content-Length"] = cl[:1] // repeats of one value, as net/http keeps them
		}
		length = n
	}
	if hasTE && minor >= 1 {
		if len(te) != 1 || !strings.EqualFold(te[0], "chunked") {
			return nil, fmt.Errorf("unsupported transfer encoding %q", clipQuote(strings.Join(te, ", ")))
		}
		delete(h, "Content-Length")
		res.TransferEncoding = chunkedList
		length = -1
	}
	res.ContentLength = length
	if length < 0 {
		res.ContentLength = -1
	}
	if req.Method == http.MethodHead || code < 200 || code == http.StatusNoContent || code == http.StatusNotModified {
		if code == http.StatusNoContent || code == http.StatusNotModified || code < 200 {
			res.ContentLength = 0
		}
		res.Body = http.NoBody
		return ra, nil
	}
	if length == -2 {
		res.Close = true
	}
	if length == -1 {
		if res.Trailer, err = declaredTrailers(h); err != nil {
			return nil, err
		}
	}
	if length == 0 {
		res.Body = http.NoBody
		return ra, nil
	}
	ra.body.f.init(c.br, length, &res.Trailer, max)
	return ra, nil
}

// clipQuote shortens s for an error message.
func clipQuote(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
