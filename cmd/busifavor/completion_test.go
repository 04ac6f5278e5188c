package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCompleteOffersWhatTheTableHolds: __complete offers the words a
// command line can start with, a group's verbs, a command's flags, the
// values of a flag that takes one of a few, completion's shells, and
// nothing where a file name goes.
func TestCompleteOffersWhatTheTableHolds(t *testing.T) {
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{""}, append(topWords(), "help", "--help")},
		{[]string{"s"}, []string{"set", "stock", "subsidy", "sandbox"}},
		{[]string{"sto"}, []string{"stock"}},
		{[]string{"stock", ""}, []string{"create", "get", "update", "budget"}},
		{[]string{"subsidy", "r"}, []string{"return"}},
		{[]string{"help", "co"}, []string{"codes", "coupon", "completion"}},
		{[]string{"coupon", "link", "--ch"}, []string{"--channel"}},
		{[]string{"coupon", "link", "--channel", ""}, []string{"h5", "miniprogram", "jsapi"}},
		{[]string{"coupon", "link", "-channel", "m"}, []string{"miniprogram"}},
		{[]string{"coupon", "link", "--channel=h5", "--op"}, []string{"--openid"}},
		{[]string{"event", "send", "URL", "--"}, []string{"--apiv3-key-file", "--coupon-code", "--keys-dir", "--openid", "--stock-id", "--timeout", "--help"}},
		{[]string{"stock", "create", "--file", ""}, nil},
		{[]string{"stock", "get", "--json", ""}, nil},
		{[]string{"completion", ""}, []string{"bash", "zsh"}},
		{[]string{"completion", "bash", ""}, nil},
		{[]string{"nosuch", ""}, nil},
	} {
		assert.Equal(t, tc.want, complete(tc.words), "%q", tc.words)
	}
	code, out, _ := runCmd(t, nil, "__complete", "subsidy", "")
	assert.Equal(t, exitOK, code)
	assert.Equal(t, "pay\nget\nlist\nreturn\n", out)
}

// buildCommand builds the command into a directory of its own and returns
// that directory, for a PATH.
func buildCommand(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "busifavor"), ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	return dir
}

// TestCompletionScriptsCompleteInTheShell loads each script into its shell,
// with the built command on the PATH, and completes a command line.
func TestCompletionScriptsCompleteInTheShell(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := buildCommand(t)
	run := func(t *testing.T, shell, script string) string {
		cmd := exec.Command(shell, "-c", script)
		cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		return string(out)
	}
	t.Run("bash", func(t *testing.T) {
		needShell(t, "bash")
		complete := func(cword int, words ...string) string {
			return run(t, "bash", `source <(busifavor completion bash)
COMP_WORDS=(`+quoteWords(words)+`); COMP_CWORD=`+string(rune('0'+cword))+`
_busifavor
printf '%s\n' "${COMPREPLY[@]}"
complete -p busifavor`)
		}
		out := complete(1, "busifavor", "sto")
		assert.True(t, strings.HasPrefix(out, "stock\n"), out)
		assert.Contains(t, out, "complete -o default -F _busifavor busifavor")
		assert.True(t, strings.HasPrefix(complete(4, "busifavor", "coupon", "link", "--channel", ""), "h5\nminiprogram\njsapi\n"))
		assert.True(t, strings.HasPrefix(complete(2, "busifavor", "stock", "bu"), "budget\n"))
	})
	t.Run("zsh", func(t *testing.T) {
		needShell(t, "zsh")
		// compadd, _files and compdef stand in for the completion system:
		// they print what the script hands them.
		complete := func(words ...string) string {
			return run(t, "zsh", `compdef() { print -r -- "compdef $*" }
compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@" }
_files() { print -r -- FILES }
source <(busifavor completion zsh)
words=(`+quoteWords(words)+`); CURRENT=${#words}
_busifavor`)
		}
		assert.Equal(t, "compdef _busifavor busifavor\nsubsidy\n", complete("busifavor", "subs"))
		assert.Equal(t, "compdef _busifavor busifavor\nh5\nminiprogram\njsapi\n", complete("busifavor", "coupon", "link", "--channel", ""))
		assert.Equal(t, "compdef _busifavor busifavor\nFILES\n", complete("busifavor", "stock", "create", "--file", ""))
	})
}

// needShell skips the test when shell is not installed, or fails it when
// BUSIFAVOR_REQUIRE_SHELLS is set (CI installs both).
func needShell(t *testing.T, shell string) {
	t.Helper()
	if _, err := exec.LookPath(shell); err != nil {
		if os.Getenv("BUSIFAVOR_REQUIRE_SHELLS") != "" {
			t.Fatalf("%s is not installed and BUSIFAVOR_REQUIRE_SHELLS is set", shell)
		}
		t.Skipf("%s is not installed", shell)
	}
}

// quoteWords writes words as a shell array's elements, each quoted.
func quoteWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + w + "'"
	}
	return strings.Join(q, " ")
}
