package busifavor_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestReadmeSnippetsCompileAsPasted extracts every ```go snippet of both
// READMEs into a package of its own in a scratch module and type-checks
// them all with go vet. Each snippet is a whole file, its package clause
// and imports included, that defines every name it uses: it runs as
// pasted, with no goimports to run and no `client`, `ctx` or `fake` left
// for the reader to guess.
func TestReadmeSnippetsCompileAsPasted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every README snippet")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	block := regexp.MustCompile("(?s)```go\n(.*?)```")
	where := map[string]string{} // snippet directory -> README and line
	for _, readme := range []string{"README.md", "README.zh-CN.md"} {
		b, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for i, m := range block.FindAllStringSubmatchIndex(text, -1) {
			name := fmt.Sprintf("%s_%02d", strings.TrimSuffix(strings.ReplaceAll(readme, ".", "_"), "_md"), i+1)
			where[name] = fmt.Sprintf("%s:%d", readme, strings.Count(text[:m[0]], "\n")+1)
			if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
				t.Fatal(err)
			}
			src := text[m[2]:m[3]]
			if !strings.HasPrefix(src, "package main\n") || !strings.Contains(src, "\nfunc main() {\n") {
				t.Errorf("snippet at %s is not a whole main package: start it with package main and its imports", where[name])
			}
			if err := os.WriteFile(filepath.Join(dir, name, "main.go"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(where) == 0 {
		t.Fatal("no snippets")
	}
	// The scratch module requires what both modules require, at their
	// versions. go test has put the core's in the module cache; redisdedup's
	// (go-redis) may not be there yet on a new machine, so the go command
	// may fetch it through the configured proxy, as the README's own
	// (cd redisdedup && go test) would.
	requires := map[string]bool{"github.com/busifavor-go/busifavor v0.0.0": true, "github.com/busifavor-go/busifavor/redisdedup v0.0.0": true,
		"github.com/busifavor-go/busifavor/busifavorotel v0.0.0": true}
	var sum []byte
	for _, m := range []string{".", "redisdedup", "busifavorotel"} {
		b, err := os.ReadFile(filepath.Join(m, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range regexp.MustCompile(`(?m)^(?:require)?\s*([\w./-]+) (v\S+)`).FindAllStringSubmatch(string(b), -1) {
			if !strings.HasPrefix(r[1], "github.com/busifavor-go/") {
				requires[r[1]+" "+r[2]] = true
			}
		}
		if b, err = os.ReadFile(filepath.Join(m, "go.sum")); err != nil {
			t.Fatal(err)
		}
		sum = append(sum, b...)
	}
	var reqs []string
	for r := range requires {
		reqs = append(reqs, "\t"+r)
	}
	sort.Strings(reqs)
	mod := "module readmesnippets\n\ngo 1.24\n\nrequire (\n" + strings.Join(reqs, "\n") + "\n)\n\n" +
		"replace (\n\tgithub.com/busifavor-go/busifavor => " + root + "\n\tgithub.com/busifavor-go/busifavor/redisdedup => " + filepath.Join(root, "redisdedup") +
		"\n\tgithub.com/busifavor-go/busifavor/busifavorotel => " + filepath.Join(root, "busifavorotel") + "\n)\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	vet := exec.Command("go", "vet", "-mod=mod", "./...")
	vet.Dir, vet.Env = dir, append(os.Environ(), "GOTOOLCHAIN=local")
	out, err := vet.CombinedOutput()
	if err == nil {
		return
	}
	// Name each failing snippet by its README line.
	lines := strings.Split(string(out), "\n")
	var names []string
	for n := range where {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, l := range lines {
			if strings.Contains(l, n+"/") || strings.Contains(l, n+":") || strings.HasSuffix(l, "/"+n) {
				t.Errorf("snippet at %s: %s", where[n], l)
			}
		}
	}
	t.Fatalf("go vet of the README snippets: %v\n%s", err, out)
}
