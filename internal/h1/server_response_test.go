package h1

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestServerResponseFraming checks status, Content-Length and chunking of
// responses, and that a follow-up request on the same connection works
// (no stray body bytes).
func TestServerResponseFraming(t *testing.T) {
	large := strings.Repeat("0123456789abcdef", 4<<10) // 64 KiB
	tests := []struct {
		name       string
		method     string
		h          func(w http.ResponseWriter)
		wantStatus int
		wantBody   string
		wantCL     string   // the Content-Length field, "<absent>" if none
		wantTE     []string // as http.ReadResponse reports it
	}{
		{"empty handler", "GET", func(w http.ResponseWriter) {}, 200, "", "0", nil},
		{"implicit 200 with computed length", "GET", func(w http.ResponseWriter) {
			io.WriteString(w, "hello")
		}, 200, "hello", "5", nil},
		{"several small writes", "GET", func(w http.ResponseWriter) {
			io.WriteString(w, "hel")
			io.WriteString(w, "lo")
		}, 200, "hello", "5", nil},
		{"explicit status", "GET", func(w http.ResponseWriter) {
			w.WriteHeader(404)
			io.WriteString(w, "nope")
		}, 404, "nope", "4", nil},
		{"WriteHeader twice keeps the first", "GET", func(w http.ResponseWriter) {
			w.WriteHeader(201)
			w.WriteHeader(500)
			io.WriteString(w, "made")
		}, 201, "made", "4", nil},
		{"large body chunked", "GET", func(w http.ResponseWriter) {
			io.WriteString(w, large)
		}, 200, large, "<absent>", []string{"chunked"}},
		{"flushed body chunked", "GET", func(w http.ResponseWriter) {
			io.WriteString(w, "ab")
			if err := http.NewResponseController(w).Flush(); err != nil {
				panic(err)
			}
			io.WriteString(w, "cd")
		}, 200, "abcd", "<absent>", []string{"chunked"}},
		{"flush before any write", "GET", func(w http.ResponseWriter) {
			http.NewResponseController(w).Flush()
			io.WriteString(w, "late")
		}, 200, "late", "<absent>", []string{"chunked"}},
		{"handler Content-Length honoured", "GET", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "hel")
			io.WriteString(w, "lo")
		}, 200, "hello", "5", nil},
		{"handler Content-Length large body", "GET", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", fmt.Sprint(len(large)))
			io.WriteString(w, large)
		}, 200, large, fmt.Sprint(len(large)), nil},
		{"HEAD without body bytes", "HEAD", func(w http.ResponseWriter) {
			io.WriteString(w, "hello")
		}, 200, "", "", nil},
		{"HEAD of large body", "HEAD", func(w http.ResponseWriter) {
			io.WriteString(w, large)
		}, 200, "", "", nil},
		{"204 without body or length", "GET", func(w http.ResponseWriter) {
			w.WriteHeader(204)
			io.WriteString(w, "ignored")
		}, 204, "", "<absent>", nil},
		{"304 without body or length", "GET", func(w http.ResponseWriter) {
			w.WriteHeader(304)
			io.WriteString(w, "ignored")
		}, 304, "", "<absent>", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/next" {
					io.WriteString(w, "next")
					return
				}
				tt.h(w)
			}), ServerOptions{})
			c := hs.dial(t)
			res, body := c.roundTrip(tt.method, tt.method+" / HTTP/1.1\r\nHost: h\r\n\r\n")
			if res.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if body != tt.wantBody {
				t.Errorf("body = %d bytes %.40q, want %d bytes %.40q", len(body), body, len(tt.wantBody), tt.wantBody)
			}
			cl := "<absent>"
			if v, ok := res.Header["Content-Length"]; ok {
				cl = strings.Join(v, ",")
			}
			if tt.wantCL != "" && cl != tt.wantCL {
				t.Errorf("Content-Length = %s, want %s", cl, tt.wantCL)
			}
			if !slices.Equal(res.TransferEncoding, tt.wantTE) {
				t.Errorf("Transfer-Encoding = %q, want %q", res.TransferEncoding, tt.wantTE)
			}
			if (tt.wantStatus == 204 || tt.wantStatus == 304) && res.TransferEncoding != nil {
				t.Errorf("Transfer-Encoding = %q on a %d, want none", res.TransferEncoding, tt.wantStatus)
			}
			res, body = c.roundTrip("GET", "GET /next HTTP/1.1\r\nHost: h\r\n\r\n")
			if res.StatusCode != 200 || body != "next" {
				t.Errorf("follow-up on the same connection = %d %q, want 200 %q", res.StatusCode, body, "next")
			}
		})
	}
}

// TestServerHTTP10UnknownLength checks that a body of unknown length to an
// HTTP/1.0 client is delimited by closing the connection, never chunked.
func TestServerHTTP10UnknownLength(t *testing.T) {
	large := strings.Repeat("x", 64<<10)
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ab")
		http.NewResponseController(w).Flush()
		io.WriteString(w, large)
	}), ServerOptions{})
	c := hs.dial(t)
	res, body := c.roundTrip("GET", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	if res.TransferEncoding != nil {
		t.Errorf("Transfer-Encoding = %q to an HTTP/1.0 client, want none", res.TransferEncoding)
	}
	if want := "ab" + large; body != want {
		t.Errorf("body = %d bytes, want %d", len(body), len(want))
	}
	c.wantClosed()
}

func TestServerContentLengthMismatch(t *testing.T) {
	t.Run("write past Content-Length", func(t *testing.T) {
		errc := make(chan error, 1)
		hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "3")
			_, err := io.WriteString(w, "hello")
			errc <- err
		}), ServerOptions{})
		c := hs.dial(t)
		c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
		if err := <-errc; !errors.Is(err, http.ErrContentLength) {
			t.Errorf("Write of 5 bytes after Content-Length: 3 = %v, want %v", err, http.ErrContentLength)
		}
	})
	t.Run("second write past Content-Length", func(t *testing.T) {
		errc := make(chan error, 1)
		hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "3")
			if _, err := io.WriteString(w, "abc"); err != nil {
				errc <- fmt.Errorf("first write: %w", err)
				return
			}
			_, err := io.WriteString(w, "d")
			errc <- err
		}), ServerOptions{})
		c := hs.dial(t)
		res, body := c.roundTrip("GET", "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
		if err := <-errc; !errors.Is(err, http.ErrContentLength) {
			t.Errorf("Write beyond Content-Length = %v, want %v", err, http.ErrContentLength)
		}
		if res.StatusCode != 200 || body != "abc" {
			t.Errorf("response = %d %q, want 200 %q", res.StatusCode, body, "abc")
		}
	})
	t.Run("short body closes the connection", func(t *testing.T) {
		hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "10")
			io.WriteString(w, "abc")
		}), ServerOptions{})
		c := hs.dial(t)
		c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
		res, err := http.ReadResponse(c.br, nil)
		if err != nil {
			t.Fatalf("reading response: %v", err)
		}
		b, err := io.ReadAll(res.Body)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("reading 3 of 10 declared bytes: got %q, %v; want %v", b, err, io.ErrUnexpectedEOF)
		}
	})
}

func TestServerDateHeader(t *testing.T) {
	hs := startHarness(t, nil, ServerOptions{})
	c := hs.dial(t)
	res, _ := c.roundTrip("GET", "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	d := res.Header.Get("Date")
	when, err := http.ParseTime(d)
	if err != nil {
		t.Fatalf("Date = %q: %v", d, err)
	}
	if off := time.Since(when); off < -2*time.Second || off > 2*time.Second {
		t.Errorf("Date = %q, %v from now, want within 2s", d, off)
	}
}

func TestServerContentTypeSniffing(t *testing.T) {
	tests := []struct {
		name string
		h    func(w http.ResponseWriter)
		want string // "<absent>" if no Content-Type field is sent
	}{
		{"html sniffed", func(w http.ResponseWriter) {
			io.WriteString(w, "<html><body>hi</body></html>")
		}, "text/html; charset=utf-8"},
		{"text sniffed", func(w http.ResponseWriter) {
			io.WriteString(w, "just text")
		}, "text/plain; charset=utf-8"},
		{"sniffed on a chunked body", func(w http.ResponseWriter) {
			io.WriteString(w, "<html>")
			http.NewResponseController(w).Flush()
			io.WriteString(w, strings.Repeat("x", 16<<10))
		}, "text/html; charset=utf-8"},
		{"sniffed on one large write", func(w http.ResponseWriter) {
			io.WriteString(w, "<html>"+strings.Repeat("x", 16<<10))
		}, "text/html; charset=utf-8"},
		{"sniffed with handler Content-Length", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "6")
			io.WriteString(w, "<html>")
		}, "text/html; charset=utf-8"},
		{"handler type kept", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "<html>")
		}, "application/json"},
		{"nil value suppresses sniffing", func(w http.ResponseWriter) {
			w.Header()["Content-Type"] = nil
			io.WriteString(w, "<html>")
		}, "<absent>"},
		{"no body no type", func(w http.ResponseWriter) {}, "<absent>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tt.h(w) }), ServerOptions{})
			c := hs.dial(t)
			res, _ := c.roundTrip("GET", "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
			got := "<absent>"
			if v, ok := res.Header["Content-Type"]; ok {
				got = strings.Join(v, ",")
			}
			if got != tt.want {
				t.Errorf("Content-Type = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestServerHeaderInjection checks that CR or LF in header fields set by a
// handler cannot add fields or split the response.
func TestServerHeaderInjection(t *testing.T) {
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/next" {
			io.WriteString(w, "next")
			return
		}
		w.Header().Set("X-Evil-Crlf", "a\r\nX-Injected-1: yes")
		w.Header()["X-Evil-Lf"] = []string{"b\nX-Injected-2: yes"}
		w.Header()["X-Evil-Cr"] = []string{"c\rX-Injected-3: yes"}
		w.Header()["X-Evil-Key\r\nX-Injected-4"] = []string{"yes"}
		w.Header()["X-Evil-Split"] = []string{"d\r\n\r\nHTTP/1.1 302 Found\r\nX-Injected-5: yes\r\n"}
		io.WriteString(w, "body")
	}), ServerOptions{})
	c := hs.dial(t)
	res, body := c.roundTrip("GET", "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	if res.StatusCode != 200 || body != "body" {
		t.Errorf("response = %d %q, want 200 %q", res.StatusCode, body, "body")
	}
	for k, v := range res.Header {
		if strings.Contains(strings.ToLower(k), "injected") {
			t.Errorf("response has injected field %s: %q", k, v)
		}
	}
	res, body = c.roundTrip("GET", "GET /next HTTP/1.1\r\nHost: h\r\n\r\n")
	if res.StatusCode != 200 || body != "next" {
		t.Errorf("follow-up = %d %q, want 200 %q", res.StatusCode, body, "next")
	}
}

// TestServerTrailerInjection checks that trailer names or values set by a
// handler cannot add fields to the trailer section or corrupt it.
func TestServerTrailerInjection(t *testing.T) {
	tests := []struct {
		name    string
		declare string // the Trailer field
		set     func(h http.Header)
	}{
		{"prefixed name with CRLF", "X-Declared", func(h http.Header) {
			h[http.TrailerPrefix+"X-Evil\r\nX-Injected"] = []string{"yes"}
		}},
		{"prefixed value with CRLF", "X-Declared", func(h http.Header) {
			h[http.TrailerPrefix+"X-Evil"] = []string{"a\r\nX-Injected: yes"}
		}},
		{"declared name with CRLF", "X-Declared, X-Evil\r\nX-Injected", func(h http.Header) {
			h["X-Evil\r\nX-Injected"] = []string{"yes"}
		}},
		{"declared value with CRLF", "X-Declared", func(h http.Header) {
			h["X-Declared"] = []string{"a\r\nX-Injected: yes"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/next" {
					io.WriteString(w, "next")
					return
				}
				w.Header()["Trailer"] = []string{tt.declare}
				io.WriteString(w, "body")
				http.NewResponseController(w).Flush()
				tt.set(w.Header())
			}), ServerOptions{})
			c := hs.dial(t)
			c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
			res, err := http.ReadResponse(c.br, nil)
			if err != nil {
				t.Fatalf("reading response: %v", err)
			}
			b, err := io.ReadAll(res.Body)
			if err != nil || string(b) != "body" {
				t.Fatalf("body = %q, %v; want %q and a well-formed trailer section", b, err, "body")
			}
			if v, ok := res.Trailer["X-Injected"]; ok {
				t.Errorf("response has injected trailer X-Injected: %q (trailer %q)", v, res.Trailer)
			}
			if res, body := c.roundTrip("GET", "GET /next HTTP/1.1\r\nHost: h\r\n\r\n"); body != "next" {
				t.Errorf("follow-up = %d %q, want 200 %q", res.StatusCode, body, "next")
			}
		})
	}
}

// TestServerInformational checks 1xx responses written by the handler
// before the final one.
func TestServerInformational(t *testing.T) {
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Set("Link", "</final.css>; rel=preload")
		w.WriteHeader(200)
		io.WriteString(w, "ok")
	}), ServerOptions{})
	c := hs.dial(t)
	c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")
	for i := range 2 {
		res, body := c.read("GET")
		if res.StatusCode != 103 {
			t.Fatalf("request %d: first response = %d, want 103", i, res.StatusCode)
		}
		if got, want := res.Header.Get("Link"), "</style.css>; rel=preload; as=style"; got != want {
			t.Errorf("request %d: 103 Link = %q, want %q", i, got, want)
		}
		if body != "" {
			t.Errorf("request %d: 103 body = %q, want none", i, body)
		}
		res, body = c.read("GET")
		if res.StatusCode != 200 || body != "ok" {
			t.Fatalf("request %d: final response = %d %q, want 200 %q", i, res.StatusCode, body, "ok")
		}
	}
}

// TestServerInformationalHTTP10 checks that no 1xx response goes to an
// HTTP/1.0 client (RFC 9110, section 15.2).
func TestServerInformationalHTTP10(t *testing.T) {
	hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusEarlyHints)
		io.WriteString(w, "ok")
	}), ServerOptions{})
	c := hs.dial(t)
	res, body := c.roundTrip("GET", "GET / HTTP/1.0\r\n\r\n")
	if res.StatusCode != 200 || body != "ok" {
		t.Errorf("first response to HTTP/1.0 = %d %q, want 200 %q", res.StatusCode, body, "ok")
	}
}

func TestServerTrailers(t *testing.T) {
	tests := []struct {
		name string
		h    func(w http.ResponseWriter)
		want map[string]string
	}{
		{"declared", func(w http.ResponseWriter) {
			w.Header().Set("Trailer", "X-Sum")
			io.WriteString(w, "body")
			w.Header().Set("X-Sum", "42")
		}, map[string]string{"X-Sum": "42"}},
		{"two declared", func(w http.ResponseWriter) {
			w.Header().Add("Trailer", "X-A, X-B")
			io.WriteString(w, "body")
			w.Header().Set("X-A", "1")
			w.Header().Set("X-B", "2")
		}, map[string]string{"X-A": "1", "X-B": "2"}},
		{"TrailerPrefix on a flushed body", func(w http.ResponseWriter) {
			io.WriteString(w, "bo")
			http.NewResponseController(w).Flush()
			io.WriteString(w, "dy")
			w.Header().Set(http.TrailerPrefix+"X-Late", "late")
		}, map[string]string{"X-Late": "late"}},
		{"TrailerPrefix on a large body", func(w http.ResponseWriter) {
			io.WriteString(w, "body")
			io.WriteString(w, strings.Repeat(" ", 16<<10))
			w.Header().Set(http.TrailerPrefix+"X-Late", "late")
		}, map[string]string{"X-Late": "late"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := startHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tt.h(w) }), ServerOptions{})
			res, err := hs.client(t).Get(hs.url("/"))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			if err != nil || !strings.HasPrefix(string(b), "body") {
				t.Fatalf("body = %.20q, %v, want %q...", b, err, "body")
			}
			if !slices.Equal(res.TransferEncoding, []string{"chunked"}) {
				t.Errorf("Transfer-Encoding = %q, want [chunked]", res.TransferEncoding)
			}
			for k, want := range tt.want {
				if got := res.Trailer.Get(k); got != want {
					t.Errorf("trailer %s = %q, want %q (trailer %v)", k, got, want, res.Trailer)
				}
			}
		})
	}
}
