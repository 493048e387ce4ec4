// Package apigatetest helps test gateways built with apigate: recording
// upstreams with scripted behaviours, a helper that serves a gateway on a
// real socket for the length of a test, and assertions that read well in
// go test output.
//
// A typical test:
//
//	func TestItems(t *testing.T) {
//		up := apigatetest.NewUpstream(t, apigatetest.Reply(200, `{"id":7}`, "Content-Type: application/json"))
//		gw := apigatetest.New(t, apigate.Mount(apigate.Service("/api", apigate.GET("/items/:id")), up.URL))
//
//		gw.Get(t, "/api/items/7").AssertStatus(t, 200).AssertBody(t, `{"id":7}`)
//		up.AssertCalled(t, 1)
//		if got := up.Last(t).Path; got != "/items/7" {
//			t.Errorf("upstream path %q", got)
//		}
//	}
//
// Everything runs on real loopback sockets and is closed by t.Cleanup.
package apigatetest

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is what an upstream received. [Upstream.Requests] and
// [Upstream.Last] return deep copies: changing them changes no record.
type Request struct {
	// Method, Host and RequestURI as received.
	Method, Host, RequestURI string
	// Path is the decoded path, RawPath its escaped form when it differs.
	Path, RawPath string
	// RawQuery is the query string as received, Query its parsed form.
	RawQuery string
	Query    url.Values
	// Header holds the request headers, Trailer any trailers.
	Header, Trailer http.Header
	// Body is the whole body. BodyErr is the error reading it stopped
	// with, if any (a client that went away mid-upload).
	Body    []byte
	BodyErr error
	// ContentLength and TransferEncoding as the upstream's server parsed
	// them.
	ContentLength    int64
	TransferEncoding []string
}

// JSON decodes the request's body into v, failing the test if it does not
// decode.
func (r Request) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("apigatetest: upstream request body %q is not JSON: %v", clip(r.Body), err)
	}
}

// Behavior answers one request at an upstream: an ordinary handler
// function, called after the request (body included) was recorded.
type Behavior func(w http.ResponseWriter, r *http.Request)

// Upstream is a recording HTTP server on a loopback socket. Every request
// is recorded, then answered by the upstream's behaviours in turn: the
// first request gets the first, and so on; the last one answers every
// request after that. Without behaviours it answers 200 with
// [Echo]. It is safe for concurrent use.
type Upstream struct {
	// URL is the upstream's base URL, for apigate.Mount.
	URL string
	// Server is the underlying test server.
	Server *httptest.Server

	mu        sync.Mutex
	reqs      []Request
	behaviors []Behavior
}

// NewUpstream starts a recording upstream that answers with behaviors
// (see [Upstream]); it is closed when the test ends.
func NewUpstream(t testing.TB, behaviors ...Behavior) *Upstream {
	t.Helper()
	u := &Upstream{behaviors: append([]Behavior(nil), behaviors...)}
	if len(u.behaviors) == 0 {
		u.behaviors = []Behavior{Echo()}
	}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	u.URL = u.Server.URL
	t.Cleanup(u.Server.Close)
	return u
}

func (u *Upstream) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	rec := Request{Method: r.Method, Host: r.Host, RequestURI: r.RequestURI, Path: r.URL.Path, RawPath: r.URL.RawPath,
		RawQuery: r.URL.RawQuery, Query: r.URL.Query(), Header: r.Header.Clone(), Trailer: r.Trailer.Clone(),
		Body: body, BodyErr: err, ContentLength: r.ContentLength, TransferEncoding: append([]string(nil), r.TransferEncoding...)}
	r.Body = io.NopCloser(bytes.NewReader(body))
	u.mu.Lock()
	u.reqs = append(u.reqs, rec)
	b := u.behaviors[min(len(u.reqs), len(u.behaviors))-1]
	u.mu.Unlock()
	b(w, r)
}

// Requests returns a copy of every request received so far, in arrival
// order.
func (u *Upstream) Requests() []Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]Request, len(u.reqs))
	for i := range u.reqs {
		out[i] = u.reqs[i].clone()
	}
	return out
}

// clone returns a deep copy of r.
func (r Request) clone() Request {
	r.Header, r.Trailer = r.Header.Clone(), r.Trailer.Clone()
	q := make(url.Values, len(r.Query))
	for k, v := range r.Query {
		q[k] = append([]string(nil), v...)
	}
	r.Query = q
	r.Body = append([]byte(nil), r.Body...)
	r.TransferEncoding = append([]string(nil), r.TransferEncoding...)
	return r
}

// Count returns how many requests the upstream received.
func (u *Upstream) Count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.reqs)
}

// Last returns the latest request, failing the test if there is none.
func (u *Upstream) Last(t testing.TB) Request {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.reqs) == 0 {
		t.Fatalf("apigatetest: upstream %s received no request", u.URL)
	}
	return u.reqs[len(u.reqs)-1].clone()
}

// AssertCalled fails the test unless the upstream received exactly n
// requests.
func (u *Upstream) AssertCalled(t testing.TB, n int) {
	t.Helper()
	if got := u.Requests(); len(got) != n {
		t.Errorf("apigatetest: upstream %s received %d requests, want %d%s", u.URL, len(got), n, summary(got))
	}
}

// AssertNotCalled fails the test if the upstream received any request.
func (u *Upstream) AssertNotCalled(t testing.TB) {
	t.Helper()
	u.AssertCalled(t, 0)
}

// Reset forgets the requests received so far; the next request gets the
// first behaviour again.
func (u *Upstream) Reset() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.reqs = nil
}

func summary(reqs []Request) string {
	if len(reqs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(":")
	for i, r := range reqs {
		if i == 5 {
			b.WriteString("\n\t...")
			break
		}
		b.WriteString("\n\t" + r.Method + " " + r.RequestURI)
	}
	return b.String()
}

// Reply answers with status, body and headers given as "Name: value".
func Reply(status int, body string, headers ...string) Behavior {
	hs := parseHeaders(headers)
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range hs {
			w.Header()[k] = append(w.Header()[k], v...)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// JSON answers with status and v encoded as JSON, with Content-Type
// application/json.
func JSON(status int, v any) Behavior {
	b, err := json.Marshal(v)
	if err != nil {
		panic("apigatetest: JSON: " + err.Error())
	}
	return Reply(status, string(b), "Content-Type: application/json")
}

// Echo answers 200 with the request as JSON: method, path, raw_path,
// query, header and body.
func Echo() Behavior {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "path": r.URL.Path, "raw_path": r.URL.RawPath,
			"query": r.URL.RawQuery, "header": r.Header, "body": string(body)})
	}
}

// Delay waits d (or until the request is cancelled) before behaving as
// then.
func Delay(d time.Duration, then Behavior) Behavior {
	return func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			then(w, r)
		case <-r.Context().Done():
		}
	}
}

// Hang never answers: it returns when the request's context ends, that is
// when the gateway gives up or the connection closes.
func Hang() Behavior {
	return func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}
}

// ResetConnection closes the connection with a TCP reset and no response.
func ResetConnection() Behavior {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		conn.Close()
	}
}

// Stream answers 200 with headers, writing chunks one by one with a flush
// and a pause of every between them (no Content-Length: chunked).
func Stream(every time.Duration, chunks []string, headers ...string) Behavior {
	hs := parseHeaders(headers)
	chunks = append([]string(nil), chunks...)
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range hs {
			w.Header()[k] = append(w.Header()[k], v...)
		}
		rc := http.NewResponseController(w)
		w.WriteHeader(http.StatusOK)
		for i, c := range chunks {
			if i > 0 && every > 0 {
				select {
				case <-time.After(every):
				case <-r.Context().Done():
					return
				}
			}
			io.WriteString(w, c)
			if rc.Flush() != nil {
				return
			}
		}
	}
}

func parseHeaders(headers []string) http.Header {
	h := http.Header{}
	for _, kv := range headers {
		k, v, ok := strings.Cut(kv, ":")
		if !ok {
			panic("apigatetest: header " + kv + " is not \"Name: value\"")
		}
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return h
}

func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}
