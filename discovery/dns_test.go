package discovery_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/discovery"
	"github.com/apigate-go/apigate/internal/dnstest"
	"github.com/apigate-go/apigate/observe"
	"github.com/apigate-go/apigate/policy"
)

func startDNS(t testing.TB) *dnstest.Server {
	t.Helper()
	s, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func urls(bs []apigate.Backend) string {
	var out []string
	for _, b := range bs {
		out = append(out, b.URL+"*"+strconv.Itoa(b.Weight))
	}
	return strings.Join(out, " ")
}

// TestDNSLookup resolves A/AAAA and SRV records from a real DNS server on
// loopback, whose answers change, fail and empty out.
func TestDNSLookup(t *testing.T) {
	dns := startDNS(t)
	ctx := context.Background()
	dns.SetIPs("api.test", ip("192.0.2.2"), ip("192.0.2.1"), ip("2001:db8::1"))
	src := discovery.DNS(discovery.DNSOptions{Name: "api.test.", Port: 8080, Resolver: dns.Resolver()})
	got, err := src.Lookup(ctx)
	if want := "http://192.0.2.1:8080*1 http://192.0.2.2:8080*1 http://[2001:db8::1]:8080*1"; err != nil || urls(got) != want {
		t.Fatalf("A/AAAA: %q, %v; want %q", urls(got), err, want)
	}
	v4 := discovery.DNS(discovery.DNSOptions{Name: "api.test.", Network: "ip4", MaxBackends: 1, Resolver: dns.Resolver()})
	if got, err := v4.Lookup(ctx); err != nil || urls(got) != "http://192.0.2.1:80*1" {
		t.Errorf("ip4, MaxBackends 1: %q, %v", urls(got), err)
	}

	dns.SetIPs("api.test", ip("192.0.2.3"))
	if got, err := src.Lookup(ctx); err != nil || urls(got) != "http://192.0.2.3:8080*1" {
		t.Errorf("after the change: %q, %v", urls(got), err)
	}

	dns.SetIPs("api.test")
	if _, err := src.Lookup(ctx); err == nil {
		t.Error("empty answer: no error")
	}
	dns.SetIPs("api.test", ip("192.0.2.3"))
	dns.SetRcode(dnstest.RcodeServFail)
	if _, err := src.Lookup(ctx); err == nil {
		t.Error("SERVFAIL: no error")
	}
	dns.SetRcode(dnstest.RcodeSuccess)

	dns.SetSRV("_http._tcp.api.test",
		dnstest.SRV{Priority: 10, Weight: 3, Port: 9001, Target: "a.api.test."},
		dnstest.SRV{Priority: 10, Weight: 0, Port: 9002, Target: "b.api.test."},
		dnstest.SRV{Priority: 20, Weight: 5, Port: 9003, Target: "c.api.test."})
	dns.SetIPs("a.api.test", ip("192.0.2.10"))
	dns.SetIPs("b.api.test", ip("192.0.2.11"), ip("192.0.2.12"))
	dns.SetIPs("c.api.test", ip("192.0.2.13"))
	srv := discovery.DNS(discovery.DNSOptions{Name: "_http._tcp.api.test.", SRV: true, Resolver: dns.Resolver()})
	want := "http://192.0.2.10:9001*3 http://192.0.2.11:9002*1 http://192.0.2.12:9002*1"
	if got, err := srv.Lookup(ctx); err != nil || urls(got) != want {
		t.Errorf("SRV: %q, %v; want %q", urls(got), err, want)
	}

	if err := (discovery.DNSOptions{Scheme: "ftp", Network: "ipx"}).Check(); err == nil {
		t.Error("Check accepted bad options")
	}
}

// events records the discovery events of a gateway.
type events struct {
	mu   sync.Mutex
	errs []error
	n    int
}

func (e *events) Observe(_ context.Context, ev observe.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ev.Kind {
	case observe.BackendsRefused:
		e.errs = append(e.errs, ev.Err)
	case observe.BackendsChanged:
		e.n++
	}
}

func (e *events) counts() (changed, refused int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n, len(e.errs)
}

func engine() apigate.Engine {
	if os.Getenv("APIGATE_TEST_ENGINE") == "http1" {
		return apigate.EngineHTTP1
	}
	return apigate.EngineNetHTTP
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDiscoverGateway: a gateway follows the SRV records of a real DNS
// server as they change, keeps its last good set through a SERVFAIL and
// an empty answer, and stops watching on Close.
func TestDiscoverGateway(t *testing.T) {
	var hits [2]struct {
		sync.Mutex
		n int
	}
	var ports [2]uint16
	for i := range 2 {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i].Lock()
			hits[i].n++
			hits[i].Unlock()
			fmt.Fprint(w, i)
		}))
		t.Cleanup(s.Close)
		ports[i] = netip.MustParseAddrPort(strings.TrimPrefix(s.URL, "http://")).Port()
	}
	dns := startDNS(t)
	dns.SetIPs("local.api.test", ip("127.0.0.1"))
	dns.SetSRV("_http._tcp.api.test", dnstest.SRV{Priority: 1, Weight: 1, Port: ports[0], Target: "local.api.test."})
	ev := &events{}
	g, err := apigate.New(
		apigate.Mount(apigate.Service("/api", apigate.GET("/*p"))),
		apigate.Discover("api", discovery.DNS(discovery.DNSOptions{Name: "_http._tcp.api.test", SRV: true,
			Refresh: 20 * time.Millisecond, Resolver: dns.Resolver()})),
		apigate.WithUpstream(apigate.UpstreamOptions{Engine: engine()}),
		apigate.WithObserver(ev))
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(g)
	defer front.Close()
	defer g.Close()
	body := func() string {
		res, err := http.Get(front.URL + "/api/x")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return strconv.Itoa(res.StatusCode) + " " + string(b)
	}
	waitFor(t, "the first answer", func() bool { return len(g.Backends("api")) == 1 })
	if got := body(); got != "200 0" {
		t.Fatalf("first set: %q", got)
	}

	// The record changes (a TTL expiry): traffic moves to backend 1.
	dns.SetSRV("_http._tcp.api.test", dnstest.SRV{Priority: 1, Weight: 1, Port: ports[1], Target: "local.api.test."})
	waitFor(t, "the new record", func() bool {
		bs := g.Backends("api")
		return len(bs) == 1 && strings.HasSuffix(bs[0].URL, ":"+strconv.Itoa(int(ports[1])))
	})
	hits[0].Lock()
	before := hits[0].n
	hits[0].Unlock()
	for range 5 {
		if got := body(); got != "200 1" {
			t.Fatalf("after the change: %q", got)
		}
	}

	// SERVFAIL, then an empty answer: refused, the last good set serves.
	_, refused := ev.counts()
	dns.SetRcode(dnstest.RcodeServFail)
	waitFor(t, "a refusal", func() bool { _, r := ev.counts(); return r > refused })
	if got := body(); got != "200 1" {
		t.Errorf("during SERVFAIL: %q", got)
	}
	dns.SetRcode(dnstest.RcodeSuccess)
	dns.SetSRV("_http._tcp.api.test")
	_, refused = ev.counts()
	waitFor(t, "a refusal", func() bool { _, r := ev.counts(); return r > refused })
	if got := body(); got != "200 1" {
		t.Errorf("during an empty answer: %q", got)
	}
	hits[0].Lock()
	if hits[0].n != before {
		t.Errorf("backend 0 got %d requests after it left", hits[0].n-before)
	}
	hits[0].Unlock()
	ev.mu.Lock()
	for _, err := range ev.errs {
		if !strings.Contains(err.Error(), `service "api"`) {
			t.Errorf("refusal without the service name: %v", err)
		}
	}
	ev.mu.Unlock()

	// Close stops the watch: no query after it.
	g.Close()
	q := dns.Queries()
	time.Sleep(100 * time.Millisecond)
	if dns.Queries() != q {
		t.Errorf("%d DNS queries after Close", dns.Queries()-q)
	}
}

// TestDiscoverUnknownService: Discover needs a source, once per service.
func TestDiscoverUnknownService(t *testing.T) {
	dns := startDNS(t)
	_, err := apigate.New(apigate.Mount(apigate.Service("/api", apigate.GET("/x"))),
		apigate.Discover("api", nil))
	if err == nil {
		t.Error("Discover with a nil source: no error")
	}
	src := discovery.DNS(discovery.DNSOptions{Name: "x.test", Resolver: dns.Resolver()})
	_, err = apigate.New(apigate.Mount(apigate.Service("/api", apigate.GET("/x"))), apigate.Discover("api", src), apigate.Discover("api", src))
	if err == nil {
		t.Error("Discover twice: no error")
	}
	_, err = apigate.New(apigate.Mount(apigate.Service("/api", apigate.GET("/x")), "http://192.0.2.1"), apigate.Discover("nope", src))
	if err == nil || !strings.Contains(err.Error(), "no such service") {
		t.Errorf("Discover of an unmounted service: %v", err)
	}
}

// placement returns, for keys user-0 … user-(n-1), the backend URL a
// gateway built from the DNS answer picks, one per line.
func placement(t testing.TB, dnsAddr string, n int) string {
	var hit = map[string]string{}
	var mu sync.Mutex
	// Each backend is a distinct URL on a closed port; an observer sees
	// the pick without any upstream.
	obs := observe.Func(func(_ context.Context, e observe.Event) {
		if e.Kind == observe.BackendSelected {
			mu.Lock()
			if k := e.Request.Header.Get("X-User"); hit[k] == "" {
				hit[k] = e.Addr // the first pick, not a retry's
			}
			mu.Unlock()
		}
	})
	res := &dnstest.Server{Addr: dnsAddr}
	g, err := apigate.New(apigate.Mount(apigate.Service("/api", apigate.GET("/*p"), apigate.Policy("sticky"))),
		apigate.WithPolicy("sticky", policy.HeaderSticky("X-User")),
		apigate.Discover("api", discovery.DNS(discovery.DNSOptions{Name: "api.test", Port: 9, Resolver: res.Resolver()})),
		apigate.WithUpstream(apigate.UpstreamOptions{ConnectTimeout: time.Millisecond}),
		apigate.WithOutlierDetection(apigate.OutlierOptions{Disable: true}),
		apigate.WithRetries(apigate.RetryOptions{Attempts: 1}),
		apigate.WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	deadline := time.Now().Add(10 * time.Second)
	for len(g.Backends("api")) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	var out []string
	for k := range n {
		key := "user-" + strconv.Itoa(k)
		r := httptest.NewRequest(http.MethodGet, "/api/x", nil)
		r.Header.Set("X-User", key)
		g.ServeHTTP(httptest.NewRecorder(), r)
		mu.Lock()
		out = append(out, key+" "+hit[key])
		mu.Unlock()
	}
	return strings.Join(out, "\n")
}

// TestHelperProcess is not a test: TestReplicasAgree runs it in another
// process to print a gateway's placement.
func TestHelperProcess(t *testing.T) {
	addr := os.Getenv("APIGATE_DISCOVERY_HELPER_DNS")
	if addr == "" {
		t.Skip("helper process only")
	}
	fmt.Print(placement(t, addr, 1000))
}

// TestReplicasAgree: two gateways in two processes, discovering the same
// backends from DNS (in a different order each time), send every key to
// the same backend, with no coordination.
func TestReplicasAgree(t *testing.T) {
	dns := startDNS(t)
	var ips []netip.Addr
	for i := range 7 {
		ips = append(ips, ip("127.0.0."+strconv.Itoa(10+i))) // port 9 refuses at once
	}
	dns.SetIPs("api.test", ips...)
	here := placement(t, dns.Addr, 1000)
	slices.Reverse(ips) // another answer order
	dns.SetIPs("api.test", ips...)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "APIGATE_DISCOVERY_HELPER_DNS="+dns.Addr)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	there := strings.TrimSuffix(strings.TrimSpace(string(out)), "PASS")
	there = strings.TrimSpace(there)
	if there != here {
		a, b := strings.Split(here, "\n"), strings.Split(there, "\n")
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("placement differs: %q here, %q in the other process", a[i], b[i])
			}
		}
		t.Fatalf("placement differs: %d lines here, %d there", len(a), len(b))
	}
	backends := map[string]bool{}
	for _, l := range strings.Split(here, "\n") {
		backends[strings.Fields(l)[1]] = true
	}
	if len(backends) != 7 {
		t.Errorf("keys spread over %d backends, want 7", len(backends))
	}
}
