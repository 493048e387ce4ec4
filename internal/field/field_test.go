package field

import (
	"net/textproto"
	"testing"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"Content-Type", true},
		{"x-a.b_c~d!#$%&'*+^`|", true},
		{"GET", true},
		{"", false},
		{"Host ", false},
		{"a:b", false},
		{"a b", false},
		{"a\tb", false},
		{"a\r\nb", false},
		{"ä", false},
	}
	for _, d := range []byte("\"(),/;<=>?@[\\]{}") {
		tests = append(tests, struct {
			in   string
			want bool
		}{"a" + string(d), false})
	}
	for _, tt := range tests {
		if got := ValidName(tt.in); got != tt.want {
			t.Errorf("ValidName(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidValue(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", true},
		{"text/html; q=0.9", true},
		{"a\tb", true},
		{"caf\xc3\xa9", true},
		{"a\rb", false},
		{"a\nb", false},
		{"a\x00b", false},
		{"a\x7fb", false},
	}
	for _, tt := range tests {
		if got := ValidValue(tt.in); got != tt.want {
			t.Errorf("ValidValue(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// FuzzCanonicalName checks CanonicalName against what it replaces:
// ValidName, then textproto.CanonicalMIMEHeaderKey.
func FuzzCanonicalName(f *testing.F) {
	for _, s := range []string{"Content-Type", "content-type", "X-REQUEST-ID", "x-a-", "-x", "a b", "", "Te", "te", "ETag", "x_y.z~1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := CanonicalName(s)
		if ok != ValidName(s) {
			t.Fatalf("CanonicalName(%q) ok = %v, ValidName = %v", s, ok, !ok)
		}
		if ok && got != textproto.CanonicalMIMEHeaderKey(s) {
			t.Fatalf("CanonicalName(%q) = %q, want %q", s, got, textproto.CanonicalMIMEHeaderKey(s))
		}
	})
}

func TestCanonicalNameAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { CanonicalName("X-Request-Id") }); n != 0 {
		t.Errorf("CanonicalName of a canonical name allocates %v times, want 0", n)
	}
}
