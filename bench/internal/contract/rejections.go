package contract

import "net/http"

// Rejection is a request every gateway must refuse, with the status it must
// answer. A gateway must not forward it to the data service.
type Rejection struct {
	Name    string
	Request Request
	Status  int
}

// Rejections returns the requests a gateway must refuse; token is a valid
// bearer token, used to show that a valid token does not excuse a bad body.
func Rejections(token string) []Rejection {
	get := func(path string, h ...Header) Request {
		return Request{Method: http.MethodGet, Path: path, Header: h}
	}
	post := func(path, ctype, body string) Request {
		return Request{
			Method: http.MethodPost, Path: path,
			Header: []Header{{"Content-Type", ctype}, {"Authorization", "Bearer " + token}},
			Body:   []byte(body),
		}
	}
	const js = "application/json"
	return []Rejection{
		{"my-items without token", get("/my-items"), http.StatusUnauthorized},
		{"my-items with bad token", get("/my-items", Header{"Authorization", "Bearer not.a.jwt"}), http.StatusUnauthorized},
		{"my-items with basic auth", get("/my-items", Header{"Authorization", "Basic dTpw"}), http.StatusUnauthorized},
		{"lookup without q", post("/items/lookup", js, `{}`), http.StatusBadRequest},
		{"lookup with empty q", post("/items/lookup", js, `{"q":""}`), http.StatusBadRequest},
		{"lookup with numeric q", post("/items/lookup", js, `{"q":5}`), http.StatusBadRequest},
		{"lookup with malformed JSON", post("/items/lookup", js, `{"q":`), http.StatusBadRequest},
		{"lookup as text", post("/items/lookup", "text/plain", `{"q":"phone"}`), http.StatusUnsupportedMediaType},
		{"search with malformed JSON", post("/items/search", js, `{"category":`), http.StatusBadRequest},
		{"search with string max_price", post("/items/search", js, `{"max_price":"cheap"}`), http.StatusBadRequest},
		{"search with numeric category", post("/items/search", js, `{"category":7}`), http.StatusBadRequest},
		{"search with trailing data", post("/items/search", js, `{} {}`), http.StatusBadRequest},
		{"search as text", post("/items/search", "text/plain", `{}`), http.StatusUnsupportedMediaType},
	}
}
