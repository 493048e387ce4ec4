package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apigate-go/apigate/bench/internal/contract"
	"github.com/valyala/fasthttp"
)

func TestClosedMix(t *testing.T) {
	srv, n := server(t)
	before := n.Load()
	got, err := ClosedMix(context.Background(), []Target{target(srv.URL, "/ok"), target(srv.URL, "/fail")}, 4, 150*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if got.Requests == 0 || got.Requests != n.Load()-before {
		t.Errorf("reported %d requests, server answered %d", got.Requests, n.Load()-before)
	}
	// Each connection alternates /ok and /fail: half the requests fail,
	// give or take one per connection.
	if d := got.Requests - 2*got.Errors; d < -4 || d > 4 {
		t.Errorf("%d errors of %d requests, want half", got.Errors, got.Requests)
	}
}

func TestCheckTargets(t *testing.T) {
	a, b := "http://127.0.0.1:1", "http://127.0.0.1:2"
	tests := []struct {
		name    string
		targets []Target
		wantErr bool
	}{
		{"one", []Target{target(a, "/")}, false},
		{"same server", []Target{target(a, "/x"), target(a, "/y")}, false},
		{"none", nil, true},
		{"two servers", []Target{target(a, "/"), target(b, "/")}, true},
		{"not loopback", []Target{target("http://192.0.2.1:80", "/")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := checkTargets(tt.targets); (err != nil) != tt.wantErr {
				t.Errorf("checkTargets: %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}

func TestScheduleRun(t *testing.T) {
	srv, n := server(t)
	s := Schedule{
		Targets: []Target{target(srv.URL, "/ok"), target(srv.URL, "/fail")},
		Rate:    400, Duration: 500 * time.Millisecond, Window: 200 * time.Millisecond, Workers: 8,
	}
	before := n.Load()
	got, err := s.Run(context.Background(), time.Now().Add(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	// 200 requests at 400/s: 80, 80 and the last 40 in the short window.
	wantReqs := []int64{80, 80, 40}
	if len(got) != len(wantReqs) || s.Windows() != len(wantReqs) {
		t.Fatalf("%d windows (Windows() = %d), want %d", len(got), s.Windows(), len(wantReqs))
	}
	var total, errs int64
	for k, w := range got {
		total += w.Requests
		if w.Start != time.Duration(k)*s.Window {
			t.Errorf("window %d starts at %v, want %v", k, w.Start, time.Duration(k)*s.Window)
		}
		if w.Requests != wantReqs[k] {
			t.Errorf("window %d: %d requests, want %d", k, w.Requests, wantReqs[k])
		}
		// Even requests go to /ok, odd ones to /fail; an error is counted
		// when its request is sent, a little after its schedule.
		if d := w.Errors - w.Requests/2; d < -3 || d > 3 || w.Kinds["status 500"] != w.Errors || len(w.Kinds) != 1 || w.Missed != 0 {
			t.Errorf("window %d: %d errors %v, want about %d of status 500", k, w.Errors, w.Kinds, w.Requests/2)
		}
		errs += w.Errors
		if !(0 < w.P50 && w.P50 <= w.P99) {
			t.Errorf("window %d: p50 %v, p99 %v", k, w.P50, w.P99)
		}
	}
	if answered := n.Load() - before; total != answered || errs != total/2 {
		t.Errorf("%d requests in windows, %d errors; server answered %d, half of them errors", total, errs, answered)
	}
}

func TestScheduleRunCancelled(t *testing.T) {
	srv, _ := server(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := Schedule{Targets: []Target{target(srv.URL, "/ok")}, Rate: 1000, Duration: 100 * time.Millisecond, Window: 50 * time.Millisecond, Workers: 2}
	got, err := s.Run(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range got {
		if w.Requests != 50 || w.Missed != 50 || w.Errors != 0 {
			t.Errorf("window %d: %d requests, %d missed, %d errors; want 50, all missed, no error", k, w.Requests, w.Missed, w.Errors)
		}
	}
}

func TestScheduleRunRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there any more
	s := Schedule{Targets: []Target{target(base, "/")}, Rate: 200, Duration: 50 * time.Millisecond, Window: 50 * time.Millisecond, Workers: 2}
	got, err := s.Run(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Requests != 10 || got[0].Kinds[KindRefused] != 10 {
		t.Errorf("windows %+v, want one of 10 refused requests", got)
	}
}

func TestErrorKind(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"fasthttp timeout", fasthttp.ErrTimeout, KindTimeout},
		{"dial timeout", fasthttp.ErrDialTimeout, KindTimeout},
		{"refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, KindRefused},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), KindReset},
		{"broken pipe", syscall.EPIPE, KindReset},
		{"closed", fasthttp.ErrConnectionClosed, KindClosed},
		{"eof", io.EOF, KindClosed},
		{"no free connection", fasthttp.ErrNoFreeConns, KindBusy},
		{"other", errors.New("boom"), KindOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorKind(tt.err); got != tt.want {
				t.Errorf("ErrorKind(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestScheduleLoopbackOnly(t *testing.T) {
	s := Schedule{Targets: []Target{target("http://192.0.2.1:80", "/")}, Rate: 1, Duration: time.Millisecond, Window: time.Millisecond, Workers: 1}
	if _, err := s.Run(context.Background(), time.Now()); err == nil {
		t.Error("Run to 192.0.2.1: no error, want refusal")
	}
	if _, err := ClosedMix(context.Background(), s.Targets, 1, time.Millisecond); err == nil {
		t.Error("ClosedMix to 192.0.2.1: no error, want refusal")
	}
}

// TestScheduleErrorsWhenSent checks that a failure is counted in the
// window in which its request was sent, not in the earlier one it was
// scheduled in, when the generator runs late.
func TestScheduleErrorsWhenSent(t *testing.T) {
	var first atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if first.CompareAndSwap(false, true) {
			time.Sleep(250 * time.Millisecond)
		}
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	// One connection, 100 req/s for 300ms in 100ms windows: the first
	// request holds the connection for 250ms, so the 24 scheduled behind
	// it leave in the third window.
	s := Schedule{
		Targets: []Target{{Base: srv.URL, Request: contract.Request{Method: "GET", Path: "/"}, Want: 200}},
		Rate:    100, Duration: 300 * time.Millisecond, Window: 100 * time.Millisecond, Workers: 1,
	}
	got, err := s.Run(context.Background(), time.Now().Add(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var reqs, errs []int64
	for _, w := range got {
		reqs, errs = append(reqs, w.Requests), append(errs, w.Errors)
	}
	if !slices.Equal(reqs, []int64{10, 10, 10}) || !slices.Equal(errs, []int64{1, 0, 29}) {
		t.Errorf("requests %v, errors %v; want [10 10 10], [1 0 29]", reqs, errs)
	}
}
