package apigate_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/ratelimit"
)

// A per-client limit of 2 requests a minute: the third is refused with
// 429, Retry-After and the RateLimit headers, and never reaches the
// upstream.
func ExampleRateLimit() {
	up := newUpstream()
	defer up.Close()

	perIP := ratelimit.Limit{Name: "per-ip", Rate: 2, Per: time.Minute}
	api := apigate.Service("/api",
		apigate.RateLimit(perIP, apigate.LimitByIP()), // every route of the service
		apigate.GET("/items/:id"),
		apigate.GET("/health", apigate.NoRateLimit()),
	)
	gw, err := apigate.New(apigate.Mount(api, up.URL))
	if err != nil {
		log.Fatal(err)
	}
	front := httptest.NewServer(gw)
	defer front.Close()

	for _, path := range []string{"/api/items/1", "/api/items/2", "/api/items/3", "/api/health"} {
		res, err := http.Get(front.URL + path)
		if err != nil {
			log.Fatal(err)
		}
		res.Body.Close()
		fmt.Println(strings.TrimSpace(fmt.Sprint(res.StatusCode, " ", path, " ", res.Header.Get("RateLimit"), " ", res.Header.Get("Retry-After"))))
	}
	// Output:
	// 200 /api/items/1 "per-ip";r=1;t=30
	// 200 /api/items/2 "per-ip";r=0;t=30
	// 429 /api/items/3 "per-ip";r=0;t=30 30
	// 200 /api/health
}

// userID is what an authentication hook establishes.
type userID string

// A limit per user: the key function runs after the Before hooks, so it
// can read what they stored.
func ExampleLimitByFunc() {
	up := newUpstream()
	defer up.Close()

	auth := func(c *apigate.Ctx) error {
		u := c.Header("X-Token") // stands in for verifying a token
		if u == "" {
			return apigate.Unauthorized("missing token")
		}
		apigate.Set(c, userID(u))
		return nil
	}
	byUser := func(c *apigate.Ctx) string {
		u, _ := apigate.Value[userID](c)
		return string(u)
	}
	perUser := ratelimit.Limit{Name: "per-user", Rate: 100, Per: time.Hour, Burst: 1}
	api := apigate.Service("/api",
		apigate.GET("/me", apigate.Before(auth), apigate.RateLimit(perUser, apigate.LimitByFunc(byUser))),
	)
	gw, err := apigate.New(apigate.Mount(api, up.URL), apigate.WithRateLimitHeaders(false))
	if err != nil {
		log.Fatal(err)
	}
	front := httptest.NewServer(gw)
	defer front.Close()

	for _, user := range []string{"ann", "ann", "bob"} {
		req, _ := http.NewRequest(http.MethodGet, front.URL+"/api/me", nil)
		req.Header.Set("X-Token", user)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		res.Body.Close()
		fmt.Println(strings.TrimSpace(fmt.Sprint(user, " ", res.StatusCode, " ", res.Header.Get("Retry-After"))))
	}
	// Output:
	// ann 200
	// ann 429 36
	// bob 200
}

// The README's example: a per-address limit on the whole service, and a
// per-user limit on /me keyed after the auth hook.
func Example_rateLimit() {
	up := newUpstream()
	defer up.Close()
	auth := func(c *apigate.Ctx) error {
		if c.Header("X-Token") == "" {
			return apigate.Unauthorized("missing token")
		}
		apigate.Set(c, userID(c.Header("X-Token")))
		return nil
	}
	byUser := func(c *apigate.Ctx) string { u, _ := apigate.Value[userID](c); return string(u) }
	perUser := ratelimit.Limit{Name: "per-user", Rate: 1, Per: time.Hour}

	perIP := ratelimit.Limit{Name: "per-ip", Rate: 100, Per: time.Minute, Burst: 20}
	api := apigate.Service("/api",
		apigate.RateLimit(perIP, apigate.LimitByIP()),
		apigate.GET("/items/:id"),
		apigate.GET("/me", apigate.Before(auth), apigate.RateLimit(perUser, apigate.LimitByFunc(byUser))),
	)

	gw, err := apigate.New(apigate.Mount(api, up.URL))
	if err != nil {
		log.Fatal(err)
	}
	front := httptest.NewServer(gw)
	defer front.Close()
	for _, path := range []string{"/api/items/1", "/api/me", "/api/me"} {
		req, _ := http.NewRequest(http.MethodGet, front.URL+path, nil)
		req.Header.Set("X-Token", "ann")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		res.Body.Close()
		fmt.Println(res.StatusCode, path, res.Header.Get("RateLimit"))
	}
	// Output:
	// 200 /api/items/1 "per-ip";r=19;t=1
	// 200 /api/me "per-user";r=0;t=3600
	// 429 /api/me "per-user";r=0;t=3600
}
