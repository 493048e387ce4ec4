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
// the pool when read to the end, and closes it when closed early rather
// than draining it.
//
// On Linux, plain TCP connections are read and written with raw,
// non-blocking system calls (recvfrom and sendto), the waits going through
// the runtime's poller. A request written in one piece is sent by the
// first read of its response, which then waits for the answer without a
// read attempt that would find nothing: one system call fewer per
// exchange.
//
// # Framing and connection reuse
//
// A response is framed as [http.ReadResponse] frames it (a fuzz test
// holds the two together; the client refuses some heads net/http
// accepts, such as obsolete line folding): no body for a HEAD request or
// a 1xx, 204 or 304 status, whatever their headers say; else chunked
// (Transfer-Encoding: chunked, in HTTP/1.1), Content-Length bytes, or
// until the connection closes. No byte an upstream sends is ever read as
// the answer to a request it was not sent for: a connection goes back to
// the pool only when
//   - the response ended at its framing's end (the body read to EOF,
//     chunked trailers included) and nothing is left in the connection's
//     read buffer after it;
//   - neither side asked to close: "Connection: close" in the response
//     or the request ([http.Request.Close] or its Connection header), an
//     HTTP/1.0 response without keep-alive, a body delimited by the close;
//   - the framing was not suspect: Transfer-Encoding together with
//     Content-Length, or Transfer-Encoding in HTTP/1.0 (read as net/http
//     reads them, then the connection is closed);
//   - the request was written whole: a body still being written 50ms
//     after its response ended closes the connection (net/http's rule),
//     which also ends an upload to an upstream that answered early and
//     stopped reading.
//
// Any error while reading a response closes its connection. Before a
// pooled connection is reused it is probed without blocking (its read
// buffer, the TLS layer's read-ahead, and a peek of the socket): any
// byte, EOF or error that arrived while it was idle closes it and the
// request takes another connection. Bytes that arrive after that probe,
// before the next response, cannot be told from that response, as with
// any HTTP/1.1 client without pipelining (net/http's included).
//
// Interim 1xx responses other than 101 are skipped; a request whose
// context carries a [net/http/httptrace.ClientTrace] with Got1xxResponse
// gets each of them there first, as net/http's Transport delivers them
// (the hook's error ends the exchange); [RoundTripOptions.Got1xx] takes
// such a hook without a derived context. The 1xx heads no hook sees share
// [Options.MaxResponseHeaderBytes] with the final head; after each one a
// hook sees, the limit starts over.
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
//     connection fails before any byte of the response arrived, other
//     than by a timeout (a slow upstream has the request), and the
//     request is replayable (idempotent method or an Idempotency-Key
//     header, and no body or a GetBody).
//
// # Server
//
// [Server] serves an [http.Handler] over HTTP/1.0 and 1.1 with one
// goroutine per connection that reads a request, runs the handler and
// writes the response: no background reader, a request context that is
// part of the request's single allocation, pooled buffers, a response
// header map reused per connection, and responses without a
// Content-Length held back up to 4 KiB so that they get one instead of
// chunked framing. Between a response and the read of the connection's
// next request it yields to the other ready goroutines, which gives the
// client time to send and spares most reads that would find nothing. It
// refuses malformed or ambiguous heads (see
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
