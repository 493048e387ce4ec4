module github.com/apigate-go/apigate

go 1.26

require (
	github.com/cespare/xxhash/v2 v2.3.0
	github.com/julienschmidt/httprouter v1.3.0
	github.com/lmittmann/tint v1.2.1
)
