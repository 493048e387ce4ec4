package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/apigate-go/apigate/bench/internal/authclient"
	"github.com/apigate-go/apigate/bench/internal/contract"
)

// maxBody bounds the JSON bodies the gateway reads, as apigate's default.
const maxBody = 2 << 20

// SearchIn is the validated shape of POST /items/search.
type SearchIn struct {
	Category *string `json:"category"`
	MaxPrice *int    `json:"max_price"`
}

// LookupIn is the validated shape of POST /items/lookup.
type LookupIn struct {
	Q string `json:"q"`
}

// LookupOut is what POST /items/lookup sends upstream.
type LookupOut struct {
	Query  string `json:"query"`
	Limit  int    `json:"limit"`
	Source string `json:"source"`
}

// newHandler returns the contract written by hand with net/http,
// httputil.ReverseProxy and encoding/json: what a Go user would write
// without a gateway library, tuned fairly (pooled copy buffers, upstream
// keep-alive pools of the same size as apigate's).
func newHandler(authURL, dataURL string) (http.Handler, error) {
	target, err := url.Parse(dataURL)
	if err != nil {
		return nil, fmt.Errorf("stdlib: data url: %w", err)
	}
	if target.Scheme != "http" || target.Host == "" {
		return nil, fmt.Errorf("stdlib: data url %q: want http://host:port", dataURL)
	}
	proxy := &httputil.ReverseProxy{
		// The request ID is already in the inbound header (see tag), which
		// the outbound request copies.
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			pr.Out.Header["Forwarded"] = []string{forwarded(pr.In)}
		},
		Transport:  authclient.Transport(),
		BufferPool: newBufferPool(),
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			writeError(w, http.StatusBadGateway, "upstream unavailable")
		},
	}
	auth := authclient.New(authURL, authclient.Transport())

	mux := http.NewServeMux()
	mux.Handle("GET /items", proxy)
	mux.HandleFunc("GET /my-items", func(w http.ResponseWriter, r *http.Request) {
		id, err := auth.Verify(r.Context(), r.Header.Get("Authorization"), forwarding(r))
		if err != nil {
			if errors.Is(err, authclient.ErrUnauthorized) {
				writeError(w, http.StatusUnauthorized, "invalid token")
			} else {
				writeError(w, http.StatusBadGateway, "auth service unavailable")
			}
			return
		}
		r.Header.Set(contract.HeaderUserID, id.UserID)
		r.Header.Set(contract.HeaderUserEmail, id.Email)
		r.Header.Del("Authorization")
		proxy.ServeHTTP(w, r)
	})
	mux.HandleFunc("POST /items/search", func(w http.ResponseWriter, r *http.Request) {
		body, ok := readJSON(w, r)
		if !ok {
			return
		}
		var in SearchIn
		if err := json.Unmarshal(body, &in); err != nil {
			writeError(w, http.StatusBadRequest, "invalid JSON body")
			return
		}
		setBody(r, body)
		proxy.ServeHTTP(w, r)
	})
	mux.HandleFunc("POST /items/lookup", func(w http.ResponseWriter, r *http.Request) {
		body, ok := readJSON(w, r)
		if !ok {
			return
		}
		var in LookupIn
		if err := json.Unmarshal(body, &in); err != nil {
			writeError(w, http.StatusBadRequest, "invalid JSON body")
			return
		}
		if in.Q == "" {
			writeError(w, http.StatusBadRequest, "q is required")
			return
		}
		out, err := json.Marshal(LookupOut{
			Query:  strings.TrimSpace(in.Q),
			Limit:  contract.LookupLimit,
			Source: contract.LookupSource,
		})
		if err != nil {
			writeError(w, http.StatusInternalServerError, "cannot encode body")
			return
		}
		setBody(r, out)
		proxy.ServeHTTP(w, r)
	})
	return tag(newRequestIDs(), mux), nil
}

// tag gives every request a new request ID, in the inbound header (where
// the proxy and the auth call take it from, replacing any the client sent)
// and on the response, as apigate does.
func tag(ids *requestIDs, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := ids.next()
		r.Header[contract.HeaderRequestID] = id
		w.Header()[contract.HeaderRequestID] = id
		h.ServeHTTP(w, r)
	})
}

// forwarding returns what the auth call tells the auth service about r:
// the same forwarding headers and request ID as the proxied request.
func forwarding(r *http.Request) authclient.Forward {
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	return authclient.Forward{
		For:       ip,
		Host:      r.Host,
		Proto:     proto,
		Forwarded: forwarded(r),
		RequestID: r.Header.Get(contract.HeaderRequestID),
	}
}

// readJSON checks the Content-Type and reads the body, at most maxBody
// bytes. It writes the error response and reports false on failure.
func readJSON(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		writeError(w, http.StatusUnsupportedMediaType, "want application/json")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, "body too large")
		} else {
			writeError(w, http.StatusBadRequest, "cannot read body")
		}
		return nil, false
	}
	return body, true
}

// setBody replaces the request body with b, with a matching Content-Length.
func setBody(r *http.Request, b []byte) {
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	r.TransferEncoding = nil
	r.Header.Set("Content-Length", strconv.Itoa(len(b)))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// bufferPool is an httputil.BufferPool of 32 KiB copy buffers.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

func (p *bufferPool) Get() []byte  { return *p.p.Get().(*[]byte) }
func (p *bufferPool) Put(b []byte) { p.p.Put(&b) }
