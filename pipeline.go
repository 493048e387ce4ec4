package apigate

import (
	"net/http"

	"github.com/apigate-go/apigate/observe"
	"github.com/julienschmidt/httprouter"
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
	if len(hooks) == 0 && in == nil {
		return nil, nil
	}
	return &pipeline{rt: rt, hooks: hooks, in: in}, nil
}

// run executes the pipeline with a pooled Ctx and forwards the request.
func (p *pipeline) run(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	g := p.rt.gw
	c := g.ctxPool.Get().(*Ctx)
	c.r, c.ps, c.rt = r, ps, p.rt
	var hb *headerBuf
	if g.poolHeaders {
		hb = &c.hbuf
	}
	c.header, c.upgrade = g.outHeader(r, hb)
	if err := p.exec(c); err != nil {
		e, resp := asError(err)
		if resp != nil {
			if g.obs != nil {
				g.emit(r, p.rt, observe.Event{Kind: observe.Responded, Backend: -1, Status: resp.Status, Code: CodeCustomResponse})
			}
			resp.write(w)
		} else {
			g.fail(w, r, p.rt, e)
		}
	} else {
		p.rt.forward(w, r, ps, c)
	}
	c.reset()
	g.ctxPool.Put(c)
}

// exec runs the steps in order: path parameters, hooks, query, body,
// validation, map.
func (p *pipeline) exec(c *Ctx) error {
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
	if p.in != nil {
		return p.in.decodeRest(c)
	}
	return nil
}
