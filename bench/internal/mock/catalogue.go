// Package mock holds the benchmark's upstream services, built on
// valyala/fasthttp so that they are not the bottleneck: an auth service that
// issues and verifies HS256 JWTs, and a data service that serves a small
// fixed catalogue.
//
// The data service trusts its gateway: it does not validate request bodies
// (a field of the wrong type or malformed JSON is read as no filter), so a
// gateway that skips the contract's validation is caught by the contract
// tests instead of being hidden by the backend.
package mock

import "strings"

// Product is one entry of the catalogue.
type Product struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Category string `json:"category"`
	Price    int    `json:"price"`
	Owner    string `json:"owner"`
}

// Catalogue returns the data service's fixed catalogue: seven products,
// about half a kilobyte of JSON.
func Catalogue() []Product {
	return []Product{
		{"p-1", "Phone X", "electronics", 699, "u-1"},
		{"p-2", "Phone Case", "accessories", 19, "u-2"},
		{"p-3", "Headphones", "electronics", 149, "u-1"},
		{"p-4", "Coffee Mug", "kitchen", 12, "u-3"},
		{"p-5", "Smart Watch", "electronics", 299, "u-2"},
		{"p-6", "Desk Lamp", "home", 39, "u-1"},
		{"p-7", "Phone Charger", "electronics", 25, "u-3"},
	}
}

// entry is a product with its JSON encoding and lower-cased name computed
// once.
type entry struct {
	Product
	json  []byte
	lower string
}

func newEntries(ps []Product) []entry {
	es := make([]entry, len(ps))
	for i, p := range ps {
		es[i] = entry{Product: p, lower: strings.ToLower(p.Name), json: appendProduct(nil, p)}
	}
	return es
}

func appendProduct(b []byte, p Product) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, p.ID)
	b = append(b, `,"name":`...)
	b = appendString(b, p.Name)
	b = append(b, `,"category":`...)
	b = appendString(b, p.Category)
	b = append(b, `,"price":`...)
	b = appendInt(b, p.Price)
	b = append(b, `,"owner":`...)
	b = appendString(b, p.Owner)
	return append(b, '}')
}
