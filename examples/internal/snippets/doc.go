// Package snippets holds the Go snippets of README.md and docs/*.md, so
// that they compile: a test in the root package fails when a snippet no
// longer appears verbatim (up to indentation and spacing) in a Go file of
// the repository.
package snippets
