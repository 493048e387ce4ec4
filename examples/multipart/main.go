// Command multipart shows Multipart upload routes: the body streams to the
// upstream as it arrives, never buffered and never bounded by the JSON/form
// body limit (the mock upstream reports body_size), with and without an
// auth hook in front, and a 415 for a body that is not multipart.
//
//	go run ./examples/multipart                            # serve on 127.0.0.1:8080 until Ctrl-C
//	go run ./examples/multipart -check -addr 127.0.0.1:0   # send the printed requests itself and exit
package main

import (
	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/internal/excheck"
	"github.com/apigate-go/apigate/examples/upstream"
)

func main() {
	excheck.Main(run)
}

// requireToken lets only callers with the upload token through. Hooks see
// the request head only: they run before a single byte of the upload is
// read, so a refused upload costs nothing.
func requireToken(c *apigate.Ctx) error {
	if c.Header("Authorization") != "Bearer upload-token" {
		return apigate.Unauthorized("missing or bad upload token")
	}
	c.DelHeader("Authorization")
	return c.SetHeader("X-User-Id", "u-uploader")
}

func run(addr string, check bool) error {
	backend, stop, err := upstream.Start("storage-v1")
	if err != nil {
		return err
	}
	defer stop()

	files := apigate.Service("/files",
		apigate.POST("/upload", apigate.Multipart(), apigate.To("/storage/public")),
		apigate.POST("/private/upload", apigate.Multipart(), apigate.Before(requireToken), apigate.To("/storage/private")),
	)
	gw, err := apigate.New(apigate.Mount(files, backend))
	if err != nil {
		return err
	}

	calls := []excheck.Call{
		{Note: "a field and a small file: the upstream gets the multipart body as sent",
			Path: "/files/upload", Form: []string{"title=holiday", "file=hello gateway;filename=notes.txt;type=text/plain"},
			Status: 200, Want: []string{`"path": "/storage/public"`, `"Content-Type": "multipart/form-data; boundary=`,
				`filename=\"notes.txt\"`, `hello gateway`}},
		{Note: "5 MB from stdin, past the 2 MiB JSON/form body limit: multipart streams, nothing is buffered",
			Path: "/files/upload", Stdin: 5_000_000, Form: []string{"file=@-;filename=zeros.bin"},
			Status: 200, Want: []string{`"body_size": 5000`}},
		{Note: "the private route without a token: 401 before the upload is read",
			Path: "/files/private/upload", Form: []string{"file=hello gateway;filename=notes.txt"},
			Status: 401, Want: []string{"unauthorized: missing or bad upload token"}},
		{Note: "with the token: the hook ran, then the body streamed",
			Path: "/files/private/upload", Header: []string{"Authorization: Bearer upload-token"},
			Form:   []string{"file=hello gateway;filename=notes.txt"},
			Status: 200, Want: []string{`"path": "/storage/private"`, `"X-User-Id": "u-uploader"`, `hello gateway`},
			Deny: []string{"upload-token"}},
		{Note: "not multipart: 415",
			Method: "POST", Path: "/files/upload", Header: []string{"Content-Type: application/json"}, Body: `{"title":"holiday"}`,
			Status: 415, Want: []string{"unsupported_media_type"}},
	}

	ex := excheck.Example{About: "in front of the mock upstream " + backend, Calls: calls}
	return ex.ListenAndServe(addr, gw, check)
}
