package decode

import (
	"net/url"
	"testing"
	"unsafe"

	"github.com/julienschmidt/httprouter"
)

type benchPath struct {
	Org  string `path:"org"`
	ID   int64  `path:"id,required"`
	Kind string `path:"kind"`
}

type benchPathUUID struct {
	Org string `path:"org"`
	ID  uuid   `path:"id,required"`
	N   int    `path:"n"`
}

type benchQuery struct {
	Q      string  `query:"q,required"`
	Limit  int     `query:"limit"`
	Offset int     `query:"offset"`
	Exact  bool    `query:"exact"`
	Score  float64 `query:"score"`
}

type benchQueryOpt struct {
	Q     string   `query:"q,required"`
	Limit *int     `query:"limit"`
	Tags  []string `query:"tag"`
	IDs   []uuid   `query:"id"`
	Exact bool     `query:"exact"`
}

func BenchmarkDecodeParams(b *testing.B) {
	p := compile[benchPath](b, SourcePath)
	ps := httprouter.Params{{Key: "org", Value: "acme"}, {Key: "id", Value: "1234567"}, {Key: "kind", Value: "widget"}}
	dst := new(benchPath)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.DecodeParams(unsafe.Pointer(dst), ps); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeParamsUUID(b *testing.B) {
	p := compile[benchPathUUID](b, SourcePath)
	ps := httprouter.Params{{Key: "org", Value: "acme"}, {Key: "id", Value: uuid1}, {Key: "n", Value: "3"}}
	dst := new(benchPathUUID)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.DecodeParams(unsafe.Pointer(dst), ps); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeValues(b *testing.B) {
	p := compile[benchQuery](b, SourceQuery)
	v := url.Values{"q": {"shoes"}, "limit": {"20"}, "offset": {"40"}, "exact": {"true"}, "score": {"0.75"}}
	dst := new(benchQuery)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.DecodeValues(unsafe.Pointer(dst), v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeValuesStrict(b *testing.B) {
	p := compile[benchQuery](b, SourceQuery).Strict()
	v := url.Values{"q": {"shoes"}, "limit": {"20"}, "offset": {"40"}, "exact": {"true"}, "score": {"0.75"}}
	dst := new(benchQuery)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.DecodeValues(unsafe.Pointer(dst), v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeValuesAlloc decodes a pointer and two slices: one
// allocation each, plus the UnmarshalText scratch buffer.
func BenchmarkDecodeValuesAlloc(b *testing.B) {
	p := compile[benchQueryOpt](b, SourceQuery)
	v := url.Values{"q": {"shoes"}, "limit": {"20"}, "tag": {"a", "b", "c"}, "id": {uuid1, uuid2}, "exact": {"1"}}
	dst := new(benchQueryOpt)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.DecodeValues(unsafe.Pointer(dst), v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	p := compile[benchQuery](b, SourceQuery)
	src := &benchQuery{Q: "shoes", Limit: 20, Offset: 40, Exact: true, Score: 0.75}
	dst := make(url.Values, 8)
	b.ReportAllocs()
	for b.Loop() {
		clear(dst)
		if err := p.Encode(unsafe.Pointer(src), dst); err != nil {
			b.Fatal(err)
		}
		_ = dst.Encode()
	}
}

// TestDecodeParamsAllocs pins the zero-allocation path-parameter decode.
func TestDecodeParamsAllocs(t *testing.T) {
	p := compile[benchPath](t, SourcePath)
	q := compile[benchQuery](t, SourceQuery).Strict()
	ps := httprouter.Params{{Key: "org", Value: "acme"}, {Key: "id", Value: "1234567"}, {Key: "kind", Value: "widget"}}
	v := url.Values{"q": {"shoes"}, "limit": {"20"}, "offset": {"40"}, "exact": {"true"}, "score": {"0.75"}}
	dp, dq := new(benchPath), new(benchQuery)
	tests := []struct {
		name string
		fn   func()
		want float64
	}{
		{"DecodeParams", func() { _ = p.DecodeParams(unsafe.Pointer(dp), ps) }, 0},
		{"DecodeValues strict", func() { _ = q.DecodeValues(unsafe.Pointer(dq), v) }, 0},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(100, tt.fn); got != tt.want {
			t.Errorf("%s: %v allocs per run, want %v", tt.name, got, tt.want)
		}
	}
}
