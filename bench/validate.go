package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/apigate-go/apigate/bench/internal/contract"
)

// validate checks, before any load, that each gateway answers every
// selected route exactly as the data service answers the direct request,
// refuses the contract's bad requests with the right status, and sends
// the data service the forwarding and request-ID headers every gateway
// sets (contract.ForwardingHeaders), returning the request ID to the
// client: the data service echoes them for a route's probe
// (contract.Route.Probe), a request no load sends. The l4 and go-floor
// rows are sent the direct requests and must answer them as the data
// service does; neither is sent the bad requests, since neither validates
// anything, and l4 is not sent the probes either, since a TCP proxy adds
// no header. A row that fails is dropped from the run and fails it.
func (s *suite) validate(ctx context.Context, stderr io.Writer) error {
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	var routes []contract.Route
	for _, r := range contract.Routes() {
		if slices.Contains(s.cfg.routes, r.Name) {
			routes = append(routes, r)
		}
	}
	want := map[string]response{}
	for _, r := range routes {
		resp, err := send(ctx, c, s.dataURL, r.Direct())
		if err != nil {
			return err
		}
		if resp.status != http.StatusOK {
			return fmt.Errorf("data service: %s answered %d: %s", r.Path, resp.status, resp.body)
		}
		want[r.Name] = resp
	}
	var kept []*row
	for _, rw := range s.rows {
		if rw.proc == nil {
			kept = append(kept, rw)
			continue
		}
		var problems []string
		for _, r := range routes {
			req := r.Gateway(s.token)
			if rw.direct {
				req = r.Direct()
			}
			got, err := send(ctx, c, rw.base, req)
			switch {
			case err != nil:
				problems = append(problems, err.Error())
			case got.status != want[r.Name].status || !bytes.Equal(got.body, want[r.Name].body):
				problems = append(problems, fmt.Sprintf("%s %s answered %d %s, want %d %s",
					r.Method, r.Path, got.status, got.body, want[r.Name].status, want[r.Name].body))
			}
		}
		for _, r := range routes {
			if rw.name == rowL4 {
				break // haproxy in TCP mode adds no header
			}
			got, err := send(ctx, c, rw.base, r.Probe(s.token))
			if err == nil {
				err = contract.CheckForwarding(got.status, got.header, got.body)
			}
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s %s: forwarding headers: %v", r.Method, r.Path, err))
			}
		}
		rejections := contract.Rejections(s.token)
		if rw.direct {
			rejections = nil // an L4 proxy forwards bad requests as is
		}
		for _, rj := range rejections {
			got, err := send(ctx, c, rw.base, rj.Request)
			switch {
			case err != nil:
				problems = append(problems, err.Error())
			case got.status != rj.Status:
				problems = append(problems, fmt.Sprintf("%s: answered %d, want %d", rj.Name, got.status, rj.Status))
			}
		}
		if len(problems) > 0 {
			s.failed = true
			for _, p := range problems {
				s.note(stderr, "%s failed validation: %s", rw.name, p)
			}
			continue
		}
		kept = append(kept, rw)
		switch rw.name {
		case rowL4:
			s.note(io.Discard, "%s was checked on the direct requests only, not on the bad requests or the forwarding headers: haproxy in TCP mode copies bytes and validates nothing, so it forwards a bad request as is and adds no header", rw.name)
		case rowFloor:
			s.note(io.Discard, "%s was checked on the direct requests and the forwarding headers, not on the bad requests: it validates nothing, by design", rw.name)
		}
	}
	s.rows = kept
	return nil
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func send(ctx context.Context, c *http.Client, base string, req contract.Request) (response, error) {
	hr, err := req.NewHTTPRequest(base)
	if err != nil {
		return response{}, err
	}
	resp, err := c.Do(hr.WithContext(ctx))
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", req.Method, req.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", req.Method, req.Path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}
