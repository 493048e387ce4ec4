package apigate

// inputSpec is a route's declared typed inputs.
type inputSpec struct{}

// inputPlan is a route's compiled typed inputs; nil when it has none.
type inputPlan struct{}

func compileInputs(rt *route, spec *inputSpec) (*inputPlan, error) { return nil, nil }

func (p *inputPlan) decodePath(c *Ctx) error { return nil }
func (p *inputPlan) decodeRest(c *Ctx) error { return nil }
