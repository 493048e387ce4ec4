// Command map shows Map: typed input decoded by Query, JSON or Form,
// turned into the shape the upstream wants, and re-serialized in the same
// form with Content-Type and Content-Length fixed: a query remap, the
// lookup remap {q} → {query, limit:20, source:"gateway"}, and a form remap
// (a form body on POST, the query string on GET). Missing required fields
// are a 400 before anything goes upstream.
//
//	go run ./examples/map                            # serve on 127.0.0.1:8080 until Ctrl-C
//	go run ./examples/map -check -addr 127.0.0.1:0   # send the printed requests itself and exit
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
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

// SearchIn is the public query string: ?q=lamp&page=2.
type SearchIn struct {
	Q    string `query:"q,required"`
	Page int    `query:"page"`
}

// SearchOut is what the search backend wants: ?term=lamp&offset=20&limit=20.
type SearchOut struct {
	Term   string `query:"term"`
	Offset int    `query:"offset"`
	Limit  int    `query:"limit"`
}

func remapSearch(_ *apigate.Ctx, in SearchIn) (SearchOut, error) {
	const limit = 20
	return SearchOut{Term: in.Q, Offset: max(in.Page-1, 0) * limit, Limit: limit}, nil
}

// LookupIn is the public JSON body: {"q":"lamp"}. The apigate tag makes q
// required (present and non-empty) without touching its json tag.
type LookupIn struct {
	Q string `json:"q" apigate:"required"`
}

// LookupOut is the body the lookup backend wants.
type LookupOut struct {
	Query  string `json:"query"`
	Limit  int    `json:"limit"`
	Source string `json:"source"`
}

func remapLookup(_ *apigate.Ctx, in LookupIn) (LookupOut, error) {
	q := strings.TrimSpace(in.Q)
	if q == "" {
		return LookupOut{}, apigate.BadRequest("q is blank")
	}
	return LookupOut{Query: q, Limit: 20, Source: "gateway"}, nil
}

// SubscribeIn is the public form: email=…&topic=…&topic=….
type SubscribeIn struct {
	Email  string   `form:"email,required"`
	Topics []string `form:"topic"`
}

// SubscribeOut is the form the mailing backend wants.
type SubscribeOut struct {
	Address string   `form:"address"`
	Lists   []string `form:"list"`
	Source  string   `form:"source"`
}

// remapSubscribe serves both the POST route (re-serialized as a form body)
// and the GET route (re-serialized as the query string).
func remapSubscribe(_ *apigate.Ctx, in SubscribeIn) (SubscribeOut, error) {
	lists := in.Topics
	if len(lists) == 0 {
		lists = []string{"news"}
	}
	return SubscribeOut{Address: strings.ToLower(in.Email), Lists: lists, Source: "gateway"}, nil
}

func run(addr string, check bool) error {
	backend, stop, err := upstream.Start("search-v1")
	if err != nil {
		return err
	}
	defer stop()

	api := apigate.Service("/api",
		apigate.GET("/search", apigate.Query[SearchIn](), apigate.Map(remapSearch), apigate.To("/v1/search")),
		apigate.POST("/lookup", apigate.JSON[LookupIn](), apigate.Map(remapLookup), apigate.To("/v1/lookup")),
		apigate.POST("/subscribe", apigate.Form[SubscribeIn](), apigate.Map(remapSubscribe), apigate.To("/v1/subscribers")),
		apigate.GET("/subscribe", apigate.Form[SubscribeIn](), apigate.Map(remapSubscribe), apigate.To("/v1/subscribers")),
	)
	gw, err := apigate.New(apigate.Mount(api, backend))
	if err != nil {
		return err
	}

	jsonCT := []string{"Content-Type: application/json"}
	calls := []call{
		{note: "query → query: the upstream gets ?limit=20&offset=20&term=lamp (the mock's JSON writes & as \\u0026)",
			path: "/api/search?q=lamp&page=2", status: 200,
			want: []string{`"path": "/v1/search"`, `"query": "limit=20\u0026offset=20\u0026term=lamp"`}},
		{note: "a required query parameter is missing: 400",
			path: "/api/search?page=2", status: 400, want: []string{`invalid_query: missing required query parameter "q"`}},
		{note: "JSON → JSON: {q} becomes {query, limit, source}, Content-Length fixed",
			method: "POST", path: "/api/lookup", header: jsonCT, body: `{"q":"  lamp "}`, status: 200,
			want: []string{`"body": "{\"query\":\"lamp\",\"limit\":20,\"source\":\"gateway\"}"`, `"Content-Length": "46"`}},
		{note: "a required JSON field is missing: 400",
			method: "POST", path: "/api/lookup", header: jsonCT, body: `{"query":"lamp"}`, status: 400,
			want: []string{`invalid_json: missing required field "q"`}},
		{note: "the map itself refuses a blank q: 400 with its own message",
			method: "POST", path: "/api/lookup", header: jsonCT, body: `{"q":"   "}`, status: 400,
			want: []string{"bad_request: q is blank"}},
		{note: "not JSON: 415",
			method: "POST", path: "/api/lookup", body: "q=lamp", status: 415,
			want: []string{"unsupported_media_type"}},
		{note: "form → form body (curl -d sends application/x-www-form-urlencoded)",
			method: "POST", path: "/api/subscribe", body: "email=Ann@Example.com&topic=sales&topic=tips", status: 200,
			want: []string{`"body": "address=ann%40example.com\u0026list=sales\u0026list=tips\u0026source=gateway"`,
				`"Content-Type": "application/x-www-form-urlencoded"`}},
		{note: "the same Form on GET reads the query string and writes the query string",
			path: "/api/subscribe?email=Ann@Example.com", status: 200,
			want: []string{`"query": "address=ann%40example.com\u0026list=news\u0026source=gateway"`}},
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
