package apigate

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocSnippetsCompile checks that every Go snippet of README.md,
// docs/*.md and doc.go appears in a Go file of the repository (most live
// in examples/quickstart and examples/internal/snippets), so that the
// snippets readers copy are code the build compiles. Lines are compared
// with leading and repeated spaces removed and blank lines skipped, since
// a snippet's indentation and alignment differ from gofmt'd source.
func TestDocSnippetsCompile(t *testing.T) {
	var sources []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && path != "doc.go" {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sources = append(sources, "\n"+normalize(string(b))+"\n")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := filepath.Glob("docs/*.md")
	n := 0
	for _, doc := range append([]string{"README.md", "doc.go"}, docs...) {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range goSnippets(doc, string(b)) {
			n++
			want := "\n" + normalize(s.text) + "\n"
			found := false
			for _, src := range sources {
				if strings.Contains(src, want) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s:%d: this Go snippet appears in no Go file of the repository; put it in one that builds (examples/internal/snippets):\n%s", doc, s.line, s.text)
			}
		}
	}
	if n < 10 {
		t.Errorf("found %d snippets, want at least 10: is the extraction broken?", n)
	}
}

type snippet struct {
	line int
	text string
}

// goSnippets returns the ```go blocks of a Markdown file, or the indented
// code blocks of a Go file's doc comment.
func goSnippets(name, text string) []snippet {
	var out []snippet
	lines := strings.Split(text, "\n")
	if strings.HasSuffix(name, ".go") {
		var cur []string
		start := 0
		for i, l := range lines {
			switch {
			case strings.HasPrefix(l, "//\t"):
				if cur == nil {
					start = i + 1
				}
				cur = append(cur, strings.TrimPrefix(l, "//\t"))
			case l == "//" && cur != nil:
				cur = append(cur, "")
			default:
				if cur != nil {
					out = append(out, snippet{start, strings.Join(cur, "\n")})
					cur = nil
				}
			}
		}
		return out
	}
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```go" {
			continue
		}
		start := i + 1
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
		}
		out = append(out, snippet{start + 1, strings.Join(lines[start:i], "\n")})
	}
	return out
}

// normalize trims each line, collapses runs of spaces and tabs, and drops
// blank lines.
func normalize(s string) string {
	var b strings.Builder
	for l := range strings.SplitSeq(s, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		b.WriteString(strings.Join(f, " "))
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}
