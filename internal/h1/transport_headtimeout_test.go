package h1

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// slowBody yields n pieces of size bytes, pausing before each.
type slowBody struct {
	n, size int
	pause   time.Duration
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.n == 0 {
		return 0, io.EOF
	}
	time.Sleep(b.pause)
	b.n--
	return copy(p, strings.Repeat("x", min(len(p), b.size))), nil
}

// ResponseHeaderTimeout is the wait for the response head "after the
// request was written" (Options), as in net/http, which starts the timer
// once the body is written whole. An upload that takes longer than the
// timeout, to an upstream that reads it all and then answers at once,
// succeed. It failed for a body sent by the writer goroutine (over 64
// KiB, or of unknown length), whose timer started with the head.
func headTimeoutAfterBody(t *testing.T, rt http.RoundTripper, length int64) {
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		io.WriteString(w, strconv.FormatInt(n, 10))
	}))
	req, _ := http.NewRequest("POST", srv.URL, &slowBody{n: 16, size: 8 << 10, pause: 40 * time.Millisecond})
	req.ContentLength = length
	res, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("upload of 600ms with a 200ms ResponseHeaderTimeout: %v", err)
	}
	if got := readAll(t, res); got != "131072" {
		t.Errorf("upstream read %s bytes, want 131072", got)
	}
}

func TestResponseHeaderTimeoutAfterBody(t *testing.T) {
	for _, length := range []int64{-1, 128 << 10} {
		t.Run("ContentLength="+strconv.FormatInt(length, 10), func(t *testing.T) {
			tr := New(Options{ResponseHeaderTimeout: 200 * time.Millisecond})
			defer tr.CloseIdleConnections()
			headTimeoutAfterBody(t, tr, length)
		})
	}
}

func TestResponseHeaderTimeoutAfterBodyNetHTTP(t *testing.T) {
	for _, length := range []int64{-1, 128 << 10} {
		t.Run("ContentLength="+strconv.FormatInt(length, 10), func(t *testing.T) {
			tr := &http.Transport{ResponseHeaderTimeout: 200 * time.Millisecond}
			defer tr.CloseIdleConnections()
			headTimeoutAfterBody(t, tr, length)
		})
	}
}
