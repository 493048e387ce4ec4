package h1

import (
	"net"
	"sync"
	"time"
)

// deadlines remembers the deadlines armed on a connection, so that arming
// the same one again costs no call into the runtime's network poller
// (each one stops and restarts a timer). Arming a deadline equal to the
// armed one is a no-op for the poller as well, expired or not, so
// skipping it changes nothing. The mutex keeps the record true when
// deadlines are set from more than one goroutine (an interrupt from a
// cancellation, say).
type deadlines struct {
	mu     sync.Mutex
	rd, wd time.Time
}

// set arms rd and wd on nc, each only when it differs from the armed one.
func (d *deadlines) set(nc net.Conn, rd, wd time.Time, read, write bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	read = read && !rd.Equal(d.rd)
	write = write && !wd.Equal(d.wd)
	var err error
	switch {
	case read && write:
		err = nc.SetDeadline(rd)
	case read:
		err = nc.SetReadDeadline(rd)
	case write:
		err = nc.SetWriteDeadline(wd)
	default:
		return nil
	}
	if err != nil {
		// The armed deadline is unknown: never skip the next one.
		d.rd, d.wd = aLongTimeAgo.Add(-1), aLongTimeAgo.Add(-1)
		return err
	}
	if read {
		d.rd = rd
	}
	if write {
		d.wd = wd
	}
	return nil
}

// CoarseDeadline returns now+d rounded up to a multiple of d/64: a
// deadline that stays the same for a 64th of d, which the connections
// serving request after request can keep armed (see [deadlines]) rather
// than re-arm for each. It expires at most d/64 late: 1.6%, 470ms of a
// 30s timeout.
func CoarseDeadline(now time.Time, d time.Duration) time.Time {
	t := now.Add(d)
	g := int64(d >> 6)
	if g <= 0 {
		return t
	}
	// In integer nanoseconds: Time.Truncate's general division costs more
	// than the timer this saves.
	n := t.UnixNano()
	if r := n % g; r != 0 {
		n += g - r
	}
	return time.Unix(0, n)
}
