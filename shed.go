package apigate

// CodeOverloaded is the code of the 503 a request gets when its route,
// or every backend it could go to, already has its maximum of requests
// in flight (see [MaxInFlight]).
const CodeOverloaded = "overloaded"

// WithMaxInFlight caps the requests in flight on each route (each route
// has its own count) that does not set its own cap with [MaxInFlight];
// 0, the default, sets no cap.
func WithMaxInFlight(n int) Option {
	return optionFunc(func(c *config) { c.res.maxInFlight, c.res.hasMaxInFlight = n, true })
}

// MaxInFlight caps the requests in flight on a route, or on each route of
// a service (each route has its own count); 0 removes a cap set at a
// wider level. A request over the cap gets 503 "overloaded" at once,
// without waiting in a queue: a gateway that queues under overload only
// turns fast failures into slow ones. The slot comes back when the
// request ends, however it ends (answered, failed, cancelled by the
// client, a panic in a hook, an upgraded connection closed).
func MaxInFlight(n int) SharedOption {
	return SharedOption{func(s *sharedSpec) { s.res.maxInFlight, s.res.hasMaxInFlight = n, true }}
}

// WithBackendMaxInFlight caps the requests in flight on each backend of
// every service that does not set its own cap with [BackendMaxInFlight];
// 0, the default, sets no cap.
func WithBackendMaxInFlight(n int) Option {
	return optionFunc(func(c *config) { c.res.backendMax, c.res.hasBackendMax = n, true })
}

// BackendMaxInFlight caps the requests in flight on each backend of a
// service, across its routes; 0 removes a cap set with
// [WithBackendMaxInFlight]. A backend at its cap is skipped for another
// candidate; a request whose candidates are all at their cap gets 503
// "overloaded" at once.
func BackendMaxInFlight(n int) ServiceOption {
	return serviceFunc(func(s *ServiceSpec) { s.shared.res.backendMax, s.shared.res.hasBackendMax = n, true })
}
