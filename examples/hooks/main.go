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
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/upstream"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	check := flag.Bool("check", false, "send the example requests, verify the answers, and exit")
	flag.Parse()
	if err := run(*addr, *check); err != nil {
		log.Fatal(err)
	}
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

	calls := []call{
		{note: "no token: 401 from the auth hook, nothing goes upstream",
			path: "/api/me", status: 401, want: []string{"unauthorized: missing bearer token"}},
		{note: "a bad token: 401",
			path: "/api/me", header: []string{"Authorization: Bearer nope"},
			status: 401, want: []string{"unauthorized: invalid token"}, deny: []string{"unknown token"}},
		{note: "a good token: the upstream sees X-User-Id and no Authorization header",
			path: "/api/me", header: []string{"Authorization: Bearer bob-token"},
			status: 200, want: []string{`"path": "/users/me"`, `"X-User-Id": "u-bob"`, `"X-User-Roles": "staff"`},
			deny: []string{"Authorization", "bob-token"}},
		{note: "the route hook requireRole reads the user the service hook stored: bob is not an admin",
			method: "DELETE", path: "/api/items/7", header: []string{"Authorization: Bearer bob-token"},
			status: 403, want: []string{"forbidden: needs role admin"}},
		{note: "alice is: the whole chain ran (authenticate, identify, requireRole, audit)",
			method: "DELETE", path: "/api/items/7", header: []string{"Authorization: Bearer alice-token"},
			status: 200, want: []string{`"method": "DELETE"`, `"X-Audit": "u-alice DELETE 7"`, `"X-User-Id": "u-alice"`}},
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ln, err := apigate.Listen(ctx, addr, apigate.ServeOptions{})
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Printf("gateway on %s in front of the mock upstream %s\ntry:\n", base, backend)
	for _, c := range calls {
		fmt.Printf("  # %s\n  %s\n", c.note, c.curl(base))
	}
	if !check {
		return apigate.Serve(ctx, ln, gw, apigate.ServeOptions{})
	}
	go apigate.Serve(ctx, ln, gw, apigate.ServeOptions{})
	client := &http.Client{Timeout: 10 * time.Second}
	for _, c := range calls {
		if err := c.check(client, base); err != nil {
			return err
		}
	}
	return nil
}

// call is one example request: main prints it as a curl command, and
// -check sends the same request and verifies the answer.
type call struct {
	note   string   // what the request shows
	method string   // GET when empty
	path   string   // path and query, appended to the gateway's base URL
	header []string // "Name: value"
	body   string   // sent as curl -d sends it
	status int      // the status the answer must have
	want   []string // text the answer (status line, headers, body) must hold
	deny   []string // text it must not hold
}

// curl returns the call as a command line that works as printed.
func (c call) curl(base string) string {
	s := "curl -s"
	if c.status != http.StatusOK {
		s = "curl -si"
	}
	if c.method != "" && (c.method != http.MethodPost || c.body == "") {
		s += " -X " + c.method
	}
	for _, h := range c.header {
		s += " -H " + quote(h)
	}
	if c.body != "" {
		s += " -d " + quote(c.body)
	}
	return s + " " + quote(base+c.path)
}

// check sends the call as curl would and compares the answer.
func (c call) check(client *http.Client, base string) error {
	method := cmp.Or(c.method, http.MethodGet)
	req, err := http.NewRequest(method, base+c.path, strings.NewReader(c.body))
	if err != nil {
		return err
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // curl -d's default
	}
	for _, h := range c.header {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, c.path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, c.path, err)
	}
	var ans strings.Builder
	fmt.Fprintf(&ans, "%s %s\n", res.Proto, res.Status)
	res.Header.Write(&ans)
	ans.WriteString("\n")
	ans.Write(body)
	got := ans.String()
	if res.StatusCode != c.status {
		return fmt.Errorf("%s %s: status %d, want %d; answer:\n%s", method, c.path, res.StatusCode, c.status, got)
	}
	for _, w := range c.want {
		if !strings.Contains(got, w) {
			return fmt.Errorf("%s %s: answer lacks %q; answer:\n%s", method, c.path, w, got)
		}
	}
	for _, d := range c.deny {
		if strings.Contains(got, d) {
			return fmt.Errorf("%s %s: answer holds %q; answer:\n%s", method, c.path, d, got)
		}
	}
	fmt.Printf("ok  %s %s → %d\n", method, c.path, res.StatusCode)
	return nil
}

// quote quotes s for a POSIX shell.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
