package h1

import (
	"bufio"
	"io"
	"net/http"
	"testing"
	"time"
)

// A deadline a handler sets with http.ResponseController bounds its own
// request: net/http clears the write deadline after each response and
// re-arms (or clears) the read deadline for the next request. Kept on
// the connection, with no server timeouts set, it failed the next
// request on the kept-alive connection: its response could not be
// written (write deadline) or it was not read at all (read deadline).
var handlerDeadlineHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/first" {
		rc := http.NewResponseController(w)
		rc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		rc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	}
	io.WriteString(w, r.URL.Path)
})

func checkHandlerDeadlines(t *testing.T, addr string) {
	nc := dialFor(t, addr, 5*time.Second)
	br := bufio.NewReader(nc)
	for i, path := range []string{"/first", "/second"} {
		if i > 0 {
			time.Sleep(300 * time.Millisecond) // past the handler's deadlines
		}
		io.WriteString(nc, "GET "+path+" HTTP/1.1\r\nHost: h\r\n\r\n")
		res, err := http.ReadResponse(br, &http.Request{Method: "GET"})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		b, err := io.ReadAll(res.Body)
		if err != nil || string(b) != path {
			t.Fatalf("%s: body %q, %v", path, b, err)
		}
	}
}

func TestHandlerDeadlinesDoNotOutliveRequest(t *testing.T) {
	onBothServers(t, handlerDeadlineHandler, checkHandlerDeadlines)
}
