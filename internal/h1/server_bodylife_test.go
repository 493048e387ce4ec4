package h1

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigate-go/apigate/internal/syncbuf"
)

// These tests pin the lifetime of a request body: once the handler has
// returned, the body is the server's again. Reads by a goroutine the
// handler left behind fail with http.ErrBodyReadAfterClose, a read in
// flight at that moment is waited for before the server reads the
// connection again, and the connection's reader is never handed to the
// next request (or its pool) while anything may still read it.

// TestServerBodyReadAfterHandlerReturned hands the body to the test,
// which reads it only after the next request on the connection was
// answered: the read must fail, not reach into the connection.
func TestServerBodyReadAfterHandlerReturned(t *testing.T) {
	bodies := make(chan io.Reader, 1)
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			bodies <- r.Body
		}
		io.WriteString(w, r.URL.Path)
	}), ServerOptions{})
	for _, first := range []string{
		"POST /hold HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
		"POST /hold HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	} {
		c := hs.dial(t)
		c.send(first + "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n")
		for _, want := range []string{"/hold", "/a", "/b"} {
			if res, body := c.read("GET"); res.StatusCode != 200 || body != want {
				t.Fatalf("response = %d %q, want 200 %q", res.StatusCode, body, want)
			}
		}
		b := <-bodies
		n, err := b.Read(make([]byte, 64))
		if n != 0 || !errors.Is(err, http.ErrBodyReadAfterClose) {
			t.Errorf("%.40q: Read after the handler returned = %d, %v; want 0, http.ErrBodyReadAfterClose", first, n, err)
		}
	}
}

// TestServerBodyReadInFlightAtHandlerReturn leaves a goroutine blocked
// in a read of a chunked body when the handler returns (as a proxy's
// upload writer is when the upstream answered early). Under -race this
// catches the server draining the body, or reading the next request,
// while that read runs. Pipelined requests after the body must each get
// their own response, and the goroutine must end with what the body
// held, never with bytes of the next requests.
func TestServerBodyReadInFlightAtHandlerReturn(t *testing.T) {
	type result struct {
		data []byte
		err  error
	}
	results := make(chan result, 1)
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/early" {
			go func() {
				var buf bytes.Buffer
				p := make([]byte, 3)
				var err error
				for err == nil {
					var n int
					n, err = r.Body.Read(p)
					buf.Write(p[:n])
				}
				results <- result{buf.Bytes(), err}
			}()
			time.Sleep(20 * time.Millisecond) // the goroutine reads, then waits for the client
		}
		io.WriteString(w, r.URL.Path)
	}), ServerOptions{})
	c := hs.dial(t)
	c.send("POST /early HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
	if res, body := c.read("POST"); res.StatusCode != 200 || body != "/early" {
		t.Fatalf("response = %d %q, want 200 %q", res.StatusCode, body, "/early")
	}
	time.Sleep(20 * time.Millisecond) // the server is done with the handler
	c.send("5\r\nworld\r\n0\r\n\r\n" +
		"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n")
	for _, want := range []string{"/a", "/b"} {
		if res, body := c.read("GET"); res.StatusCode != 200 || body != want {
			t.Fatalf("response = %d %q, want 200 %q", res.StatusCode, body, want)
		}
	}
	select {
	case r := <-results:
		if !strings.HasPrefix("helloworld", string(r.data)) {
			t.Errorf("the body's reader got %q, want a prefix of %q", r.data, "helloworld")
		}
		if r.err != io.EOF && !errors.Is(r.err, http.ErrBodyReadAfterClose) {
			t.Errorf("the body's reader ended with %v, want io.EOF or http.ErrBodyReadAfterClose", r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the goroutine reading the body did not end within 5s")
	}
}

// TestServerBodyReadInFlightConnectionCloses is the same with a client
// that closes the connection instead of finishing the body: the reader
// left behind must get an error, and the server must not crash when the
// connection's buffers go back to their pools.
func TestServerBodyReadInFlightConnectionCloses(t *testing.T) {
	errs := make(chan error, 1)
	var logBuf syncbuf.Buffer
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		go func() {
			_, err := io.Copy(io.Discard, r.Body)
			time.Sleep(50 * time.Millisecond) // the connection is gone by now
			_, err2 := r.Body.Read(make([]byte, 8))
			errs <- errors.Join(err, err2)
		}()
		time.Sleep(20 * time.Millisecond)
		io.WriteString(w, "early")
	}), ServerOptions{ErrorLog: log.New(&logBuf, "", 0)})
	c := hs.dial(t)
	c.send("POST /early HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("x", 1000))
	if res, body := c.read("POST"); res.StatusCode != 200 || body != "early" {
		t.Fatalf("response = %d %q, want 200 %q", res.StatusCode, body, "early")
	}
	c.nc.Close()
	// A second connection reuses the pooled reader, if it was pooled.
	c2 := hs.dial(t)
	if res, body := c2.roundTrip("POST", "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"); res.StatusCode != 200 || body != "early" {
		t.Fatalf("second connection: response = %d %q, want 200 %q", res.StatusCode, body, "early")
	}
	for range 2 {
		select {
		case err := <-errs:
			if err == nil {
				t.Errorf("the body's reader saw no error, want one (the body never arrived whole)")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a goroutine reading the body did not end within 5s")
		}
	}
	if l := logBuf.String(); l != "" {
		t.Errorf("server logged: %s", l)
	}
}

// TestServerBodyStress runs many connections whose handlers leave a
// reader of the body behind, each on a chunked or a large upload the
// handler answers before reading: the server must not crash or hang, and
// every client gets its own response or a close.
func TestServerBodyStress(t *testing.T) {
	const conns = 200
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Id")
		if r.Method == http.MethodPost {
			go io.Copy(io.Discard, r.Body)
		}
		io.WriteString(w, id)
	}), ServerOptions{ReadHeaderTimeout: 2 * time.Second, IdleTimeout: 2 * time.Second})
	big := strings.Repeat("z", 70<<10)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	errs := make(chan error, conns)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs <- stressConn(hs.addr, i, big)
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if err != nil && n < 5 {
			t.Error(err)
			n++
		}
	}
}

// stressConn sends an upload and a follow-up on one connection and checks
// that each answer, if any, is the request's own.
func stressConn(addr string, i int, big string) error {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	var up string
	if i%2 == 0 {
		up = fmt.Sprintf("POST / HTTP/1.1\r\nHost: h\r\nX-Id: %d-up\r\nTransfer-Encoding: chunked\r\n\r\n", i)
		for range 8 {
			up += "400\r\n" + big[:1024] + "\r\n"
		}
		up += "0\r\n\r\n"
	} else {
		up = fmt.Sprintf("POST / HTTP/1.1\r\nHost: h\r\nX-Id: %d-up\r\nContent-Length: %d\r\n\r\n%s", i, len(big), big)
	}
	go func() {
		io.WriteString(nc, up)
		fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: h\r\nX-Id: %d-next\r\n\r\n", i)
	}()
	br := bufio.NewReader(nc)
	for _, want := range []string{fmt.Sprint(i, "-up"), fmt.Sprint(i, "-next")} {
		res, err := http.ReadResponse(br, &http.Request{Method: "GET"})
		if err != nil {
			if isTimeout(err) {
				return fmt.Errorf("connection %d: no answer to %s and no close within 10s", i, want)
			}
			return nil // closed: allowed after an upload the handler did not read
		}
		b, err := io.ReadAll(res.Body)
		if err != nil {
			return fmt.Errorf("connection %d: reading the response to %s: %v", i, want, err)
		}
		if string(b) != want {
			return fmt.Errorf("connection %d: got %q, want %q", i, b, want)
		}
	}
	return nil
}
