//go:build !linux

package h1

// hangups is a no-op where there is no epoll: a request's context is then
// cancelled when the client is found gone by a failed read or write, not
// when it hangs up while the handler waits.
type hangups struct{}

func (h *hangups) add(c *srvConn)          {}
func (h *hangups) remove(c *srvConn)       {}
func (h *hangups) close()                  {}
func (h *hangups) recheck(c *srvConn) bool { return false }
