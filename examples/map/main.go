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
	"strings"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/internal/excheck"
	"github.com/apigate-go/apigate/examples/upstream"
)

func main() {
	excheck.Main(run)
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
	calls := []excheck.Call{
		{Note: "query → query: the upstream gets ?limit=20&offset=20&term=lamp (the mock's JSON writes & as \\u0026)",
			Path: "/api/search?q=lamp&page=2", Status: 200,
			Want: []string{`"path": "/v1/search"`, `"query": "limit=20\u0026offset=20\u0026term=lamp"`}},
		{Note: "a required query parameter is missing: 400",
			Path: "/api/search?page=2", Status: 400, Want: []string{`invalid_query: missing required query parameter "q"`}},
		{Note: "JSON → JSON: {q} becomes {query, limit, source}, Content-Length fixed",
			Method: "POST", Path: "/api/lookup", Header: jsonCT, Body: `{"q":"  lamp "}`, Status: 200,
			Want: []string{`"body": "{\"query\":\"lamp\",\"limit\":20,\"source\":\"gateway\"}"`, `"Content-Length": "46"`}},
		{Note: "a required JSON field is missing: 400",
			Method: "POST", Path: "/api/lookup", Header: jsonCT, Body: `{"query":"lamp"}`, Status: 400,
			Want: []string{`invalid_json: missing required field "q"`}},
		{Note: "the map itself refuses a blank q: 400 with its own message",
			Method: "POST", Path: "/api/lookup", Header: jsonCT, Body: `{"q":"   "}`, Status: 400,
			Want: []string{"bad_request: q is blank"}},
		{Note: "not JSON: 415",
			Method: "POST", Path: "/api/lookup", Body: "q=lamp", Status: 415,
			Want: []string{"unsupported_media_type"}},
		{Note: "form → form body (curl -d sends application/x-www-form-urlencoded)",
			Method: "POST", Path: "/api/subscribe", Body: "email=Ann@Example.com&topic=sales&topic=tips", Status: 200,
			Want: []string{`"body": "address=ann%40example.com\u0026list=sales\u0026list=tips\u0026source=gateway"`,
				`"Content-Type": "application/x-www-form-urlencoded"`}},
		{Note: "the same Form on GET reads the query string and writes the query string",
			Path: "/api/subscribe?email=Ann@Example.com", Status: 200,
			Want: []string{`"query": "address=ann%40example.com\u0026list=news\u0026source=gateway"`}},
	}

	ex := excheck.Example{About: "in front of the mock upstream " + backend, Calls: calls}
	return ex.ListenAndServe(addr, gw, check)
}
