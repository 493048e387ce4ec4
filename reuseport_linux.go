package apigate

const soReusePort = 0xf // SO_REUSEPORT on Linux; package syscall lacks it
