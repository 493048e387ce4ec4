// Command policy shows how routes spread requests over several backends:
// three mock upstreams ("a", "b" and "c", which is 50ms slower), and one
// route per policy, registered with apigate.WithPolicy and selected with
// apigate.Policy: round-robin, header-sticky on X-User, path-sticky on
// :id, consistent hashing on a key of our own, least-request and
// least-time. Every answer names its backend ("upstream" in the body,
// X-Upstream in the headers).
//
//	go run ./examples/policy                            # serve on 127.0.0.1:8080 until Ctrl-C
//	go run ./examples/policy -check -addr 127.0.0.1:0   # send the printed requests itself and exit
//
// Sticky policies hash the key with the backends' addresses, which change
// from run to run here (the mocks listen on random ports): which backend
// a key lands on changes between runs, but within a run (and on every
// gateway replica given the same backends) it does not.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/examples/internal/excheck"
	"github.com/apigate-go/apigate/examples/upstream"
	"github.com/apigate-go/apigate/policy"
)

func main() {
	excheck.Main(run)
}

// byTenant is a strategy of our own (with policy.StrategyFunc): every
// backend is a candidate, and the affinity key is the tenant query
// parameter. It runs on every request, so it scans the raw query instead
// of parsing it into a map.
func byTenant(r policy.Request) ([]balancer.Backend, string) {
	for kv := range strings.SplitSeq(r.HTTP.URL.RawQuery, "&") {
		if k, v, _ := strings.Cut(kv, "="); k == "tenant" {
			return r.Backends, v
		}
	}
	return r.Backends, "" // no key: round-robin
}

func run(addr string, check bool) error {
	var backends []string
	for _, name := range []string{"a", "b"} {
		url, stop, err := upstream.Start(name)
		if err != nil {
			return err
		}
		defer stop()
		backends = append(backends, url)
	}
	url, stop, err := startSlow("c", 50*time.Millisecond)
	if err != nil {
		return err
	}
	defer stop()
	backends = append(backends, url)

	svc := apigate.Service("/demo",
		apigate.GET("/rr", apigate.Policy("round-robin")),
		apigate.GET("/profile", apigate.Policy("by-user")),
		apigate.GET("/items/:id", apigate.Policy("by-item")),
		apigate.GET("/reports", apigate.Policy("by-tenant")),
		apigate.GET("/lr", apigate.Policy("least-request")),
		apigate.GET("/lt", apigate.Policy("least-time")),
	)
	gw, err := apigate.New(
		apigate.Mount(svc, backends...),
		// A policy is configuration; each route that uses one gets its own
		// balancer state.
		apigate.WithPolicy("round-robin", policy.RoundRobin()),
		apigate.WithPolicy("by-user", policy.HeaderSticky("X-User")),
		apigate.WithPolicy("by-item", policy.PathSticky("id")),
		// The same as policy.New(policy.StrategyFunc(byTenant), balancer.ConsistentHash).
		apigate.WithPolicy("by-tenant", policy.ConsistentHash(policy.StrategyFunc(byTenant))),
		apigate.WithPolicy("least-request", policy.LeastRequest()),
		apigate.WithPolicy("least-time", policy.LeastTime()),
	)
	if err != nil {
		return err
	}

	demos := []demo{
		{note: "round-robin: a, b, c in turn",
			path: "/demo/rr", loop: seq(6), verify: evenSpread},
		{note: "header-sticky: the same X-User always reaches the same backend",
			path: "/demo/profile", header: "X-User: $k", loop: []string{"alice", "alice", "alice", "bob", "bob", "bob", "carol", "carol", "carol"},
			verify: sticky},
		{note: "path-sticky: the same :id always reaches the same backend",
			path: "/demo/items/$k", loop: []string{"42", "42", "42", "7", "7", "7"}, verify: sticky},
		{note: "consistent hash on a key of our own (?tenant=): the same tenant, the same backend",
			path: "/demo/reports?tenant=$k", loop: []string{"acme", "acme", "acme", "globex", "globex", "globex"}, verify: sticky},
		{note: "least-request: while one request takes 1s, the next ones go to the other backends",
			background: "/demo/lr?delay=1s", path: "/demo/lr", loop: seq(4), verify: avoidsBusy},
		{note: "least-time: once c is measured as slow, it gets no traffic (until, hundreds of requests later, it is probed again)",
			path: "/demo/lt", loop: seq(10), verify: avoidsSlow("c")},
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ln, err := apigate.Listen(ctx, addr, apigate.ServeOptions{})
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Printf("gateway on %s in front of the mock upstreams a=%s b=%s c=%s (c is slow)\ntry:\n", base, backends[0], backends[1], backends[2])
	for _, d := range demos {
		fmt.Printf("  # %s\n  %s\n", d.note, d.shell(base))
	}
	if !check {
		return apigate.Serve(ctx, ln, gw, apigate.ServeOptions{})
	}
	go apigate.Serve(ctx, ln, gw, apigate.ServeOptions{})
	client := &http.Client{Timeout: 10 * time.Second}
	for _, d := range demos {
		if err := d.check(client, base); err != nil {
			return err
		}
	}
	return nil
}

// startSlow serves the mock upstream on loopback with every answer
// delayed by d: a backend slower than its peers.
func startSlow(name string, d time.Duration) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	h := upstream.Handler(name)
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
			h.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	})}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// demo is a shell loop of requests: main prints it, and -check sends the
// same requests and verifies which backends answered.
type demo struct {
	note       string
	path       string   // may hold $k, the loop variable
	header     string   // "Name: value", may hold $k
	loop       []string // the values of $k, one request each
	background string   // a request sent first, in the background, still running during the loop
	verify     func(d demo, got []string, busy string) error
}

// keyed reports whether the demo's requests use the loop variable.
func (d demo) keyed() bool {
	return strings.Contains(d.path+d.header, "$k")
}

// shell returns the demo as a command line that works as printed.
func (d demo) shell(base string) string {
	q := excheck.Quote
	if d.keyed() {
		q = func(s string) string { return `"` + s + `"` } // let the shell expand $k
	}
	s := ""
	if d.background != "" {
		s = "curl -s " + excheck.Quote(base+d.background) + ` | grep '"upstream"' & sleep 0.2; `
	}
	s += "for k in " + strings.Join(d.loop, " ") + "; do "
	if d.keyed() {
		s += `printf '%s: ' "$k"; `
	}
	s += "curl -s"
	if d.header != "" {
		s += " -H " + q(d.header)
	}
	s += " " + q(base+d.path) + ` | grep '"upstream"'; done`
	if d.background != "" {
		s += "; wait"
	}
	return s
}

// check sends the demo's requests and verifies the backends that answered.
func (d demo) check(client *http.Client, base string) error {
	busy := make(chan string, 1)
	if d.background != "" {
		go func() {
			name, _ := ask(client, base+d.background, "")
			busy <- name
		}()
		time.Sleep(200 * time.Millisecond) // as the printed sleep 0.2
	} else {
		busy <- ""
	}
	var got []string
	for _, k := range d.loop {
		name, err := ask(client, base+strings.ReplaceAll(d.path, "$k", k), strings.ReplaceAll(d.header, "$k", k))
		if err != nil {
			return err
		}
		got = append(got, name)
	}
	b := <-busy
	if err := d.verify(d, got, b); err != nil {
		return fmt.Errorf("%s: %w", d.path, err)
	}
	answers := got
	if d.keyed() {
		answers = make([]string, len(got))
		for i, name := range got {
			answers[i] = d.loop[i] + "→" + name
		}
	}
	if b != "" {
		answers = append(answers, "(busy: "+b+")")
	}
	fmt.Printf("ok  GET %s: %s\n", d.path, strings.Join(answers, " "))
	return nil
}

// ask sends a GET with an optional header and returns the name of the
// backend that answered.
func ask(client *http.Client, url, header string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	if k, v, ok := strings.Cut(header, ":"); ok {
		req.Header.Set(k, strings.TrimSpace(v))
	}
	res, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: status %d", url, res.StatusCode)
	}
	return res.Header.Get("X-Upstream"), nil
}

// evenSpread checks that every backend answered equally often.
func evenSpread(d demo, got []string, _ string) error {
	count := map[string]int{}
	for _, name := range got {
		count[name]++
	}
	for _, name := range []string{"a", "b", "c"} {
		if count[name] != len(got)/3 {
			return fmt.Errorf("backends %v, want each of a, b, c %d times", got, len(got)/3)
		}
	}
	return nil
}

// sticky checks that equal keys reached equal backends.
func sticky(d demo, got []string, _ string) error {
	first := map[string]string{}
	for i, k := range d.loop {
		if b, ok := first[k]; ok && b != got[i] {
			return fmt.Errorf("key %s reached %s and %s", k, b, got[i])
		}
		first[k] = got[i]
	}
	return nil
}

// avoidsBusy checks that no request went to the backend busy with the
// background request.
func avoidsBusy(_ demo, got []string, busy string) error {
	if busy == "" {
		return fmt.Errorf("the background request failed")
	}
	if slices.Contains(got, busy) {
		return fmt.Errorf("backends %v include %s, busy with the background request", got, busy)
	}
	return nil
}

// avoidsSlow returns a check that the slow backend answered at most once,
// the probe that measured it.
func avoidsSlow(slow string) func(demo, []string, string) error {
	return func(_ demo, got []string, _ string) error {
		n := 0
		for _, name := range got {
			if name == slow {
				n++
			}
		}
		if n > 1 {
			return fmt.Errorf("backends %v: the slow %s answered %d times, want at most once", got, slow, n)
		}
		return nil
	}
}

// seq returns "1" to "n".
func seq(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprint(i + 1)
	}
	return s
}
