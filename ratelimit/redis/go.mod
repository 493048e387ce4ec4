module github.com/apigate-go/apigate/ratelimit/redis

go 1.26.0

require (
	github.com/apigate-go/apigate v0.0.0
	github.com/redis/go-redis/v9 v9.23.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/julienschmidt/httprouter v1.3.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

replace github.com/apigate-go/apigate => ../..
