package apigate

import (
	"github.com/apigate-go/apigate/observe"
	"github.com/julienschmidt/httprouter"
	"net/http"
)

// pipeline is a route's compiled request pipeline: typed inputs, hooks and
// the map. Routes without any have none and forward directly.
type pipeline struct {
	rt    *route
	hooks []Hook
	in    *inputPlan
}

func newPipeline(rt *route, hooks []Hook, spec *inputSpec) (*pipeline, error) {
	in, err := compileInputs(rt, spec)
	if err != nil {
		return nil, err
	}
	if len(hooks) == 0 && in == nil && (rt.limit == nil || !rt.limit.late) {
		return nil, nil
	}
	return &pipeline{rt: rt, hooks: hooks, in: in}, nil
}

// run executes the pipeline with a pooled Ctx and forwards the request.
func (p *pipeline) run(x *exchange, ps httprouter.Params) {
	g, w, r := p.rt.gw, x.w, x.r
	c := g.ctxPool.Get().(*Ctx)
	c.r, c.ps, c.rt, c.reqID = r, ps, p.rt, x.id
	var hb *headerBuf
	if g.poolHeaders {
		hb = &c.hbuf
	}
	c.header, c.upgrade = g.outHeader(r, hb)
	x.tagOutbound(c.header)
	if err := p.exec(w, c); err != nil {
		e, resp := asError(err)
		if resp != nil {
			if g.obs != nil {
				x.emit(observe.Event{Kind: observe.Responded, Backend: -1, Status: resp.Status, Code: CodeCustomResponse})
			}
			x.status = resp.Status
			resp.write(w)
		} else {
			x.fail(e)
		}
	} else {
		x.forward(ps, c)
	}
	c.reset()
	g.ctxPool.Put(c)
}

// exec runs the steps in order: path parameters, hooks, a rate limit keyed
// by LimitByFunc, query, body, validation, map.
func (p *pipeline) exec(w http.ResponseWriter, c *Ctx) error {
	if p.in != nil {
		if err := p.in.decodePath(c); err != nil {
			return err
		}
	}
	for _, h := range p.hooks {
		if err := h(c); err != nil {
			return err
		}
		if c.hdrErr != nil {
			return c.hdrErr
		}
	}
	if l := p.rt.limit; l != nil && l.late {
		if e := l.check(w, c.r, c.ps, c); e != nil {
			return e
		}
	}
	if p.in != nil {
		return p.in.decodeRest(c)
	}
	return nil
}
