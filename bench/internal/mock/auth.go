package mock

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/valyala/fasthttp"
)

// Claims are the claims of a benchmark token: the subject is the user id.
type Claims struct {
	Email string `json:"email"`
	jwt.RegisteredClaims
}

// Auth is the mock auth service:
//
//	POST /verify              verify the Authorization bearer token (HS256);
//	                          200 {"user_id","email"} or 401
//	POST /token?user_id=ID    issue a token for ID: 200 {"token"}
//
// Auth is safe for concurrent use.
type Auth struct {
	key    []byte
	parser *jwt.Parser
	ttl    time.Duration
}

// NewAuth returns an auth service signing with secret; its tokens are valid
// for ttl.
func NewAuth(secret []byte, ttl time.Duration) *Auth {
	return &Auth{
		key: bytes.Clone(secret),
		ttl: ttl,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
		),
	}
}

// Issue returns a signed token for userID, whose e-mail address is
// userID@example.com.
func (a *Auth) Issue(userID string) (string, error) {
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims{
		Email: userID + "@example.com",
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   userID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(a.ttl)),
		},
	})
	s, err := tok.SignedString(a.key)
	if err != nil {
		return "", fmt.Errorf("mock: sign token: %w", err)
	}
	return s, nil
}

// Verify checks a token and returns its claims.
func (a *Auth) Verify(token string) (*Claims, error) {
	var c Claims
	_, err := a.parser.ParseWithClaims(token, &c, a.keyFunc)
	if err != nil {
		return nil, fmt.Errorf("mock: verify token: %w", err)
	}
	if c.Subject == "" {
		return nil, errors.New("mock: verify token: no subject")
	}
	return &c, nil
}

func (a *Auth) keyFunc(*jwt.Token) (any, error) { return a.key, nil }

// Handle serves one request; it is a fasthttp.RequestHandler.
func (a *Auth) Handle(ctx *fasthttp.RequestCtx) {
	if !ctx.IsPost() {
		writeError(ctx, fasthttp.StatusMethodNotAllowed, "method not allowed")
		return
	}
	switch string(ctx.Path()) {
	case "/verify":
		a.verify(ctx)
	case "/token":
		a.token(ctx)
	default:
		writeError(ctx, fasthttp.StatusNotFound, "not found")
	}
}

func (a *Auth) verify(ctx *fasthttp.RequestCtx) {
	h := ctx.Request.Header.Peek("Authorization")
	tok, ok := bytes.CutPrefix(h, []byte("Bearer "))
	if !ok || len(tok) == 0 {
		writeError(ctx, fasthttp.StatusUnauthorized, "missing bearer token")
		return
	}
	c, err := a.Verify(string(tok))
	if err != nil {
		writeError(ctx, fasthttp.StatusUnauthorized, "invalid token")
		return
	}
	b := make([]byte, 0, 96)
	b = append(b, `{"user_id":`...)
	b = appendString(b, c.Subject)
	b = append(b, `,"email":`...)
	b = appendString(b, c.Email)
	writeJSON(ctx, append(b, '}'))
}

func (a *Auth) token(ctx *fasthttp.RequestCtx) {
	user := string(ctx.QueryArgs().Peek("user_id"))
	if user == "" {
		writeError(ctx, fasthttp.StatusBadRequest, "missing user_id")
		return
	}
	tok, err := a.Issue(user)
	if err != nil {
		writeError(ctx, fasthttp.StatusInternalServerError, "cannot sign token")
		return
	}
	writeJSON(ctx, append(appendString([]byte(`{"token":`), tok), '}'))
}
