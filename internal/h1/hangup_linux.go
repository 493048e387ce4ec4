package h1

import (
	"net"
	"sync"
	"syscall"
)

// epollET is EPOLLET as the uint32 of syscall.EpollEvent.
const epollET = 1 << 31

// hangups cancels the request a connection is serving when its client
// hangs up (Linux: EPOLLRDHUP on an epoll set of the server's
// connections, waited on by one goroutine). Registering a connection
// costs two system calls for its whole life, none per request, where
// net/http starts a background read per request.
type hangups struct {
	mu     sync.Mutex
	epfd   int // -1 until the first connection, or when epoll failed
	wake   [2]int
	conns  map[int32]*srvConn
	closed bool
}

// add watches c; it is a no-op when c has no file descriptor.
func (h *hangups) add(c *srvConn) {
	fd := connFD(c.nc)
	if fd < 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || !h.startLocked() {
		return
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLRDHUP | epollET, Fd: int32(fd)}
	if syscall.EpollCtl(h.epfd, syscall.EPOLL_CTL_ADD, fd, &ev) == nil {
		h.conns[int32(fd)] = c
		c.fd = fd
	}
}

// remove stops watching c, before its connection is closed or handed to
// a hijacker.
func (h *hangups) remove(c *srvConn) {
	if c.fd < 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns[int32(c.fd)] == c {
		delete(h.conns, int32(c.fd))
		if !h.closed {
			syscall.EpollCtl(h.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
		}
	}
	c.fd = -1
}

// startLocked creates the epoll set and its goroutine on first use.
func (h *hangups) startLocked() bool {
	if h.conns != nil {
		return h.epfd >= 0
	}
	h.conns = make(map[int32]*srvConn)
	h.epfd = -1
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return false
	}
	if err := syscall.Pipe2(h.wake[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		syscall.Close(epfd)
		return false
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(h.wake[0])}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, h.wake[0], &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(h.wake[0])
		syscall.Close(h.wake[1])
		return false
	}
	h.epfd = epfd
	go h.run(epfd, h.wake[0])
	return true
}

// run waits for hang-ups until close wakes it.
func (h *hangups) run(epfd, wake int) {
	var evs [64]syscall.EpollEvent
	for {
		n, err := syscall.EpollWait(epfd, evs[:], -1)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return
		}
		for _, ev := range evs[:n] {
			if int(ev.Fd) == wake {
				h.mu.Lock()
				syscall.Close(epfd)
				syscall.Close(h.wake[0])
				syscall.Close(h.wake[1])
				h.mu.Unlock()
				return
			}
			// The peek tells a hang-up from a stale event (the connection
			// gone and its descriptor reused) and from a client that sent
			// more before closing, as a pipelined request would.
			h.mu.Lock()
			c := h.conns[ev.Fd]
			if c != nil {
				// Marked before the peek: once what is pending is read,
				// the server looks again (see recheck), as no new event
				// will come.
				c.rdhup.Store(true)
				if !peerClosed(int(ev.Fd)) {
					c = nil
				}
			}
			h.mu.Unlock()
			if c != nil {
				c.hangup()
			}
		}
	}
}

// recheck reports whether the client of c, which hung up while bytes
// were still pending, has now nothing left to read: the server read
// them all, and the client is gone.
func (h *hangups) recheck(c *srvConn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return c.fd >= 0 && h.conns[int32(c.fd)] == c && peerClosed(c.fd)
}

// close stops the goroutine and releases the epoll set.
func (h *hangups) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	if h.epfd >= 0 {
		syscall.Write(h.wake[1], []byte{0})
	}
}

// connFD returns the file descriptor of a TCP or Unix connection (also
// under TLS), or -1.
func connFD(nc net.Conn) int {
	if u, ok := nc.(interface{ NetConn() net.Conn }); ok {
		nc = u.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	if rc.Control(func(f uintptr) { fd = int(f) }) != nil {
		return -1
	}
	return fd
}

// peerClosed reports whether the peer of a connection has closed it with
// nothing left to read.
func peerClosed(fd int) bool {
	var b [1]byte
	n, _, err := syscall.Recvfrom(fd, b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return n == 0 && err == nil || err != nil && err != syscall.EAGAIN && err != syscall.EINTR
}
