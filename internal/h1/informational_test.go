package h1

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"testing"
)

// referenceTransports returns this package's Transport and net/http's,
// configured alike, so that a test can hold the first to the second.
func referenceTransports(t *testing.T, maxHeader int64) []struct {
	name string
	rt   http.RoundTripper
} {
	h := New(Options{MaxResponseHeaderBytes: maxHeader})
	n := &http.Transport{MaxResponseHeaderBytes: maxHeader, DisableCompression: true}
	t.Cleanup(h.CloseIdleConnections)
	t.Cleanup(n.CloseIdleConnections)
	return []struct {
		name string
		rt   http.RoundTripper
	}{{"h1", h}, {"net-http", n}}
}

// interimUpstream answers every request with the given 1xx heads, then a
// 200 whose body is the request's path.
func interimUpstream(t *testing.T, interim string) *rawUpstream {
	t.Helper()
	return startScripted(t, func(c net.Conn, req *http.Request) bool {
		io.Copy(io.Discard, req.Body)
		fmt.Fprintf(c, "%sHTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", interim, len(req.URL.Path), req.URL.Path)
		return true
	}, true)
}

// got1xx is a trace that records the 1xx responses it is shown and
// returns err from its hook.
func got1xx(ctx context.Context, seen *[]string, err error) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			*seen = append(*seen, fmt.Sprintf("%d %q", code, h["Link"]))
			return err
		},
	})
}

// TestInformationalForwarded: 1xx responses other than 101 reach the
// Got1xxResponse hook of the request's client trace, in order and with
// their headers, as net/http's Transport delivers them; the final
// response follows and the connection is reused.
func TestInformationalForwarded(t *testing.T) {
	const interim = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\nLink: </app.js>; rel=preload\r\n\r\n" +
		"HTTP/1.1 102 Processing\r\n\r\n" +
		"HTTP/1.1 103 Early Hints\r\nLink: </font.woff2>; rel=preload\r\n\r\n"
	want := []string{
		`103 ["</style.css>; rel=preload" "</app.js>; rel=preload"]`,
		`102 []`,
		`103 ["</font.woff2>; rel=preload"]`,
	}
	for _, tt := range referenceTransports(t, 0) {
		t.Run(tt.name, func(t *testing.T) {
			u := interimUpstream(t, interim)
			for _, path := range []string{"/a", "/b"} {
				var seen []string
				req, _ := http.NewRequestWithContext(got1xx(context.Background(), &seen, nil), "GET", u.url+path, nil)
				res, err := tt.rt.RoundTrip(req)
				if err != nil {
					t.Fatalf("RoundTrip: %v", err)
				}
				if got := readAll(t, res); res.StatusCode != 200 || got != path {
					t.Errorf("got %d %q, want 200 %q", res.StatusCode, got, path)
				}
				if g, w := strings.Join(seen, "\n"), strings.Join(want, "\n"); g != w {
					t.Errorf("hook saw\n%s\nwant\n%s", g, w)
				}
			}
			if got := u.conns.Load(); got != 1 {
				t.Errorf("upstream saw %d connections, want 1", got)
			}
		})
	}
}

// TestInformationalWithoutHook: without a hook (or a trace without
// Got1xxResponse), 1xx responses are skipped.
func TestInformationalWithoutHook(t *testing.T) {
	u := interimUpstream(t, "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
	tr := newTransport(t)
	for _, ctx := range []context.Context{
		context.Background(),
		httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{}),
	} {
		req, _ := http.NewRequestWithContext(ctx, "GET", u.url+"/a", nil)
		res, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("RoundTrip: %v", err)
		}
		if got := readAll(t, res); res.StatusCode != 200 || got != "/a" {
			t.Errorf("got %d %q, want 200 %q", res.StatusCode, got, "/a")
		}
	}
}

// TestInformationalHookError: an error from the hook ends the exchange
// with that error, and the connection is not reused.
func TestInformationalHookError(t *testing.T) {
	errStop := errors.New("stop here")
	for _, tt := range referenceTransports(t, 0) {
		t.Run(tt.name, func(t *testing.T) {
			u := interimUpstream(t, "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
			var seen []string
			req, _ := http.NewRequestWithContext(got1xx(context.Background(), &seen, errStop), "GET", u.url+"/a", nil)
			if _, err := tt.rt.RoundTrip(req); !errors.Is(err, errStop) {
				t.Errorf("got %v, want the hook's error", err)
			}
			req, _ = http.NewRequest("GET", u.url+"/b", nil)
			res, err := tt.rt.RoundTrip(req)
			if err != nil {
				t.Fatalf("second: %v", err)
			}
			if got := readAll(t, res); got != "/b" {
				t.Errorf("second: got %q, want %q", got, "/b")
			}
			if got := u.conns.Load(); got != 2 {
				t.Errorf("upstream saw %d connections, want 2", got)
			}
		})
	}
}

// TestInformationalLimits: as in net/http, 1xx heads that no hook sees
// count against the response head limit together with the final head;
// once delivered to a hook, each 1xx resets the limit (the hook's owner
// bounds them).
func TestInformationalLimits(t *testing.T) {
	one := "HTTP/1.1 103 Early Hints\r\nLink: <" + strings.Repeat("x", 200) + ">\r\n\r\n"
	interim := strings.Repeat(one, 10) // 10 heads of about 230 bytes: over 1 KiB together
	for _, tt := range referenceTransports(t, 1024) {
		t.Run(tt.name, func(t *testing.T) {
			u := interimUpstream(t, interim)
			req, _ := http.NewRequest("GET", u.url+"/a", nil)
			if res, err := tt.rt.RoundTrip(req); err == nil {
				res.Body.Close()
				t.Errorf("without a hook: got %d, want an error for heads over the limit", res.StatusCode)
			}
			var seen []string
			req, _ = http.NewRequestWithContext(got1xx(context.Background(), &seen, nil), "GET", u.url+"/b", nil)
			res, err := tt.rt.RoundTrip(req)
			if err != nil {
				t.Fatalf("with a hook: %v", err)
			}
			if got := readAll(t, res); got != "/b" || len(seen) != 10 {
				t.Errorf("with a hook: got %q after %d 1xx responses, want %q after 10", got, len(seen), "/b")
			}
		})
	}
}

// TestRoundTripWithGot1xx: RoundTripOptions.Got1xx is shown each 1xx
// response before the context's trace hook; its error ends the exchange
// without reaching that hook; and the 1xx responses it sees are delivered
// ones, each resetting the response head limit.
func TestRoundTripWithGot1xx(t *testing.T) {
	one := "HTTP/1.1 103 Early Hints\r\nLink: <" + strings.Repeat("x", 200) + ">\r\n\r\n"
	u := interimUpstream(t, strings.Repeat(one, 10)+"HTTP/1.1 102 Processing\r\n\r\n") // over 1 KiB together
	tr := New(Options{MaxResponseHeaderBytes: 1024})
	t.Cleanup(tr.CloseIdleConnections)
	var seen []string
	record := func(who string, err error) func(int, textproto.MIMEHeader) error {
		return func(code int, h textproto.MIMEHeader) error {
			seen = append(seen, fmt.Sprintf("%s %d %d", who, code, len(h["Link"])))
			return err
		}
	}
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{Got1xxResponse: record("trace", nil)})

	req, _ := http.NewRequestWithContext(ctx, "GET", u.url+"/a", nil)
	res, err := tr.RoundTripWith(req, RoundTripOptions{Got1xx: record("opt", nil)})
	if err != nil {
		t.Fatalf("RoundTripWith: %v", err)
	}
	if got := readAll(t, res); res.StatusCode != 200 || got != "/a" {
		t.Errorf("got %d %q, want 200 %q", res.StatusCode, got, "/a")
	}
	var want []string
	for range 10 {
		want = append(want, "opt 103 1", "trace 103 1")
	}
	want = append(want, "opt 102 0", "trace 102 0")
	if g, w := strings.Join(seen, "\n"), strings.Join(want, "\n"); g != w {
		t.Errorf("hooks saw\n%s\nwant\n%s", g, w)
	}

	// Got1xx alone, in a context without a trace, delivers them too.
	seen = nil
	req, _ = http.NewRequest("GET", u.url+"/b", nil)
	res, err = tr.RoundTripWith(req, RoundTripOptions{Got1xx: record("opt", nil)})
	if err != nil {
		t.Fatalf("Got1xx alone: %v", err)
	}
	if got := readAll(t, res); got != "/b" || len(seen) != 11 {
		t.Errorf("Got1xx alone: got %q after %d 1xx responses, want %q after 11", got, len(seen), "/b")
	}

	seen = nil
	errStop := errors.New("stop here")
	req, _ = http.NewRequestWithContext(ctx, "GET", u.url+"/c", nil)
	if _, err := tr.RoundTripWith(req, RoundTripOptions{Got1xx: record("opt", errStop)}); !errors.Is(err, errStop) {
		t.Errorf("got %v, want Got1xx's error", err)
	}
	if g := strings.Join(seen, "\n"); g != "opt 103 1" {
		t.Errorf("after Got1xx's error, hooks saw\n%s\nwant only Got1xx's first call", g)
	}
	req, _ = http.NewRequest("GET", u.url+"/d", nil)
	res, err = tr.RoundTripWith(req, RoundTripOptions{Got1xx: record("opt", nil)})
	if err != nil {
		t.Fatalf("after Got1xx's error: %v", err)
	}
	if got := readAll(t, res); got != "/d" {
		t.Errorf("after Got1xx's error: got %q, want %q", got, "/d")
	}
	if got := u.conns.Load(); got != 2 {
		t.Errorf("upstream saw %d connections, want 2 (the failed exchange's not reused)", got)
	}
}
