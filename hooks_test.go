package apigate

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type authClient struct{ tokens map[string]string }

type user struct{ ID string }

func TestHooks(t *testing.T) {
	up := newEcho(t)
	var trail []string
	shared := &authClient{tokens: map[string]string{"Bearer good": "u-1"}}
	auth := func(c *Ctx) error {
		trail = append(trail, "auth")
		ac := State[*authClient](c)
		if ac != shared {
			return errors.New("State returned another *authClient than the one registered")
		}
		id, ok := ac.tokens[c.Header("Authorization")]
		if !ok {
			return Unauthorized("missing or bad token")
		}
		Set(c, user{ID: id})
		c.DelHeader("Authorization")
		return c.SetHeader("X-User-Id", id)
	}
	inject := func(c *Ctx) error {
		trail = append(trail, "inject")
		u, ok := Value[user](c)
		if !ok {
			return errors.New("no user")
		}
		c.AddHeader("X-Trace", "a")
		c.AddHeader("X-Trace", "b")
		c.SetHeaderIfAbsent("X-Tenant", "default")
		c.SetHeaderIfAbsent("X-Keep", "overwritten?")
		return c.SetHeader("X-Seen", fmt.Sprintf("%s %s %s %s %s", u.ID, c.Method(), c.Route(), c.Service(), c.Param("id")))
	}
	svc := Service("/api", Before(auth),
		GET("/items/:id", Before(inject)),
		GET("/bad-header", Before(func(c *Ctx) error { c.SetHeader("X-Evil", "a\r\nInjected: 1"); return nil })),
		GET("/bad-name", Before(func(c *Ctx) error { return c.SetHeader("Bad Name", "v") })),
		GET("/plain-error", Before(func(c *Ctx) error { return errors.New("db password is hunter2") })),
		GET("/wrapped", Before(func(c *Ctx) error { return fmt.Errorf("check: %w", Forbidden("not yours")) })),
		GET("/custom-json", Before(func(c *Ctx) error {
			return RespondJSON(http.StatusPaymentRequired, map[string]string{"error": "pay up"})
		})),
		GET("/custom", Before(func(c *Ctx) error {
			return Respond(http.StatusTeapot, http.Header{"X-Custom": {"1"}}, []byte("short and stout"))
		})),
	)
	_, gw := serveGateway(t, Mount(svc, up.URL), WithState(shared))

	req := newReq(t, "GET", gw.URL+"/api/items/a%2Fb", "")
	req.Header.Set("Authorization", "Bearer good")
	req.Header.Set("X-Keep", "client")
	res, body := do(t, req)
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	if got := strings.Join(trail, ","); got != "auth,inject" {
		t.Errorf("hook order = %s, want auth,inject", got)
	}
	h := up.last(t).Header
	for k, want := range map[string]string{
		"Authorization": "", "X-User-Id": "u-1", "X-Tenant": "default", "X-Keep": "client",
		"X-Seen": "u-1 GET /api/items/:id api a/b",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("upstream %s = %q, want %q", k, got, want)
		}
	}
	if got := h.Values("X-Trace"); strings.Join(got, ",") != "a,b" {
		t.Errorf("X-Trace = %v", got)
	}

	tests := []struct {
		path, auth string
		status     int
		body       string
		header     [2]string
	}{
		{"/api/items/1", "", 401, "unauthorized: missing or bad token\n", [2]string{}},
		{"/api/bad-header", "Bearer good", 400, "invalid_header: invalid header\n", [2]string{}},
		{"/api/bad-name", "Bearer good", 400, "invalid_header: invalid header\n", [2]string{}},
		{"/api/plain-error", "Bearer good", 500, "internal: internal error\n", [2]string{}},
		{"/api/wrapped", "Bearer good", 403, "forbidden: not yours\n", [2]string{}},
		{"/api/custom-json", "Bearer good", 402, `{"error":"pay up"}`, [2]string{"Content-Type", "application/json"}},
		{"/api/custom", "Bearer good", 418, "short and stout", [2]string{"X-Custom", "1"}},
	}
	n := up.count()
	for _, tt := range tests {
		trail = nil
		req := newReq(t, "GET", gw.URL+tt.path, "")
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		res, body := do(t, req)
		if res.StatusCode != tt.status || body != tt.body {
			t.Errorf("%s: got %d %q, want %d %q", tt.path, res.StatusCode, body, tt.status, tt.body)
		}
		if tt.header[0] != "" && res.Header.Get(tt.header[0]) != tt.header[1] {
			t.Errorf("%s: header %s = %q, want %q", tt.path, tt.header[0], res.Header.Get(tt.header[0]), tt.header[1])
		}
		if tt.status == 401 && strings.Join(trail, ",") != "auth" {
			t.Errorf("chain went on after the first error: %v", trail)
		}
	}
	if up.count() != n {
		t.Errorf("rejected requests reached the upstream")
	}
}

func TestErrorModel(t *testing.T) {
	tests := []struct {
		err    *Error
		status int
		code   string
	}{
		{BadRequest("m"), 400, CodeBadRequest},
		{Unauthorized("m"), 401, CodeUnauthorized},
		{Forbidden("m"), 403, CodeForbidden},
		{NotFound("m"), 404, CodeNotFound},
		{PayloadTooLarge("m"), 413, CodePayloadTooLarge},
		{UnsupportedMediaType("m"), 415, CodeUnsupportedMediaType},
		{Unprocessable("m"), 422, CodeValidationFailed},
		{TooManyRequests("m"), 429, CodeTooManyRequests},
		{Internal("m"), 500, CodeInternal},
		{BadGateway("m"), 502, CodeBadGateway},
		{GatewayTimeout("m"), 504, CodeUpstreamTimeout},
	}
	for _, tt := range tests {
		if tt.err.Status != tt.status || tt.err.Code != tt.code || tt.err.Message != "m" {
			t.Errorf("%+v, want status %d code %s", tt.err, tt.status, tt.code)
		}
		wrapped := fmt.Errorf("ctx: %w", tt.err)
		var e *Error
		if !errors.As(wrapped, &e) || e != tt.err {
			t.Errorf("errors.As through wrapping failed for %v", tt.err)
		}
	}
	cause := errors.New("cause")
	e := &Error{Status: 502, Code: "x", Message: "m", Err: cause}
	if !errors.Is(e, cause) {
		t.Error("errors.Is(e, cause) = false")
	}
	if got := Internal("m").WithDetail("row %d", 7).Error(); got != "apigate: internal: m (row 7)" {
		t.Errorf("Error() = %q", got)
	}
	// A status outside 4xx/5xx is served as 500.
	if e, _ := asError(&Error{Status: 200, Code: "c", Message: "m"}); e.Status != 500 {
		t.Errorf("status 200 error rendered as %d", e.Status)
	}
}

func TestMapErrorsAndCustomResponse(t *testing.T) {
	up := newEcho(t)
	mapper := func(c *Ctx, in lookupIn) (lookupOut, error) {
		switch in.Q {
		case "deny":
			return lookupOut{}, Forbidden("no lookups for you")
		case "custom":
			return lookupOut{}, RespondJSON(http.StatusAccepted, map[string]int{"queued": 1})
		case "boom":
			return lookupOut{}, errors.New("secret internals")
		}
		return lookupOut{Query: in.Q}, nil
	}
	_, gw := serveGateway(t, Mount(Service("/", POST("/l", JSON[lookupIn](), Map(mapper))), up.URL), WithErrorRenderer(JSONErrors))
	for _, tt := range []struct {
		q      string
		status int
		body   string
	}{
		{"deny", 403, `{"error":{"code":"forbidden","message":"no lookups for you"}}` + "\n"},
		{"custom", 202, `{"queued":1}`},
		{"boom", 500, `{"error":{"code":"internal","message":"internal error"}}` + "\n"},
	} {
		req := newReq(t, "POST", gw.URL+"/l", `{"q":"`+tt.q+`"}`)
		req.Header.Set("Content-Type", "application/json")
		res, body := do(t, req)
		if res.StatusCode != tt.status || body != tt.body {
			t.Errorf("%s: got %d %q, want %d %q", tt.q, res.StatusCode, body, tt.status, tt.body)
		}
	}
	if up.count() != 0 {
		t.Errorf("upstream reached")
	}
}

func TestStateAndSetReplace(t *testing.T) {
	up := newEcho(t)
	type cfg struct{ Name string }
	hook := func(c *Ctx) error {
		Set(c, 1)
		Set(c, 2) // replaces
		v, _ := Value[int](c)
		_, missing := Value[string](c)
		return c.SetHeader("X-V", fmt.Sprintf("%d %v %s %v", v, missing, State[cfg](c).Name, State[*authClient](c) == nil))
	}
	_, gw := serveGateway(t, Mount(Service("/", GET("/s", Before(hook))), up.URL), WithState(cfg{Name: "prod"}))
	get(t, gw.URL+"/s")
	if got := up.last(t).Header.Get("X-V"); got != "2 false prod true" {
		t.Errorf("X-V = %q", got)
	}
	if _, err := New(Mount(Service("/", GET("/s")), up.URL), WithState(cfg{}), WithState(cfg{})); err == nil {
		t.Error("two states of one type accepted")
	}
}

type stateClient struct{ name string }

type namer interface{ Name() string }

func (s *stateClient) Name() string { return s.name }

// TestRequireState checks that a route declaring the state its hooks read
// fails in New when none is registered, naming the route and the type,
// and that StateOK tells a hook whether the state is there.
func TestRequireState(t *testing.T) {
	up := newEcho(t)
	hook := func(c *Ctx) error {
		v, ok := StateOK[*stateClient](c)
		if !ok {
			return Internal("no client")
		}
		n, _ := StateOK[namer](c)
		return c.SetHeader("X-State", v.name+" "+n.Name())
	}
	svc := func() *ServiceSpec {
		return Service("/a", RequireState[*stateClient](), GET("/x", Before(hook), RequireState[namer]()))
	}

	_, err := New(Mount(svc(), up.URL))
	for _, want := range []string{"GET /a/x: RequireState: no *apigate.stateClient registered (WithState)", "GET /a/x: RequireState: no apigate.namer registered"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New: error %v, want one containing %q", err, want)
		}
	}

	_, gw := serveGateway(t, Mount(svc(), up.URL), WithState(&stateClient{name: "c1"}))
	if res, body := get(t, gw.URL+"/a/x"); res.StatusCode != 200 {
		t.Fatalf("status = %d (%s)", res.StatusCode, body)
	}
	if got := up.last(t).Header.Get("X-State"); got != "c1 c1" {
		t.Errorf("X-State = %q, want %q", got, "c1 c1")
	}

	// Without a declaration nothing is checked in New; StateOK reports the
	// missing state to the hook, which answers for itself.
	_, gw = serveGateway(t, Mount(Service("/", GET("/x", Before(hook))), up.URL))
	before := up.count()
	if res, body := get(t, gw.URL+"/x"); res.StatusCode != 500 || body != "internal: no client\n" {
		t.Errorf("got %d %q, want 500 from the hook", res.StatusCode, body)
	}
	if up.count() != before {
		t.Error("upstream reached")
	}
}

// TestErrorHeader: the fields of Error.Header go out with the rendered
// error, after any set earlier and before the renderer's own; fields that
// would change the framing, hop-by-hop fields and invalid ones do not.
func TestErrorHeader(t *testing.T) {
	up := newEcho(t)
	deny := func(c *Ctx) error {
		e := Unauthorized("token expired")
		e.Header = http.Header{
			"Www-Authenticate":  {`Bearer error="invalid_token"`},
			"cache-control":     {"no-store"},       // not canonical: sent canonical
			"Content-Type":      {"text/html"},      // the renderer's wins
			"Content-Length":    {"1"},              // framing: dropped
			"Connection":        {"close"},          // hop-by-hop: dropped
			"Transfer-Encoding": {"chunked"},        // framing: dropped
			"X-Bad":             {"a\r\nX-Evil: 1"}, // invalid value: dropped
			"X-Mixed":           {"ok", "bad\n"},    // only the valid value sent
			"Bad Name":          {"v"},              // invalid name: dropped
		}
		return fmt.Errorf("checking token: %w", e)
	}
	_, s := serveGateway(t, Mount(Service("/api", GET("/me", Before(deny))), up.URL), WithErrorRenderer(JSONErrors))
	res, body := get(t, s.URL+"/api/me")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"code":"unauthorized"`) {
		t.Fatalf("got %d %q, want 401 unauthorized", res.StatusCode, body)
	}
	want := map[string]string{
		"Www-Authenticate": `Bearer error="invalid_token"`,
		"Cache-Control":    "no-store",
		"Content-Type":     "application/json",
		"Content-Length":   strconv.Itoa(len(body)),
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if got := res.Header["X-Mixed"]; !slices.Equal(got, []string{"ok"}) {
		t.Errorf("X-Mixed = %q, want only the valid value", got)
	}
	wantFieldsFiltered(t, res, s.URL+"/api/me", up, "X-Bad", "X-Evil", "Bad Name", "Connection")
}

// wantFieldsFiltered checks what a hook's filtered fields must leave as
// it was: none of dropped was sent, the response's framing is the
// gateway's, the connection still answers a request to url with the same
// status, and the upstream saw no request.
func wantFieldsFiltered(t *testing.T, res *http.Response, url string, up *echoUpstream, dropped ...string) {
	t.Helper()
	for _, k := range dropped {
		if v, ok := res.Header[k]; ok {
			t.Errorf("%s sent: %q", k, v)
		}
	}
	if res.Close || len(res.TransferEncoding) != 0 {
		t.Errorf("framing changed: close %v, transfer encoding %q", res.Close, res.TransferEncoding)
	}
	if again, _ := get(t, url); again.StatusCode != res.StatusCode {
		t.Errorf("second request: status %d, want %d", again.StatusCode, res.StatusCode)
	}
	if n := up.count(); n != 0 {
		t.Errorf("upstream received %d requests, want 0", n)
	}
}

// TestRespondHeaderFiltered: a Response's fields go out as the hook set
// them, but those that would change the framing, hop-by-hop fields and
// invalid ones do not, as for Error.Header.
func TestRespondHeaderFiltered(t *testing.T) {
	up := newEcho(t)
	answer := func(c *Ctx) error {
		return Respond(http.StatusServiceUnavailable, http.Header{
			"Retry-After":       {"30"},
			"Content-Type":      {"text/plain"},
			"Content-Length":    {"1"},
			"Connection":        {"close"},
			"Transfer-Encoding": {"chunked"},
			"X-Bad":             {"a\r\nX-Evil: 1"},
		}, []byte("down for maintenance"))
	}
	_, s := serveGateway(t, Mount(Service("/api", GET("/me", Before(answer))), up.URL))
	res, body := get(t, s.URL+"/api/me")
	if res.StatusCode != http.StatusServiceUnavailable || body != "down for maintenance" {
		t.Fatalf("got %d %q, want 503 with the whole body", res.StatusCode, body)
	}
	if got := res.Header.Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After = %q, want 30", got)
	}
	if got := res.Header.Get("Content-Type"); got != "text/plain" {
		t.Errorf("Content-Type = %q, want text/plain", got)
	}
	wantFieldsFiltered(t, res, s.URL+"/api/me", up, "X-Bad", "X-Evil", "Connection")
}
