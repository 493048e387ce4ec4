package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigate-go/apigate/bench/internal/contract"
)

// server counts the requests it answers; it answers 200 unless the path is
// /fail.
func server(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		if r.Header.Get("X-Test") != "yes" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func target(base, path string) Target {
	return Target{
		Base:    base,
		Request: contract.Request{Method: "GET", Path: path, Header: []contract.Header{{Key: "X-Test", Value: "yes"}}},
		Want:    http.StatusOK,
	}
}

func TestClosed(t *testing.T) {
	srv, n := server(t)
	tests := []struct {
		name       string
		path       string
		wantErrors bool
	}{
		{"ok", "/ok", false},
		{"wrong status", "/fail", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := n.Load()
			got, err := Closed(context.Background(), target(srv.URL, tt.path), 4, 150*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if got.Requests == 0 || got.Requests != n.Load()-before {
				t.Errorf("reported %d requests, server answered %d", got.Requests, n.Load()-before)
			}
			if (got.Errors == got.Requests) != tt.wantErrors || (got.Errors == 0) == tt.wantErrors {
				t.Errorf("%d errors of %d requests, want errors: %v", got.Errors, got.Requests, tt.wantErrors)
			}
			if got.Elapsed < 150*time.Millisecond || got.Elapsed > 2*time.Second {
				t.Errorf("elapsed %v, want about 150ms", got.Elapsed)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	srv, n := server(t)
	before := n.Load()
	got, err := Open(context.Background(), target(srv.URL, "/ok"), 400, 250*time.Millisecond, 8)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sent+got.Missed != 100 {
		t.Errorf("sent %d + missed %d, want 100 scheduled", got.Sent, got.Missed)
	}
	if got.Sent != n.Load()-before {
		t.Errorf("reported %d sent, server answered %d", got.Sent, n.Load()-before)
	}
	if got.Errors != 0 {
		t.Errorf("%d errors, want 0", got.Errors)
	}
	if !(0 < got.P50 && got.P50 <= got.P99 && got.P99 <= got.P999 && got.P999 <= got.Max) {
		t.Errorf("percentiles out of order: p50 %v p99 %v p99.9 %v max %v", got.P50, got.P99, got.P999, got.Max)
	}

	got, err = Open(context.Background(), target(srv.URL, "/fail"), 400, 50*time.Millisecond, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Errors != got.Sent || got.Sent == 0 {
		t.Errorf("/fail: %d errors of %d sent, want all", got.Errors, got.Sent)
	}
}

// TestOpenChargesStalls checks the absence of coordinated omission: a
// server that stalls makes the requests scheduled during the stall late,
// and their latency counts from their schedule.
func TestOpenChargesStalls(t *testing.T) {
	var first atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if first.CompareAndSwap(false, true) {
			time.Sleep(200 * time.Millisecond)
		}
	}))
	t.Cleanup(srv.Close)
	// One connection, 100 req/s for 300ms: the first request stalls 200ms,
	// holding back the 19 scheduled behind it.
	got, err := Open(context.Background(), Target{Base: srv.URL, Request: contract.Request{Method: "GET", Path: "/"}, Want: 200}, 100, 300*time.Millisecond, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Requests scheduled at 10ms, 20ms, … 190ms wait for the stalled one.
	if got.P50 < 20*time.Millisecond || got.Max < 190*time.Millisecond {
		t.Errorf("p50 %v, max %v: the stall was not charged to the requests behind it", got.P50, got.Max)
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, base := range []string{"http://192.0.2.1:80", "http://example.com:80", "https://127.0.0.1:1", "127.0.0.1:80"} {
		if _, err := Closed(context.Background(), target(base, "/"), 1, time.Millisecond); err == nil {
			t.Errorf("Closed(%s): no error, want refusal", base)
		}
		if _, err := Open(context.Background(), target(base, "/"), 1, time.Millisecond, 1); err == nil {
			t.Errorf("Open(%s): no error, want refusal", base)
		}
		if _, err := (Wrk{Path: "wrk"}).Closed(context.Background(), target(base, "/"), 1, time.Second); err == nil {
			t.Errorf("Wrk.Closed(%s): no error, want refusal", base)
		}
	}
}

func TestPercentile(t *testing.T) {
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, time.Duration(i))
	}
	tests := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", []time.Duration{7}, 99.9, 7},
		{"median of 100", hundred, 50, 50},
		{"p99 of 100", hundred, 99, 99},
		{"p99.9 of 100", hundred, 99.9, 100},
		{"max", hundred, 100, 100},
		{"p1 of 100", hundred, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.in, tt.p); got != tt.want {
				t.Errorf("Percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestParseWrk(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    Throughput
		wantErr bool
	}{
		{"result", "Running 1s test\nWRKRESULT 1000 2000000 1 2 3 4 5\nRequests/sec: 500\n",
			Throughput{Requests: 1000, Elapsed: 2 * time.Second, Errors: 15}, false},
		{"missing", "Running 1s test\n", Throughput{}, true},
		{"short", "WRKRESULT 1 2\n", Throughput{}, true},
		{"not a number", "WRKRESULT 1 2 3 4 5 6 x\n", Throughput{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseWrk([]byte(tt.out))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseWrk = %+v, %v; want %+v, error %v", got, err, tt.want, tt.wantErr)
			}
			if got.Requests > 0 && got.RPS() != 500 {
				t.Errorf("RPS %v, want 500", got.RPS())
			}
		})
	}
}

func TestLuaString(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"q":"x"}`, `"{\"q\":\"x\"}"`},
		{`a\b`, `"a\\b"`},
		{"a\nb", `"a\010b"`},
		{"é", `"\195\169"`},
	}
	for _, tt := range tests {
		if got := luaString(tt.in); got != tt.want {
			t.Errorf("luaString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestWrk(t *testing.T) {
	path := FindWrk()
	if path == "" {
		t.Skip("wrk is not installed")
	}
	srv, n := server(t)
	w := Wrk{Path: path, Dir: t.TempDir()}
	if v := w.Version(); !strings.HasPrefix(v, "wrk") {
		t.Errorf("version %q", v)
	}
	before := n.Load()
	got, err := w.Closed(context.Background(), target(srv.URL, "/ok"), 2, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got.Requests == 0 || got.Errors != 0 {
		t.Errorf("%d requests, %d errors; want some, none (the header must have been sent)", got.Requests, got.Errors)
	}
	if answered := n.Load() - before; answered < got.Requests {
		t.Errorf("wrk reported %d requests, server answered %d", got.Requests, answered)
	}
}
