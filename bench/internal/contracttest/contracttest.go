// Package contracttest checks that a gateway implements the benchmark's
// contract, like testing/slogtest does for slog handlers: every gateway of
// the suite runs [Run] in its own tests.
//
// [Run] starts the mock auth and data services on ephemeral loopback ports,
// builds the gateway against them, and checks that it answers each route
// exactly as the data service answers the equivalent direct request (status
// and body), that it refuses bad requests with the right status without
// forwarding them, and that the requests it sends to the data service and to
// the auth service carry the forwarding and request-ID headers of
// [contract.ForwardingHeaders].
package contracttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigate-go/apigate/bench/internal/contract"
	"github.com/apigate-go/apigate/bench/internal/mock"
	"github.com/valyala/fasthttp"
)

// Backends are the mock services started by [StartBackends].
type Backends struct {
	// AuthURL and DataURL are the services' base URLs.
	AuthURL, DataURL string
	// Token is a valid bearer token for [contract.UserID].
	Token string
	hits  atomic.Int64

	mu     sync.Mutex
	verify map[string]string // forwarding headers of the last call to /verify
}

// DataHits returns how many requests reached the data service so far.
func (b *Backends) DataHits() int64 { return b.hits.Load() }

// LastVerify returns the forwarding headers (see
// [contract.ForwardingHeaders]) of the last request to the auth service's
// /verify, each name mapped to its first value ("" when absent); nil
// before any.
func (b *Backends) LastVerify() map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.verify
}

// StartBackends starts the mock auth and data services on ephemeral
// loopback ports; they stop when tb's test ends.
func StartBackends(tb testing.TB) *Backends {
	tb.Helper()
	auth := mock.NewAuth([]byte("contracttest-secret"), time.Hour)
	data := mock.NewData()
	tok, err := auth.Issue(contract.UserID)
	if err != nil {
		tb.Fatal(err)
	}
	b := &Backends{Token: tok}
	b.AuthURL = serve(tb, func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/verify" {
			seen := make(map[string]string, len(contract.ForwardingHeaders))
			for _, k := range contract.ForwardingHeaders {
				seen[k] = string(ctx.Request.Header.Peek(k))
			}
			b.mu.Lock()
			b.verify = seen
			b.mu.Unlock()
		}
		auth.Handle(ctx)
	})
	b.DataURL = serve(tb, func(ctx *fasthttp.RequestCtx) {
		b.hits.Add(1)
		data.Handle(ctx)
	})
	return b
}

func serve(tb testing.TB, h fasthttp.RequestHandler) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mock.Serve(ctx, ln, h) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Error(err)
		}
	})
	return "http://" + ln.Addr().String()
}

// Response is a status, header and body.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends req to base with client c and returns the status and body.
func Do(c *http.Client, base string, req contract.Request) (Response, error) {
	hr, err := req.NewHTTPRequest(base)
	if err != nil {
		return Response{}, err
	}
	resp, err := c.Do(hr)
	if err != nil {
		return Response{}, fmt.Errorf("contracttest: %s %s: %w", req.Method, req.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, fmt.Errorf("contracttest: %s %s: read body: %w", req.Method, req.Path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// Run checks the gateway that newGateway builds for the given auth and data
// service URLs.
func Run(t *testing.T, newGateway func(authURL, dataURL string) (http.Handler, error)) {
	t.Helper()
	b := StartBackends(t)
	h, err := newGateway(b.AuthURL, b.DataURL)
	if err != nil {
		t.Fatalf("build gateway: %v", err)
	}
	gw := httptest.NewServer(h)
	t.Cleanup(gw.Close)
	RunURL(t, b, gw.URL)
}

// RunURL checks the gateway serving at base, whose upstreams are b.
func RunURL(t *testing.T, b *Backends, base string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}

	type valid struct {
		name       string
		gw, direct contract.Request
	}
	var valids []valid
	for _, r := range contract.Routes() {
		valids = append(valids, valid{name: r.Name, gw: r.Gateway(b.Token), direct: r.Direct()})
	}
	// A media type with parameters is still JSON.
	search := contract.Routes()[2]
	withCharset := search.Gateway(b.Token)
	withCharset.Header = []contract.Header{{Key: "Content-Type", Value: "application/json; charset=utf-8"}}
	valids = append(valids, valid{name: "search with charset", gw: withCharset, direct: search.Direct()})

	for _, v := range valids {
		t.Run("valid/"+v.name, func(t *testing.T) {
			want, err := Do(c, b.DataURL, v.direct)
			if err != nil {
				t.Fatal(err)
			}
			if want.Status != http.StatusOK {
				t.Fatalf("direct: status %d, want 200 (body %s)", want.Status, want.Body)
			}
			got, err := Do(c, base, v.gw)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != want.Status || !bytes.Equal(got.Body, want.Body) {
				t.Errorf("gateway answered %d %s\nwant %d %s", got.Status, got.Body, want.Status, want.Body)
			}
		})
	}

	// Every route's request reaches the data service with the forwarding
	// headers and the request ID, which the client gets back; the auth
	// call of /my-items carries them too, with the same request ID.
	for _, r := range contract.Routes() {
		t.Run("forwarding/"+r.Name, func(t *testing.T) {
			got, err := Do(c, base, r.Probe(b.Token))
			if err != nil {
				t.Fatal(err)
			}
			if err := contract.CheckForwarding(got.Status, got.Header, got.Body); err != nil {
				t.Fatal(err)
			}
			if r.Name != "my-items" {
				return
			}
			seen := b.LastVerify()
			if err := contract.CheckForwarded(seen); err != nil {
				t.Fatalf("request to the auth service: %v", err)
			}
			if id := got.Header.Get(contract.HeaderRequestID); seen[contract.HeaderRequestID] != id {
				t.Errorf("request to the auth service: %s %q, want the request's, %q",
					contract.HeaderRequestID, seen[contract.HeaderRequestID], id)
			}
		})
	}

	for _, rj := range contract.Rejections(b.Token) {
		t.Run("reject/"+rj.Name, func(t *testing.T) {
			before := b.DataHits()
			got, err := Do(c, base, rj.Request)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != rj.Status {
				t.Errorf("status %d (body %s), want %d", got.Status, got.Body, rj.Status)
			}
			if n := b.DataHits() - before; n != 0 {
				t.Errorf("%d request(s) reached the data service, want 0", n)
			}
		})
	}
}
