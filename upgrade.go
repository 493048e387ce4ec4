package apigate

import (
	"context"
	"io"
	"net/http"
	"strings"

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
		g.renderer(w, r, &Error{Status: http.StatusBadGateway, Code: CodeBadGateway, Message: "upstream switched protocols unexpectedly"})
		return
	}
	defer backConn.Close()
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		g.renderer(w, r, &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "cannot switch protocols", Err: err})
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

	stop := context.AfterFunc(r.Context(), func() { backConn.Close(); conn.Close() })
	defer stop()
	// When either direction ends, the deferred closes end the other.
	done := make(chan struct{}, 2)
	go func() {
		g.copyPlain(backConn, brw) // client → upstream; brw holds bytes read ahead
		done <- struct{}{}
	}()
	go func() {
		g.copyPlain(conn, backConn)
		done <- struct{}{}
	}()
	<-done
}

func (g *Gateway) copyPlain(dst io.Writer, src io.Reader) {
	bp := g.bufPool.Get().(*[]byte)
	defer g.bufPool.Put(bp)
	io.CopyBuffer(dst, src, *bp)
}
