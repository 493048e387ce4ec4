// Command hooks shows Before hooks: an auth hook that reads a shared auth
// client registered with WithState, rejects requests without a valid
// Bearer token (401), drops the token and injects X-User-Id; a chain of
// service and route hooks; and per-request values passed from one hook to
// the next with Set and Value.
//
//	go run ./examples/hooks                            # serve on 127.0.0.1:8080 until Ctrl-C
//	go run ./examples/hooks -check -addr 127.0.0.1:0   # send the printed requests itself and exit
package main

import (
	"context"
	"slices"
	"strings"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/internal/excheck"
	"github.com/apigate-go/apigate/examples/upstream"
)

func main() {
	excheck.Main(run)
}

// User is who a token belongs to. The auth hook stores it as a
// per-request value; later hooks read it with apigate.Value.
type User struct {
	ID    string
	Roles []string
}

// AuthClient stands in for a client of a real identity service. One value
// is shared by every request: it is registered with apigate.WithState and
// read with apigate.State, and must be safe for concurrent use (this one
// is read-only).
type AuthClient struct {
	tokens map[string]User
}

// Lookup returns the user a token belongs to.
func (a *AuthClient) Lookup(_ context.Context, token string) (User, bool) {
	u, ok := a.tokens[token]
	return u, ok
}

// authenticate is the service's first hook: it checks the Bearer token
// with the shared AuthClient, stores the user for the hooks after it, and
// keeps the token from reaching the upstream.
func authenticate(c *apigate.Ctx) error {
	token, ok := strings.CutPrefix(c.Header("Authorization"), "Bearer ")
	if !ok || token == "" {
		return apigate.Unauthorized("missing bearer token")
	}
	u, ok := apigate.State[*AuthClient](c).Lookup(c.Context(), token)
	if !ok {
		// The detail goes to the observer, never to the client.
		return apigate.Unauthorized("invalid token").WithDetail("unknown token on %s", c.Route())
	}
	apigate.Set(c, u)
	c.DelHeader("Authorization")
	return nil
}

// identify is the service's second hook: it reads the user the first hook
// stored and tells the upstream who is calling.
func identify(c *apigate.Ctx) error {
	u, ok := apigate.Value[User](c)
	if !ok {
		return apigate.Internal("no user") // authenticate runs first, so this cannot happen
	}
	if err := c.SetHeader("X-User-Id", u.ID); err != nil {
		return err
	}
	return c.SetHeader("X-User-Roles", strings.Join(u.Roles, ","))
}

// requireRole returns a route hook that lets only users with role through.
func requireRole(role string) apigate.Hook {
	return func(c *apigate.Ctx) error {
		u, _ := apigate.Value[User](c)
		if !slices.Contains(u.Roles, role) {
			return apigate.Forbidden("needs role " + role)
		}
		return nil
	}
}

// audit is a route hook that runs after the service's hooks and
// requireRole: it tags the upstream request with who did what.
func audit(c *apigate.Ctx) error {
	u, _ := apigate.Value[User](c)
	return c.SetHeader("X-Audit", u.ID+" "+c.Method()+" "+c.Param("id"))
}

func run(addr string, check bool) error {
	backend, stop, err := upstream.Start("items-v1")
	if err != nil {
		return err
	}
	defer stop()

	api := apigate.Service("/api",
		// Service hooks run first, in order, on every route of the service.
		apigate.Before(authenticate, identify),
		apigate.GET("/me", apigate.To("/users/me")),
		apigate.GET("/items/:id"),
		// Route hooks run after the service's, in order.
		apigate.DELETE("/items/:id", apigate.Before(requireRole("admin"), audit)),
	)
	auth := &AuthClient{tokens: map[string]User{
		"alice-token": {ID: "u-alice", Roles: []string{"admin", "staff"}},
		"bob-token":   {ID: "u-bob", Roles: []string{"staff"}},
	}}
	gw, err := apigate.New(
		apigate.Mount(api, backend),
		apigate.WithState(auth),
	)
	if err != nil {
		return err
	}

	calls := []excheck.Call{
		{Note: "no token: 401 from the auth hook, nothing goes upstream",
			Path: "/api/me", Status: 401, Want: []string{"unauthorized: missing bearer token"}},
		{Note: "a bad token: 401",
			Path: "/api/me", Header: []string{"Authorization: Bearer nope"},
			Status: 401, Want: []string{"unauthorized: invalid token"}, Deny: []string{"unknown token"}},
		{Note: "a good token: the upstream sees X-User-Id and no Authorization header",
			Path: "/api/me", Header: []string{"Authorization: Bearer bob-token"},
			Status: 200, Want: []string{`"path": "/users/me"`, `"X-User-Id": "u-bob"`, `"X-User-Roles": "staff"`},
			Deny: []string{"Authorization", "bob-token"}},
		{Note: "the route hook requireRole reads the user the service hook stored: bob is not an admin",
			Method: "DELETE", Path: "/api/items/7", Header: []string{"Authorization: Bearer bob-token"},
			Status: 403, Want: []string{"forbidden: needs role admin"}},
		{Note: "alice is: the whole chain ran (authenticate, identify, requireRole, audit)",
			Method: "DELETE", Path: "/api/items/7", Header: []string{"Authorization: Bearer alice-token"},
			Status: 200, Want: []string{`"method": "DELETE"`, `"X-Audit": "u-alice DELETE 7"`, `"X-User-Id": "u-alice"`}},
	}

	ex := excheck.Example{About: "in front of the mock upstream " + backend, Calls: calls}
	return ex.ListenAndServe(addr, gw, check)
}
