package apigate

// reusePortSpreads reports whether the kernel spreads a SO_REUSEPORT
// group's connections over its sockets (Linux does; macOS gives them to
// one socket), so that worker processes each listen on a socket of their
// own rather than share one.
const reusePortSpreads = true
