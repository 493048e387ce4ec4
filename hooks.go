package apigate

// Hook runs before a request goes upstream: it may read the request head,
// change the outbound headers, store per-request values, or reject the
// request by returning an error. An *[Error] is rendered with its status;
// a [Response] (see [Respond]) is written as it is; any other error
// becomes a 500 "internal" whose message reveals nothing (the cause goes
// to the observer).
type Hook func(c *Ctx) error

// Before adds hooks to a service or route. They run in order after the
// path parameters are decoded and before the query and body are; the
// first error stops the chain. Service hooks run before route hooks. A nil
// hook is an error from [New].
func Before(hooks ...Hook) SharedOption {
	hooks = append([]Hook(nil), hooks...)
	return SharedOption{func(s *sharedSpec) { s.hooks = append(s.hooks, hooks...) }}
}
