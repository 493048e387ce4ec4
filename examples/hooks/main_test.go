package main

import (
	"os"
	"testing"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/apigatetest"
)

// The hooks are ordinary functions: these tests run them in a real
// gateway with apigatetest and check what reached the upstream.

func engine() apigate.Engine {
	if os.Getenv("APIGATE_TEST_ENGINE") == "http1" {
		return apigate.EngineHTTP1
	}
	return apigate.EngineNetHTTP
}

func newGateway(t *testing.T, up *apigatetest.Upstream) *apigatetest.Gateway {
	api := apigate.Service("/api",
		apigate.Before(authenticate, identify),
		apigate.GET("/items/:id"),
		apigate.DELETE("/items/:id", apigate.Before(requireRole("admin"), audit)),
	)
	auth := &AuthClient{tokens: map[string]User{
		"alice-token": {ID: "u-alice", Roles: []string{"admin"}},
		"bob-token":   {ID: "u-bob", Roles: []string{"staff"}},
	}}
	return apigatetest.NewWith(t, apigatetest.Options{Engine: engine()}, apigate.Mount(api, up.URL), apigate.WithState(auth))
}

func TestAuthenticate(t *testing.T) {
	up := apigatetest.NewUpstream(t, apigatetest.Reply(200, "ok"))
	gw := newGateway(t, up)

	gw.Get(t, "/api/items/7").AssertStatus(t, 401).AssertBody(t, "unauthorized: missing bearer token\n")
	gw.Get(t, "/api/items/7", "Authorization: Bearer nope").AssertStatus(t, 401)
	up.AssertNotCalled(t) // refused requests never reach the upstream

	gw.Get(t, "/api/items/7", "Authorization: Bearer bob-token").AssertStatus(t, 200).AssertBody(t, "ok")
	up.AssertCalled(t, 1)
	got := up.Last(t)
	if got.Header.Get("Authorization") != "" {
		t.Error("the token reached the upstream")
	}
	if id, roles := got.Header.Get("X-User-Id"), got.Header.Get("X-User-Roles"); id != "u-bob" || roles != "staff" {
		t.Errorf("upstream saw X-User-Id %q, X-User-Roles %q", id, roles)
	}
}

func TestRequireRoleAndAudit(t *testing.T) {
	up := apigatetest.NewUpstream(t)
	gw := newGateway(t, up)

	gw.Do(t, "DELETE", "/api/items/7", "", "Authorization: Bearer bob-token").
		AssertStatus(t, 403).AssertBody(t, "forbidden: needs role admin\n")
	up.AssertNotCalled(t)

	gw.Do(t, "DELETE", "/api/items/7", "", "Authorization: Bearer alice-token").AssertStatus(t, 200)
	up.AssertCalled(t, 1)
	if got := up.Last(t); got.Method != "DELETE" || got.Header.Get("X-Audit") != "u-alice DELETE 7" {
		t.Errorf("upstream saw %s with X-Audit %q", got.Method, got.Header.Get("X-Audit"))
	}
}
