package apigatetest_test

import (
	"testing"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/apigatetest"
)

// TestItemLookup is the test docs/testing.md shows: a scripted upstream,
// the gateway under test on a real socket, and assertions on what the
// client got and what the upstream saw.
func TestItemLookup(t *testing.T) {
	up := apigatetest.NewUpstream(t, apigatetest.JSON(200, map[string]any{"id": 7, "name": "lamp"}))
	api := apigate.Service("/api", apigate.GET("/items/:id", apigate.To("/v2/items/:id")))
	gw := apigatetest.New(t, apigate.Mount(api, up.URL))

	gw.Get(t, "/api/items/7", "Authorization: Bearer t0k3n").
		AssertStatus(t, 200).
		AssertHeader(t, "Content-Type", "application/json").
		AssertBody(t, `{"id":7,"name":"lamp"}`)

	up.AssertCalled(t, 1)
	if got := up.Last(t).Path; got != "/v2/items/7" {
		t.Errorf("upstream path %q, want /v2/items/7", got)
	}
	if got := up.Last(t).Header.Get("Authorization"); got != "Bearer t0k3n" {
		t.Errorf("upstream Authorization %q", got)
	}
}

// TestHangTimesOut is docs/testing.md's fault test: the gateway gives up
// with 504 after one attempt.
func TestHangTimesOut(t *testing.T) {
	up := apigatetest.NewUpstream(t, apigatetest.Hang())
	gw := apigatetest.New(t, apigate.Mount(apigate.Service("/api", apigate.GET("/x", apigate.Timeout(300*time.Millisecond))), up.URL))
	gw.Get(t, "/api/x").AssertStatus(t, 504)
	up.AssertCalled(t, 1)
}
