package h1

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// benchTransports are the transports compared: this package and a
// net/http Transport tuned like a proxy's.
func benchTransports() []struct {
	name string
	rt   func() http.RoundTripper
} {
	return []struct {
		name string
		rt   func() http.RoundTripper
	}{
		{"h1", func() http.RoundTripper { return New(Options{}) }},
		{"net-http", func() http.RoundTripper {
			d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
			return &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second, DisableCompression: true}
		}},
	}
}

func benchServer(b *testing.B) *httptest.Server {
	payload := strings.Repeat("x", 512)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, payload)
	}))
	b.Cleanup(srv.Close)
	return srv
}

func roundTrip(b *testing.B, rt http.RoundTripper, req *http.Request, buf []byte) {
	res, err := rt.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	for {
		_, err := res.Body.Read(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	res.Body.Close()
}

// BenchmarkGet is a keep-alive GET of a 512-byte response.
func BenchmarkGet(b *testing.B) {
	srv := benchServer(b)
	for _, tt := range benchTransports() {
		b.Run(tt.name+"/serial", func(b *testing.B) {
			rt := tt.rt()
			req, _ := http.NewRequest("GET", srv.URL+"/items?x=1", nil)
			buf := make([]byte, 4096)
			b.ReportAllocs()
			for b.Loop() {
				roundTrip(b, rt, req, buf)
			}
		})
		b.Run(tt.name+"/parallel", func(b *testing.B) {
			rt := tt.rt()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req, _ := http.NewRequest("GET", srv.URL+"/items?x=1", nil)
				buf := make([]byte, 4096)
				for pb.Next() {
					roundTrip(b, rt, req, buf)
				}
			})
		})
	}
}

// BenchmarkPost is a keep-alive POST of a 64-byte body.
func BenchmarkPost(b *testing.B) {
	srv := benchServer(b)
	body := strings.Repeat("y", 64)
	for _, tt := range benchTransports() {
		b.Run(tt.name, func(b *testing.B) {
			rt := tt.rt()
			buf := make([]byte, 4096)
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest("POST", srv.URL+"/items/lookup", strings.NewReader(body))
				roundTrip(b, rt, req, buf)
			}
		})
	}
}

// BenchmarkAlive is the probe every pooled connection passes before its
// reuse (one non-blocking peek of the socket on unix).
func BenchmarkAlive(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	tr := New(Options{})
	c := tr.newConn(nc, tr.pool(key{addr: ln.Addr().String()}))
	defer c.close()
	b.ReportAllocs()
	for b.Loop() {
		if !alive(c) {
			b.Fatal("idle connection reported dead")
		}
	}
}
