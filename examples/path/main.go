// Command path shows typed path parameters with Path[T]: an int, strings
// and a type of its own with UnmarshalText, decoded before the hooks run
// (a value that does not decode is a 400 "invalid_path" naming the
// parameter), read by a hook with Value, and placed into To templates.
//
//	go run ./examples/path                            # serve on 127.0.0.1:8080 until Ctrl-C
//	go run ./examples/path -check -addr 127.0.0.1:0   # send the printed requests itself and exit
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/upstream"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	check := flag.Bool("check", false, "send the example requests, verify the answers, and exit")
	flag.Parse()
	if err := run(*addr, *check); err != nil {
		log.Fatal(err)
	}
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

	calls := []call{
		{note: "an int parameter, placed into a To template",
			path: "/shop/orders/42", status: 200, want: []string{`"path": "/v1/orders/42"`}},
		{note: "not an int: 400 naming the parameter, nothing goes upstream",
			path: "/shop/orders/abc", status: 400, want: []string{`invalid_path: invalid path parameter "id": not an integer`}},
		{note: "too large for an int: 400",
			path: "/shop/orders/99999999999999999999", status: 400, want: []string{`invalid path parameter "id": out of range`}},
		{note: "two parameters, reordered by the template; the hook sees the decoded name, the upstream path keeps it escaped",
			path: "/shop/users/ann%20lee/orders/7", status: 200,
			want: []string{`"path": "/v1/orders/7/owner/ann%20lee"`, `"X-Order-User": "ann lee"`}},
		{note: "a type with UnmarshalText; a hook reads the decoded value",
			path: "/shop/products/LMP-0042", status: 200,
			want: []string{`"path": "/v2/catalog/products/LMP-0042"`, `"X-Shard": "lmp"`}},
		{note: "UnmarshalText refuses it: 400 naming the parameter, not the parser's reason",
			path: "/shop/products/lamp", status: 400, want: []string{`invalid path parameter "sku"`}, deny: []string{"AAA-0000"}},
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ln, err := apigate.Listen(ctx, addr, apigate.ServeOptions{})
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Printf("gateway on %s in front of the mock upstream %s\ntry:\n", base, backend)
	for _, c := range calls {
		fmt.Printf("  # %s\n  %s\n", c.note, c.curl(base))
	}
	if !check {
		return apigate.Serve(ctx, ln, gw, apigate.ServeOptions{})
	}
	go apigate.Serve(ctx, ln, gw, apigate.ServeOptions{})
	client := &http.Client{Timeout: 10 * time.Second}
	for _, c := range calls {
		if err := c.check(client, base); err != nil {
			return err
		}
	}
	return nil
}

// call is one example request: main prints it as a curl command, and
// -check sends the same request and verifies the answer.
type call struct {
	note   string   // what the request shows
	method string   // GET when empty
	path   string   // path and query, appended to the gateway's base URL
	header []string // "Name: value"
	body   string   // sent as curl -d sends it
	status int      // the status the answer must have
	want   []string // text the answer (status line, headers, body) must hold
	deny   []string // text it must not hold
}

// curl returns the call as a command line that works as printed.
func (c call) curl(base string) string {
	s := "curl -s"
	if c.status != http.StatusOK {
		s = "curl -si"
	}
	if c.method != "" && (c.method != http.MethodPost || c.body == "") {
		s += " -X " + c.method
	}
	for _, h := range c.header {
		s += " -H " + quote(h)
	}
	if c.body != "" {
		s += " -d " + quote(c.body)
	}
	return s + " " + quote(base+c.path)
}

// check sends the call as curl would and compares the answer.
func (c call) check(client *http.Client, base string) error {
	method := cmp.Or(c.method, http.MethodGet)
	req, err := http.NewRequest(method, base+c.path, strings.NewReader(c.body))
	if err != nil {
		return err
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // curl -d's default
	}
	for _, h := range c.header {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, c.path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, c.path, err)
	}
	var ans strings.Builder
	fmt.Fprintf(&ans, "%s %s\n", res.Proto, res.Status)
	res.Header.Write(&ans)
	ans.WriteString("\n")
	ans.Write(body)
	got := ans.String()
	if res.StatusCode != c.status {
		return fmt.Errorf("%s %s: status %d, want %d; answer:\n%s", method, c.path, res.StatusCode, c.status, got)
	}
	for _, w := range c.want {
		if !strings.Contains(got, w) {
			return fmt.Errorf("%s %s: answer lacks %q; answer:\n%s", method, c.path, w, got)
		}
	}
	for _, d := range c.deny {
		if strings.Contains(got, d) {
			return fmt.Errorf("%s %s: answer holds %q; answer:\n%s", method, c.path, d, got)
		}
	}
	fmt.Printf("ok  %s %s → %d\n", method, c.path, res.StatusCode)
	return nil
}

// quote quotes s for a POSIX shell.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
