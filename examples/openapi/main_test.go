package main

import (
	"os"
	"testing"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/apigatetest"
)

func engine() apigate.Engine {
	if os.Getenv("APIGATE_TEST_ENGINE") == "http1" {
		return apigate.EngineHTTP1
	}
	return apigate.EngineNetHTTP
}

// serve runs the example's handler on a real socket in front of up.
func serve(t *testing.T, up *apigatetest.Upstream) *apigatetest.Gateway {
	h, err := Handler(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	return apigatetest.Serve(t, apigatetest.Options{Engine: engine()}, h)
}

func TestDocument(t *testing.T) {
	up := apigatetest.NewUpstream(t)
	gw := serve(t, up)
	res := gw.Get(t, "/openapi.json").AssertStatus(t, 200).AssertHeader(t, "Content-Type", "application/json")
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	res.JSON(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	for path, methods := range map[string][]string{"/api/items": {"get", "post"}, "/api/items/{id}": {"get"}} {
		for _, m := range methods {
			if doc.Paths[path][m] == nil {
				t.Errorf("no %s %s in the document", m, path)
			}
		}
	}
	up.AssertNotCalled(t)
}

func TestRoutes(t *testing.T) {
	up := apigatetest.NewUpstream(t, apigatetest.JSON(200, Item{ID: 7, Name: "lamp"}))
	gw := serve(t, up)

	gw.Get(t, "/api/items/7").AssertStatus(t, 200).AssertBody(t, `{"id":7,"name":"lamp","price":null}`)
	gw.Get(t, "/api/items/seven").AssertStatus(t, 400).AssertBodyContains(t, `"invalid_path"`)
	gw.Get(t, "/api/items?limit=3").AssertStatus(t, 400).AssertBodyContains(t, `"invalid_query"`)
	up.AssertCalled(t, 1)

	gw.Do(t, "POST", "/api/items", `{"name":"lamp"}`, "Content-Type: application/json").AssertStatus(t, 200)
	var got NewItem
	up.Last(t).JSON(t, &got)
	if got.Name != "lamp" {
		t.Errorf("upstream got %+v", got)
	}
}

func TestCORS(t *testing.T) {
	up := apigatetest.NewUpstream(t, apigatetest.Reply(200, "{}", "Access-Control-Allow-Origin: *"))
	gw := serve(t, up)
	gw.Do(t, "OPTIONS", "/api/items", "", "Origin: https://app.example.com", "Access-Control-Request-Method: POST",
		"Access-Control-Request-Headers: content-type").
		AssertStatus(t, 204).
		AssertHeader(t, "Access-Control-Allow-Origin", "https://app.example.com").
		AssertHeader(t, "Access-Control-Allow-Headers", "content-type")
	up.AssertNotCalled(t) // the preflight stayed at the gateway

	gw.Get(t, "/api/items/7", "Origin: https://a.preview.example.com").
		AssertHeader(t, "Access-Control-Allow-Origin", "https://a.preview.example.com")
	gw.Get(t, "/api/items/7", "Origin: https://evil.test").
		AssertHeader(t, "Access-Control-Allow-Origin", "") // the upstream's * is dropped too
	up.AssertCalled(t, 2)
}

// TestCheck runs the program's own -check: every printed curl command
// answers as its note says.
func TestCheck(t *testing.T) {
	if err := run("127.0.0.1:0", true); err != nil {
		t.Fatal(err)
	}
}
