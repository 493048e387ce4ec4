package mock

import (
	"encoding/json"
	"testing"
)

// decodeString decodes a JSON string.
func decodeString(t *testing.T, b []byte) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%q is not a JSON string: %v", b, err)
	}
	return s
}

// checkAppendString checks appendString against encoding/json: both
// encodings must decode to the same string.
func checkAppendString(t *testing.T, s string) {
	t.Helper()
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got := appendString(nil, s)
	if g, w := decodeString(t, got), decodeString(t, want); g != w {
		t.Errorf("appendString(%q) = %s, decodes to %q; encoding/json decodes to %q", s, got, g, w)
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"plain", "Phone X"},
		{"quote and backslash", `a"b\c`},
		{"controls", "a\n\t\x00\x1fb"},
		{"unicode", "café ☕ 日本"},
		{"invalid UTF-8", "a\xffb\xc3"},
		{"html", "<a href='x'>&</a>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkAppendString(t, tt.in) })
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "x", `"\`, "\x00\xff", "日本"} {
		f.Add(s)
	}
	f.Fuzz(checkAppendString)
}
