package apigate

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apigate-go/apigate/internal/hop"
)

// switchProtocols completes a 101 Switching Protocols exchange: it checks
// that the upstream switched to the protocol the client asked for (and
// the gateway allows), hijacks the client connection, and copies bytes
// both ways until either side closes or the client's context ends.
func (g *Gateway) switchProtocols(w http.ResponseWriter, r *http.Request, reqType string, res *http.Response) {
	resType := hop.UpgradeType(res.Header)
	backConn, ok := res.Body.(io.ReadWriteCloser)
	if reqType == "" || !strings.EqualFold(resType, reqType) || !ok {
		res.Body.Close()
		g.render(w, r, &Error{Status: http.StatusBadGateway, Code: CodeBadGateway, Message: "upstream switched protocols unexpectedly"})
		return
	}
	defer backConn.Close()
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		g.render(w, r, &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "cannot switch protocols", Err: err})
		return
	}
	defer conn.Close()

	hop.Remove(res.Header)
	res.Header.Set("Connection", "Upgrade")
	res.Header.Set("Upgrade", resType)
	hdr := w.Header()
	for k, vv := range res.Header {
		hdr[k] = vv
	}
	res.Header = hdr
	res.Body = nil
	if err := res.Write(brw); err != nil {
		return
	}
	if err := brw.Flush(); err != nil {
		return
	}

	closeBoth := func() { backConn.Close(); conn.Close() }
	stop := context.AfterFunc(r.Context(), closeBoth)
	defer stop()
	var fromClient, fromUpstream io.Reader = brw, backConn // brw holds bytes read ahead
	if g.upgradeIdle > 0 {
		it := &idleTimer{d: g.upgradeIdle, onIdle: closeBoth}
		it.start()
		defer it.stop()
		fromClient, fromUpstream = activity{fromClient, it}, activity{fromUpstream, it}
	}
	// When either direction ends, the deferred closes end the other.
	done := make(chan struct{}, 2)
	go func() {
		g.copyPlain(backConn, fromClient)
		done <- struct{}{}
	}()
	go func() {
		g.copyPlain(conn, fromUpstream)
		done <- struct{}{}
	}()
	<-done
}

// idleTimer calls onIdle once no activity has been recorded for d.
type idleTimer struct {
	d      time.Duration
	onIdle func()
	last   atomic.Int64 // Unix nanoseconds of the last activity
	mu     sync.Mutex
	t      *time.Timer
}

func (it *idleTimer) start() {
	it.touch()
	it.mu.Lock()
	it.t = time.AfterFunc(it.d, it.fire)
	it.mu.Unlock()
}

func (it *idleTimer) touch() { it.last.Store(time.Now().UnixNano()) }

// fire runs when the timer expires: it calls onIdle, or waits for the rest
// of d after the last activity.
func (it *idleTimer) fire() {
	idle := time.Duration(time.Now().UnixNano() - it.last.Load())
	if idle >= it.d {
		it.onIdle()
		return
	}
	it.mu.Lock()
	it.t.Reset(it.d - idle)
	it.mu.Unlock()
}

func (it *idleTimer) stop() {
	it.mu.Lock()
	it.t.Stop()
	it.mu.Unlock()
}

// activity records every read that returns bytes with its idle timer.
type activity struct {
	r  io.Reader
	it *idleTimer
}

func (a activity) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.it.touch()
	}
	return n, err
}

func (g *Gateway) copyPlain(dst io.Writer, src io.Reader) {
	bp := g.bufPool.Get().(*[]byte)
	defer g.bufPool.Put(bp)
	io.CopyBuffer(dst, src, *bp)
}
