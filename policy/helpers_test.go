package policy_test

import (
	"fmt"

	"github.com/apigate-go/apigate/balancer"
)

func backends(n int) []balancer.Backend {
	bs := make([]balancer.Backend, n)
	for i := range bs {
		bs[i] = balancer.Backend{Index: i, Addr: fmt.Sprintf("http://192.0.2.%d:8080", i+1), Weight: 1}
	}
	return bs
}

// sameSlice reports whether a and b share their first element, that is,
// whether a strategy returned r.Backends itself rather than a copy.
func sameSlice(a, b []balancer.Backend) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
