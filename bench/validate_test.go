package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/apigate-go/apigate/bench/internal/contract"
	"github.com/apigate-go/apigate/bench/internal/contracttest"
)

// TestValidateForwarding checks that validation flags a gateway that does
// not send the data service every forwarding header or does not return
// the request ID, and not one that does. The gateways here are plain
// proxies, which fail the bad-request checks either way: only the notes
// about forwarding headers matter.
func TestValidateForwarding(t *testing.T) {
	b := contracttest.StartBackends(t)
	target, err := url.Parse(b.DataURL)
	if err != nil {
		t.Fatal(err)
	}
	gateway := func(full bool) string {
		proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			if full {
				pr.Out.Header.Set("Forwarded", "for=127.0.0.1;host=gw;proto=http")
				pr.Out.Header.Set(contract.HeaderRequestID, "id-1")
			}
		}}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if full {
				w.Header().Set(contract.HeaderRequestID, "id-1")
			}
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	forwardingNotes := func(full bool) []string {
		s := &suite{
			cfg:     config{routes: []string{"items", "search"}},
			dataURL: b.DataURL,
			token:   b.Token,
			rows:    []*row{{name: rowStdlib, base: gateway(full), proc: &proc{}}},
		}
		if err := s.validate(t.Context(), new(strings.Builder)); err != nil {
			t.Fatal(err)
		}
		var notes []string
		for _, n := range s.notes {
			if strings.Contains(n, "forwarding headers") {
				notes = append(notes, n)
			}
		}
		return notes
	}
	if notes := forwardingNotes(false); len(notes) != 2 ||
		!strings.Contains(notes[0], "GET /items: forwarding headers") ||
		!strings.Contains(notes[0], "missing Forwarded, X-Request-Id") {
		t.Errorf("gateway without Forwarded and X-Request-Id: notes %q, want one per route", notes)
	}
	if notes := forwardingNotes(true); len(notes) != 0 {
		t.Errorf("gateway with every forwarding header: notes %q, want none", notes)
	}
}
