package authclient_test

import (
	"context"
	"errors"
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
			got, err := c.Verify(context.Background(), tt.authz)
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
