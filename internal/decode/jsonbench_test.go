package decode

import (
	"encoding/json"
	"testing"
	"unsafe"
)

// The benchmarks compare the compiled codecs with encoding/json on the
// bench contract's shapes; run them with benchstat -col /impl.

func benchJSONDecode[T any](b *testing.B, body string) {
	data := []byte(body)
	d := testDecoder[T](b)
	b.Run("impl=compiled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v T
			if !d.Decode(unsafe.Pointer(&v), data) {
				b.Fatal("decode failed")
			}
		}
	})
	b.Run("impl=encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v T
			if err := json.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkJSONDecodeSearch(b *testing.B) {
	benchJSONDecode[jSearch](b, `{"category":"lighting","max_price":120}`)
}

func BenchmarkJSONDecodeLookup(b *testing.B) {
	benchJSONDecode[jLookup](b, `{"q":"  desk lamp "}`)
}

func BenchmarkJSONEncodeLookupOut(b *testing.B) {
	v := jLookupOut{Query: "desk lamp", Limit: 20, Source: "gateway"}
	e := testEncoder[jLookupOut](b)
	b.Run("impl=compiled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := e.Marshal(unsafe.Pointer(&v)); !ok {
				b.Fatal("encode failed")
			}
		}
	})
	b.Run("impl=encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
