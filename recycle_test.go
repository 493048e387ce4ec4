package apigate

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// TestConcurrentResponsesKeepTheirHeaders sends many concurrent requests
// through the gateway to an upstream whose answers differ in status,
// header fields (their number too) and body, including empty answers,
// whose head apigate's server writes after the handler returned, and
// checks that every client gets its own. apigate's upstream client
// recycles the responses it parsed (Transport.Recycle), so a field of
// one answer must never show in another.
func TestConcurrentResponsesKeepTheirHeaders(t *testing.T) {
	var seen atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		n := r.URL.Query().Get("n")
		i, _ := strconv.Atoi(r.URL.Query().Get("i"))
		w.Header().Set("X-N", n)
		for k := range i % 12 {
			w.Header().Set(fmt.Sprintf("X-Extra-%d", k), n)
		}
		if i%3 == 0 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, n)
	}))
	t.Cleanup(up.Close)
	svc := Service("/",
		GET("/plain"),
		GET("/after", After(func(_ *Ctx, res *UpstreamResponse) error {
			res.Header.Set("X-After", res.Header.Get("X-N"))
			return nil
		})),
		GET("/swap", After(func(_ *Ctx, res *UpstreamResponse) error {
			// A map of the hook's own in place of the gateway's.
			res.Header = res.Header.Clone()
			res.Header.Set("X-After", res.Header.Get("X-N"))
			return nil
		})),
	)
	_, gw := serveGateway(t, Mount(svc, up.URL))

	const goroutines, each = 12, 60
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				path := "/plain"
				switch i % 4 {
				case 2:
					path = "/swap"
				case 3:
					path = "/after"
				}
				n := fmt.Sprintf("%d-%d", g, i)
				res, err := http.Get(fmt.Sprintf("%s%s?n=%s&i=%d", gw.URL, path, n, i))
				if err != nil {
					errs <- err
					return
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if err := checkOwn(res, string(body), n, i, path); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := seen.Load(); got != goroutines*each {
		t.Errorf("upstream saw %d requests, want %d", got, goroutines*each)
	}
}

// checkOwn reports how the answer to request n (the i-th of its client)
// differs from what the upstream sent for it.
func checkOwn(res *http.Response, body, n string, i int, path string) error {
	wantStatus, wantBody := http.StatusOK, n
	if i%3 == 0 {
		wantStatus, wantBody = http.StatusNoContent, ""
	}
	if res.StatusCode != wantStatus || body != wantBody || res.Header.Get("X-N") != n {
		return fmt.Errorf("request %s: status %d, X-N %q, body %q", n, res.StatusCode, res.Header.Get("X-N"), body)
	}
	extras := 0
	for k, vv := range res.Header {
		if len(k) > 8 && k[:8] == "X-Extra-" {
			extras++
			if len(vv) != 1 || vv[0] != n {
				return fmt.Errorf("request %s: %s = %q", n, k, vv)
			}
		}
	}
	if extras != i%12 {
		return fmt.Errorf("request %s: %d X-Extra fields, want %d", n, extras, i%12)
	}
	if path != "/plain" && res.Header.Get("X-After") != n {
		return fmt.Errorf("request %s: X-After %q", n, res.Header.Get("X-After"))
	}
	return nil
}
