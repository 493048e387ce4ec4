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
// ValidName, then textproto.CanonicalMIMEHeaderKey; and AppendCanonical
// against the same for a valid name.
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
		if b := AppendCanonical([]byte("x"), s); ok && string(b) != "x"+got {
			t.Fatalf("AppendCanonical(x, %q) = %q, want %q", s, b, "x"+got)
		}
	})
}

func TestCanonicalNameAllocs(t *testing.T) {
	b := make([]byte, 0, 32)
	if n := testing.AllocsPerRun(100, func() { b = AppendCanonical(b[:0], "x-request-ID") }); n != 0 {
		t.Errorf("AppendCanonical with room allocates %v times, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { CanonicalName("X-Request-Id") }); n != 0 {
		t.Errorf("CanonicalName of a canonical name allocates %v times, want 0", n)
	}
}

// validValueBytes is ValidValue one byte at a time, the reference for
// its word-at-a-time scan.
func validValueBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func FuzzValidValue(f *testing.F) {
	for _, s := range []string{"", "text/html; charset=utf-8", "a\tb", "a\x7fb", "0123456789abcdef\x00", "\xff\xfe\x80 ok", "12345678\r", "\x1f", "tab\there and there\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidValue(s), validValueBytes(s); got != want {
			t.Fatalf("ValidValue(%q) = %v, want %v", s, got, want)
		}
	})
}

// TestValidValueEveryByte puts each byte value at each position of a
// 17-byte value, after tabs and obs-text that come near the limits.
func TestValidValueEveryByte(t *testing.T) {
	for c := 0; c < 256; c++ {
		for i := range 17 {
			b := []byte("\t~ \x80\xff\t!ab\x7e\x20cd\xa0ef\t")
			b[i] = byte(c)
			s := string(b)
			if got, want := ValidValue(s), validValueBytes(s); got != want {
				t.Fatalf("ValidValue(%q) = %v, want %v", s, got, want)
			}
		}
	}
}

func BenchmarkValidValue(b *testing.B) {
	vals := []string{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "application/json", "gzip, deflate, br", "session=0123456789abcdef", "4bf92f3577b34da6"}
	for b.Loop() {
		for _, v := range vals {
			if !ValidValue(v) {
				b.Fatal(v)
			}
		}
	}
}
