package session_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The documents checked here live at the repository root, which is this
// package's directory; the tests they cite may be in any module under it
// (e2e/, modeltest/, examples/, bench/ have their own go.mod).

var (
	citedTest = regexp.MustCompile("`((?:Test|Fuzz|Example)[A-Z_][A-Za-z0-9_]*)(?:/([A-Za-z0-9_]+))?`")
	testFunc  = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Example)[A-Za-z0-9_]*)\(`)
)

// TestSecurityDocCitesRealTests fails when SECURITY.md names a test that
// does not exist, so its list of guarantees and their tests cannot rot. A
// citation `TestX/Sub` needs TestX and a subtest named "Sub" somewhere.
func TestSecurityDocCitesRealTests(t *testing.T) {
	doc, err := os.ReadFile("SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	funcs := map[string]bool{}
	var sources [][]byte // every Go file, to find subtest names in
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sources = append(sources, src)
		if strings.HasSuffix(path, "_test.go") {
			for _, m := range testFunc.FindAllSubmatch(src, -1) {
				funcs[string(m[1])] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cites := citedTest.FindAllSubmatch(doc, -1)
	if len(cites) < 50 {
		t.Fatalf("found %d test names in SECURITY.md; the pattern no longer matches how it cites them", len(cites))
	}
	for _, m := range cites {
		sub := string(m[2])
		if !funcs[string(m[1])] {
			t.Errorf("SECURITY.md cites %s, which no _test.go file under the repository defines", m[0])
			continue
		}
		if sub == "" {
			continue
		}
		lit := []byte(`"` + sub + `"`)
		found := false
		for _, src := range sources {
			if bytes.Contains(src, lit) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("SECURITY.md cites %s, but no Go file names a subtest %s", m[0], lit)
		}
	}
}
