package main

import (
	"errors"
	"net/http"
	"strings"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/bench/internal/authclient"
	"github.com/apigate-go/apigate/bench/internal/contract"
)

// SearchIn is the validated shape of POST /items/search; the body goes
// upstream as it came.
type SearchIn struct {
	Category *string `json:"category"`
	MaxPrice *int    `json:"max_price"`
}

// LookupIn is the validated shape of POST /items/lookup.
type LookupIn struct {
	Q string `json:"q" apigate:"required"`
}

// LookupOut is what POST /items/lookup sends upstream.
type LookupOut struct {
	Query  string `json:"query"`
	Limit  int    `json:"limit"`
	Source string `json:"source"`
}

// newGateway returns the contract built with apigate: a Before hook that
// verifies the caller with the auth client held as shared state, JSON[T]
// validation, and a Map that rewrites the lookup body.
func newGateway(authURL, dataURL string) (*apigate.Gateway, error) {
	svc := apigate.Service("/",
		apigate.GET("/items"),
		apigate.GET("/my-items", apigate.Before(auth)),
		apigate.POST("/items/search", apigate.JSON[SearchIn]()),
		apigate.POST("/items/lookup", apigate.JSON[LookupIn](), apigate.Map(remapLookup)),
	)
	// apigate's HTTP/1.1 engine both for the proxy and for the hook's
	// calls to the auth service.
	up := apigate.UpstreamOptions{Engine: apigate.EngineHTTP1, MaxIdleConnsPerHost: authclient.MaxIdleConnsPerHost}
	return apigate.New(
		apigate.Mount(svc, dataURL),
		apigate.WithUpstream(up),
		apigate.WithState(authclient.New(authURL, apigate.NewTransport(up))),
	)
}

// newHandler adapts newGateway to the contract tests.
func newHandler(authURL, dataURL string) (http.Handler, error) {
	return newGateway(authURL, dataURL)
}

// auth verifies the caller's bearer token with the auth service and passes
// the identity upstream in place of the token.
func auth(c *apigate.Ctx) error {
	ac := apigate.State[*authclient.Client](c)
	id, err := ac.Verify(c.Context(), c.Header("Authorization"))
	if err != nil {
		if errors.Is(err, authclient.ErrUnauthorized) {
			return apigate.Unauthorized("invalid token")
		}
		return apigate.BadGateway("auth service unavailable")
	}
	if err := c.SetHeader(contract.HeaderUserID, id.UserID); err != nil {
		return err
	}
	if err := c.SetHeader(contract.HeaderUserEmail, id.Email); err != nil {
		return err
	}
	c.DelHeader("Authorization")
	return nil
}

// remapLookup turns the client's {q} into the data service's lookup query.
func remapLookup(_ *apigate.Ctx, in LookupIn) (LookupOut, error) {
	return LookupOut{
		Query:  strings.TrimSpace(in.Q),
		Limit:  contract.LookupLimit,
		Source: contract.LookupSource,
	}, nil
}
