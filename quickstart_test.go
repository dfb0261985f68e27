package session_test

import (
	"bytes"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuickstartIsTheExample holds the README's quick start and the package
// doc's to the program in examples/quickstart, which that directory's test
// builds and runs: all three are the same bytes, so neither document can
// show code that does not compile.
func TestQuickstartIsTheExample(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("examples", "quickstart", "main.go"))
	if err != nil {
		t.Fatal(err)
	}

	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- quickstart -->\n```go\n", "```\n<!-- /quickstart -->"
	_, rest, ok := bytes.Cut(readme, []byte(begin))
	block, _, ok2 := bytes.Cut(rest, []byte(end))
	if !ok || !ok2 {
		t.Fatalf("README.md has no Go block between %q and %q", strings.TrimSpace(begin), end)
	}
	if !bytes.Equal(block, want) {
		t.Errorf("README.md's quick start differs from examples/quickstart/main.go; copy the file between the markers")
	}

	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	var p comment.Parser
	d := p.Parse(f.Doc.Text())
	code := ""
	for i, b := range d.Content {
		if h, ok := b.(*comment.Heading); ok && headingText(h) == "Quick start" {
			for _, b := range d.Content[i+1:] {
				if c, ok := b.(*comment.Code); ok {
					code = c.Text
					break
				}
			}
			break
		}
	}
	if code == "" {
		t.Fatal("doc.go has no code block under # Quick start")
	}
	if code != string(want) {
		t.Errorf("doc.go's quick start differs from examples/quickstart/main.go; indent the file by one tab after //")
	}
}

func headingText(h *comment.Heading) string {
	var s strings.Builder
	for _, t := range h.Text {
		if p, ok := t.(comment.Plain); ok {
			s.WriteString(string(p))
		}
	}
	return s.String()
}
