package authclient_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/apigate-go/apigate/bench/internal/authclient"
	"github.com/apigate-go/apigate/bench/internal/contract"
	"github.com/apigate-go/apigate/bench/internal/contracttest"
)

func TestVerify(t *testing.T) {
	b := contracttest.StartBackends(t)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(broken.Close)
	notJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html>"))
	}))
	t.Cleanup(notJSON.Close)

	tests := []struct {
		name     string
		base     string
		authz    string
		want     authclient.Identity
		wantErr  error // nil for success
		otherErr bool  // some error other than ErrUnauthorized
	}{
		{name: "valid", base: b.AuthURL, authz: "Bearer " + b.Token, want: authclient.Identity{UserID: contract.UserID, Email: contract.Email}},
		{name: "empty", base: b.AuthURL, authz: "", wantErr: authclient.ErrUnauthorized},
		{name: "bad token", base: b.AuthURL, authz: "Bearer x.y.z", wantErr: authclient.ErrUnauthorized},
		{name: "service fails", base: broken.URL, authz: "Bearer " + b.Token, otherErr: true},
		{name: "service answers HTML", base: notJSON.URL, authz: "Bearer " + b.Token, otherErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := authclient.New(tt.base, nil)
			got, err := c.Verify(context.Background(), tt.authz, authclient.Forward{})
			switch {
			case tt.otherErr:
				if err == nil || errors.Is(err, authclient.ErrUnauthorized) {
					t.Errorf("error %v, want a failure other than ErrUnauthorized", err)
				}
			case !errors.Is(err, tt.wantErr):
				t.Errorf("error %v, want %v", err, tt.wantErr)
			case got != tt.want:
				t.Errorf("identity %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestVerifyForwards(t *testing.T) {
	b := contracttest.StartBackends(t)
	fwd := authclient.Forward{
		For: "127.0.0.1", Host: "gw.example", Proto: "http",
		Forwarded: "for=127.0.0.1;host=gw.example;proto=http", RequestID: "id-1",
	}
	if _, err := authclient.New(b.AuthURL, nil).Verify(context.Background(), "Bearer "+b.Token, fwd); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"X-Forwarded-For": fwd.For, "X-Forwarded-Host": fwd.Host, "X-Forwarded-Proto": fwd.Proto,
		"Forwarded": fwd.Forwarded, "X-Request-Id": fwd.RequestID,
	}
	if got := b.LastVerify(); !maps.Equal(got, want) {
		t.Errorf("auth service received %v, want %v", got, want)
	}
}
