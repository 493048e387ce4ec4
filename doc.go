// Package apigate builds API gateways in plain Go.
//
// Declare services and routes with functional options, give them backends,
// and [New] compiles them into an [http.Handler] that matches requests with
// httprouter, runs optional typed validation, hooks and maps, picks a
// backend with a policy, and forwards through a streaming reverse proxy
// (the complete program is examples/quickstart):
//
//	type LookupIn struct {
//		Q string `json:"q" apigate:"required"`
//	}
//	type LookupOut struct {
//		Query string `json:"query"`
//		Limit int    `json:"limit"`
//	}
//
//	func auth(c *apigate.Ctx) error {
//		if c.Header("Authorization") == "" {
//			return apigate.Unauthorized("missing authorization")
//		}
//		return c.SetHeader("X-User-Id", "u-1")
//	}
//
//	func main() {
//		api := apigate.Service("/api",
//			apigate.GET("/items/:id", apigate.Before(auth), apigate.To("/v2/items/:id")),
//			apigate.POST("/items/lookup", apigate.JSON[LookupIn](), apigate.Map(
//				func(c *apigate.Ctx, in LookupIn) (LookupOut, error) {
//					return LookupOut{Query: strings.TrimSpace(in.Q), Limit: 20}, nil
//				})),
//			apigate.GET("/users/:id", apigate.Policy("sticky")),
//		)
//		gw, err := apigate.New(
//			apigate.Mount(api, "http://127.0.0.1:9001", "http://127.0.0.1:9002"),
//			apigate.WithPolicy("sticky", policy.PathSticky("id")),
//		)
//		if err != nil {
//			log.Fatal(err) // every misconfiguration, each naming its route
//		}
//		// Ctrl-C shuts down gracefully: ListenAndServe returns nil, exit 0.
//		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
//		defer stop()
//		if err := apigate.ListenAndServe(ctx, "127.0.0.1:8080", gw, apigate.ServeOptions{}); err != nil {
//			log.Fatal(err)
//		}
//	}
//
// A route with no typed inputs, hooks or map is a passthrough: its body is
// streamed both ways and nothing of the gateway's is allocated beyond the
// outbound request. Other routes run a pipeline with a pooled [Ctx]:
// [Path] parameters, [Before] hooks, [Query], [JSON] or [Form] input, then
// [Map]. [After] hooks see the upstream's status and headers before the
// client does, and may edit them or replace the response. Errors a client
// sees are [*Error] values with stable codes, written by an
// [ErrorRenderer]; runtime events go to an optional observer (package
// observe); backends are chosen by policies (packages policy and
// balancer). Misconfiguration is reported by New, never by a panic at
// request time.
package apigate
