package rewrite

import (
	"fmt"
	"slices"
	"strings"

	"github.com/julienschmidt/httprouter"
)

// Params returns the parameter names of an httprouter pattern in order:
// ":name" and "*name" segments.
func Params(pattern string) []string {
	var names []string
	for i := 0; i < len(pattern); i++ {
		if c := pattern[i]; c == ':' || c == '*' {
			j := i + 1
			for j < len(pattern) && pattern[j] != '/' {
				j++
			}
			names = append(names, pattern[i+1:j])
			i = j - 1
		}
	}
	return names
}

// A Template is a compiled To template such as "/v2/items/:id" or
// "/files/*path". Filling it costs one allocation.
type Template struct {
	parts []part
	size  int // bytes of literal text
}

type part struct {
	lit   string
	param int  // index into the route's params, -1 for a literal
	catch bool // "*name": the value's leading '/' merges with a '/' before it
}

// Compile parses tmpl. A ':name' or '*name' reference must name one of
// params (the route pattern's parameters, in order); names end at '/' or at
// a character outside [A-Za-z0-9_].
func Compile(tmpl string, params []string) (*Template, error) {
	if tmpl == "" || tmpl[0] != '/' {
		return nil, fmt.Errorf("rewrite: template %q must start with /", tmpl)
	}
	t := &Template{}
	lit := 0
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c != ':' && c != '*' {
			continue
		}
		j := i + 1
		for j < len(tmpl) && isNameByte(tmpl[j]) {
			j++
		}
		name := tmpl[i+1 : j]
		if name == "" {
			return nil, fmt.Errorf("rewrite: template %q: %c without a name at %d", tmpl, c, i)
		}
		idx := slices.Index(params, name)
		if idx < 0 {
			return nil, fmt.Errorf("rewrite: template %q names %c%s, which the route pattern lacks (it has %v)", tmpl, c, name, params)
		}
		if lit < i {
			t.parts = append(t.parts, part{lit: tmpl[lit:i], param: -1})
			t.size += i - lit
		}
		t.parts = append(t.parts, part{param: idx, catch: c == '*'})
		lit = j
		i = j - 1
	}
	if lit < len(tmpl) {
		t.parts = append(t.parts, part{lit: tmpl[lit:], param: -1})
		t.size += len(tmpl) - lit
	}
	return t, nil
}

// Fill returns the template with each reference replaced by the matching
// value of ps, which must come from the route the template was compiled
// for. Values are inserted as they are (escaped form): call [Check] on the
// result.
func (t *Template) Fill(ps httprouter.Params) string {
	n := t.size
	for _, p := range t.parts {
		if p.param >= 0 && p.param < len(ps) {
			n += len(ps[p.param].Value)
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range t.parts {
		if p.param < 0 {
			b.WriteString(p.lit)
			continue
		}
		if p.param >= len(ps) {
			continue
		}
		v := ps[p.param].Value
		if p.catch && len(v) > 0 && v[0] == '/' && b.Len() > 0 && strings.HasSuffix(b.String(), "/") {
			v = v[1:]
		}
		b.WriteString(v)
	}
	return b.String()
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}
