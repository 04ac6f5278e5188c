package busifavor_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeSnippetsComeFromExamples keeps the READMEs' Go snippets honest:
// each names its source, [`ExampleX`](file_test.go), in the text before it,
// and every code line of the snippet (comments aside, which are translated)
// must stand in that example's body, which go test runs or compiles.
func TestReadmeSnippetsComeFromExamples(t *testing.T) {
	source := regexp.MustCompile("\\[`(Example\\w*)`\\]\\(([\\w/.-]+_test\\.go)\\)")
	block := regexp.MustCompile("(?s)```go\n(.*?)```")
	for _, readme := range []string{"README.md", "README.zh-CN.md"} {
		b, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		text, prev := string(b), 0
		for _, m := range block.FindAllStringSubmatchIndex(text, -1) {
			names := source.FindAllStringSubmatch(text[prev:m[0]], -1)
			prev = m[1]
			if len(names) == 0 {
				t.Errorf("%s: the snippet at byte %d does not say which example it comes from", readme, m[0])
				continue
			}
			name, file := names[len(names)-1][1], names[len(names)-1][2]
			known := map[string]bool{}
			for _, line := range strings.Split(exampleBody(t, file, name), "\n") {
				known[codeOf(line)] = true
			}
			for _, line := range strings.Split(text[m[2]:m[3]], "\n") {
				if c := codeOf(line); c != "" && !known[c] {
					t.Errorf("%s: %q is not in %s (%s)", readme, c, name, file)
				}
			}
		}
	}
}

// exampleBody returns the source of the body of function name in file.
func exampleBody(t *testing.T, file, name string) string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == name && fn.Recv == nil {
			return string(src[fset.Position(fn.Body.Lbrace).Offset:fset.Position(fn.Body.Rbrace).Offset])
		}
	}
	t.Fatalf("%s has no func %s", file, name)
	return ""
}

// codeOf strips a line's comment (a "// " outside a string) and surrounding
// space.
func codeOf(line string) string {
	for i := strings.Index(line, "// "); i >= 0; {
		if strings.Count(line[:i], `"`)%2 == 0 {
			line = line[:i]
			break
		}
		next := strings.Index(line[i+3:], "// ")
		if next < 0 {
			break
		}
		i += 3 + next
	}
	return strings.TrimSpace(line)
}
