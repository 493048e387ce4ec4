// Package h1 is a purpose-built HTTP/1.1 client and server for a reverse
// proxy.
//
// # Client
//
// [Transport] is an [http.RoundTripper] that performs each exchange on the
// calling goroutine, with no per-connection reader or writer goroutines
// and no channel hand-offs (only a large or streaming request body gets a
// writer goroutine, for the length of its exchange).
//
// A [Transport] keeps a bounded LIFO pool of idle connections per upstream
// host. Requests without a body, or with a known length up to 64 KiB, are
// written on the calling goroutine, head and body in one buffered write.
// A larger body, or one of unknown length (sent chunked, one flush per
// chunk, so streaming uploads reach the upstream as they arrive), is
// written by a goroutine of its own while the response is read, so an
// upstream may answer early or stream its response while still reading
// the request (full duplex). The response head is parsed into one string
// (every header value a slice of it); its body returns the connection to
// the pool when
// read to the end (and the request body was sent whole), and closes it
// when closed early rather than draining it.
//
// Limits a user must know:
//   - Plain HTTP only, unless [Options.DialTLSContext] supplies TLS
//     connections; no HTTP/2, no proxies, no compression, no default
//     User-Agent (a request without one is sent without one), no cap on
//     connections per host, no punycoding of non-ASCII hosts (refused).
//   - "Expect: 100-continue" is forwarded as a header, but the body is sent
//     without waiting for the interim response.
//   - Response heads are bounded in size
//     ([Options.MaxResponseHeaderBytes]) and optionally in time
//     ([Options.ResponseHeaderTimeout]).
//   - Request trailers ([http.Request.Trailer]) are not sent; response
//     trailers are delivered in [http.Response.Trailer] as net/http does.
//   - [Transport.RoundTripDeadline] bounds an exchange with connection
//     deadlines instead of a derived context.
//   - A request is retried once, on a new connection, when a reused idle
//     connection fails before any byte of the response arrived and the
//     request is replayable (idempotent method or an Idempotency-Key
//     header, and no body or a GetBody). A non-replayable request probes a
//     reused connection for a close by the upstream before using it.
//
// # Server
//
// [Server] serves an [http.Handler] over HTTP/1.0 and 1.1 with one
// goroutine per connection that reads a request, runs the handler and
// writes the response: no background reader, a request context that is
// part of the request's single allocation, pooled buffers, a response
// header map reused per connection, and responses without a
// Content-Length held back up to 4 KiB so that they get one instead of
// chunked framing. It refuses malformed or ambiguous heads (see
// server_request.go) with a status and a closed connection, before the
// handler runs. Every wait for a request head has a deadline
// (ReadHeaderTimeout, else ReadTimeout, else IdleTimeout), whatever was
// read ahead. Once the handler returns, its request body fails every
// read, from any goroutine; a read still in flight is waited for before
// the server drains the rest (up to 256 KiB, to keep the connection) or
// closes the connection, so nothing reads a reused or pooled buffer.
// A client's hang-up while its request is served cancels
// the request's context: on Linux one epoll set per server watches the
// connections for EPOLLRDHUP; elsewhere a failed read or write does. The
// package's client registers its upstream connection on that context
// directly, so a proxied request costs no context allocation at all.
package h1
