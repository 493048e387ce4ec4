// Command path shows typed path parameters with Path[T]: an int, strings
// and a type of its own with UnmarshalText, decoded before the hooks run
// (a value that does not decode is a 400 "invalid_path" naming the
// parameter), read by a hook with Value, and placed into To templates.
//
//	go run ./examples/path                            # serve on 127.0.0.1:8080 until Ctrl-C
//	go run ./examples/path -check -addr 127.0.0.1:0   # send the printed requests itself and exit
package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/internal/excheck"
	"github.com/apigate-go/apigate/examples/upstream"
)

func main() {
	excheck.Main(run)
}

// SKU is a product code such as "LMP-0042": a family of three upper-case
// letters, a dash and a four-digit number. Its UnmarshalText method makes
// it usable as a path field; the decoder also requires MarshalText, the
// inverse, which a Map uses to write such values back.
type SKU struct {
	Family string
	Number int
}

// UnmarshalText parses a SKU. Its error text is never shown to the client:
// the client sees which parameter was invalid, not why.
func (s *SKU) UnmarshalText(b []byte) error {
	fam, num, ok := strings.Cut(string(b), "-")
	if !ok || len(fam) != 3 || strings.ToUpper(fam) != fam || len(num) != 4 {
		return errors.New("sku: want AAA-0000")
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return errors.New("sku: want AAA-0000")
	}
	*s = SKU{Family: fam, Number: n}
	return nil
}

// MarshalText formats a SKU.
func (s SKU) MarshalText() ([]byte, error) {
	return fmt.Appendf(nil, "%s-%04d", s.Family, s.Number), nil
}

// OrderPath is the path of /orders/:id: the id must be an integer.
type OrderPath struct {
	ID int `path:"id"`
}

// UserOrderPath has a string and an int parameter.
type UserOrderPath struct {
	User string `path:"user"`
	ID   int    `path:"id"`
}

// ProductPath is decoded with SKU.UnmarshalText.
type ProductPath struct {
	SKU SKU `path:"sku"`
}

// shardByFamily reads the decoded path, as every hook and map of the route
// can, and routes the upstream request by product family.
func shardByFamily(c *apigate.Ctx) error {
	p, _ := apigate.Value[ProductPath](c)
	return c.SetHeader("X-Shard", strings.ToLower(p.SKU.Family))
}

// tagUser passes the decoded (unescaped) user name upstream in a header.
func tagUser(c *apigate.Ctx) error {
	p, _ := apigate.Value[UserOrderPath](c)
	return c.SetHeader("X-Order-User", p.User)
}

func run(addr string, check bool) error {
	backend, stop, err := upstream.Start("shop-v1")
	if err != nil {
		return err
	}
	defer stop()

	shop := apigate.Service("/shop",
		// int: /shop/orders/42 → /v1/orders/42; /shop/orders/abc → 400.
		apigate.GET("/orders/:id", apigate.Path[OrderPath](), apigate.To("/v1/orders/:id")),
		// string and int, reordered by the template.
		apigate.GET("/users/:user/orders/:id", apigate.Path[UserOrderPath](),
			apigate.Before(tagUser), apigate.To("/v1/orders/:id/owner/:user")),
		// A type with UnmarshalText, read by a hook.
		apigate.GET("/products/:sku", apigate.Path[ProductPath](),
			apigate.Before(shardByFamily), apigate.To("/v2/catalog/products/:sku")),
	)
	gw, err := apigate.New(apigate.Mount(shop, backend))
	if err != nil {
		return err
	}

	calls := []excheck.Call{
		{Note: "an int parameter, placed into a To template",
			Path: "/shop/orders/42", Status: 200, Want: []string{`"path": "/v1/orders/42"`}},
		{Note: "not an int: 400 naming the parameter, nothing goes upstream",
			Path: "/shop/orders/abc", Status: 400, Want: []string{`invalid_path: invalid path parameter "id": not an integer`}},
		{Note: "too large for an int: 400",
			Path: "/shop/orders/99999999999999999999", Status: 400, Want: []string{`invalid path parameter "id": out of range`}},
		{Note: "two parameters, reordered by the template; the hook sees the decoded name, the upstream path keeps it escaped",
			Path: "/shop/users/ann%20lee/orders/7", Status: 200,
			Want: []string{`"path": "/v1/orders/7/owner/ann%20lee"`, `"X-Order-User": "ann lee"`}},
		{Note: "a type with UnmarshalText; a hook reads the decoded value",
			Path: "/shop/products/LMP-0042", Status: 200,
			Want: []string{`"path": "/v2/catalog/products/LMP-0042"`, `"X-Shard": "lmp"`}},
		{Note: "UnmarshalText refuses it: 400 naming the parameter, not the parser's reason",
			Path: "/shop/products/lamp", Status: 400, Want: []string{`invalid path parameter "sku"`}, Deny: []string{"AAA-0000"}},
	}

	ex := excheck.Example{About: "in front of the mock upstream " + backend, Calls: calls}
	return ex.ListenAndServe(addr, gw, check)
}
