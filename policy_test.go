package apigate

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/policy"
)

// namedUpstreams starts n upstreams that answer with their index, and
// returns their URLs.
func namedUpstreams(t *testing.T, n int, h func(i int, w http.ResponseWriter, r *http.Request)) []string {
	urls := make([]string, n)
	for i := range n {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if h != nil {
				h(i, w, r)
			}
			fmt.Fprint(w, i)
		}))
		t.Cleanup(s.Close)
		urls[i] = s.URL
	}
	return urls
}

func whoAnswers(t *testing.T, c *http.Client, url string, hdr http.Header) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("%s: status %d %s", url, res.StatusCode, b)
	}
	return string(b)
}

func TestRoundRobinSpread(t *testing.T) {
	urls := namedUpstreams(t, 3, nil)
	_, gw := serveGateway(t, Mount(Service("/", GET("/x")), urls...))
	counts := map[string]int{}
	for range 300 {
		counts[whoAnswers(t, http.DefaultClient, gw.URL+"/x", nil)]++
	}
	for i := range 3 {
		if c := counts[fmt.Sprint(i)]; c < 95 || c > 105 {
			t.Errorf("backend %d got %d of 300, want about 100 (%v)", i, c, counts)
		}
	}
}

func TestWeightsHoldTheirRatio(t *testing.T) {
	// A hash ring's shares depend on where the backends' URLs land on it,
	// and the upstreams' ports change every run: its bounds are wider.
	for _, tt := range []struct {
		name     string
		pol      policy.Policy
		hdr      func(i int) http.Header
		min, max float64
	}{
		{"round-robin", policy.RoundRobin(), func(int) http.Header { return nil }, 2.4, 3.7},
		{"consistent hash", policy.HeaderSticky("X-User"), func(i int) http.Header { return http.Header{"X-User": {fmt.Sprint("user-", i)}} }, 2.0, 4.5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			urls := namedUpstreams(t, 2, nil)
			_, gw := serveGateway(t,
				MountBackends(Service("/", GET("/x", Policy("p"))), Backend{URL: urls[0], Weight: 3}, Backend{URL: urls[1]}),
				WithPolicy("p", tt.pol))
			counts := map[string]int{}
			const n = 800
			for i := range n {
				counts[whoAnswers(t, http.DefaultClient, gw.URL+"/x", tt.hdr(i))]++
			}
			ratio := float64(counts["0"]) / float64(max(counts["1"], 1))
			if ratio < tt.min || ratio > tt.max {
				t.Errorf("weight 3:1 served %v, ratio %.2f", counts, ratio)
			}
		})
	}
}

func TestStickyAcrossGatewayInstances(t *testing.T) {
	urls := namedUpstreams(t, 5, nil)
	build := func() string {
		svc := Service("/",
			GET("/h", Policy("by-user")),
			GET("/users/:id", Policy("by-id")),
		)
		_, gw := serveGateway(t, Mount(svc, urls...),
			WithPolicy("by-user", policy.HeaderSticky("X-User")),
			WithPolicy("by-id", policy.PathSticky("id")))
		return gw.URL
	}
	a, b := build(), build()
	seen := map[string]bool{}
	for i := range 40 {
		key := fmt.Sprint("key-", i)
		hdr := http.Header{"X-User": {key}}
		first := whoAnswers(t, http.DefaultClient, a+"/h", hdr)
		seen[first] = true
		for range 3 {
			if got := whoAnswers(t, http.DefaultClient, a+"/h", hdr); got != first {
				t.Fatalf("header key %s moved from %s to %s on one gateway", key, first, got)
			}
		}
		if got := whoAnswers(t, http.DefaultClient, b+"/h", hdr); got != first {
			t.Errorf("header key %s: gateway A → %s, gateway B → %s", key, first, got)
		}
		pa := whoAnswers(t, http.DefaultClient, a+"/users/"+key, nil)
		if pb := whoAnswers(t, http.DefaultClient, b+"/users/"+key, nil); pa != pb {
			t.Errorf("path key %s: gateway A → %s, gateway B → %s", key, pa, pb)
		}
	}
	if len(seen) < 4 {
		t.Errorf("40 keys landed on only %d of 5 backends", len(seen))
	}
	// Without the header the policy falls back to round-robin: spread.
	spread := map[string]bool{}
	for range 10 {
		spread[whoAnswers(t, http.DefaultClient, a+"/h", nil)] = true
	}
	if len(spread) < 5 {
		t.Errorf("keyless requests used %d of 5 backends, want all", len(spread))
	}
}

func TestConsistentHashMovesAboutOneNth(t *testing.T) {
	urls := namedUpstreams(t, 5, nil)
	gateway := func(n int) string {
		_, gw := serveGateway(t, Mount(Service("/", GET("/x", Policy("p"))), urls[:n]...), WithPolicy("p", policy.HeaderSticky("K")))
		return gw.URL
	}
	four, five := gateway(4), gateway(5)
	const keys = 600
	moved := 0
	for i := range keys {
		hdr := http.Header{"K": {fmt.Sprint("k", i)}}
		before := whoAnswers(t, http.DefaultClient, four+"/x", hdr)
		after := whoAnswers(t, http.DefaultClient, five+"/x", hdr)
		if before != after {
			moved++
			if after != "4" {
				t.Fatalf("key k%d moved from %s to %s, not to the new backend", i, before, after)
			}
		}
	}
	if frac := float64(moved) / keys; math.Abs(frac-0.2) > 0.06 {
		t.Errorf("adding a 5th backend moved %.3f of keys, want about 0.2", frac)
	}
}

func TestLeastRequestAvoidsBusyBackend(t *testing.T) {
	release := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	var once [2]sync.Once
	free := func(i int) { once[i].Do(func() { close(release[i]) }) }
	defer free(0)
	defer free(1)
	var held [2]atomic.Int32
	urls := namedUpstreams(t, 2, func(i int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("hold") == "1" {
			held[i].Add(1)
			<-release[i]
		}
	})
	_, gw := serveGateway(t, Mount(Service("/", GET("/x", Policy("lr"))), urls...), WithPolicy("lr", policy.LeastRequest()))
	// Six slow requests: least-request spreads them three and three.
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res, err := http.Get(gw.URL + "/x?hold=1"); err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for held[0].Load()+held[1].Load() < 6 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if h0, h1 := held[0].Load(), held[1].Load(); h0 != 3 || h1 != 3 {
		t.Fatalf("six slow requests held %d on backend 0 and %d on 1, want 3 and 3", h0, h1)
	}
	// Backend 1 finishes its three; backend 0 still holds three.
	free(1)
	time.Sleep(50 * time.Millisecond)
	counts := map[string]int{}
	for range 20 {
		counts[whoAnswers(t, http.DefaultClient, gw.URL+"/x", nil)]++
	}
	if counts["1"] != 20 {
		t.Errorf("with backend 0 busy, new requests went %v, want all to 1", counts)
	}
	// Once released, in-flight counts come back to zero and traffic spreads.
	free(0)
	wg.Wait()
	counts = map[string]int{}
	for range 20 {
		counts[whoAnswers(t, http.DefaultClient, gw.URL+"/x", nil)]++
	}
	if counts["0"] < 8 {
		t.Errorf("after release, backend 0 got %d of 20", counts["0"])
	}
}

func TestLeastTimeFollowsLatency(t *testing.T) {
	var slow atomic.Bool
	urls := namedUpstreams(t, 2, func(i int, w http.ResponseWriter, r *http.Request) {
		if i == 0 && slow.Load() {
			time.Sleep(30 * time.Millisecond)
		}
	})
	_, gw := serveGateway(t, Mount(Service("/", GET("/x", Policy("lt"))), urls...), WithPolicy("lt", policy.LeastTime()))
	share := func(n int) float64 {
		c := 0
		for range n {
			if whoAnswers(t, http.DefaultClient, gw.URL+"/x", nil) == "0" {
				c++
			}
		}
		return float64(c) / float64(n)
	}
	share(20) // warm up both estimates
	slow.Store(true)
	share(10) // let the balancer see backend 0 turn slow
	if s := share(100); s > 0.15 {
		t.Errorf("backend 0 is slow but still gets %.2f of traffic", s)
	}
	slow.Store(false)
	// Recovery: probes find backend 0 fast again and traffic comes back.
	recovered := 0.0
	for range 10 {
		if recovered = share(100); recovered > 0.3 {
			break
		}
	}
	if recovered <= 0.3 {
		t.Errorf("backend 0 recovered but gets only %.2f of traffic", recovered)
	}
}

// pinTo is a strategy that offers one backend only.
type pinTo int

func (p pinTo) Select(r policy.Request) ([]balancer.Backend, string) {
	return r.Backends[p : p+1], ""
}

func TestPolicyPriority(t *testing.T) {
	urls := namedUpstreams(t, 3, nil)
	pins := []Option{
		WithPolicy("pin0", policy.New(pinTo(0), nil)),
		WithPolicy("pin1", policy.New(pinTo(1), nil)),
		WithPolicy("pin2", policy.New(pinTo(2), nil)),
		WithDefaultPolicy("pin0"),
	}
	svcDefault := Service("/d", GET("/x"))
	svcOwn := Service("/s", Policy("pin1"), GET("/x"), GET("/route", Policy("pin2")))
	_, gw := serveGateway(t, append(pins, Mount(svcDefault, urls...), Mount(svcOwn, urls...))...)
	for path, want := range map[string]string{"/d/x": "0", "/s/x": "1", "/s/route": "2"} {
		if got := whoAnswers(t, http.DefaultClient, gw.URL+path, nil); got != want {
			t.Errorf("%s answered by %s, want %s", path, got, want)
		}
	}
}

func TestBalancerStatePerRoute(t *testing.T) {
	urls := namedUpstreams(t, 2, nil)
	_, gw := serveGateway(t, Mount(Service("/", GET("/a", Policy("rr")), GET("/b", Policy("rr"))), urls...), WithPolicy("rr", policy.RoundRobin()))
	var seq string
	for _, p := range []string{"/a", "/b", "/a", "/b"} {
		seq += whoAnswers(t, http.DefaultClient, gw.URL+p, nil)
	}
	// Each route has its own counter: a, b both start at backend 0.
	if seq != "0011" {
		t.Errorf("answers = %s, want 0011 (one round-robin state per route)", seq)
	}
}

func TestPathStickyUnknownParamIsAnError(t *testing.T) {
	_, err := New(Mount(Service("/", GET("/users/:id", Policy("p"))), "http://127.0.0.1:1"), WithPolicy("p", policy.PathSticky("uid")))
	if err == nil {
		t.Fatal("PathSticky on a param the route lacks was accepted")
	}
	t.Log(err)
}
