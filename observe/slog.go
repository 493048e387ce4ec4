package observe

import (
	"context"
	"log/slog"
)

// Attribute keys of the records the [Slog] observer writes. They are
// stable: log pipelines and alerts may match them. Record messages are for
// people and may change; match [KeyEvent] instead.
const (
	// KeyEvent holds the event kind's name ([Kind.String]), a string.
	KeyEvent = "event"
	// KeyService holds the service name, a string.
	KeyService = "service"
	// KeyRoute holds the route pattern (not the request path), a string.
	KeyRoute = "route"
	// KeyMethod holds the request method, a string.
	KeyMethod = "method"
	// KeyPath holds the request's URL path, without the query string, a
	// string.
	KeyPath = "path"
	// KeyBackend holds the chosen backend's index, an int; absent when no
	// backend was chosen.
	KeyBackend = "backend"
	// KeyAddr holds the chosen backend's URL without user information, a
	// string; absent when no backend was chosen.
	KeyAddr = "addr"
	// KeyStatus holds the HTTP status, an int; absent when zero.
	KeyStatus = "status"
	// KeyCode holds the stable error code, a string; absent on success.
	KeyCode = "code"
	// KeyLatency holds the upstream latency, a time.Duration; present on
	// upstream events and health_checked records only.
	KeyLatency = "latency"
	// KeyError holds the underlying error; absent when there is none.
	KeyError = "error"
	// KeyDuration holds how long a decision lasts (an ejection, an open
	// circuit, a retry's backoff), a time.Duration; absent when zero.
	KeyDuration = "duration"
	// KeyAttempt holds the number of a retry, an int; present on
	// request_retried records only.
	KeyAttempt = "attempt"
	// KeyRequestID holds the request's ID, a string; absent when request
	// IDs are off.
	KeyRequestID = "request_id"
	// KeyStack holds the stack trace of a recovered panic, a string;
	// present on PanicRecovered records only.
	KeyStack = "stack"
)

// SlogOptions tunes the observer [NewSlog] builds. The zero value gives the
// defaults documented on each field. Levels are read on every event, so a
// [slog.LevelVar] changes them at run time.
type SlogOptions struct {
	// Progress is the level of RequestStarted, BackendSelected and
	// RequestEnded records, and of events of kinds this version does not
	// know. Nil means slog.LevelDebug.
	Progress slog.Leveler
	// Success is the level of UpstreamSucceeded and Responded records
	// whose status is below 500. Nil means slog.LevelDebug; set
	// slog.LevelInfo for an access log.
	Success slog.Leveler
	// ClientError is the level of failures whose status is below 500: a
	// request rejected by a hook, decoder or map (4xx), or a client that
	// went away (499). Nil means slog.LevelInfo.
	ClientError slog.Leveler
	// NoRoute is the level of NoRoute records: requests for a path or
	// method no route serves (404, 405). Nil means slog.LevelInfo; set
	// slog.LevelDebug to keep scanners out of the log.
	NoRoute slog.Leveler
	// ServerError is the level of failures and upstream responses whose
	// status is 500 or above (no backend, refused, timed out, upstream
	// 5xx), and of dispatch and upstream failures without a status. Nil
	// means slog.LevelWarn. The gateway logs nothing but panics at Error: a
	// failing upstream is not a gateway bug.
	ServerError slog.Leveler
	// Recovery is the level of resilience events that report a return to
	// service: a backend readmitted or healthy again, a circuit half-open
	// or closed. Nil means slog.LevelInfo. The events that take capacity
	// away (backend_ejected, backend_unhealthy, circuit_opened) and
	// request_retried (an attempt failed) use ServerError; health_checked
	// uses Progress.
	Recovery slog.Leveler
	// Panic is the level of PanicRecovered records: a hook, map, policy,
	// observer or middleware panicked, which is a bug. Nil means
	// slog.LevelError.
	Panic slog.Leveler
	// OmitProgress drops RequestStarted, BackendSelected, HealthChecked
	// and RequestEnded records whatever the logger's level, leaving one
	// record per request, one per retry, one per panic and one per state
	// change.
	OmitProgress bool
}

// Slog returns an [Observer] that writes one record per event through
// logger, with the default [SlogOptions]: RequestStarted, BackendSelected,
// successful upstream responses and responses of hooks and maps below 500
// at Debug; requests no route serves and client-side failures (4xx, 499)
// at Info; server-side failures and 5xx responses at Warn. It is
// NewSlog(logger, SlogOptions{}).
func Slog(logger *slog.Logger) Observer {
	return NewSlog(logger, SlogOptions{})
}

// NewSlog returns an [Observer] that writes one record per event through
// logger, at the levels opts sets. It uses logger only, never the
// default logger; a nil logger yields an observer that writes nothing.
//
// Each record carries the attributes named by the Key constants ([KeyEvent],
// [KeyService], [KeyRoute], ...), as typed values. Header values, query
// strings and bodies are never logged: they may carry secrets. The error is
// logged as the value itself, so an error type that implements
// [slog.LogValuer] can redact its own text.
//
// The observer asks the handler whether the record's level is enabled
// before it builds anything: a disabled level costs a level lookup and one
// Enabled call, and allocates nothing. The observer is safe for concurrent
// use if the handler is. Records are written with [slog.Logger.LogAttrs];
// a handler that adds the source position reports this package's observer,
// not the gateway code that emitted the event.
func NewSlog(logger *slog.Logger, opts SlogOptions) Observer {
	o := &slogObserver{
		logger:       logger,
		progress:     orLevel(opts.Progress, slog.LevelDebug),
		success:      orLevel(opts.Success, slog.LevelDebug),
		clientError:  orLevel(opts.ClientError, slog.LevelInfo),
		noRoute:      orLevel(opts.NoRoute, slog.LevelInfo),
		serverError:  orLevel(opts.ServerError, slog.LevelWarn),
		recovery:     orLevel(opts.Recovery, slog.LevelInfo),
		panic:        orLevel(opts.Panic, slog.LevelError),
		omitProgress: opts.OmitProgress,
	}
	if logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// orLevel returns l, or def when l is nil.
func orLevel(l slog.Leveler, def slog.Level) slog.Leveler {
	if l == nil {
		return def
	}
	return l
}

// slogObserver is the Observer built by NewSlog. Its fields are set once.
type slogObserver struct {
	logger                                                                *slog.Logger
	progress, success, clientError, noRoute, serverError, recovery, panic slog.Leveler
	omitProgress                                                          bool
}

// maxAttrs is the largest number of attributes one record carries.
const maxAttrs = 13

// Observe writes e as one record if its level is enabled.
func (o *slogObserver) Observe(ctx context.Context, e Event) {
	level, ok := o.level(e)
	if !ok {
		return
	}
	if !o.logger.Enabled(ctx, level) {
		return
	}
	var buf [maxAttrs]slog.Attr
	attrs := append(buf[:0],
		slog.String(KeyEvent, e.Kind.String()),
		slog.String(KeyService, e.Service),
		slog.String(KeyRoute, e.Route),
		slog.String(KeyMethod, e.Method),
	)
	if e.Request != nil && e.Request.URL != nil {
		attrs = append(attrs, slog.String(KeyPath, e.Request.URL.Path))
	}
	if e.Backend >= 0 {
		attrs = append(attrs, slog.Int(KeyBackend, e.Backend))
	}
	if e.Addr != "" {
		attrs = append(attrs, slog.String(KeyAddr, redactAddr(e.Addr)))
	}
	if e.Status != 0 {
		attrs = append(attrs, slog.Int(KeyStatus, e.Status))
	}
	if e.Code != "" {
		attrs = append(attrs, slog.String(KeyCode, e.Code))
	}
	if e.Kind == UpstreamSucceeded || e.Kind == UpstreamFailed || e.Kind == HealthChecked {
		attrs = append(attrs, slog.Duration(KeyLatency, e.Latency))
	}
	if e.RequestID != "" {
		attrs = append(attrs, slog.String(KeyRequestID, e.RequestID))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.Any(KeyError, e.Err))
		if pe, ok := e.Err.(*PanicError); ok {
			attrs = append(attrs, slog.String(KeyStack, string(pe.Stack)))
		}
	}
	if e.Duration != 0 {
		attrs = append(attrs, slog.Duration(KeyDuration, e.Duration))
	}
	if e.Kind == RequestRetried {
		attrs = append(attrs, slog.Int(KeyAttempt, e.Attempt))
	}
	o.logger.LogAttrs(ctx, level, message(e), attrs...)
}

// level returns the level of e's record, and false when e is not logged.
func (o *slogObserver) level(e Event) (slog.Level, bool) {
	switch e.Kind {
	case NoRoute:
		return o.noRoute.Level(), true
	case UpstreamSucceeded, Responded:
		if e.Status >= 500 {
			return o.serverError.Level(), true
		}
		return o.success.Level(), true
	case PipelineFailed:
		if e.Status >= 500 {
			return o.serverError.Level(), true
		}
		return o.clientError.Level(), true
	case DispatchFailed, UpstreamFailed:
		if e.Status != 0 && e.Status < 500 {
			return o.clientError.Level(), true
		}
		return o.serverError.Level(), true
	case BackendEjected, BackendUnhealthy, CircuitOpened, RequestRetried, BackendsRefused:
		return o.serverError.Level(), true
	case BackendReadmitted, BackendHealthy, CircuitHalfOpen, CircuitClosed, BackendsChanged:
		return o.recovery.Level(), true
	case PanicRecovered:
		return o.panic.Level(), true
	default: // RequestStarted, BackendSelected, HealthChecked, RequestEnded, unknown kinds
		if o.omitProgress {
			return 0, false
		}
		return o.progress.Level(), true
	}
}

// message returns the record message for e.
func message(e Event) string {
	switch e.Kind {
	case RequestStarted:
		return "request started"
	case BackendSelected:
		return "backend selected"
	case NoRoute:
		if e.Status == 405 {
			return "method not allowed"
		}
		return "no route"
	case Responded:
		return "answered by a hook or map"
	case PipelineFailed:
		switch {
		case e.Status == 499:
			return "client went away"
		case e.Status < 500:
			return "request refused"
		}
		return "pipeline failed"
	case DispatchFailed:
		switch e.Code {
		case "overloaded":
			return "request shed"
		case "circuit_open":
			return "circuit open"
		}
		return "no backend available"
	case UpstreamSucceeded:
		return "upstream responded"
	case UpstreamFailed:
		return "upstream failed"
	case BackendEjected:
		return "backend ejected"
	case BackendReadmitted:
		return "backend readmitted"
	case BackendUnhealthy:
		return "backend unhealthy"
	case BackendHealthy:
		return "backend healthy"
	case HealthChecked:
		return "health checked"
	case RequestRetried:
		return "request retried"
	case CircuitOpened:
		return "circuit opened"
	case CircuitHalfOpen:
		return "circuit half-open"
	case CircuitClosed:
		return "circuit closed"
	case RequestEnded:
		return "request ended"
	case PanicRecovered:
		return "panic recovered"
	case BackendsChanged:
		return "backends changed"
	case BackendsRefused:
		return "backends update refused"
	}
	return "event"
}
