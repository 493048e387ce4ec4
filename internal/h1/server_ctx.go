package h1

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// reqCtx is the context of a request the server reads. It is cancelled
// when the handler returns, when the client is found gone (a failed
// read or write, or a hang-up the watcher saw), and when the server
// closes the connection. It lives in the request's exchange, so it costs
// no allocation of its own; its Done channel is made on first use. The
// package's client registers the upstream connection of an exchange on
// it directly, with no allocation, where other code pays for
// [context.AfterFunc].
type reqCtx struct {
	local net.Addr

	mu       sync.Mutex
	done     chan struct{}
	err      error
	upstream net.Conn      // interrupted on cancel
	funcs    []*afterFunc  // AfterFunc registrations
	inline   [2]*afterFunc // funcs' first backing array
}

// afterFunc is one [reqCtx.AfterFunc] registration.
type afterFunc struct {
	f func()
	c *reqCtx
}

// stop unregisters a; it reports false when a's context was cancelled
// first (and f started).
func (a *afterFunc) stop() bool {
	c := a.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.funcs {
		if e == a {
			c.funcs = append(c.funcs[:i], c.funcs[i+1:]...)
			return true
		}
	}
	return false
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (c *reqCtx) Deadline() (time.Time, bool) { return time.Time{}, false }

func (c *reqCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.err != nil {
			return closedChan
		}
		c.done = make(chan struct{})
	}
	return c.done
}

func (c *reqCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *reqCtx) Value(key any) any {
	if key == http.LocalAddrContextKey {
		return c.local
	}
	return nil
}

func (c *reqCtx) String() string { return "h1.requestContext" }

// cancel cancels the context with context.Canceled, at most once.
func (c *reqCtx) cancel() {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = context.Canceled
	if c.done != nil {
		close(c.done)
	}
	up, funcs := c.upstream, c.funcs
	c.upstream, c.funcs = nil, nil
	c.mu.Unlock()
	if up != nil {
		up.SetDeadline(aLongTimeAgo)
	}
	for _, a := range funcs {
		go a.f()
	}
}

// AfterFunc arranges for f to run in its own goroutine after c is
// cancelled, as [context.AfterFunc] does; the context package uses it for
// contexts derived from c, so that they need no goroutine of their own.
func (c *reqCtx) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f, c: c}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return a.stop
	}
	if c.funcs == nil {
		c.funcs = c.inline[:0]
	}
	c.funcs = append(c.funcs, a)
	c.mu.Unlock()
	return a.stop
}

// watch registers nc to be interrupted when c is cancelled. It reports
// false when c is already cancelled, or when another connection is
// registered (the caller then uses context.AfterFunc).
func (c *reqCtx) watch(nc net.Conn) (ok, cancelled bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.err != nil:
		return false, true
	case c.upstream != nil:
		return false, false
	}
	c.upstream = nc
	return true, false
}

// unwatch undoes watch. It reports false when the cancellation came
// first (and has set nc's deadline in the past).
func (c *reqCtx) unwatch(nc net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.upstream == nc {
		c.upstream = nil
		return true
	}
	return c.err == nil
}
