// Package contracttest checks that a gateway implements the benchmark's
// contract, like testing/slogtest does for slog handlers: every gateway of
// the suite runs [Run] in its own tests.
//
// [Run] starts the mock auth and data services on ephemeral loopback ports,
// builds the gateway against them, and checks that it answers each route
// exactly as the data service answers the equivalent direct request (status
// and body), and that it refuses bad requests with the right status without
// forwarding them.
package contracttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
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
}

// DataHits returns how many requests reached the data service so far.
func (b *Backends) DataHits() int64 { return b.hits.Load() }

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
	b.AuthURL = serve(tb, auth.Handle)
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

// Response is a status and body.
type Response struct {
	Status int
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
	return Response{Status: resp.StatusCode, Body: body}, nil
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
