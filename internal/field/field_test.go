package field

import "testing"

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
