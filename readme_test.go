package busifavor_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeSnippetsComeFromExamples keeps the READMEs' Go snippets honest:
// every code line in them (comments aside, which are translated) must stand
// in one of the runnable examples.
func TestReadmeSnippetsComeFromExamples(t *testing.T) {
	var examples strings.Builder
	for _, f := range []string{"example_test.go", "busifavortest/example_test.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		examples.Write(b)
	}
	known := map[string]bool{}
	for _, line := range strings.Split(examples.String(), "\n") {
		known[codeOf(line)] = true
	}
	block := regexp.MustCompile("(?s)```go\n(.*?)```")
	for _, readme := range []string{"README.md", "README.zh-CN.md"} {
		b, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range block.FindAllStringSubmatch(string(b), -1) {
			for _, line := range strings.Split(m[1], "\n") {
				if c := codeOf(line); c != "" && !known[c] {
					t.Errorf("%s: %q is in no example", readme, c)
				}
			}
		}
	}
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
