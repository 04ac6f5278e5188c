package main

import (
	"flag"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTableIsWhole: every command of the table has a group, a summary, a
// help text and an example; names are unique and a group's word never
// names a one-word command too; and its flags are its own: no two
// commands share the values they parse into.
func TestTableIsWhole(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range commands {
		assert.False(t, seen[c.name], "%s twice", c.name)
		seen[c.name] = true
		assert.NotEmpty(t, c.group, c.name)
		assert.NotEmpty(t, c.summary, c.name)
		assert.NotEmpty(t, c.help, c.name)
		assert.NotEmpty(t, c.examples, c.name)
		assert.LessOrEqual(t, len(strings.Fields(c.name)), 2, c.name)
	}
	for _, g := range groupNames() {
		assert.False(t, seen[g], "%s is a group and a command", g)
	}
	// Two parses of one command do not share values: each run gets its own.
	for _, c := range commands {
		_, _, a, _, _ := c.flagSets()
		_, _, b, _, _ := c.flagSets()
		a.VisitAll(func(f *flag.Flag) {
			if _, ok := f.Value.(interface{ IsBoolFlag() bool }); ok {
				return
			}
			if f.Value.String() == "" {
				v := "1"
				if f.Name == "route" { // NOTIFY_URL=LOCAL_URL
					v = "https://shop.example.com/n=http://127.0.0.1:1/n"
				}
				require.NoError(t, a.Set(f.Name, v))
				assert.NotEqual(t, v, b.Lookup(f.Name).Value.String(), "%s --%s is shared between runs", c.name, f.Name)
			}
		})
	}
}

// TestHelpIsMadeFromTheTable: busifavor --help lists every command under
// its group with its summary, a group's name lists the group's commands,
// and busifavor help COMMAND is COMMAND --help.
func TestHelpIsMadeFromTheTable(t *testing.T) {
	code, out, _ := runCmd(t, nil, "--help")
	require.Equal(t, exitOK, code)
	for _, c := range commands {
		assert.Contains(t, out, c.summary, c.name)
		assert.Contains(t, out, "\n  "+c.name, c.name)
		after, _ := strings.CutPrefix(out[strings.Index(out, "\n"+c.group+":\n"):], "\n"+c.group+":\n")
		assert.Contains(t, after[:strings.Index(after, "\n\n")], c.name, "%s is listed under %s", c.name, c.group)
	}
	code, help, _ := runCmd(t, nil, "help", "stock", "get")
	require.Equal(t, exitOK, code)
	_, direct, _ := runCmd(t, nil, "stock", "get", "--help")
	assert.Equal(t, direct, help)
	code, out, _ = runCmd(t, nil, "subsidy")
	require.Equal(t, exitOK, code)
	for _, verb := range []string{"pay", "get", "list", "return"} {
		assert.Contains(t, out, "busifavor subsidy "+verb+" ")
	}
}

// TestUnknownCommandSuggestsTheNearest: a misspelt command gets the
// nearest one and the short usage (a few lines), not the whole help, and
// exit status 2.
func TestUnknownCommandSuggestsTheNearest(t *testing.T) {
	for typed, want := range map[string]string{
		"stok get":    `did you mean "stock get"?`,
		"stock crate": `did you mean "stock create"?`,
		"lisen":       `did you mean "listen"?`,
		"cupon use":   `did you mean "coupon use"?`,
		"subsidy pya": `did you mean "subsidy pay"?`,
		"chek":        `did you mean "check"?`,
	} {
		code, out, errOut := runCmd(t, nil, strings.Fields(typed)...)
		assert.Equal(t, exitUsage, code, typed)
		assert.Empty(t, out, typed)
		assert.Contains(t, errOut, `unknown command "`+typed+`"; `+want, typed)
		assert.LessOrEqual(t, strings.Count(errOut, "\n"), 12, "short usage for %q: %s", typed, errOut)
	}
	code, _, errOut := runCmd(t, nil, "frobnicate")
	assert.Equal(t, exitUsage, code)
	assert.NotContains(t, errOut, "did you mean")
	assert.Contains(t, errOut, "usage: busifavor COMMAND")
	assert.LessOrEqual(t, strings.Count(errOut, "\n"), 5, errOut)
}

// TestUnknownFlagSuggestsTheNearest: a misspelt flag gets the nearest of
// the command's own; a flag of other commands says whose it is.
func TestUnknownFlagSuggestsTheNearest(t *testing.T) {
	code, _, errOut := runCmd(t, nil, "stock", "get", "1200000001", "--jsn")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "did you mean --json?")
	code, _, errOut = runCmd(t, nil, "get", "--notify-url", "https://a.cn/n")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--notify-url is a flag of busifavor set")
}

// TestEachCommandTakesOnlyItsFlags: a command's --help lists its own flags
// and those of what it reads, nothing of other commands'.
func TestEachCommandTakesOnlyItsFlags(t *testing.T) {
	for name, want := range map[string][]string{
		"event send":  {"apiv3-key-file", "coupon-code", "keys-dir", "openid", "stock-id", "timeout"},
		"coupon link": {"apiv2-key-file", "channel", "coupon-code", "openid", "out-request-no", "sandbox", "send-merchant", "stock-id"},
		"completion":  nil,
	} {
		var c *command
		for i := range commands {
			if commands[i].name == name {
				c = &commands[i]
			}
		}
		require.NotNil(t, c, name)
		got := flagNames(c)
		slices.Sort(got)
		assert.Equal(t, want, got, name)
		_, help, _ := runCmd(t, nil, append(strings.Fields(name), "--help")...)
		for _, f := range []string{"merchant-id", "private-key-file", "base-url", "json", "notify-url"} {
			assert.NotContains(t, help, "  -"+f+" ", "%s --help lists -%s", name, f)
		}
	}
}
