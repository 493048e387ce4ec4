package h1

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// closeRecorder is a net.Conn that records Close.
type closeRecorder struct {
	net.Conn
	closed atomic.Bool
}

func (c *closeRecorder) Close() error { c.closed.Store(true); return c.Conn.Close() }

// pipeConn returns a conn over one end of a net.Pipe and a func that
// reports whether it was closed.
func pipeConn(t *testing.T, tr *Transport, p *pool) (*conn, func() bool) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	r := &closeRecorder{Conn: a}
	return tr.newConn(r, p), r.closed.Load
}

func TestPoolBoundAndOrder(t *testing.T) {
	tr := New(Options{MaxIdlePerHost: 2})
	p := tr.pool(key{addr: "x:80"})
	c1, closed1 := pipeConn(t, tr, p)
	c2, _ := pipeConn(t, tr, p)
	c3, _ := pipeConn(t, tr, p)
	p.put(c1)
	p.put(c2)
	p.put(c3) // evicts c1, the oldest
	if !closed1() {
		t.Errorf("oldest connection still open after the pool overflowed")
	}
	tests := []struct {
		name string
		want *conn
	}{
		{"newest first", c3},
		{"then older", c2},
		{"then empty", nil},
	}
	for _, tt := range tests {
		if got := p.get(); got != tt.want {
			t.Errorf("%s: got %p, want %p", tt.name, got, tt.want)
		}
	}
}

func TestPoolIdleTimeout(t *testing.T) {
	tr := New(Options{IdleTimeout: time.Hour})
	p := tr.pool(key{addr: "x:80"})
	c1, closed1 := pipeConn(t, tr, p)
	c2, closed2 := pipeConn(t, tr, p)
	p.put(c1)
	p.put(c2)
	// Age both past the timeout.
	p.mu.Lock()
	for _, c := range p.idle {
		c.idleAt = c.idleAt.Add(-2 * time.Hour)
	}
	p.mu.Unlock()
	if got := p.get(); got != nil {
		t.Errorf("get: got %p, want nil for stale connections", got)
	}
	if !closed1() || !closed2() {
		t.Errorf("stale connections left open")
	}

	c3, closed3 := pipeConn(t, tr, p)
	c4, closed4 := pipeConn(t, tr, p)
	p.put(c3)
	p.put(c4)
	p.mu.Lock()
	p.idle[0].idleAt = p.idle[0].idleAt.Add(-2 * time.Hour)
	p.mu.Unlock()
	p.reap()
	if !closed3() || closed4() {
		t.Errorf("reap: got closed %v, %v; want true, false", closed3(), closed4())
	}
	tr.CloseIdleConnections()
	if !closed4() {
		t.Errorf("CloseIdleConnections left a connection open")
	}
}

func TestHasPort(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"host", false}, {"host:80", true}, {"[::1]", false}, {"[::1]:80", true}, {"1.2.3.4:8080", true},
	}
	for _, tt := range tests {
		if got := hasPort(tt.in); got != tt.want {
			t.Errorf("hasPort(%q): got %v, want %v", tt.in, got, tt.want)
		}
	}
}
