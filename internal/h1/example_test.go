package h1_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/apigate-go/apigate/internal/h1"
)

func ExampleTransport() {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s", r.URL.Path)
	}))
	defer upstream.Close()

	tr := h1.New(h1.Options{MaxIdlePerHost: 64})
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	for range 2 { // the second request reuses the connection
		res, err := client.Get(upstream.URL + "/items")
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(res.StatusCode, string(body))
	}
	// Output:
	// 200 hello from /items
	// 200 hello from /items
}
