// Package authclient is the client of the benchmark's auth service, shared
// by every Go gateway of the suite so that they pay the same price for the
// /my-items verification call, and the transport settings they share.
package authclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// ErrUnauthorized is returned by [Client.Verify] when the auth service
// rejects the credentials.
var ErrUnauthorized = errors.New("authclient: unauthorized")

// Identity is the verified identity the auth service returns.
type Identity struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
}

// Client calls the auth service's POST /verify. It is safe for concurrent
// use.
type Client struct {
	url string
	hc  *http.Client
}

// New returns a client of the auth service at base (such as
// "http://127.0.0.1:9000") sending through rt; a nil rt uses a fresh
// [Transport].
func New(base string, rt http.RoundTripper) *Client {
	if rt == nil {
		rt = Transport()
	}
	// The timeout goes on each call's context rather than on
	// http.Client.Timeout, which starts a goroutine and a timer per call
	// for any RoundTripper other than http.Transport.
	return &Client{url: base + "/verify", hc: &http.Client{Transport: rt}}
}

// callTimeout bounds one call to the auth service.
const callTimeout = 10 * time.Second

// Forward is what a gateway tells the auth service about the client's
// request, as it tells the data service: the values of X-Forwarded-For,
// X-Forwarded-Host, X-Forwarded-Proto, Forwarded and X-Request-Id (the
// headers apigate's AuthRequest sends too). Empty fields are not sent.
type Forward struct {
	For, Host, Proto, Forwarded, RequestID string
}

// forwardNames are the header names of [Forward]'s fields, in order.
var forwardNames = [...]string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded", "X-Request-Id"}

// Verify asks the auth service whether authorization, the client's
// Authorization header value, is valid, sending the headers of fwd along.
// It returns [ErrUnauthorized] when the service answers 401 or 403,
// another error when the service fails.
func (c *Client) Verify(ctx context.Context, authorization string, fwd Forward) (Identity, error) {
	if authorization == "" {
		return Identity{}, ErrUnauthorized
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, http.NoBody)
	if err != nil {
		return Identity{}, fmt.Errorf("authclient: %w", err)
	}
	req.Header.Set("Authorization", authorization)
	vals := [...]string{fwd.For, fwd.Host, fwd.Proto, fwd.Forwarded, fwd.RequestID}
	spare := vals[:] // one allocation for the five header values
	for i, k := range forwardNames {
		if vals[i] != "" {
			req.Header[k] = spare[i : i+1 : i+1]
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return Identity{}, fmt.Errorf("authclient: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if err != nil {
		return Identity{}, fmt.Errorf("authclient: read response: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return Identity{}, ErrUnauthorized
	case resp.StatusCode != http.StatusOK:
		return Identity{}, fmt.Errorf("authclient: auth service answered %d", resp.StatusCode)
	}
	var id Identity
	if err := json.Unmarshal(body, &id); err != nil {
		return Identity{}, fmt.Errorf("authclient: decode response: %w", err)
	}
	if id.UserID == "" {
		return Identity{}, errors.New("authclient: response without user_id")
	}
	return id, nil
}

// Upstream pool sizes and timeouts shared by the Go gateways of the suite.
const (
	MaxIdleConnsPerHost   = 256
	IdleConnTimeout       = 90 * time.Second
	DialTimeout           = 5 * time.Second
	ResponseHeaderTimeout = 30 * time.Second
)

// Transport returns a fresh HTTP/1.1 transport tuned for a gateway talking
// to a few loopback upstreams: keep-alive pools of [MaxIdleConnsPerHost]
// connections per host, no compression, bounded dial and header waits.
func Transport() *http.Transport {
	d := &net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:           d.DialContext,
		MaxIdleConns:          4 * MaxIdleConnsPerHost,
		MaxIdleConnsPerHost:   MaxIdleConnsPerHost,
		IdleConnTimeout:       IdleConnTimeout,
		ResponseHeaderTimeout: ResponseHeaderTimeout,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
	}
}
