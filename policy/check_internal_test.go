package policy

import (
	"slices"
	"testing"
)

func TestParamNames(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{"/api/items", nil},
		{"/", nil},
		{"/api/users/:id", []string{"id"}},
		{"/api/users/:id/files/*path", []string{"id", "path"}},
		{"/:a/:b/:c", []string{"a", "b", "c"}},
		{"/static/*filepath", []string{"filepath"}},
		{"/v1/:name.json", []string{"name.json"}}, // httprouter names run to the next '/'
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			if got := paramNames(tt.pattern); !slices.Equal(got, tt.want) {
				t.Errorf("paramNames(%q) = %q, want %q", tt.pattern, got, tt.want)
			}
		})
	}
}
