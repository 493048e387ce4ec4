// Package dnstest is a minimal authoritative DNS server on loopback UDP,
// for tests and examples of DNS discovery: it answers A, AAAA and SRV
// questions from records that may change while it runs, and can be told
// to fail. It writes the wire format by hand (RFC 1035, SRV per RFC
// 2782), with no dependency.
package dnstest

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
)

// Record types and response codes the server knows.
const (
	TypeA    = 1
	TypeAAAA = 28
	TypeSRV  = 33

	RcodeSuccess  = 0
	RcodeServFail = 2
)

// SRV is one SRV record.
type SRV struct {
	Priority, Weight, Port uint16
	Target                 string
}

// Server is a running DNS server. Its methods are safe for concurrent
// use.
type Server struct {
	// Addr is the server's UDP address.
	Addr string

	pc      net.PacketConn
	mu      sync.Mutex
	ips     map[string][]netip.Addr
	srv     map[string][]SRV
	rcode   int
	ttl     uint32
	queries atomic.Int64
	done    chan struct{}
}

// Start starts a server on 127.0.0.1.
func Start() (*Server, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: pc.LocalAddr().String(), ttl: 1, pc: pc, ips: map[string][]netip.Addr{},
		srv: map[string][]SRV{}, done: make(chan struct{})}
	go s.serve()
	return s, nil
}

// Close stops the server and waits for it to end.
func (s *Server) Close() {
	s.pc.Close()
	<-s.done
}

// SetIPs sets the A and AAAA records of name; none removes them (an empty
// answer).
func (s *Server) SetIPs(name string, ips ...netip.Addr) {
	s.mu.Lock()
	s.ips[canonical(name)] = ips
	s.mu.Unlock()
}

// SetSRV sets the SRV records of name.
func (s *Server) SetSRV(name string, recs ...SRV) {
	s.mu.Lock()
	s.srv[canonical(name)] = recs
	s.mu.Unlock()
}

// SetRcode makes every answer carry rcode (RcodeServFail to fail) with
// no records; RcodeSuccess answers again.
func (s *Server) SetRcode(rcode int) {
	s.mu.Lock()
	s.rcode = rcode
	s.mu.Unlock()
}

// SetTTL sets the TTL of the answers, in seconds (default 1).
func (s *Server) SetTTL(ttl uint32) {
	s.mu.Lock()
	s.ttl = ttl
	s.mu.Unlock()
}

// Queries returns how many questions the server has answered.
func (s *Server) Queries() int64 { return s.queries.Load() }

// Resolver returns a resolver that asks this server only.
func (s *Server) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", s.Addr)
	}}
}

func canonical(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, ".")) + "."
}

func (s *Server) serve() {
	defer close(s.done)
	buf := make([]byte, 1500)
	for {
		n, addr, err := s.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if out, err := s.answer(buf[:n]); err == nil {
			s.queries.Add(1)
			s.pc.WriteTo(out, addr)
		}
	}
}

var errMalformed = errors.New("dnstest: malformed query")

// answer builds the response to query q.
func (s *Server) answer(q []byte) ([]byte, error) {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil, errMalformed
	}
	// The question: labels up to the root, then type and class.
	i := 12
	var labels []string
	for {
		if i >= len(q) {
			return nil, errMalformed
		}
		l := int(q[i])
		if l == 0 {
			i++
			break
		}
		if l > 63 || i+1+l > len(q) {
			return nil, errMalformed
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+4 > len(q) {
		return nil, errMalformed
	}
	qtype := binary.BigEndian.Uint16(q[i:])
	question := q[12 : i+4]
	name := canonical(strings.Join(labels, "."))

	s.mu.Lock()
	rcode, ttl := s.rcode, s.ttl
	var rrs [][]byte // rdata of each answer
	if rcode == RcodeSuccess {
		switch qtype {
		case TypeA, TypeAAAA:
			for _, ip := range s.ips[name] {
				if ip.Is4() == (qtype == TypeA) {
					rrs = append(rrs, ip.AsSlice())
				}
			}
		case TypeSRV:
			for _, r := range s.srv[name] {
				b := binary.BigEndian.AppendUint16(nil, r.Priority)
				b = binary.BigEndian.AppendUint16(b, r.Weight)
				b = binary.BigEndian.AppendUint16(b, r.Port)
				rrs = append(rrs, appendName(b, r.Target))
			}
		}
	}
	s.mu.Unlock()

	out := make([]byte, 12, 512)
	copy(out, q[:2])                                            // ID
	flags := uint16(0x8400) | uint16(q[2]&1)<<8 | uint16(rcode) // QR, AA, RD copied
	binary.BigEndian.PutUint16(out[2:], flags)
	binary.BigEndian.PutUint16(out[4:], 1)
	binary.BigEndian.PutUint16(out[6:], uint16(len(rrs)))
	out = append(out, question...)
	for _, rd := range rrs {
		out = append(out, 0xC0, 0x0C) // the name: a pointer to the question's
		out = binary.BigEndian.AppendUint16(out, qtype)
		out = binary.BigEndian.AppendUint16(out, 1) // class IN
		out = binary.BigEndian.AppendUint32(out, ttl)
		out = binary.BigEndian.AppendUint16(out, uint16(len(rd)))
		out = append(out, rd...)
	}
	return out, nil
}

// appendName appends name in uncompressed wire form.
func appendName(b []byte, name string) []byte {
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if l == "" {
			continue
		}
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}
