package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/internal/porttest"
	"github.com/apigate-go/apigate/ratelimit"
	goredis "github.com/redis/go-redis/v9"
)

// server is a real redis-server process on a loopback port, started by
// the test and stopped when it ends.
type server struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
}

// startRedis starts redis-server on a free loopback port. Without
// redis-server the test fails: it is installable (apt-get install -y
// redis-server), and .ci/run installs it.
func startRedis(t *testing.T) *server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not on PATH (%v): install it, e.g. apt-get install -y redis-server; .ci/run does", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &server{t: t, port: port}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// start runs redis-server on s.port, without persistence, and waits until
// it answers PING.
func (s *server) start() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: s.addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := c.Ping(context.Background()).Err(); err == nil {
			return
		} else if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s does not answer: %v", s.addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills the server and waits for it to exit.
func (s *server) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// client returns a go-redis client for s with quick failures, closed when
// the test ends.
func (s *server) client() *goredis.Client {
	c := goredis.NewClient(&goredis.Options{Addr: s.addr(), MaxRetries: -1,
		DialTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond})
	s.t.Cleanup(func() { c.Close() })
	return c
}

// upstream counts the requests it receives.
type upstream struct {
	*httptest.Server
	n atomic.Int64
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.n.Add(1)
		io.WriteString(w, "ok\n")
	}))
	t.Cleanup(u.Close)
	return u
}

// engine is the gateway's upstream client: APIGATE_TEST_ENGINE=http1 runs
// the tests with apigate's own HTTP/1.1 client.
func engine() apigate.Engine {
	if os.Getenv("APIGATE_TEST_ENGINE") == "http1" {
		return apigate.EngineHTTP1
	}
	return apigate.EngineNetHTTP
}

// gateway serves a gateway limiting GET /api/x by X-Key with l, in front
// of up, with its state in store.
func gateway(t *testing.T, up *upstream, l ratelimit.Limit, store ratelimit.Limiter) string {
	t.Helper()
	svc := apigate.Service("/api", apigate.GET("/x", apigate.RateLimit(l, apigate.LimitByHeader("X-Key"))))
	g, err := apigate.New(apigate.Mount(svc, up.URL), apigate.WithRateLimiter(store),
		apigate.WithUpstream(apigate.UpstreamOptions{Engine: engine()}))
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(g)
	t.Cleanup(s.Close)
	t.Cleanup(g.CloseIdleConnections)
	return s.URL
}

// send sends GET /api/x with X-Key and returns the status and the
// RateLimit header.
func send(t *testing.T, base, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/x", nil)
	req.Header.Set("X-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, res.Header.Get("RateLimit")
}

// TestTwoGatewaysShareOneLimit: requests spread over two gateways, each
// with its own Redis client, are limited together.
func TestTwoGatewaysShareOneLimit(t *testing.T) {
	srv := startRedis(t)
	up := newUpstream(t)
	l := ratelimit.Limit{Name: "shared", Rate: 4, Per: time.Hour}
	a := gateway(t, up, l, New(srv.client(), Options{}))
	b := gateway(t, up, l, New(srv.client(), Options{}))
	for i, gw := range []string{a, b, a, b} {
		status, rl := send(t, gw, "k")
		if want := fmt.Sprintf(`"shared";r=%d;t=900`, 3-i); status != 200 || rl != want {
			t.Fatalf("request %d: %d %q, want 200 %q", i+1, status, rl, want)
		}
	}
	for i, gw := range []string{a, b} {
		if status, rl := send(t, gw, "k"); status != 429 || rl != `"shared";r=0;t=900` {
			t.Fatalf("request %d past the shared burst: %d %q, want 429", i+5, status, rl)
		}
	}
	if status, _ := send(t, b, "other"); status != 200 {
		t.Fatalf("another key: %d, want 200", status)
	}
	if n := up.n.Load(); n != 5 {
		t.Fatalf("upstream saw %d requests, want 5", n)
	}
}

// TestRedisRestart stops Redis mid-test: requests fail open or closed as
// configured, the failures are reported, and once Redis is back limits
// apply again.
func TestRedisRestart(t *testing.T) {
	for _, closed := range []bool{false, true} {
		t.Run(fmt.Sprintf("FailClosed=%v", closed), func(t *testing.T) {
			srv := startRedis(t)
			up := newUpstream(t)
			var failures atomic.Int64
			store := New(srv.client(), Options{FailClosed: closed, Timeout: 300 * time.Millisecond, OnError: func(err error) {
				if errors.Is(err, ratelimit.ErrUnavailable) {
					failures.Add(1)
				}
			}})
			l := ratelimit.Limit{Rate: 2, Per: time.Hour}
			gw := gateway(t, up, l, store)
			send(t, gw, "k")
			send(t, gw, "k")
			if status, _ := send(t, gw, "k"); status != 429 {
				t.Fatalf("before the restart: %d, want 429", status)
			}

			srv.stop()
			before := up.n.Load()
			for i := range 3 {
				status, rl := send(t, gw, "k")
				want := 200
				if closed {
					want = 503
				}
				if status != want || rl != "" {
					t.Fatalf("Redis down, request %d: %d with RateLimit %q, want %d without", i+1, status, rl, want)
				}
			}
			wantUp := before + 3
			if closed {
				wantUp = before
			}
			if n := up.n.Load(); n != wantUp {
				t.Fatalf("Redis down: upstream saw %d requests, want %d", n, wantUp)
			}
			if n := failures.Load(); n != 3 {
				t.Fatalf("OnError saw %d failures, want 3", n)
			}

			srv.start()
			// Wait until decisions come from Redis again (a RateLimit header).
			deadline := time.Now().Add(10 * time.Second)
			for i := 0; ; i++ {
				if _, rl := send(t, gw, "probe-"+strconv.Itoa(i)); rl != "" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("no decision from Redis 10s after its restart")
				}
				time.Sleep(20 * time.Millisecond)
			}
			before = up.n.Load()
			for i, want := range []int{200, 200, 429, 429} {
				if status, _ := send(t, gw, "after"); status != want {
					t.Fatalf("after the restart, request %d: %d, want %d", i+1, status, want)
				}
			}
			if n := up.n.Load() - before; n != 2 {
				t.Fatalf("after the restart: upstream saw %d requests, want 2", n)
			}
		})
	}
}

// TestKeyExpiry: a key's state lives in Redis until its budget is full
// again, then disappears; a refused request does not extend it.
func TestKeyExpiry(t *testing.T) {
	srv := startRedis(t)
	c := srv.client()
	ctx := context.Background()
	store := New(c, Options{Prefix: "t:"})
	l := ratelimit.Limit{Name: "exp", Rate: 2, Per: 2 * time.Second} // 1s a request
	key := "t:exp:client"

	if d, err := store.Allow(ctx, l, "client", time.Now()); err != nil || !d.Allowed || d.Remaining != 1 {
		t.Fatalf("first: %+v, %v; want allowed with 1 remaining", d, err)
	}
	ttl, err := c.PTTL(ctx, key).Result()
	if err != nil || ttl <= 0 || ttl > time.Second {
		t.Fatalf("PTTL after one request = %v, %v; want in (0, 1s]", ttl, err)
	}
	store.Allow(ctx, l, "client", time.Now())
	d, _ := store.Allow(ctx, l, "client", time.Now())
	if d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > time.Second {
		t.Fatalf("third: %+v; want refused, retry within 1s", d)
	}
	ttl, _ = c.PTTL(ctx, key).Result()
	if ttl <= time.Second || ttl > 2*time.Second {
		t.Fatalf("PTTL after the burst = %v, want in (1s, 2s]", ttl)
	}
	time.Sleep(ttl + 100*time.Millisecond)
	if n, err := c.Exists(ctx, key).Result(); err != nil || n != 0 {
		t.Fatalf("EXISTS %s after its window = %d, %v; want 0", key, n, err)
	}
	if n, _ := c.DBSize(ctx).Result(); n != 0 {
		t.Fatalf("DBSIZE = %d after every window passed, want 0", n)
	}
	if d, _ := store.Allow(ctx, l, "client", time.Now()); !d.Allowed || d.Remaining != 1 {
		t.Fatalf("after expiry: %+v; want a full budget again", d)
	}
}

// TestScriptReloaded: after SCRIPT FLUSH (as after a restart) the
// limiter falls back from EVALSHA to EVAL and keeps deciding.
func TestScriptReloaded(t *testing.T) {
	srv := startRedis(t)
	c := srv.client()
	ctx := context.Background()
	store := New(c, Options{})
	l := ratelimit.Limit{Rate: 1, Per: time.Hour}
	if d, err := store.Allow(ctx, l, "k", time.Now()); err != nil || !d.Allowed {
		t.Fatalf("first: %+v, %v", d, err)
	}
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	d, err := store.Allow(ctx, l, "k", time.Now())
	if err != nil || d.Allowed {
		t.Fatalf("after SCRIPT FLUSH: %+v, %v; want refused without error", d, err)
	}
	if d.RetryAfter < 59*time.Minute || d.RetryAfter > time.Hour {
		t.Fatalf("RetryAfter = %v, want about an hour", d.RetryAfter)
	}
}

// TestAtomicUnderConcurrency: concurrent decisions on one key from many
// clients grant exactly the burst.
func TestAtomicUnderConcurrency(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	l := ratelimit.Limit{Rate: 100, Per: time.Hour}
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		store := New(srv.client(), Options{Timeout: 5 * time.Second})
		for range 8 {
			wg.Go(func() {
				for range 10 {
					d, err := store.Allow(ctx, l, "hot", time.Now())
					if err != nil {
						t.Error(err)
						return
					}
					if d.Allowed {
						ok.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	if n := ok.Load(); n != 100 {
		t.Fatalf("allowed %d of 320 concurrent requests, want exactly the burst of 100", n)
	}
}

// TestMissingServerFailsFast: with nothing listening the limiter answers
// within its timeout, with the configured decision.
func TestMissingServerFailsFast(t *testing.T) {
	addr := porttest.Refused(t)
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	for _, closed := range []bool{false, true} {
		store := New(c, Options{FailClosed: closed, Timeout: 200 * time.Millisecond})
		start := time.Now()
		d, err := store.Allow(context.Background(), ratelimit.Limit{Rate: 1, Per: time.Second}, "k", start)
		if !errors.Is(err, ratelimit.ErrUnavailable) || !strings.Contains(err.Error(), "ratelimit") {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
		if d.Allowed == closed {
			t.Fatalf("FailClosed=%v: Allowed = %v", closed, d.Allowed)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("took %v with a 200ms timeout", el)
		}
	}
}
