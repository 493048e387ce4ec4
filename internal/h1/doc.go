// Package h1 is a purpose-built HTTP/1.1 client transport for a reverse
// proxy: an [http.RoundTripper] that performs each exchange on the
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
// the request (full duplex). The response is parsed with
// [http.ReadResponse]; its body returns the connection to the pool when
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
//     trailers are delivered as [http.ReadResponse] reads them.
//   - A request is retried once, on a new connection, when a reused idle
//     connection fails before any byte of the response arrived and the
//     request is replayable (idempotent method or an Idempotency-Key
//     header, and no body or a GetBody). A non-replayable request probes a
//     reused connection for a close by the upstream before using it.
package h1
