package h1

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A handler that answers without reading a large chunked body (an auth
// check refusing an upload): the server cannot drain the rest, so it
// closes the connection after the response, and the response must say
// so ("Connection: close"), or the client reuses a connection that is
// being closed. net/http drains before writing the head of a response
// whose handler has returned, and announces the close when it cannot.
var refuseUpload = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusUnauthorized)
})

func checkChunkedRest(t *testing.T, addr string) {
	nc := dialFor(t, addr, 5*time.Second)
	go func() {
		io.WriteString(nc, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
		chunk := fmt.Sprintf("%x\r\n%s\r\n", 32<<10, strings.Repeat("x", 32<<10))
		for range 32 { // 1 MiB, more than the server drains
			if _, err := io.WriteString(nc, chunk); err != nil {
				return
			}
		}
		io.WriteString(nc, "0\r\n\r\n")
	}()
	br := bufio.NewReader(nc)
	res, err := http.ReadResponse(br, &http.Request{Method: "POST"})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	if res.StatusCode != 401 {
		t.Fatalf("status %d, want 401", res.StatusCode)
	}
	// Is the connection really reusable, as the response says?
	closed := false
	if _, err := br.Peek(1); err != nil {
		closed = true
	}
	if closed && !res.Close {
		t.Errorf("connection closed after a response without \"Connection: close\" (header %v)", res.Header)
	}
}

func TestUnreadChunkedBodyAnnouncesClose(t *testing.T) {
	onBothServers(t, refuseUpload, checkChunkedRest)
}
