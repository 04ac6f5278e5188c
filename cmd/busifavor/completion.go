package main

import (
	"flag"
	"slices"
	"strings"
)

// completionScripts are what busifavor completion prints, by shell. Each
// asks busifavor __complete WORD… for the words that complete the last
// one, and falls back to file names when there are none.
var completionScripts = map[string]string{
	"bash": `# bash completion for busifavor. Load it with: source <(busifavor completion bash)
_busifavor() {
    local IFS=$'\n'
    COMPREPLY=($(busifavor __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _busifavor busifavor
`,
	"zsh": `#compdef busifavor
# zsh completion for busifavor. Load it with: source <(busifavor completion zsh)
# (after compinit), or save it as _busifavor in a directory of $fpath.
_busifavor() {
    local -a candidates
    candidates=("${(@f)$(busifavor __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    if (( ${#candidates} )) && [[ -n ${candidates[1]} ]]; then
        compadd -- "${candidates[@]}"
    else
        _files
    fi
}
if [[ "$funcstack[1]" == "_busifavor" ]]; then
    _busifavor "$@"
else
    compdef _busifavor busifavor
fi
`,
}

// complete returns the words that complete the last of words, the command
// line after "busifavor" up to the cursor: a command or a group's verb, a
// flag of the command, a value of a flag that takes one of a few words, or
// the command's argument when it has a few (completion's shell). None
// means the shell completes file names.
func complete(words []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur, before := words[len(words)-1], words[:len(words)-1]
	var candidates []string
	cmd, rest := findCommand(before)
	switch {
	case cmd == nil && len(before) == 0:
		candidates = append(topWords(), "help", "--help")
	case cmd == nil && len(before) == 1 && before[0] == "help":
		candidates = topWords()
	case cmd == nil && len(before) == 1:
		for i := range commands {
			if g, verb, ok := strings.Cut(commands[i].name, " "); ok && g == before[0] {
				candidates = append(candidates, verb)
			}
		}
	case cmd != nil:
		_, _, all, _, _ := cmd.flagSets()
		if f := valueFlag(all, rest); f != nil {
			if ch, ok := f.Value.(*choice); ok {
				candidates = ch.choices
			}
			break
		}
		if strings.HasPrefix(cur, "-") {
			all.VisitAll(func(f *flag.Flag) { candidates = append(candidates, "--"+f.Name) })
			candidates = append(candidates, "--help")
			break
		}
		if len(cmd.argChoices) > 0 && !slices.ContainsFunc(rest, func(w string) bool { return slices.Contains(cmd.argChoices, w) }) {
			candidates = cmd.argChoices
		}
	}
	var out []string
	for _, c := range candidates {
		if strings.HasPrefix(c, cur) {
			out = append(out, c)
		}
	}
	return out
}

// valueFlag is the flag whose value the next word is: the last of rest, a
// flag that is not boolean and was not given its value with =.
func valueFlag(fs *flag.FlagSet, rest []string) *flag.Flag {
	if len(rest) == 0 {
		return nil
	}
	name, ok := strings.CutPrefix(rest[len(rest)-1], "-")
	if !ok || strings.Contains(name, "=") {
		return nil
	}
	f := fs.Lookup(strings.TrimPrefix(name, "-"))
	if f == nil {
		return nil
	}
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return nil
	}
	return f
}
