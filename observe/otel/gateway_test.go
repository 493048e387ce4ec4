package otel_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/internal/porttest"
	apigateotel "github.com/apigate-go/apigate/observe/otel"
)

// upstream is an httptest server that records the trace and request-ID
// headers of each request it receives.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	seen []http.Header
}

func newUpstream(t *testing.T, status int) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.seen = append(u.seen, r.Header.Clone())
		u.mu.Unlock()
		w.Header().Set("X-Request-Id", "set-by-upstream")
		w.WriteHeader(status)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) headers() []http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]http.Header(nil), u.seen...)
}

// closedAddr returns the URL of a loopback port that refuses
// connections for the rest of the test.
func closedAddr(t *testing.T) string {
	return "http://" + porttest.Refused(t)
}

// engine is the upstream client the tests use: APIGATE_TEST_ENGINE=http1
// selects apigate's own.
func engine() apigate.Engine {
	if os.Getenv("APIGATE_TEST_ENGINE") == "http1" {
		return apigate.EngineHTTP1
	}
	return apigate.EngineNetHTTP
}

// serve builds a gateway for GET /api/items/:id on backends, traced by
// obs, and serves it on a real socket.
func serve(t *testing.T, obs *apigateotel.Observer, backends []string, opts ...apigate.Option) string {
	t.Helper()
	hook := apigate.Before(func(c *apigate.Ctx) error {
		if c.Param("id") == "panic" {
			panic("hook bug")
		}
		return nil
	})
	api := apigate.Service("/api", apigate.GET("/items/:id", hook))
	opts = append([]apigate.Option{
		apigate.Mount(api, backends...),
		apigate.WithUpstream(apigate.UpstreamOptions{Engine: engine()}),
		apigate.WithObserver(obs),
	}, opts...)
	gw, err := apigate.New(opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s := httptest.NewServer(gw)
	t.Cleanup(s.Close)
	t.Cleanup(gw.CloseIdleConnections)
	return s.URL
}

// get sends GET url with extra headers and returns the response, its body
// read.
func get(t *testing.T, url string, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vv := range header {
		req.Header[k] = vv
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// traceparent splits a traceparent header into trace and parent span IDs.
func traceparent(t *testing.T, h http.Header) (traceID, spanID string) {
	t.Helper()
	parts := strings.Split(h.Get("Traceparent"), "-")
	if len(parts) != 4 {
		t.Fatalf("upstream traceparent = %q, want version-trace-span-flags", h.Get("Traceparent"))
	}
	return parts[1], parts[2]
}

func TestGatewaySpanTreeAndPropagation(t *testing.T) {
	obs, rec := newTracing(t, apigateotel.Options{})
	up := newUpstream(t, http.StatusOK)
	url := serve(t, obs, []string{up.URL})

	res := get(t, url+"/api/items/42?token=s3cret", http.Header{"User-Agent": {"otel-test"}, "Traceparent": {incoming}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", res.StatusCode)
	}
	spans := waitServerSpan(t, rec)
	if len(spans) != 2 {
		t.Fatalf("got %d spans, want 2 (client, server)", len(spans))
	}
	client, server := spans[0], spans[1]
	if server.Name() != "GET /api/items/:id" || server.SpanKind() != trace.SpanKindServer {
		t.Errorf("server span = %q %v, want \"GET /api/items/:id\" server", server.Name(), server.SpanKind())
	}
	if client.SpanKind() != trace.SpanKindClient || client.Parent().SpanID() != server.SpanContext().SpanID() {
		t.Errorf("client span = %v with parent %v, want a client child of the server span", client.SpanKind(), client.Parent().SpanID())
	}
	if server.SpanContext().TraceID().String() == "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Error("the server span continued an untrusted client's trace")
	}
	seen := up.headers()
	if len(seen) != 1 {
		t.Fatalf("upstream saw %d requests, want 1", len(seen))
	}
	tid, sid := traceparent(t, seen[0])
	if tid != server.SpanContext().TraceID().String() || sid != client.SpanContext().SpanID().String() {
		t.Errorf("upstream traceparent = %s/%s, want the client span %s/%s", tid, sid,
			client.SpanContext().TraceID(), client.SpanContext().SpanID())
	}
	sa := attrs(server)
	id := sa["apigate.request_id"].AsString()
	if id == "" || seen[0].Get("X-Request-Id") != id || res.Header.Get("X-Request-Id") != id {
		t.Errorf("request ID: span %q, upstream %q, client %q; want one ID everywhere",
			id, seen[0].Get("X-Request-Id"), res.Header.Get("X-Request-Id"))
	}
	for k, want := range map[string]string{
		"http.request.method": "GET", "url.path": "/api/items/42", "http.route": "/api/items/:id",
		"user_agent.original": "otel-test", "network.peer.address": "127.0.0.1", "server.address": "127.0.0.1",
	} {
		if got := sa[attributeKey(k)].String(); got != want {
			t.Errorf("server span %s = %q, want %q", k, got, want)
		}
	}
	if got := sa["http.response.status_code"].AsInt64(); got != 200 {
		t.Errorf("server span status code = %d, want 200", got)
	}
	ca := attrs(client)
	upHost, upPort := splitURL(t, up.URL)
	if ca["server.address"].AsString() != upHost || ca["server.port"].AsInt64() != upPort {
		t.Errorf("client span server.address:port = %s:%d, want the backend %s:%d",
			ca["server.address"].AsString(), ca["server.port"].AsInt64(), upHost, upPort)
	}
	for _, s := range spans {
		for _, kv := range s.Attributes() {
			if strings.Contains(kv.Value.String(), "s3cret") {
				t.Errorf("span %q attribute %s leaks the query: %q", s.Name(), kv.Key, kv.Value.String())
			}
		}
	}
}

func TestGatewayRetryIsTwoClientSpans(t *testing.T) {
	obs, rec := newTracing(t, apigateotel.Options{})
	up := newUpstream(t, http.StatusOK)
	url := serve(t, obs, []string{closedAddr(t), up.URL})

	// Round-robin starts with the closed port: the gateway retries on the
	// live backend.
	if res := get(t, url+"/api/items/1", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200 after the retry", res.StatusCode)
	}
	spans := waitServerSpan(t, rec)
	if len(spans) != 3 {
		t.Fatalf("got %d spans, want 3 (two attempts, the server)", len(spans))
	}
	first, second, server := spans[0], spans[1], spans[2]
	for i, s := range []sdktrace.ReadOnlySpan{first, second} {
		if s.SpanKind() != trace.SpanKindClient || s.Parent().SpanID() != server.SpanContext().SpanID() {
			t.Errorf("attempt %d: %v under %v, want a client span under the server span", i+1, s.SpanKind(), s.Parent().SpanID())
		}
	}
	if got := attrs(first)["error.type"].AsString(); got != "upstream_unavailable" || first.Status().Code != codes.Error {
		t.Errorf("first attempt: error.type %q, status %v; want upstream_unavailable, Error", got, first.Status())
	}
	if got := attrs(second)["http.request.resend_count"].AsInt64(); got != 1 {
		t.Errorf("second attempt resend_count = %d, want 1", got)
	}
	if server.Status().Code == codes.Error {
		t.Errorf("server span status = %v, want unset: the retry succeeded", server.Status())
	}
	seen := up.headers()
	if len(seen) != 1 {
		t.Fatalf("live upstream saw %d requests, want 1", len(seen))
	}
	if _, sid := traceparent(t, seen[0]); sid != second.SpanContext().SpanID().String() {
		t.Errorf("upstream traceparent parent = %s, want the second attempt's span %s", sid, second.SpanContext().SpanID())
	}
}

func TestGatewayTrustedTraceContext(t *testing.T) {
	tests := []struct {
		name     string
		otelOpts apigateotel.Options
		gwOpts   []apigate.Option
		cont     bool
	}{
		{"untrusted client", apigateotel.Options{}, nil, false},
		{"trusted proxy", apigateotel.Options{TrustedProxies: []string{"127.0.0.1"}},
			[]apigate.Option{apigate.WithTrustedProxies("127.0.0.1")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs, rec := newTracing(t, tt.otelOpts)
			up := newUpstream(t, http.StatusOK)
			url := serve(t, obs, []string{up.URL}, tt.gwOpts...)
			res := get(t, url+"/api/items/1", http.Header{"Traceparent": {incoming}, "Tracestate": {"vendor=1"}, "X-Request-Id": {"edge-42"}})
			seen := up.headers()[0]
			tid, _ := traceparent(t, seen)
			if got := tid == "4bf92f3577b34da6a3ce929d0e0e4736"; got != tt.cont {
				t.Errorf("upstream trace id %s: continues the client's = %v, want %v", tid, got, tt.cont)
			}
			if got := seen.Get("Tracestate") == "vendor=1"; got != tt.cont {
				t.Errorf("upstream tracestate %q: the client's = %v, want %v", seen.Get("Tracestate"), got, tt.cont)
			}
			if got := seen.Get("X-Request-Id") == "edge-42"; got != tt.cont {
				t.Errorf("upstream X-Request-Id %q: the client's = %v, want %v", seen.Get("X-Request-Id"), got, tt.cont)
			}
			if res.Header.Get("X-Request-Id") != seen.Get("X-Request-Id") || len(res.Header.Values("X-Request-Id")) != 1 {
				t.Errorf("client got X-Request-Id %q, want exactly the one sent upstream %q", res.Header.Values("X-Request-Id"), seen.Get("X-Request-Id"))
			}
			spans := waitServerSpan(t, rec)
			server := spans[len(spans)-1]
			if got := server.Parent().SpanID().String() == "00f067aa0ba902b7"; got != tt.cont {
				t.Errorf("server span parent %s: the client's span = %v, want %v", server.Parent().SpanID(), got, tt.cont)
			}
		})
	}
}

func TestGatewayServerErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int // upstream's
		path     string
		wantCode int
		wantErr  bool
		wantType string
	}{
		{"upstream 503", http.StatusServiceUnavailable, "/api/items/1", 503, true, "503"},
		{"upstream 404", http.StatusNotFound, "/api/items/1", 404, false, ""},
		{"panicking hook", http.StatusOK, "/api/items/panic", 500, true, "panic"},
		{"no route", http.StatusOK, "/nope", 404, false, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs, rec := newTracing(t, apigateotel.Options{})
			up := newUpstream(t, tt.status)
			url := serve(t, obs, []string{up.URL})
			if res := get(t, url+tt.path, nil); res.StatusCode != tt.wantCode {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.wantCode)
			}
			spans := waitServerSpan(t, rec)
			server := spans[len(spans)-1]
			if server.SpanKind() != trace.SpanKindServer {
				t.Fatalf("last span is %v, want the server span", server.SpanKind())
			}
			if got := server.Status().Code == codes.Error; got != tt.wantErr {
				t.Errorf("server span status %v: Error = %v, want %v", server.Status(), got, tt.wantErr)
			}
			a := attrs(server)
			if got := a["http.response.status_code"].AsInt64(); got != int64(tt.wantCode) {
				t.Errorf("status code attribute = %d, want %d", got, tt.wantCode)
			}
			if got := a["error.type"].AsString(); got != tt.wantType {
				t.Errorf("error.type = %q, want %q", got, tt.wantType)
			}
		})
	}
}

func attributeKey(s string) attribute.Key { return attribute.Key(s) }

// splitURL returns the host and port of an http URL.
func splitURL(t *testing.T, u string) (string, int64) {
	t.Helper()
	host, port, err := net.SplitHostPort(strings.TrimPrefix(u, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.ParseInt(port, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return host, p
}

// waitServerSpan waits for the server span to end, which happens when the
// gateway's handler returns, possibly after the client has its response,
// and returns the ended spans, the server span last.
func waitServerSpan(t *testing.T, rec *tracetest.SpanRecorder) []sdktrace.ReadOnlySpan {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		spans := rec.Ended()
		if n := len(spans); n > 0 && spans[n-1].SpanKind() == trace.SpanKindServer {
			return spans
		}
	}
	t.Fatalf("no server span ended within 5s (ended: %d)", len(rec.Ended()))
	return nil
}
