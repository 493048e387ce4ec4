package apigate

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestCORSVaryOnAfterHookError checks that an After hook that replaces
// an upstream response whose header has a Vary field still sends the
// gateway's Vary: Origin (docs/cors.md: every response of a CORS route,
// the gateway's own errors included, gets Vary: Origin).
func TestCORSVaryOnAfterHookError(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Accept-Encoding")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "body")
	}))
	defer up.Close()
	const origin = "https://app.example.com"
	hook := After(func(c *Ctx, res *UpstreamResponse) error {
		if res.Status >= 500 {
			return BadGateway("upstream failed")
		}
		return nil
	})
	_, gw := serveGateway(t, Mount(Service("/", CORS(CORSOptions{AllowOrigins: []string{origin}}), hook,
		GET("/fail")), up.URL))
	req := newReq(t, "GET", gw.URL+"/fail", "")
	req.Header.Set("Origin", origin)
	res, _ := do(t, req)
	if res.StatusCode != 502 {
		t.Fatalf("status %d, want 502", res.StatusCode)
	}
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, origin)
	}
	if got := res.Header.Values("Vary"); len(got) == 0 {
		t.Errorf("the hook's 502 has Access-Control-Allow-Origin %q but no Vary: Origin (headers %v)", origin, res.Header)
	}
}

// TestUntrustedXForwardedOthers checks that every X-Forwarded-* field
// of a client that is not a trusted proxy is dropped, not only the
// three the gateway sets (README: "X-Forwarded-* set and never trusted
// from strangers").
func TestUntrustedXForwardedOthers(t *testing.T) {
	up := newEcho(t)
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), up.URL))
	req := newReq(t, "GET", gw.URL+"/x", "")
	req.Header.Set("X-Forwarded-Port", "443")
	req.Header.Set("X-Forwarded-Prefix", "/admin")
	req.Header.Set("X-Forwarded-Ssl", "on")
	res, _ := do(t, req)
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	got := up.last(t).Header
	for _, k := range []string{"X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Ssl"} {
		if v := got.Get(k); v != "" {
			t.Errorf("untrusted client's %s: %q reached the upstream", k, v)
		}
	}
}
