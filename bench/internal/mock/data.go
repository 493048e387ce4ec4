package mock

import (
	"encoding/json"
	"strings"

	"github.com/apigate-go/apigate/bench/internal/contract"
	"github.com/valyala/fasthttp"
)

// Data is the mock data service:
//
//	GET  /items          the whole catalogue
//	GET  /my-items       the products owned by X-User-Id (401 without it,
//	                     400 if an Authorization header reached it)
//	POST /items/search   filter by {category, max_price}
//	POST /items/lookup   products whose name contains {query}, at most
//	                     {limit}, echoing query, limit and source
//
// A request to any path whose query string is [contract.EchoQuery] is
// answered instead with a JSON object of the [contract.ForwardingHeaders]
// it carried, for the checks that gateways set them.
//
// Responses are JSON objects with an "items" array and a "count". Data is
// safe for concurrent use.
type Data struct {
	entries []entry
	all     []byte
}

// NewData returns a data service serving [Catalogue].
func NewData() *Data {
	d := &Data{entries: newEntries(Catalogue())}
	d.all = append(d.appendItems([]byte{'{'}, func(entry) bool { return true }, 0), '}')
	return d
}

// Handle serves one request; it is a fasthttp.RequestHandler.
func (d *Data) Handle(ctx *fasthttp.RequestCtx) {
	// The load's requests have no query: one comparison of its length.
	if string(ctx.URI().QueryString()) == contract.EchoQuery {
		echoForwarding(ctx)
		return
	}
	switch string(ctx.Path()) {
	case "/items":
		if !ctx.IsGet() {
			writeError(ctx, fasthttp.StatusMethodNotAllowed, "method not allowed")
			return
		}
		writeJSON(ctx, d.all)
	case "/my-items":
		if !ctx.IsGet() {
			writeError(ctx, fasthttp.StatusMethodNotAllowed, "method not allowed")
			return
		}
		d.myItems(ctx)
	case "/items/search":
		if !ctx.IsPost() {
			writeError(ctx, fasthttp.StatusMethodNotAllowed, "method not allowed")
			return
		}
		d.search(ctx)
	case "/items/lookup":
		if !ctx.IsPost() {
			writeError(ctx, fasthttp.StatusMethodNotAllowed, "method not allowed")
			return
		}
		d.lookup(ctx)
	default:
		writeError(ctx, fasthttp.StatusNotFound, "not found")
	}
}

func (d *Data) myItems(ctx *fasthttp.RequestCtx) {
	h := &ctx.Request.Header
	if len(h.Peek("Authorization")) > 0 {
		writeError(ctx, fasthttp.StatusBadRequest, "authorization must not reach the data service")
		return
	}
	user := string(h.Peek(contract.HeaderUserID))
	if user == "" {
		writeError(ctx, fasthttp.StatusUnauthorized, "missing "+contract.HeaderUserID)
		return
	}
	b := make([]byte, 0, 512)
	b = append(b, `{"user_id":`...)
	b = appendString(b, user)
	b = append(b, `,"email":`...)
	b = appendString(b, string(h.Peek(contract.HeaderUserEmail)))
	b = append(b, ',')
	b = d.appendItems(b, func(e entry) bool { return e.Owner == user }, 0)
	writeJSON(ctx, append(b, '}'))
}

// echoForwarding answers the forwarding headers of the request, each name
// mapped to its first value ("" when absent).
func echoForwarding(ctx *fasthttp.RequestCtx) {
	b := []byte{'{'}
	for i, k := range contract.ForwardingHeaders {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, string(ctx.Request.Header.Peek(k)))
	}
	writeJSON(ctx, append(b, '}'))
}

// searchIn is read leniently: a malformed body is no filter.
type searchIn struct {
	Category *string `json:"category"`
	MaxPrice *int    `json:"max_price"`
}

func (d *Data) search(ctx *fasthttp.RequestCtx) {
	var in searchIn
	if json.Unmarshal(ctx.PostBody(), &in) != nil {
		in = searchIn{}
	}
	b := make([]byte, 0, 512)
	b = append(b, '{')
	b = d.appendItems(b, func(e entry) bool {
		return (in.Category == nil || e.Category == *in.Category) &&
			(in.MaxPrice == nil || e.Price <= *in.MaxPrice)
	}, 0)
	writeJSON(ctx, append(b, '}'))
}

// lookupIn is read leniently: a malformed body is an empty query.
type lookupIn struct {
	Query  string `json:"query"`
	Limit  int    `json:"limit"`
	Source string `json:"source"`
}

func (d *Data) lookup(ctx *fasthttp.RequestCtx) {
	var in lookupIn
	if json.Unmarshal(ctx.PostBody(), &in) != nil {
		in = lookupIn{}
	}
	q := strings.ToLower(in.Query)
	b := make([]byte, 0, 512)
	b = append(b, `{"query":`...)
	b = appendString(b, in.Query)
	b = append(b, `,"limit":`...)
	b = appendInt(b, in.Limit)
	b = append(b, `,"source":`...)
	b = appendString(b, in.Source)
	b = append(b, ',')
	b = d.appendItems(b, func(e entry) bool { return strings.Contains(e.lower, q) }, in.Limit)
	writeJSON(ctx, append(b, '}'))
}

// appendItems appends the members `"items":[...],"count":n` for the
// entries keep accepts, at most limit of them when limit > 0.
func (d *Data) appendItems(b []byte, keep func(entry) bool, limit int) []byte {
	b = append(b, `"items":[`...)
	n := 0
	for _, e := range d.entries {
		if limit > 0 && n == limit {
			break
		}
		if !keep(e) {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, e.json...)
		n++
	}
	b = append(b, `],"count":`...)
	return appendInt(b, n)
}

func writeJSON(ctx *fasthttp.RequestCtx, body []byte) {
	ctx.SetContentType("application/json")
	ctx.SetBody(body)
}

func writeError(ctx *fasthttp.RequestCtx, status int, msg string) {
	ctx.SetStatusCode(status)
	writeJSON(ctx, append(appendString([]byte(`{"error":`), msg), '}'))
}
