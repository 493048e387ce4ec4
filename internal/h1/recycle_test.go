package h1

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// TestRecycleReusesResponse checks that a recycled response's storage
// and header map carry the next response, with nothing of the first
// left in it, and that a value slice kept from the first stays intact.
func TestRecycleReusesResponse(t *testing.T) {
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Only-"+r.URL.Query().Get("n"), r.URL.Query().Get("n"))
		fmt.Fprint(w, r.URL.Query().Get("n"))
	}))
	tr := newTransport(t)
	get := func(n int) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/?n=%d", srv.URL, n), nil)
		res, err := tr.RoundTripWith(req, RoundTripOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(t, res); body != fmt.Sprint(n) {
			t.Fatalf("response %d: body %q", n, body)
		}
		return res
	}
	first := get(1)
	kept := first.Header["X-Only-1"]
	// Each recycled response and the header map it had: storage reused
	// must come back with its own map, holding only the new fields.
	recycled := map[*http.Response]unsafe.Pointer{first: reflect.ValueOf(first.Header).UnsafePointer()}
	tr.Recycle(first)
	// sync.Pool may drop what it holds (always, at random, under the
	// race detector), and keeps what one P put for that P: look for the
	// reuse of any recycled response over many rounds.
	reused := false
	for i := 2; i < 200 && !reused; i++ {
		res := get(i)
		own := fmt.Sprintf("X-Only-%d", i)
		for k := range res.Header {
			if strings.HasPrefix(k, "X-Only-") && k != own {
				t.Fatalf("response %d carries a recycled response's field: %v", i, res.Header)
			}
		}
		if got := res.Header.Get(own); got != fmt.Sprint(i) {
			t.Fatalf("response %d: %s = %q", i, own, got)
		}
		m := reflect.ValueOf(res.Header).UnsafePointer()
		if was, ok := recycled[res]; ok {
			if m != was {
				t.Fatalf("response %d reuses a recycled response but not its header map", i)
			}
			reused = true
		}
		recycled[res] = m
		tr.Recycle(res)
	}
	if !reused && !raceEnabled {
		t.Error("no response reused the recycled storage")
	}
	if len(kept) != 1 || kept[0] != "1" {
		t.Errorf("a value slice kept from the recycled response changed: %q", kept)
	}
}

// TestRecycleConcurrent has many goroutines recycle responses while
// others are read: each must carry its own answer.
func TestRecycleConcurrent(t *testing.T) {
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-N", r.URL.Query().Get("n"))
		fmt.Fprint(w, r.URL.Query().Get("n"))
	}))
	tr := newTransport(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 100 {
				n := fmt.Sprintf("%d-%d", g, i)
				req, _ := http.NewRequest("GET", srv.URL+"/?n="+n, nil)
				res, err := tr.RoundTripWith(req, RoundTripOptions{})
				if err != nil {
					errs <- err
					return
				}
				var b [64]byte
				k, _ := res.Body.Read(b[:])
				for k < len(n) {
					m, err := res.Body.Read(b[k:])
					k += m
					if err != nil {
						break
					}
				}
				res.Body.Close()
				if got := res.Header.Get("X-N"); got != n || string(b[:k]) != n {
					errs <- fmt.Errorf("request %s got X-N %q, body %q", n, got, b[:k])
					return
				}
				tr.Recycle(res)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestRecycleSkipsUpgrades checks that a 101 response, whose body is the
// connection, is not taken back.
func TestRecycleSkipsUpgrades(t *testing.T) {
	tr := newTransport(t)
	res := &http.Response{StatusCode: http.StatusSwitchingProtocols}
	tr.Recycle(res) // must not treat res as one of its own
	tr.Recycle(nil)
	if ra, ok := tr.resps.Get().(*respAlloc); ok {
		t.Fatalf("the pool holds %p after recycling a 101", ra)
	}
}
