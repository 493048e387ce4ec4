package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"runtime"
	"strconv"
	"sync/atomic"
)

// proxy forwards each client connection over a connection of its own to
// upstream.
type proxy struct {
	upstream string
	yield    bool
	ids      atomic.Uint64
}

// serve carries requests from c to a new upstream connection and their
// answers back, until either side closes or sends what it cannot frame.
func (p *proxy) serve(c net.Conn) {
	defer c.Close()
	u, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	defer u.Close()
	ip := c.RemoteAddr().(*net.TCPAddr).IP.String()
	cr, ur := bufio.NewReaderSize(c, 4096), bufio.NewReaderSize(u, 4096)
	buf, host := make([]byte, 0, 4096), make([]byte, 0, 64)
	for {
		if p.yield && cr.Buffered() == 0 {
			// The client often sends its next request while others run:
			// the read then finds it instead of parking.
			runtime.Gosched()
		}
		id := strconv.FormatUint(p.ids.Add(1), 36)
		var ok bool
		if buf, ok = request(cr, buf[:0], &host, ip, id); !ok {
			return
		}
		if _, err := u.Write(buf); err != nil {
			return
		}
		if buf, ok = response(ur, buf[:0], id); !ok {
			return
		}
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

// request appends to buf the next request read from r, with the
// forwarding headers and the request ID added, and reports whether it
// read one whole. host is storage for the Host field.
func request(r *bufio.Reader, buf []byte, host *[]byte, ip, id string) ([]byte, bool) {
	*host = (*host)[:0]
	buf, length, ok := head(r, buf, func(line []byte) bool {
		if v, ok := field(line, "Host"); ok {
			*host = append(*host, v...)
		}
		return !isField(line, "Connection")
	})
	if !ok {
		return buf, false
	}
	buf = append(buf, "X-Forwarded-For: "...)
	buf = append(buf, ip...)
	buf = append(buf, "\r\nX-Forwarded-Host: "...)
	buf = append(buf, *host...)
	buf = append(buf, "\r\nX-Forwarded-Proto: http\r\nForwarded: for="...)
	buf = append(buf, ip...)
	buf = append(buf, `;host="`...)
	buf = append(buf, *host...)
	buf = append(buf, "\";proto=http\r\nX-Request-Id: "...)
	buf = append(buf, id...)
	buf = append(buf, "\r\n\r\n"...)
	return body(r, buf, length)
}

// response appends to buf the next response read from r, with the request
// ID added, and reports whether it read one whole.
func response(r *bufio.Reader, buf []byte, id string) ([]byte, bool) {
	buf, length, ok := head(r, buf, func([]byte) bool { return true })
	if !ok {
		return buf, false
	}
	buf = append(buf, "X-Request-Id: "...)
	buf = append(buf, id...)
	buf = append(buf, "\r\n\r\n"...)
	return body(r, buf, length)
}

// head appends to buf the start line and the fields keep accepts of the
// head read from r, without the blank line that ends it, and returns the
// Content-Length.
func head(r *bufio.Reader, buf []byte, keep func(line []byte) bool) ([]byte, int, bool) {
	length := 0
	for first := true; ; first = false {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return buf, 0, false
		}
		if len(line) <= 2 {
			return buf, length, !first
		}
		if v, ok := field(line, "Content-Length"); ok {
			if length, err = strconv.Atoi(string(v)); err != nil || length < 0 {
				return buf, 0, false
			}
		}
		if first || keep(line) {
			buf = append(buf, line...)
		}
	}
}

// body appends length bytes read from r to buf.
func body(r *bufio.Reader, buf []byte, length int) ([]byte, bool) {
	n := len(buf)
	buf = append(buf, make([]byte, length)...)
	_, err := io.ReadFull(r, buf[n:])
	return buf, err == nil
}

// field returns the value of line when it is the field name.
func field(line []byte, name string) ([]byte, bool) {
	if !isField(line, name) {
		return nil, false
	}
	return bytes.TrimSpace(line[len(name)+1:]), true
}

// isField reports whether line is a field called name, in any case.
func isField(line []byte, name string) bool {
	return len(line) > len(name) && line[len(name)] == ':' && bytes.EqualFold(line[:len(name)], []byte(name))
}
