// Package upstream is a mock backend for the examples: it answers every
// request with a JSON description of what it received, and can delay,
// stream or fail on request.
//
// Query parameters it understands:
//
//	delay=250ms   wait before answering
//	stream=5      send 5 JSON lines, one every 200ms, flushed one by one
//	status=503    answer with this status
package upstream

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// Echo is what the mock upstream answers.
type Echo struct {
	Upstream string            `json:"upstream"`
	Method   string            `json:"method"`
	Path     string            `json:"path"`
	Query    string            `json:"query,omitempty"`
	Headers  map[string]string `json:"headers"`
	BodySize int64             `json:"body_size"`
	Body     string            `json:"body,omitempty"`
}

// Handler returns the mock upstream's handler; name is echoed as
// "upstream" so examples can show which backend answered.
func Handler(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if d, err := time.ParseDuration(q.Get("delay")); err == nil && d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		n, _ := io.Copy(io.Discard, r.Body)
		e := Echo{Upstream: name, Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
			Headers: map[string]string{}, BodySize: int64(len(body)) + n}
		if len(body) <= 512 {
			e.Body = string(body)
		}
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			e.Headers[k] = r.Header.Get(k)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Upstream", name)
		if s, err := strconv.Atoi(q.Get("status")); err == nil && s >= 200 && s <= 599 {
			w.WriteHeader(s)
		}
		if n, err := strconv.Atoi(q.Get("stream")); err == nil && n > 0 {
			w.Header().Set("Content-Type", "application/x-ndjson")
			for i := range min(n, 100) {
				fmt.Fprintf(w, `{"upstream":%q,"chunk":%d}`+"\n", name, i)
				http.NewResponseController(w).Flush()
				select {
				case <-time.After(200 * time.Millisecond):
				case <-r.Context().Done():
					return
				}
			}
			return
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(e)
	})
}

// Start serves the mock upstream on a free loopback port and returns its
// base URL and a function that stops it.
func Start(name string) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("upstream: %w", err)
	}
	srv := &http.Server{Handler: Handler(name), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}
