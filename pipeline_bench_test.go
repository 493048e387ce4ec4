package apigate

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Each benchmark here runs one pipeline feature through apigate and
// through the hand-written net/http + encoding/json + httputil equivalent,
// in the same process and run.

var benchTokens = map[string]string{"Bearer t0k3n": "u-42"}

func BenchmarkAuthHook(b *testing.B) {
	up := benchUpstream(b)
	hdr := http.Header{"Authorization": {"Bearer t0k3n"}}
	b.Run("apigate", func(b *testing.B) {
		auth := func(c *Ctx) error {
			id, ok := benchTokens[c.Header("Authorization")]
			if !ok {
				return Unauthorized("bad token")
			}
			c.DelHeader("Authorization")
			return c.SetHeader("X-User-Id", id)
		}
		g := MustNew(Mount(Service("/api", GET("/me", Before(auth))), up.URL))
		defer g.CloseIdleConnections()
		runBenchHeader(b, g, "GET", "/api/me", nil, hdr)
	})
	b.Run("stdlib", func(b *testing.B) {
		proxy := stdlibProxy(b, up.URL)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, ok := benchTokens[r.Header.Get("Authorization")]
			if !ok {
				http.Error(w, "bad token", http.StatusUnauthorized)
				return
			}
			r = r.Clone(r.Context())
			r.Header.Del("Authorization")
			r.Header.Set("X-User-Id", id)
			proxy.ServeHTTP(w, r)
		})
		runBenchHeader(b, h, "GET", "/api/me", nil, hdr)
	})
}

type benchSearch struct {
	Category *string `json:"category"`
	MaxPrice *int    `json:"max_price"`
}

var benchJSONHeader = http.Header{"Content-Type": {"application/json"}}

func BenchmarkJSONValidate(b *testing.B) {
	up := benchUpstream(b)
	body := []byte(`{"category":"lighting","max_price":120}`)
	b.Run("apigate", func(b *testing.B) {
		g := MustNew(Mount(Service("/api", POST("/items/search", JSON[benchSearch]())), up.URL))
		defer g.CloseIdleConnections()
		runBenchHeader(b, g, "POST", "/api/items/search", body, benchJSONHeader)
	})
	b.Run("stdlib", func(b *testing.B) {
		proxy := stdlibProxy(b, up.URL)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var in benchSearch
			raw, ok := stdlibReadJSON(w, r, &in)
			if !ok {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(raw))
			r.ContentLength = int64(len(raw))
			proxy.ServeHTTP(w, r)
		})
		runBenchHeader(b, h, "POST", "/api/items/search", body, benchJSONHeader)
	})
}

type benchLookupIn struct {
	Q string `json:"q" apigate:"required"`
}

type benchLookupOut struct {
	Query  string `json:"query"`
	Limit  int    `json:"limit"`
	Source string `json:"source"`
}

func benchRemap(in benchLookupIn) benchLookupOut {
	return benchLookupOut{Query: strings.TrimSpace(in.Q), Limit: 20, Source: "gateway"}
}

func BenchmarkJSONMap(b *testing.B) {
	up := benchUpstream(b)
	body := []byte(`{"q":"  desk lamp "}`)
	b.Run("apigate", func(b *testing.B) {
		m := func(c *Ctx, in benchLookupIn) (benchLookupOut, error) { return benchRemap(in), nil }
		g := MustNew(Mount(Service("/api", POST("/items/lookup", JSON[benchLookupIn](), Map(m))), up.URL))
		defer g.CloseIdleConnections()
		runBenchHeader(b, g, "POST", "/api/items/lookup", body, benchJSONHeader)
	})
	b.Run("stdlib", func(b *testing.B) {
		proxy := stdlibProxy(b, up.URL)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var in benchLookupIn
			if _, ok := stdlibReadJSON(w, r, &in); !ok {
				return
			}
			if in.Q == "" {
				http.Error(w, "q is required", http.StatusBadRequest)
				return
			}
			out, _ := json.Marshal(benchRemap(in))
			r.Body = io.NopCloser(bytes.NewReader(out))
			r.ContentLength = int64(len(out))
			r.Header.Del("Transfer-Encoding")
			proxy.ServeHTTP(w, r)
		})
		runBenchHeader(b, h, "POST", "/api/items/lookup", body, benchJSONHeader)
	})
}

// stdlibReadJSON is the hand-written body check: content type, size limit,
// decoding. It answers the client itself and reports false on failure.
func stdlibReadJSON(w http.ResponseWriter, r *http.Request, v any) ([]byte, bool) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		http.Error(w, "want JSON", http.StatusUnsupportedMediaType)
		return nil, false
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, DefaultBodyLimit))
	if err != nil {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		http.Error(w, "bad JSON", http.StatusBadRequest)
		return nil, false
	}
	return raw, true
}
