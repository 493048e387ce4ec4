package h1

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"

	"github.com/apigate-go/apigate/internal/field"
	"github.com/apigate-go/apigate/internal/hop"
)

// reqError is a request the server refuses before calling the handler:
// it is answered with status and the connection is closed.
type reqError struct {
	status int
	msg    string
}

func (e *reqError) Error() string { return e.msg }

func badRequest(msg string) *reqError { return &reqError{http.StatusBadRequest, msg} }

var errHeadTooLarge = &reqError{http.StatusRequestHeaderFieldsTooLarge, "request header fields too large"}

// readLines reads a head, header fields up to an empty line, into
// dst: each line without its line ending, followed by '\n'. At most max
// bytes are read; a longer head is errHeadTooLarge. Empty lines before the
// first line are skipped when skipEmpty is set (RFC 9112, section 2.2).
func readLines(br *bufio.Reader, dst []byte, max int, skipEmpty bool) ([]byte, error) {
	n := 0
	for {
		start := len(dst)
		for {
			frag, err := br.ReadSlice('\n')
			n += len(frag)
			if n > max {
				return dst, errHeadTooLarge
			}
			dst = append(dst, frag...)
			if err == nil {
				break
			}
			if err != bufio.ErrBufferFull {
				if err == io.EOF && len(dst) > 0 {
					err = errUnexpectedEOFHead
				}
				return dst, err
			}
		}
		// Trim the line ending: CRLF, or a bare LF.
		end := len(dst) - 1
		if end > start && dst[end-1] == '\r' {
			end--
		}
		dst = dst[:end]
		if end == start {
			if skipEmpty && start == 0 {
				continue
			}
			return dst, nil
		}
		dst = append(dst, '\n')
	}
}

// readCRLFLines is readLines for a chunked body's trailer section,
// without skipping: every line must end in CRLF, as net/http requires of
// requests and responses alike, so that a message never ends where
// net/http would not end it.
func readCRLFLines(br *bufio.Reader, max int) ([]byte, error) {
	var dst []byte
	for n := 0; ; {
		line, err := br.ReadSlice('\n')
		n += len(line)
		switch {
		case n > max || err == bufio.ErrBufferFull:
			return dst, errHeadTooLarge
		case err != nil:
			return dst, err
		case len(line) < 2 || line[len(line)-2] != '\r':
			return dst, errBareLFTrailer
		case len(line) == 2:
			return dst, nil
		}
		dst = append(dst, line[:len(line)-2]...)
		dst = append(dst, '\n')
	}
}

var errBareLFTrailer = errors.New("h1: trailer line not ending in CRLF")

// readRequest reads and checks one request head from c. The request it
// returns has no context and no body yet; info holds what the server
// needs to frame the body and the response.
func (c *srvConn) readRequest(req *http.Request, u *url.URL, info *reqInfo) error {
	var err error
	c.head, err = readLines(c.br, c.head[:0], c.srv.maxHeader, true)
	if err != nil {
		return err
	}
	head := string(c.head) // every string below is a slice of this one
	line, rest, _ := strings.Cut(head, "\n")

	method, line, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(line, " ")
	if !ok1 || !ok2 || !field.ValidName(method) || target == "" {
		return badRequest("malformed request line")
	}
	major, minor, ok := parseVersion(proto)
	if !ok {
		return badRequest("malformed HTTP version")
	}
	if major != 1 {
		return &reqError{http.StatusHTTPVersionNotSupported, "unsupported HTTP version"}
	}
	req.Method, req.RequestURI, req.Proto, req.ProtoMajor, req.ProtoMinor = method, target, proto, major, minor
	if err := parseTarget(method, target, u); err != nil {
		return err
	}
	req.URL = u

	var host hostField
	h, err := parseFieldsInto(nil, rest, &host)
	if err != nil {
		return err
	}
	req.Header = h

	switch {
	case host.n > 1:
		return badRequest("too many Host headers")
	case host.n == 1 && !validHostHeader(host.value):
		return badRequest("malformed Host header")
	case host.n == 0 && minor >= 1 && method != http.MethodConnect:
		return badRequest("missing required Host header")
	}
	req.Host = u.Host
	if req.Host == "" && host.n == 1 {
		req.Host = host.value
	}
	return info.frame(req, h)
}

// reqInfo is what the server keeps of a request head beyond the
// *http.Request: how its body is framed and what the client asked of the
// connection.
type reqInfo struct {
	length    int64 // body length; -1 for chunked
	keepAlive bool  // the client allows the connection to be reused
	expect    bool  // Expect: 100-continue
}

// frame reads the body framing and connection options from the head.
func (info *reqInfo) frame(req *http.Request, h http.Header) error {
	cl, hasCL := h["Content-Length"]
	te, hasTE := h["Transfer-Encoding"]
	switch {
	case hasCL && hasTE:
		return badRequest("both Content-Length and Transfer-Encoding")
	case hasTE:
		if req.ProtoMinor == 0 {
			return badRequest("Transfer-Encoding in an HTTP/1.0 request")
		}
		if len(te) != 1 || !strings.EqualFold(te[0], "chunked") {
			return &reqError{http.StatusNotImplemented, "unsupported transfer encoding"}
		}
		delete(h, "Transfer-Encoding")
		req.TransferEncoding = chunkedList
		info.length = -1
	case hasCL:
		n, ok := parseLength(cl[0])
		for _, v := range cl[1:] {
			if v != cl[0] {
				ok = false
			}
		}
		if !ok {
			return badRequest("invalid Content-Length")
		}
		if len(cl) > 1 {
			h["Content-Length"] = cl[:1]
		}
		info.length = n
	}
	req.ContentLength = info.length

	conn := h["Connection"]
	if req.ProtoMinor == 0 {
		info.keepAlive = hop.HasToken(conn, "keep-alive")
	} else {
		info.keepAlive = !hop.HasToken(conn, "close")
	}
	req.Close = !info.keepAlive

	if ex, ok := h["Expect"]; ok {
		if len(ex) != 1 || !strings.EqualFold(ex[0], "100-continue") {
			return &reqError{http.StatusExpectationFailed, "unsupported Expect"}
		}
		info.expect = req.ProtoMinor >= 1 && info.length != 0
	}
	if info.length < 0 {
		tr, err := declaredTrailers(h)
		if err != nil {
			return badRequest(err.Error())
		}
		req.Trailer = tr
	}
	return nil
}

var chunkedList = []string{"chunked"}

// parseFields parses header field lines, each ending in '\n', into a new
// header.
func parseFields(s string) (http.Header, error) {
	return parseFieldsInto(nil, s, nil)
}

// hostField is what a request head's Host fields hold: the first one's
// value and how many there were. A request's Host stays out of its
// header map, as in net/http.
type hostField struct {
	value string
	n     int
}

// parseFieldsInto is parseFields filling h, an empty map, when it is not
// nil. With host set, Host fields go there instead of into the map: a
// request whose only field is Host then allocates no map storage.
func parseFieldsInto(h http.Header, s string, host *hostField) (http.Header, error) {
	n := strings.Count(s, "\n")
	if h == nil {
		h = make(http.Header, n)
	}
	var vals []string // one backing array for the values, made at first use
	for s != "" {
		var line string
		line, s, _ = strings.Cut(s, "\n")
		if line[0] == ' ' || line[0] == '\t' {
			return nil, badRequest("obsolete line folding")
		}
		k, v, ok := strings.Cut(line, ":")
		if ok {
			k, ok = field.CanonicalName(k)
		}
		if !ok {
			return nil, badRequest("malformed header field")
		}
		if !field.ValidValue(v) { // before trimming, which would hide a bare CR
			return nil, badRequest("invalid header field value")
		}
		v = textproto.TrimString(v)
		if host != nil && k == "Host" {
			if host.n == 0 {
				host.value = v
			}
			host.n++
			continue
		}
		if old, ok := h[k]; ok {
			h[k] = append(old, v)
			continue
		}
		if len(vals) == 0 {
			vals = make([]string, n) // n lines hold at most n names
		}
		vals[0] = v
		h[k] = vals[:1:1]
		vals = vals[1:]
	}
	return h, nil
}

// parseTarget fills u from a request target. Origin-form targets made of
// characters that need no escaping take a path that allocates nothing;
// the rest go through [url.ParseRequestURI], as in net/http.
func parseTarget(method, target string, u *url.URL) error {
	if target[0] == '/' {
		path, query, hasQuery := strings.Cut(target, "?")
		if plainPath(path) && validTarget(query) {
			u.Path, u.RawQuery, u.ForceQuery = path, query, hasQuery && query == ""
			return nil
		}
	}
	raw := target
	connect := method == http.MethodConnect && target[0] != '/'
	if connect {
		raw = "http://" + target
	}
	pu, err := url.ParseRequestURI(raw)
	if err != nil {
		return badRequest("malformed request target")
	}
	if connect {
		pu.Scheme = ""
	}
	*u = *pu
	return nil
}

// parseVersion parses "HTTP/x.y" for one-digit x and y.
func parseVersion(v string) (major, minor int, ok bool) {
	switch v {
	case "HTTP/1.1":
		return 1, 1, true
	case "HTTP/1.0":
		return 1, 0, true
	}
	if len(v) != 8 || v[:5] != "HTTP/" || v[6] != '.' || !isDigit(v[5]) || !isDigit(v[7]) {
		return 0, 0, false
	}
	return int(v[5] - '0'), int(v[7] - '0'), true
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// parseLength parses a Content-Length value: digits only.
func parseLength(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// Character classes.
var (
	pathChars [256]bool // path characters that url.URL never escapes
	hostChars [256]bool
)

func init() {
	for _, set := range []struct {
		t     *[256]bool
		extra string
	}{
		{&pathChars, "-._~$&+,/:;=@"},
		{&hostChars, "!$%&'()*+,-.:;=[]_~"},
	} {
		for c := '0'; c <= '9'; c++ {
			set.t[c] = true
		}
		for c := 'a'; c <= 'z'; c++ {
			set.t[c] = true
			set.t[c-'a'+'A'] = true
		}
		for i := 0; i < len(set.extra); i++ {
			set.t[set.extra[i]] = true
		}
	}
}

func plainPath(s string) bool {
	for i := 0; i < len(s); i++ {
		if !pathChars[s[i]] {
			return false
		}
	}
	return true
}

// validHostHeader reports whether a Host header holds only characters a
// host and port may have.
func validHostHeader(s string) bool {
	for i := 0; i < len(s); i++ {
		if !hostChars[s[i]] {
			return false
		}
	}
	return true
}

var errUnexpectedEOFHead = errors.New("h1: connection closed in a request head")
