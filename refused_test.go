package apigate

import (
	"testing"

	"github.com/apigate-go/apigate/internal/porttest"
)

// deadURL returns the URL of a loopback port that refuses connections
// for the rest of the test (see package porttest).
func deadURL(t *testing.T) string {
	t.Helper()
	return "http://" + porttest.Refused(t)
}
