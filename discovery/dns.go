// Package discovery finds a service's backends at run time, for
// [apigate.Discover].
//
// [DNS] reads A and AAAA records (every address of a name is a backend on
// one port) or SRV records (each target with its own port and weight, as
// Kubernetes headless Services and Consul publish them), again every
// refresh interval.
package discovery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apigate-go/apigate"
)

// DNS defaults.
const (
	DefaultRefresh     = 30 * time.Second
	DefaultTimeout     = 5 * time.Second
	DefaultMaxBackends = 256
)

// DNSOptions configures a [DNS] source. Name is required; every other
// zero field takes the default named on it.
type DNSOptions struct {
	// Name is the DNS name to resolve, such as "api.example.com" or, with
	// SRV, "_http._tcp.api.example.com".
	Name string
	// SRV looks Name up as SRV records: each target's addresses are
	// backends on the record's port, with the record's weight (0 counts
	// as 1). Only the records of the lowest priority are used: the others
	// are fallbacks, and the gateway's health checks and outlier
	// detection already steer around failing backends.
	SRV bool
	// Port is the backends' port for A/AAAA lookups (default 80 for
	// http, 443 for https).
	Port int
	// Scheme is the backends' scheme, "http" (default) or "https".
	Scheme string
	// Network restricts the addresses: "ip4" (A only), "ip6" (AAAA only)
	// or "ip" (both, the default).
	Network string
	// Refresh is how often the name is resolved again (default 30s).
	// Go's resolver does not expose record TTLs, so Refresh, not the
	// TTL, decides how soon a change is seen: set it to the records' TTL.
	Refresh time.Duration
	// Timeout bounds one lookup (default 5s).
	Timeout time.Duration
	// MaxBackends caps the backends taken from one answer (default 256);
	// the rest are dropped, the same ones on every replica (the lowest
	// URLs are kept).
	MaxBackends int
	// Resolver resolves Name (default net.DefaultResolver). Tests point
	// one at their own server with a custom Dial.
	Resolver *net.Resolver
}

// DNSSource is a source of backends read from DNS; see [DNS].
type DNSSource struct {
	o DNSOptions
}

// DNS returns a source that resolves o.Name at once and then every
// o.Refresh. Each answer, sorted by URL so that every gateway replica
// builds the same list, replaces the service's backends if it differs.
// A failed lookup (SERVFAIL, timeout) or an empty answer (NXDOMAIN, no
// records) changes nothing: the service keeps its last good set and the
// observer gets a BackendsRefused event.
//
// Invalid options are reported by the first lookup, as BackendsRefused
// events; [DNSOptions.Check] reports them earlier.
func DNS(o DNSOptions) *DNSSource {
	if o.Scheme == "" {
		o.Scheme = "http"
	}
	if o.Port == 0 {
		o.Port = 80
		if o.Scheme == "https" {
			o.Port = 443
		}
	}
	if o.Network == "" {
		o.Network = "ip"
	}
	if o.Refresh <= 0 {
		o.Refresh = DefaultRefresh
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBackends <= 0 {
		o.MaxBackends = DefaultMaxBackends
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	return &DNSSource{o: o}
}

// Check reports whether the options are usable.
func (o DNSOptions) Check() error {
	var errs []error
	if o.Name == "" {
		errs = append(errs, errors.New("no Name"))
	}
	if o.Scheme != "" && o.Scheme != "http" && o.Scheme != "https" {
		errs = append(errs, fmt.Errorf("scheme %q: want http or https", o.Scheme))
	}
	if o.Port < 0 || o.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d out of range", o.Port))
	}
	switch o.Network {
	case "", "ip", "ip4", "ip6":
	default:
		errs = append(errs, fmt.Errorf("network %q: want ip, ip4 or ip6", o.Network))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("discovery: DNS %q: %w", o.Name, err)
	}
	return nil
}

// Watch implements [apigate.Source]: it resolves the name at once and
// then every Refresh until ctx is done.
func (s *DNSSource) Watch(ctx context.Context, update func([]apigate.Backend, error)) {
	t := time.NewTicker(s.o.Refresh)
	defer t.Stop()
	for {
		bs, err := s.Lookup(ctx)
		if ctx.Err() != nil {
			return
		}
		update(bs, err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Lookup resolves the name once and returns the backends, sorted by URL.
func (s *DNSSource) Lookup(ctx context.Context) ([]apigate.Backend, error) {
	if err := s.o.Check(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	var bs []apigate.Backend
	var err error
	if s.o.SRV {
		bs, err = s.lookupSRV(ctx)
	} else {
		bs, err = s.lookupHost(ctx, s.o.Name, s.o.Port, 1)
	}
	if err != nil {
		return nil, fmt.Errorf("discovery: DNS %q: %w", s.o.Name, err)
	}
	if len(bs) == 0 {
		return nil, fmt.Errorf("discovery: DNS %q: %w", s.o.Name, apigate.ErrNoBackends)
	}
	slices.SortFunc(bs, func(a, b apigate.Backend) int { return cmp.Compare(a.URL, b.URL) })
	bs = slices.CompactFunc(bs, func(a, b apigate.Backend) bool { return a.URL == b.URL })
	if len(bs) > s.o.MaxBackends {
		bs = bs[:s.o.MaxBackends]
	}
	return bs, nil
}

func (s *DNSSource) lookupHost(ctx context.Context, name string, port, weight int) ([]apigate.Backend, error) {
	ips, err := s.o.Resolver.LookupNetIP(ctx, s.o.Network, name)
	if err != nil {
		return nil, err
	}
	bs := make([]apigate.Backend, 0, len(ips))
	for _, ip := range ips {
		ap := netip.AddrPortFrom(ip.Unmap(), uint16(port))
		bs = append(bs, apigate.Backend{URL: s.o.Scheme + "://" + ap.String(), Weight: weight})
	}
	return bs, nil
}

func (s *DNSSource) lookupSRV(ctx context.Context) ([]apigate.Backend, error) {
	_, recs, err := s.o.Resolver.LookupSRV(ctx, "", "", s.o.Name)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, nil
	}
	// Go sorts by priority, then randomizes by weight within one.
	prio := recs[0].Priority
	var bs []apigate.Backend
	var errs []error
	for _, r := range recs {
		if r.Priority != prio {
			continue
		}
		target := strings.TrimSuffix(r.Target, ".")
		if ip, err := netip.ParseAddr(target); err == nil {
			ap := netip.AddrPortFrom(ip, r.Port)
			bs = append(bs, apigate.Backend{URL: s.o.Scheme + "://" + ap.String(), Weight: max(int(r.Weight), 1)})
			continue
		}
		got, err := s.lookupHost(ctx, target, int(r.Port), max(int(r.Weight), 1))
		if err != nil {
			errs = append(errs, fmt.Errorf("target %s:%s: %w", target, strconv.Itoa(int(r.Port)), err))
			continue
		}
		bs = append(bs, got...)
	}
	if len(bs) == 0 && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// A target that does not resolve is left out; the others serve.
	return bs, nil
}
