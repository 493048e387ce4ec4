package main

import (
	"bytes"
	"net"
	"net/http"
	"net/url"
	"testing"

	"github.com/apigate-go/apigate/bench/internal/contract"
	"github.com/apigate-go/apigate/bench/internal/contracttest"
)

// startFloor serves a single-process floor in front of dataURL and
// returns its base URL.
func startFloor(t *testing.T, dataURL string) string {
	t.Helper()
	u, err := url.Parse(dataURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &proxy{upstream: u.Host, yield: true}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestFloorForwards checks that the floor does the work it is measured
// for: each route's upstream request, sent through it on one kept-alive
// connection, gets the data service's own answer, and the data service
// receives the forwarding headers and request ID every gateway sends.
func TestFloorForwards(t *testing.T) {
	b := contracttest.StartBackends(t)
	base := startFloor(t, b.DataURL)
	c := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer c.CloseIdleConnections()

	sent := int64(0)
	for round := range 2 {
		for _, r := range contract.Routes() {
			req := r.Direct()
			want, err := contracttest.Do(http.DefaultClient, b.DataURL, req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := contracttest.Do(c, base, req)
			if err != nil {
				t.Fatalf("round %d, %s: %v", round, r.Name, err)
			}
			sent += 2
			if got.Status != want.Status || !bytes.Equal(got.Body, want.Body) {
				t.Errorf("round %d, %s: floor answered %d %q, the data service %d %q", round, r.Name, got.Status, got.Body, want.Status, want.Body)
			}
			if len(got.Header.Values(contract.HeaderRequestID)) != 1 {
				t.Errorf("round %d, %s: response %s %q, want one", round, r.Name, contract.HeaderRequestID, got.Header.Values(contract.HeaderRequestID))
			}
		}
	}
	items := contract.Routes()[0]
	got, err := contracttest.Do(c, base, items.Probe(b.Token))
	if err != nil {
		t.Fatal(err)
	}
	sent++
	if err := contract.CheckForwarding(got.Status, got.Header, got.Body); err != nil {
		t.Error(err)
	}
	if n := b.DataHits(); n != sent {
		t.Errorf("the data service saw %d requests, want %d (one per request sent, direct or through the floor)", n, sent)
	}
}
