package apigate

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/apigate-go/apigate/internal/decode"
	"github.com/apigate-go/apigate/internal/rewrite"
)

// OpenAPIInfo describes the API in the document [Gateway.OpenAPI]
// generates. Give it to [New] with [WithOpenAPI].
type OpenAPIInfo struct {
	// Title is the API's name; "API" when empty.
	Title string
	// Version is the API's version (not OpenAPI's); "0.0.0" when empty.
	Version string
	// Description is a longer text; CommonMark is allowed.
	Description string
	// Servers lists base URLs where the API is served, such as
	// "https://api.example.com".
	Servers []string
}

// WithOpenAPI sets the title, version, description and servers of the
// OpenAPI document ([Gateway.OpenAPI]).
func WithOpenAPI(info OpenAPIInfo) Option {
	info.Servers = slices.Clone(info.Servers)
	return optionFunc(func(c *config) { c.openapi = info })
}

// RouteDoc documents one route in the OpenAPI document; give it to a route
// with [Doc].
type RouteDoc struct {
	// Summary is a short summary of what the route does.
	Summary string
	// Description is a longer text; CommonMark is allowed.
	Description string
	// Tags group operations; the default is the service's name.
	Tags []string
	// OperationID names the operation for code generators. It must be
	// unique in the gateway; [New] reports duplicates.
	OperationID string
	// Deprecated marks the route as deprecated.
	Deprecated bool
	// Example is an example request body (for JSON and form routes),
	// encoded as JSON.
	Example any
	// Responses documents the upstream's responses by status: each
	// value's type is the JSON schema of that response's body, and the
	// value itself its example; a nil value documents a response without
	// a body. Without Responses, the upstream's answer is documented as
	// the "default" response.
	Responses map[int]any
}

type docOption struct{ d *RouteDoc }

func (o docOption) applyRoute(r *routeSpec) {
	if r.doc != nil {
		r.errs = append(r.errs, fmt.Errorf("Doc given twice"))
	}
	r.doc = o.d
}

// Doc documents a route for the OpenAPI document: summary, description,
// tags, an operation ID, examples and the upstream's responses. It changes
// nothing at request time.
func Doc(d RouteDoc) RouteOption {
	d.Tags = slices.Clone(d.Tags)
	if d.Responses != nil {
		rs := make(map[int]any, len(d.Responses))
		for k, v := range d.Responses {
			rs[k] = v
		}
		d.Responses = rs
	}
	return docOption{&d}
}

// openAPIState is the gateway's document, generated on first use.
type openAPIState struct {
	info OpenAPIInfo
	once sync.Once
	doc  []byte
}

// OpenAPI returns the gateway's OpenAPI 3.1 document as JSON, generated
// from the declared routes on first use: each route's path (with its
// service prefix, httprouter parameters as {name}), its path and query
// parameters from [Path] and [Query] types, its request body from [JSON],
// [Form] or [Multipart], JSON Schema 2020-12 schemas of those types, the
// error responses the gateway itself can send on that route (rendered as
// [WithErrorRenderer] says: [JSONErrors]' envelope is the Error
// component), and what [Doc] adds. The caller may modify the returned
// slice; it is safe for concurrent use.
func (g *Gateway) OpenAPI() []byte {
	return slices.Clone(g.openAPIDoc())
}

func (g *Gateway) openAPIDoc() []byte {
	g.openapi.once.Do(func() {
		b, err := json.MarshalIndent(g.openAPIDocument(), "", "  ")
		if err != nil {
			// Every value in the document is built from strings and
			// the user's Doc examples, checked by New.
			panic("apigate: encode OpenAPI document: " + err.Error())
		}
		g.openapi.doc = append(b, '\n')
	})
	return g.openapi.doc
}

// OpenAPIHandler returns a handler that serves [Gateway.OpenAPI] to GET
// and HEAD requests with Content-Type application/json; other methods get
// 405. Mount it beside the gateway, as in
// mux.Handle("GET /openapi.json", gw.OpenAPIHandler()).
func (g *Gateway) OpenAPIHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			g.render(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed, Message: "method not allowed"})
			return
		}
		doc := g.openAPIDoc()
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(doc)))
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodHead {
			return
		}
		w.Write(doc)
	})
}

// checkRouteDocs reports what New must refuse in routes' docs: duplicate
// operation IDs and examples that do not encode.
func checkRouteDocs(c *config) []error {
	var errs []error
	seen := map[string]string{}
	for _, m := range c.mounts {
		for _, rs := range m.svc.routes {
			if rs.doc == nil {
				continue
			}
			name := rs.method + " " + m.svc.prefix + rs.path
			if id := rs.doc.OperationID; id != "" {
				if other, dup := seen[id]; dup {
					errs = append(errs, fmt.Errorf("apigate: %s: Doc: operation ID %q already used by %s", name, id, other))
				}
				seen[id] = name
			}
			vals := []any{rs.doc.Example}
			for _, v := range rs.doc.Responses {
				vals = append(vals, v)
			}
			for _, v := range vals {
				if _, err := json.Marshal(v); err != nil {
					errs = append(errs, fmt.Errorf("apigate: %s: Doc: example does not encode as JSON: %w", name, err))
				}
			}
			for st := range rs.doc.Responses {
				if st < 100 || st > 599 {
					errs = append(errs, fmt.Errorf("apigate: %s: Doc: response status %d out of range", name, st))
				}
			}
		}
	}
	return errs
}

// The document's types, in the order OpenAPI lists fields.
type (
	oaDocument struct {
		OpenAPI    string                `json:"openapi"`
		Info       oaInfo                `json:"info"`
		Servers    []oaServer            `json:"servers,omitempty"`
		Paths      map[string]oaPathItem `json:"paths"`
		Components oaComponents          `json:"components"`
	}
	oaInfo struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Description string `json:"description,omitempty"`
	}
	oaServer struct {
		URL string `json:"url"`
	}
	oaPathItem  map[string]*oaOperation // lower-case method → operation
	oaOperation struct {
		Tags        []string              `json:"tags,omitempty"`
		Summary     string                `json:"summary,omitempty"`
		Description string                `json:"description,omitempty"`
		OperationID string                `json:"operationId,omitempty"`
		Parameters  []*oaParameter        `json:"parameters,omitempty"`
		RequestBody *oaRequestBody        `json:"requestBody,omitempty"`
		Responses   map[string]oaResponse `json:"responses"`
		Deprecated  bool                  `json:"deprecated,omitempty"`
	}
	oaParameter struct {
		Name        string      `json:"name"`
		In          string      `json:"in"`
		Description string      `json:"description,omitempty"`
		Required    bool        `json:"required,omitempty"`
		Schema      *jsonSchema `json:"schema"`
	}
	oaRequestBody struct {
		Required bool                   `json:"required,omitempty"`
		Content  map[string]oaMediaType `json:"content"`
	}
	oaMediaType struct {
		Schema  *jsonSchema `json:"schema,omitempty"`
		Example any         `json:"example,omitempty"`
	}
	oaResponse struct {
		Ref         string                 `json:"$ref,omitempty"`
		Description string                 `json:"description,omitempty"`
		Content     map[string]oaMediaType `json:"content,omitempty"`
	}
	oaComponents struct {
		Schemas   map[string]*jsonSchema `json:"schemas,omitempty"`
		Responses map[string]oaResponse  `json:"responses,omitempty"`
	}
)

// gatewayResponses are the errors the gateway itself sends, by status:
// the component name and its description.
var gatewayResponses = map[int][2]string{
	http.StatusBadRequest:            {"BadRequest", "The request is invalid: a path parameter, query, header or body that does not decode (codes invalid_path, invalid_query, invalid_json, invalid_form, invalid_header, bad_request)."},
	http.StatusRequestEntityTooLarge: {"PayloadTooLarge", "The body is larger than the route's limit (code payload_too_large)."},
	http.StatusUnsupportedMediaType:  {"UnsupportedMediaType", "The body's Content-Type is not the one the route reads (code unsupported_media_type)."},
	http.StatusUnprocessableEntity:   {"ValidationFailed", "The input decoded but its Validate method refused it (code validation_failed)."},
	http.StatusInternalServerError:   {"Internal", "A hook or map failed (code internal)."},
	http.StatusBadGateway:            {"BadGateway", "The upstream could not be reached or sent an invalid response (codes upstream_unavailable, bad_gateway)."},
	http.StatusServiceUnavailable:    {"NoBackend", "No upstream backend is available (code no_backend)."},
	http.StatusGatewayTimeout:        {"UpstreamTimeout", "The upstream did not answer in time (code upstream_timeout)."},
}

// errorEnvelope is the Error component: the body [JSONErrors] writes.
func errorEnvelope() *jsonSchema {
	inner := &jsonSchema{Type: "object", Properties: &properties{}, Required: []string{"code", "message"}}
	inner.Properties.add("code", &jsonSchema{Type: "string", Description: "A stable machine-readable code such as invalid_json."})
	inner.Properties.add("message", &jsonSchema{Type: "string", Description: "A message safe to show to the client."})
	s := &jsonSchema{Type: "object", Properties: &properties{}, Required: []string{"error"}}
	s.Properties.add("error", inner)
	return s
}

func (g *Gateway) openAPIDocument() *oaDocument {
	info := g.openapi.info
	doc := &oaDocument{OpenAPI: "3.1.0", Info: oaInfo{Title: info.Title, Version: info.Version, Description: info.Description},
		Paths: map[string]oaPathItem{}}
	if doc.Info.Title == "" {
		doc.Info.Title = "API"
	}
	if doc.Info.Version == "" {
		doc.Info.Version = "0.0.0"
	}
	for _, s := range info.Servers {
		doc.Servers = append(doc.Servers, oaServer{URL: s})
	}
	gen := newSchemaGen()
	var errContent map[string]oaMediaType
	switch reflect.ValueOf(g.renderer).Pointer() {
	case reflect.ValueOf(JSONErrors).Pointer():
		gen.components["Error"] = errorEnvelope()
		errContent = map[string]oaMediaType{"application/json": {Schema: &jsonSchema{Ref: "#/components/schemas/Error"}}}
	case reflect.ValueOf(TextErrors).Pointer():
		errContent = map[string]oaMediaType{"text/plain": {Schema: &jsonSchema{Type: "string", Description: "code: message"}}}
	}
	used := map[int]bool{}
	for _, rt := range g.routes {
		path := openAPIPath(rt.pattern)
		item := doc.Paths[path]
		if item == nil {
			item = oaPathItem{}
			doc.Paths[path] = item
		}
		op := rt.operation(gen)
		for st := range rt.gatewayStatuses() {
			used[st] = true
			op.Responses[strconv.Itoa(st)] = oaResponse{Ref: "#/components/responses/" + gatewayResponses[st][0]}
		}
		item[strings.ToLower(rt.method)] = op
	}
	doc.Components.Schemas = gen.components
	doc.Components.Responses = map[string]oaResponse{}
	for st := range used {
		r := gatewayResponses[st]
		doc.Components.Responses[r[0]] = oaResponse{Description: r[1], Content: errContent}
	}
	return doc
}

// openAPIPath turns an httprouter pattern into an OpenAPI path template:
// ":id" and "*rest" become "{id}" and "{rest}".
func openAPIPath(pattern string) string {
	segs := strings.Split(pattern, "/")
	for i, s := range segs {
		if len(s) > 1 && (s[0] == ':' || s[0] == '*') {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

// operation documents one route, without the gateway's error responses.
func (rt *route) operation(gen *schemaGen) *oaOperation {
	spec := rt.spec
	doc := spec.doc
	if doc == nil {
		doc = &RouteDoc{}
	}
	op := &oaOperation{Summary: doc.Summary, Description: doc.Description, OperationID: doc.OperationID,
		Deprecated: doc.Deprecated, Tags: doc.Tags, Responses: map[string]oaResponse{}}
	if len(op.Tags) == 0 {
		op.Tags = []string{rt.svc.name}
	}

	// Path parameters: every parameter of the pattern, typed by Path[T].
	typed := map[string]*paramField{}
	if spec.in.path != nil {
		for _, f := range paramFields(spec.in.path.typ, decode.SourcePath) {
			typed[f.name] = &f
		}
	}
	for _, name := range rewrite.Params(rt.pattern) {
		p := &oaParameter{Name: name, In: "path", Required: true, Schema: &jsonSchema{Type: "string"}}
		if f := typed[name]; f != nil {
			p.Schema = paramSchema(f.typ)
		}
		if strings.Contains(rt.pattern, "/*"+name) {
			p.Description = "The rest of the path; it may contain /."
		}
		op.Parameters = append(op.Parameters, p)
	}

	isGet := rt.method == http.MethodGet || rt.method == http.MethodHead
	addQuery := func(t reflect.Type, tag string) {
		for _, f := range paramFields(t, tag) {
			op.Parameters = append(op.Parameters, &oaParameter{Name: f.name, In: "query", Required: f.required, Schema: paramSchema(f.typ)})
		}
	}
	if spec.in.query != nil {
		addQuery(spec.in.query.typ, decode.SourceQuery)
	}
	switch spec.in.mode {
	case bodyJSON:
		op.RequestBody = &oaRequestBody{Required: true, Content: map[string]oaMediaType{
			"application/json": {Schema: gen.schema(spec.in.body.typ), Example: doc.Example}}}
	case bodyForm:
		if isGet {
			addQuery(spec.in.body.typ, decode.SourceForm)
			break
		}
		s := &jsonSchema{Type: "object", Properties: &properties{}}
		for _, f := range paramFields(spec.in.body.typ, decode.SourceForm) {
			s.Properties.add(f.name, paramSchema(f.typ))
			if f.required {
				s.Required = append(s.Required, f.name)
			}
		}
		op.RequestBody = &oaRequestBody{Required: true, Content: map[string]oaMediaType{
			"application/x-www-form-urlencoded": {Schema: s, Example: doc.Example}}}
	case bodyMultipart:
		op.RequestBody = &oaRequestBody{Required: true, Content: map[string]oaMediaType{
			"multipart/form-data": {Schema: &jsonSchema{Type: "object"}}}}
	}

	if len(doc.Responses) == 0 {
		op.Responses["default"] = oaResponse{Description: "The upstream's response."}
	}
	for st, v := range doc.Responses {
		r := oaResponse{Description: http.StatusText(st)}
		if r.Description == "" {
			r.Description = "Status " + strconv.Itoa(st)
		}
		if v != nil {
			r.Content = map[string]oaMediaType{"application/json": {Schema: gen.schema(reflect.TypeOf(v)), Example: v}}
		}
		op.Responses[strconv.Itoa(st)] = r
	}
	return op
}

// gatewayStatuses returns the statuses of the errors the gateway itself
// may send on rt, from what the route declares.
func (rt *route) gatewayStatuses() map[int]bool {
	spec := rt.spec
	in := &spec.in
	hooks := rt.pipe != nil && len(rt.pipe.hooks) > 0
	st := map[int]bool{http.StatusBadGateway: true, http.StatusServiceUnavailable: true, http.StatusGatewayTimeout: true}
	isGet := rt.method == http.MethodGet || rt.method == http.MethodHead
	readsBody := in.mode == bodyJSON || in.mode == bodyForm && !isGet
	switch {
	case len(rewrite.Params(rt.pattern)) > 0, in.path != nil, in.query != nil, in.mode != bodyNone, hooks:
		st[http.StatusBadRequest] = true
	case rt.method == http.MethodPost || rt.method == http.MethodPut || rt.method == http.MethodPatch:
		st[http.StatusBadRequest] = true // a streamed body that breaks
	}
	if readsBody {
		st[http.StatusRequestEntityTooLarge] = true
	}
	if readsBody || in.mode == bodyMultipart {
		st[http.StatusUnsupportedMediaType] = true
	}
	for _, d := range []*inputDecl{in.path, in.query, in.body} {
		if d != nil && d.typ != nil && (d.typ.Implements(reflect.TypeFor[Validator]()) || reflect.PointerTo(d.typ).Implements(reflect.TypeFor[Validator]())) {
			st[http.StatusUnprocessableEntity] = true
		}
	}
	if hooks || in.mapper != nil {
		st[http.StatusInternalServerError] = true
	}
	return st
}
