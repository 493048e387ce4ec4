package snippets

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"runtime"
	"strings"

	"github.com/apigate-go/apigate"
)

// Typed inputs.

// SKU is a stock-keeping unit, decoded from text.
type SKU string

// UnmarshalText accepts upper-case SKUs.
func (s *SKU) UnmarshalText(b []byte) error {
	if strings.ToUpper(string(b)) != string(b) {
		return errors.New("SKU must be upper case")
	}
	*s = SKU(b)
	return nil
}

type ItemPath struct {
	ID  int `path:"id"`
	SKU SKU `path:"sku"` // any type with UnmarshalText
}
type Search struct {
	Q     string   `query:"q,required"`
	Limit *int     `query:"limit"` // nil when absent
	Tags  []string `query:"tag"`   // ?tag=a&tag=b
}
type Signup struct {
	Email string `form:"email,required"`
}
type Lookup struct {
	Q string `json:"q" apigate:"required"`
}

// Hooks, state and per-request values.

// User is a verified caller.
type User struct{ ID string }

// AuthClient verifies tokens.
type AuthClient struct{ tokens map[string]User }

// Verify returns the user a token belongs to.
func (a *AuthClient) Verify(_ context.Context, token string) (User, error) {
	u, ok := a.tokens[token]
	if !ok {
		return User{}, errors.New("unknown token")
	}
	return u, nil
}

func auth(c *apigate.Ctx) error {
	client := apigate.State[*AuthClient](c) // registered with WithState(client)
	user, err := client.Verify(c.Context(), c.Header("Authorization"))
	if err != nil {
		return apigate.Unauthorized("invalid token")
	}
	apigate.Set(c, user) // later hooks and the map: apigate.Value[User](c)
	c.DelHeader("Authorization")
	return c.SetHeader("X-User-Id", user.ID)
}

// Setup builds a gateway whose hooks read an *AuthClient.
func Setup(authClient *AuthClient) {
	api := apigate.Service("/api",
		apigate.RequireState[*AuthClient](), // New fails unless WithState registers one
		apigate.Before(auth),
		apigate.GET("/me"),
	)
	gw, err := apigate.New(apigate.Mount(api, "http://127.0.0.1:9001"), apigate.WithState(authClient))
	if err != nil {
		log.Fatal(err)
	}
	_ = gw
}

// Composing with net/http.

func health(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) }

func requestID(next http.Handler) http.Handler { return next }

func recoverer(next http.Handler) http.Handler { return next }

// Compose serves gw beside a health check.
func Compose(gw *apigate.Gateway) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", health)
	mux.Handle("/api/", gw) // the gateway beside other handlers
	srv := apigate.NewServer(requestID(recoverer(mux)), apigate.ServeOptions{})
	return srv
}

// Workers serves gw with one process per core (README: Serving).
func Workers(ctx context.Context, gw *apigate.Gateway) error {
	if !apigate.IsWorker() {
		fmt.Println("gateway on :8080") // once, not once per process
	}
	return apigate.ListenAndServe(ctx, ":8080", gw, apigate.ServeOptions{
		Engine:  apigate.EngineHTTP1,
		Workers: runtime.NumCPU(),
	})
}
