package observe

import (
	"net/url"
	"strings"
)

// redactAddr returns addr without the user information a backend URL may
// carry ("http://user:password@host" becomes "http://host"), so that logs
// and metric labels never show credentials. It allocates only when addr
// has user information.
func redactAddr(addr string) string {
	if strings.IndexByte(addr, '@') < 0 {
		return addr
	}
	u, err := url.Parse(addr)
	if err != nil {
		return "(unparsable backend address)"
	}
	if u.User == nil {
		return addr
	}
	u.User = nil
	return u.String()
}
