package apigate

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/apigate-go/apigate/balancer"
	"github.com/apigate-go/apigate/policy"
)

// TestNilAndNegativeOptions checks that options which would fail at request
// time (a nil hook, map, balancer or middleware, a negative body limit) are
// errors from New naming the route instead.
func TestNilAndNegativeOptions(t *testing.T) {
	ok := "http://127.0.0.1:1"
	type In struct {
		Q string `json:"q"`
	}
	nilFactory := policy.New(nil, func([]balancer.Backend) balancer.Balancer { return nil })
	nilMW := func(http.Handler) http.Handler { return nil }
	tests := []struct {
		name string
		opts []Option
		want []string
	}{
		{"Before(nil) on a route", []Option{Mount(Service("/a", GET("/x", Before(nil))), ok)}, []string{"GET /a/x: Before: hook 1 is nil"}},
		{"Before(nil) on a service", []Option{Mount(Service("/a", Before(func(*Ctx) error { return nil }, nil), GET("/x")), ok)}, []string{"GET /a/x: Before: hook 2 is nil"}},
		{"Map(nil)", []Option{Mount(Service("/a", POST("/x", JSON[In](), Map[In, In](nil))), ok)}, []string{"POST /a/x: Map(nil)"}},
		{"balancer factory returns nil", []Option{Mount(Service("/a", GET("/x", Policy("p"))), ok), WithPolicy("p", nilFactory)}, []string{`GET /a/x: policy "p": its balancer factory returned nil`}},
		{"Use(nil) on a route", []Option{Mount(Service("/a", GET("/x", Use(nil))), ok)}, []string{"GET /a/x: Use: middleware 1 is nil"}},
		{"Use(nil) on a service", []Option{Mount(Service("/a", Use(nil), GET("/x")), ok)}, []string{"GET /a/x: Use: middleware 1 is nil"}},
		{"Use(nil) on the gateway", []Option{Mount(Service("/a", GET("/x")), ok), Use(nil)}, []string{"apigate: Use: gateway middleware 1 is nil"}},
		{"middleware returning nil", []Option{Mount(Service("/a", GET("/x", Use(nilMW))), ok)}, []string{"GET /a/x: Use: middleware 1 returned a nil handler"}},
		{"gateway middleware returning nil", []Option{Mount(Service("/a", GET("/x")), ok), Use(nilMW)}, []string{"apigate: Use: gateway middleware 1 returned a nil handler"}},
		{"negative WithBodyLimit", []Option{Mount(Service("/a", POST("/x", JSON[In]())), ok), WithBodyLimit(-1)}, []string{"apigate: WithBodyLimit(-1): negative"}},
		{"negative BodyLimit on a route", []Option{Mount(Service("/a", POST("/x", JSON[In](), BodyLimit(-5))), ok)}, []string{"POST /a/x: BodyLimit(-5): negative"}},
		{"negative BodyLimit on a service", []Option{Mount(Service("/a", BodyLimit(-5), POST("/x", JSON[In]())), ok)}, []string{"POST /a/x: BodyLimit(-5): negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := func() (g *Gateway, err error) {
				defer func() {
					if p := recover(); p != nil {
						err = fmt.Errorf("New panicked: %v", p)
						g = nil
					}
				}()
				return New(tt.opts...)
			}()
			if err == nil {
				t.Fatalf("New succeeded (%v), want an error", g)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
