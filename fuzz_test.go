package apigate

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// roundTripFunc is an in-process upstream for fuzzing the pipeline without
// sockets.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// recordingUpstream answers 200 and keeps the last request's body and URL.
type recordingUpstream struct {
	body []byte
	url  *url.URL
}

func (u *recordingUpstream) transport() http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		u.url = r.URL
		u.body = nil
		if r.Body != nil {
			u.body, _ = io.ReadAll(r.Body)
			r.Body.Close()
		}
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, ContentLength: 0}, nil
	})
}

type fuzzQuery struct {
	A string   `query:"a"`
	N *int     `query:"n"`
	F float64  `query:"f"`
	S []uint16 `query:"s"`
	B bool     `query:"b"`
	T []string `query:"t,required"`
}

type fuzzForm struct {
	Name string `form:"name,required"`
	Age  int16  `form:"age"`
}

type fuzzPath struct {
	ID  int64  `path:"id"`
	Key string `path:"key"`
}

// FuzzPipelineInputs drives path, query, form and JSON decoding through a
// whole gateway: every request either reaches the upstream (with the body
// forwarded unchanged, or the mapped body that decodes back) or is refused
// with a 4xx, never a panic or a 5xx.
func FuzzPipelineInputs(f *testing.F) {
	f.Add("7", "k", "a=1&n=2&t=x", "name=ann&age=3", `{"q":"lamp","limit":3}`)
	f.Add("-1", "%2F", "n=x&t=", "name=", `{"q":""}`)
	f.Add("99999999999999999999", "..", "t=%zz", "%zz", `{"q":"a"} x`)
	f.Add("0", "a%2Fb", "f=NaN&s=300&t=1", "age=99999", `[1,2]`)
	f.Add("", "", "", "", `{"q":"\u00e9","limit":1e400}`)
	up := &recordingUpstream{}
	remap := func(c *Ctx, in lookupIn) (lookupOut, error) { return lookupOut{Query: in.Q, Limit: in.Limit}, nil }
	g, err := New(
		Mount(Service("/f",
			GET("/p/:id/:key", Path[fuzzPath]()),
			GET("/q", Query[fuzzQuery]()),
			POST("/form", Form[fuzzForm]()),
			POST("/json", JSON[lookupIn]()),
			POST("/map", JSON[lookupIn](), Map(remap)),
		), "http://127.0.0.1:1"),
		WithRoundTripper(up.transport()),
	)
	if err != nil {
		f.Fatal(err)
	}
	serve := func(t *testing.T, r *http.Request) int {
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s: status %d: %s", r.Method, r.URL, w.Code, w.Body)
		}
		return w.Code
	}
	f.Fuzz(func(t *testing.T, id, key, query, form, body string) {
		if u, err := url.Parse("/f/p/" + id + "/" + key); err == nil {
			serve(t, &http.Request{Method: "GET", URL: u, Header: http.Header{}, Body: http.NoBody, RemoteAddr: "192.0.2.1:1", Host: "x"})
		}
		if u, err := url.Parse("/f/q?" + query); err == nil {
			serve(t, &http.Request{Method: "GET", URL: u, Header: http.Header{}, Body: http.NoBody, RemoteAddr: "192.0.2.1:1", Host: "x"})
		}
		r := httptest.NewRequest("POST", "/f/form", strings.NewReader(form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if serve(t, r) == 200 && string(up.body) != form {
			t.Fatalf("form forwarded %q, want %q", up.body, form)
		}
		r = httptest.NewRequest("POST", "/f/json", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if serve(t, r) == 200 {
			if string(up.body) != body {
				t.Fatalf("JSON forwarded %q, want %q", up.body, body)
			}
			var in lookupIn
			if json.Unmarshal([]byte(body), &in) != nil || in.Q == "" {
				t.Fatalf("accepted %q, which does not decode with a q", body)
			}
		}
		r = httptest.NewRequest("POST", "/f/map", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if serve(t, r) == 200 {
			var out lookupOut
			dec := json.NewDecoder(bytes.NewReader(up.body))
			if err := dec.Decode(&out); err != nil || out.Query == "" {
				t.Fatalf("mapped body %q does not decode: %v", up.body, err)
			}
		}
	})
}
