package main

import (
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

// newGateway returns the contract built with apigate: AuthRequest
// verifying the caller with the auth service, JSON[T] validation, and a
// Map that rewrites the lookup body.
func newGateway(authURL, dataURL string) (*apigate.Gateway, error) {
	verify := apigate.AuthRequest(authURL+"/verify", setIdentity,
		apigate.AuthMethod(http.MethodPost), apigate.AuthStrip())
	svc := apigate.Service("/",
		apigate.GET("/items"),
		apigate.GET("/my-items", verify),
		apigate.POST("/items/search", apigate.JSON[SearchIn]()),
		apigate.POST("/items/lookup", apigate.JSON[LookupIn](), apigate.Map(remapLookup)),
	)
	// apigate's HTTP/1.1 engine both for the proxy and for the calls to
	// the auth service, which share its connection pools.
	up := apigate.UpstreamOptions{Engine: apigate.EngineHTTP1, MaxIdleConnsPerHost: authclient.MaxIdleConnsPerHost}
	return apigate.New(
		apigate.Mount(svc, dataURL),
		apigate.WithUpstream(up),
	)
}

// newHandler adapts newGateway to the contract tests.
func newHandler(authURL, dataURL string) (http.Handler, error) {
	return newGateway(authURL, dataURL)
}

// setIdentity passes the identity the auth service verified upstream; the
// token itself is stripped by AuthStrip.
func setIdentity(c *apigate.Ctx, id authclient.Identity) error {
	if id.UserID == "" {
		return apigate.BadGateway("auth response without user_id")
	}
	if err := c.SetHeader(contract.HeaderUserID, id.UserID); err != nil {
		return err
	}
	return c.SetHeader(contract.HeaderUserEmail, id.Email)
}

// remapLookup turns the client's {q} into the data service's lookup query.
func remapLookup(_ *apigate.Ctx, in LookupIn) (LookupOut, error) {
	return LookupOut{
		Query:  strings.TrimSpace(in.Q),
		Limit:  contract.LookupLimit,
		Source: contract.LookupSource,
	}, nil
}
