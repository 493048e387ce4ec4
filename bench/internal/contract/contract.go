// Package contract defines the benchmark's four routes: what a client sends
// to a gateway for each of them, and the equivalent request sent straight to
// the data service (the "direct" row of the results).
//
// Every gateway in the suite exposes the same contract:
//
//	GET  /items          plain proxy to the data service
//	GET  /my-items       POST /verify to the auth service with the client's
//	                     Authorization; on 200 inject X-User-Id and
//	                     X-User-Email, strip Authorization, proxy; else 401
//	POST /items/search   validate {category?: string, max_price?: int};
//	                     forward the body as is
//	POST /items/lookup   validate {q: string} (required); rewrite to
//	                     {query: trimmed q, limit: 20, source: "gateway"}
package contract

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// The identity every benchmark token carries.
const (
	// UserID is the user the load generator authenticates as.
	UserID = "u-1"
	// Email is the e-mail address the auth service reports for [UserID].
	Email = "u-1@example.com"
)

// Header names of the contract.
const (
	// HeaderUserID carries the verified user id to the data service.
	HeaderUserID = "X-User-Id"
	// HeaderUserEmail carries the verified e-mail address to the data
	// service.
	HeaderUserEmail = "X-User-Email"
)

// LookupLimit and LookupSource are the constants the lookup rewrite adds.
const (
	LookupLimit  = 20
	LookupSource = "gateway"
)

// Header is one request header.
type Header struct {
	Key, Value string
}

// Request is one HTTP request of the benchmark, independent of the client
// that sends it. Its fields must not be modified.
type Request struct {
	Method string
	// Path is the request path with its query, if any.
	Path   string
	Header []Header
	Body   []byte
}

// Route is one route of the contract.
type Route struct {
	// Name is the short name used by flags and reports: items, my-items,
	// search or lookup.
	Name   string
	Method string
	Path   string
	// auth reports whether the route needs a bearer token at the gateway
	// (and the identity headers when sent direct).
	auth bool
	// body is what a client sends to a gateway; direct is what reaches the
	// data service once the gateway has done its work.
	body, direct string
}

// Routes returns the four routes of the contract, in report order.
func Routes() []Route {
	return []Route{
		{Name: "items", Method: http.MethodGet, Path: "/items"},
		{Name: "my-items", Method: http.MethodGet, Path: "/my-items", auth: true},
		{
			Name: "search", Method: http.MethodPost, Path: "/items/search",
			body:   `{"category":"electronics","max_price":500}`,
			direct: `{"category":"electronics","max_price":500}`,
		},
		{
			Name: "lookup", Method: http.MethodPost, Path: "/items/lookup",
			body:   `{"q":"  phone  "}`,
			direct: `{"query":"phone","limit":20,"source":"gateway"}`,
		},
	}
}

// Names returns the names of [Routes], in order.
func Names() []string {
	rs := Routes()
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Name
	}
	return names
}

// Gateway returns the request a client sends to a gateway for this route,
// authenticated with token where the route needs it.
func (r Route) Gateway(token string) Request {
	req := Request{Method: r.Method, Path: r.Path}
	if r.auth {
		req.Header = append(req.Header, Header{"Authorization", "Bearer " + token})
	}
	if r.body != "" {
		req.Header = append(req.Header, Header{"Content-Type", "application/json"})
		req.Body = []byte(r.body)
	}
	return req
}

// Direct returns the request that reaches the data service once a gateway
// has done this route's work: what the load generator sends for the direct
// row.
func (r Route) Direct() Request {
	req := Request{Method: r.Method, Path: r.Path}
	if r.auth {
		req.Header = append(req.Header,
			Header{HeaderUserID, UserID},
			Header{HeaderUserEmail, Email})
	}
	if r.direct != "" {
		req.Header = append(req.Header, Header{"Content-Type", "application/json"})
		req.Body = []byte(r.direct)
	}
	return req
}

// NewHTTPRequest returns req as a *http.Request to base, a URL such as
// "http://127.0.0.1:9001".
func (req Request) NewHTTPRequest(base string) (*http.Request, error) {
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequest(req.Method, base+req.Path, body)
	if err != nil {
		return nil, fmt.Errorf("contract: %w", err)
	}
	for _, h := range req.Header {
		if h.Value != "" {
			hr.Header.Set(h.Key, h.Value)
		}
	}
	return hr, nil
}
