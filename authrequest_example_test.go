package apigate_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/apigate-go/apigate"
)

// Identity is what the auth service answers for a valid token.
type Identity struct {
	UserID string `json:"user_id"`
}

// Every request of the service is checked with an auth service first: a
// valid token reaches the upstream as X-User-Id, without the token; any
// other is refused with the auth service's 401, and the upstream sees
// nothing.
func ExampleAuthRequest() {
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t-42" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(Identity{UserID: "u-42"})
	}))
	defer auth.Close()
	up := newUpstream()
	defer up.Close()

	setUser := func(c *apigate.Ctx, id Identity) error {
		return c.SetHeader("X-User-Id", id.UserID)
	}
	api := apigate.Service("/api",
		apigate.AuthRequest(auth.URL+"/verify", setUser, apigate.AuthStrip()),
		apigate.GET("/my-items"),
	)
	gw, err := apigate.New(apigate.Mount(api, up.URL))
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Close()

	for _, token := range []string{"t-42", "t-forged"} {
		r := httptest.NewRequest(http.MethodGet, "/api/my-items", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		fmt.Println(send(gw, r))
	}
	// Output:
	// 200 upstream saw GET /my-items X-User-Id=u-42
	// 401 unauthorized: authentication required
}
