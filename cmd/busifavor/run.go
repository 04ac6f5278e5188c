package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/busifavor-go/busifavor"
)

// Exit statuses.
const (
	exitOK    = 0
	exitAPI   = 1 // the API or the network failed
	exitUsage = 2 // bad flags, credentials or a request that breaks a rule; nothing was sent
)

// command is one entry of the command table. Dispatch, busifavor --help,
// a group's listing, "did you mean" suggestions and shell completion are all
// made from the table, so adding a command is adding an entry.
type command struct {
	// name is one word (set) or two, a group and a verb (stock create).
	name string
	// group is the heading busifavor --help lists the command under.
	group string
	// summary is one line saying what it does.
	summary string
	// usage is what follows the name in a synopsis: the positional argument
	// and the flags that matter ("STOCK_ID --file codes.txt [--json]").
	usage string
	// arg names the one positional argument the command takes, if any.
	arg string
	// help says what the command does, for busifavor COMMAND --help.
	help string
	// argChoices are the values the positional argument takes, when it
	// takes one of a few words; completion offers them.
	argChoices []string
	// examples are command lines, without "busifavor", that run as printed
	// in the sandbox from the repository root (examples_test.go runs them).
	examples []string
	// needs says what the command reads from the credentials; zero for a
	// command that reads none (its flags read what it uses).
	needs needs
	// flags registers the command's own flags and returns the code that runs
	// it with their values.
	flags func(fs *flag.FlagSet) action
}

// action runs a command once its flags are parsed and its environment is
// ready.
type action func(ctx context.Context, c *call) int

// call is one run of a command: what its action works with.
type call struct {
	cmd *command
	fs  *flag.FlagSet
	// arg is the positional argument, "" when the command takes none.
	arg string
	// env is what the command talks to; nil for a command that needs none.
	env *environment
	// creds are the credential settings its needs brought, as parsed.
	creds *credentials
	// environ is the command's whole environment.
	environ        map[string]string
	stdout, stderr io.Writer
	// file is the --file the request was read from, to name its fields.
	file string
}

// The headings of busifavor --help, in order. A command may bring a heading
// of its own: it is listed after these.
const (
	groupNotify   = "Notify URL and events"
	groupStocks   = "Stocks and their codes"
	groupCoupons  = "User coupons"
	groupSubsidy  = "Subsidies (营销补差; money moves)"
	groupChannels = "Front-end send channels and images"
	groupSetup    = "Setup"
)

var groupOrder = []string{groupNotify, groupStocks, groupCoupons, groupSubsidy, groupChannels, groupPartners, groupSetup}

// commands is the command table. It is put together in init, as the
// completion command reads it.
var commands []command

func init() {
	commands = slices.Concat(notifyCommands, stockCommands, couponCommands, subsidyCommands, channelCommands, partnerCommands, eventCommands, setupCommands, sandboxCommands)
}

// completeCommand is what the completion scripts call: busifavor
// __complete WORD… prints the words that complete the last one.
const completeCommand = "__complete"

// run is the whole command, callable in-process from tests; environ is
// its whole environment.
func run(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, shortUsage())
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, usage())
		return exitOK
	case "help":
		if len(args) == 1 {
			fmt.Fprint(stdout, usage())
			return exitOK
		}
		return run(ctx, append(slices.Clone(args[1:]), "--help"), environ, stdout, stderr)
	case completeCommand:
		for _, w := range complete(args[1:]) {
			fmt.Fprintln(stdout, w)
		}
		return exitOK
	}
	cmd, rest := findCommand(args)
	if cmd == nil {
		if groupHelp(stdout, args) {
			return exitOK
		}
		return unknownCommand(stderr, args)
	}

	own, common, fs, creds, act := cmd.flagSets()
	arg, err := parseArgs(fs, rest, cmd)
	if errors.Is(err, flag.ErrHelp) {
		commandHelp(stdout, cmd, own, common)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "busifavor %s: %v\n", cmd.name, err)
		if hint := flagHint(cmd, fs, err); hint != "" {
			fmt.Fprintf(stderr, "  %s\n", hint)
		}
		return usageHint(stderr, cmd)
	}
	if msg := argProblem(fs, cmd, arg); msg != "" {
		fmt.Fprintf(stderr, "busifavor %s: %s\n", cmd.name, msg)
		return usageHint(stderr, cmd)
	}
	timeout, hasTimeout := timeoutOf(fs)
	if hasTimeout && timeout <= 0 {
		fmt.Fprintf(stderr, "busifavor %s: --timeout must be more than 0, got %s\n", cmd.name, timeout)
		return usageHint(stderr, cmd)
	}

	c := &call{cmd: cmd, fs: fs, arg: arg, creds: creds, environ: environ, stdout: stdout, stderr: stderr}
	if cmd.needs != 0 && cmd.needs&needReport == 0 {
		env, code := creds.open(ctx, cmd, environ, stderr)
		if env == nil {
			if code == exitUsage {
				return usageHint(stderr, cmd)
			}
			return code
		}
		defer env.close()
		if v := fs.Lookup("verbose"); v != nil && v.Value.String() == "true" {
			obs := &verbose{w: stderr}
			if env.client != nil {
				derived, err := env.client.With(busifavor.WithObserver(obs))
				if err != nil {
					fmt.Fprintf(stderr, "busifavor %s: --verbose: %v\n", cmd.name, err)
					return exitUsage
				}
				env.client = derived
			}
			env.observer = obs
		}
		c.env = env
	}
	if hasTimeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if code := act(ctx, c); code != exitUsage {
		return code
	}
	return usageHint(stderr, cmd)
}

// timeoutOf is the command's --timeout, if it has one.
func timeoutOf(fs *flag.FlagSet) (time.Duration, bool) {
	f := fs.Lookup("timeout")
	if f == nil {
		return 0, false
	}
	d, ok := f.Value.(flag.Getter).Get().(time.Duration)
	return d, ok
}

// usageHint ends every usage error with where the command's help is.
func usageHint(w io.Writer, cmd *command) int {
	fmt.Fprintf(w, "see busifavor %s --help\n", cmd.name)
	return exitUsage
}

// findCommand finds the command args start with, one word (set) or two
// (stock create), and returns it with the arguments after its name.
func findCommand(args []string) (*command, []string) {
	for i := range commands {
		words := strings.Fields(commands[i].name)
		if len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
			return &commands[i], args[len(words):]
		}
	}
	return nil, nil
}

// groupOf is the first word of a two-word command's name (stock), or "".
func groupOf(c *command) string {
	if g, _, ok := strings.Cut(c.name, " "); ok {
		return g
	}
	return ""
}

// topWords are the words a command line can start with: one-word commands
// and the groups of two-word ones, in table order.
func topWords() []string {
	var words []string
	for i := range commands {
		w, _, _ := strings.Cut(commands[i].name, " ")
		if !slices.Contains(words, w) {
			words = append(words, w)
		}
	}
	return words
}

// groupHelp prints the commands of a group (busifavor stock, busifavor
// codes --help) and reports whether args named one.
func groupHelp(w io.Writer, args []string) bool {
	if len(args) > 2 || len(args) == 2 && !isHelp(args[1]) {
		return false
	}
	lines := groupLines(args[0])
	if len(lines) == 0 {
		return false
	}
	fmt.Fprintf(w, "busifavor %s: commands\n\n%s\nbusifavor %s COMMAND --help shows a command's flags and an example.\n",
		args[0], strings.Join(lines, ""), args[0])
	return true
}

// groupLines lists a group's commands, one synopsis and summary each.
func groupLines(group string) []string {
	var lines []string
	for i := range commands {
		if c := &commands[i]; groupOf(c) == group {
			lines = append(lines, fmt.Sprintf("  busifavor %s\n      %s\n", c.synopsis(), c.summary))
		}
	}
	return lines
}

func isHelp(a string) bool { return a == "--help" || a == "-help" || a == "-h" || a == "help" }

// synopsis is how the command is called: its name and usage.
func (c *command) synopsis() string { return strings.TrimSpace(c.name + " " + c.usage) }

// listLine is a command's line in a listing: how it is called and, aligned
// or on the next line when that is long, its summary.
func listLine(call, summary string) string {
	const width = 30
	s := "  " + call
	if len(s) >= width {
		return s + "\n" + strings.Repeat(" ", width) + summary + "\n"
	}
	return s + strings.Repeat(" ", width-len(s)) + summary + "\n"
}

// unknownCommand says args name no command, suggests the nearest one and
// prints the short usage.
func unknownCommand(w io.Writer, args []string) int {
	typed := strings.Join(args[:min(2, len(args))], " ")
	if len(args) > 1 && strings.HasPrefix(args[1], "-") {
		typed = args[0]
	}
	fmt.Fprintf(w, "busifavor: unknown command %q", typed)
	if s := suggest(args); s != "" {
		fmt.Fprintf(w, "; did you mean %q?", s)
	}
	fmt.Fprintln(w)
	if lines := groupLines(args[0]); len(lines) > 0 {
		fmt.Fprintf(w, "\nbusifavor %s: commands\n\n%s", args[0], strings.Join(lines, ""))
		return exitUsage
	}
	fmt.Fprintf(w, "\n%s", shortUsage())
	return exitUsage
}

// suggest returns the command name nearest to what args start with, or ""
// when none is near: within two edits, or a third of the typed length.
func suggest(args []string) string {
	best, bestDist := "", -1
	try := func(name, typed string) {
		d := editDistance(name, typed)
		if strings.HasPrefix(name, typed) && len(typed) >= 2 {
			d = min(d, 1)
		}
		if d <= max(2, len(typed)/3) && (bestDist < 0 || d < bestDist) {
			best, bestDist = name, d
		}
	}
	for i := range commands {
		name := commands[i].name
		words := len(strings.Fields(name))
		if len(args) >= words {
			try(name, strings.Join(args[:words], " "))
		}
	}
	if top := topWords(); best == "" && !slices.Contains(top, args[0]) {
		for _, w := range top {
			try(w, args[0])
		}
	}
	return best
}

// flagHint says what an unknown flag was probably meant as: a flag of this
// command one or two edits away, or the commands that have it.
func flagHint(cmd *command, fs *flag.FlagSet, err error) string {
	name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if !ok {
		return ""
	}
	name = strings.TrimLeft(name, "-")
	best, bestDist := "", 3
	fs.VisitAll(func(f *flag.Flag) {
		if d := editDistance(f.Name, name); d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	if best != "" {
		return fmt.Sprintf("did you mean --%s?", best)
	}
	var owners []string
	for i := range commands {
		if o := &commands[i]; o != cmd && slices.Contains(flagNames(o), name) {
			owners = append(owners, "busifavor "+o.name)
		}
	}
	switch {
	case len(owners) > 3:
		return fmt.Sprintf("--%s is a flag of %d other commands, not of busifavor %s", name, len(owners), cmd.name)
	case len(owners) > 0:
		return fmt.Sprintf("--%s is a flag of %s", name, strings.Join(owners, ", "))
	}
	return ""
}

// flagSets registers the command's own flags (own) and those its needs
// bring (common: credentials, --sandbox, --base-url) and returns them with
// all, the set that parses both, the credentials the common flags set and
// the action that runs with their values.
func (c *command) flagSets() (own, common, all *flag.FlagSet, creds *credentials, act action) {
	own = flag.NewFlagSet(c.name, flag.ContinueOnError)
	act = c.flags(own)
	creds = &credentials{}
	common = flag.NewFlagSet(c.name, flag.ContinueOnError)
	creds.register(common, c.needs)
	if c.needs&(needClient|needEvents|needReport) != 0 { // it calls WeChat Pay or receives events
		common.Bool("verbose", false, "print each attempt to stderr (method, path template, status, code, request id, duration) and, for listen, each event's outcome")
	}
	all = flag.NewFlagSet("busifavor "+c.name, flag.ContinueOnError)
	for _, set := range []*flag.FlagSet{own, common} {
		set.VisitAll(func(f *flag.Flag) { all.Var(f.Value, f.Name, f.Usage) })
	}
	all.SetOutput(io.Discard) // run prints errors itself, and help on stdout
	all.Usage = func() {}
	return own, common, all, creds, act
}

// flagNames are every flag the command takes, its own and what its needs
// bring.
func flagNames(c *command) []string {
	var names []string
	_, _, all, _, _ := c.flagSets()
	all.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// parseArgs parses flags before and after the positional argument, so that
// both "stock get ID --json" and "stock get --json ID" work.
func parseArgs(fs *flag.FlagSet, args []string, cmd *command) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if cmd.arg == "" || fs.NArg() == 0 {
		return "", nil
	}
	arg := fs.Arg(0)
	return arg, fs.Parse(fs.Args()[1:])
}

// argProblem says what is wrong with the positional arguments, or "".
func argProblem(fs *flag.FlagSet, cmd *command, arg string) string {
	switch {
	case fs.NArg() > 0:
		return fmt.Sprintf("unexpected argument %q", fs.Arg(0))
	case cmd.arg != "" && arg == "":
		return cmd.arg + " is required"
	}
	return ""
}

// commandHelp prints a command's help: synopsis, text, examples, its own
// flags and the credential flags its needs bring.
func commandHelp(w io.Writer, cmd *command, own, common *flag.FlagSet) {
	fmt.Fprintf(w, "usage: busifavor %s\n\n%s\n", cmd.synopsis(), strings.TrimSpace(cmd.help))
	if len(cmd.examples) > 0 {
		fmt.Fprint(w, "\nexample:\n")
		for _, e := range cmd.examples {
			fmt.Fprintf(w, "  busifavor %s\n", e)
		}
	}
	for _, part := range []struct {
		heading string
		fs      *flag.FlagSet
	}{{"flags", own}, {"credentials and target (busifavor --help says which variable each reads)", common}} {
		n := 0
		part.fs.VisitAll(func(*flag.Flag) { n++ })
		if n == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", part.heading)
		part.fs.SetOutput(w)
		part.fs.PrintDefaults()
	}
}

// jsonFlag registers --json.
func jsonFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("json", false, "print WeChat Pay's answer as JSON, times in WeChat Pay's shape (+08:00)")
}

// timeoutFlag registers --timeout, which run applies to the whole action.
func timeoutFlag(fs *flag.FlagSet, d time.Duration) {
	fs.Duration("timeout", d, "give up on the call, retries included, after this long")
}

// callFlags are --json and --timeout, the flags of a command that makes
// one call and prints its answer.
func callFlags(fs *flag.FlagSet) *bool {
	timeoutFlag(fs, 30*time.Second)
	return jsonFlag(fs)
}

// choice is a flag whose value is one of a few words; completion offers
// them.
type choice struct {
	value   string
	choices []string
}

// String implements flag.Value.
func (c *choice) String() string { return c.value }

// Set implements flag.Value.
func (c *choice) Set(v string) error {
	if !slices.Contains(c.choices, v) {
		return fmt.Errorf("must be %s", orList(c.choices))
	}
	c.value = v
	return nil
}

// orList is "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// report explains a failed call and picks the exit status. The error text
// already carries the request id. Invalid fields are named as the user gave
// them (nameOf): --status, STOCK_ID, or a path in --file's JSON.
func (c *call) report(err error) int {
	w := c.stderr
	var ve *busifavor.ValidationError
	if errors.As(err, &ve) {
		fmt.Fprintln(w, "busifavor: invalid request, nothing was sent:")
		for _, f := range ve.Fields {
			fmt.Fprintf(w, "  %s: %s\n", c.nameOf(f.Field), f.Reason)
		}
		return exitUsage
	}
	fmt.Fprintf(w, "busifavor: %v\n", strings.TrimPrefix(err.Error(), "busifavor: "))
	var apiErr *busifavor.APIError
	if errors.As(err, &apiErr) {
		if s := apiErr.Solution(); s != "" {
			fmt.Fprintf(w, "  解决方案: %s\n", s)
		}
	}
	return exitAPI
}

// fail prints a usage problem of the command's own (nothing was sent) and
// returns exit status 2.
func (c *call) fail(format string, args ...any) int {
	fmt.Fprintf(c.stderr, "busifavor %s: %s\n", c.cmd.name, fmt.Sprintf(format, args...))
	return exitUsage
}

// fieldFlags names the request fields whose flag is not the field's name
// with dashes.
var fieldFlags = map[string]string{
	"upload_request_no_prefix": "--request-no-prefix",
	"send_coupon_merchant":     "--send-merchant",
	"open_id":                  "--openid",
	// The partnership requests' fields (partner commands).
	"Idempotency-Key":               "--idempotency-key",
	"partner.type":                  "--partner-merchant or --partner-appid",
	"partner.appid":                 "--partner-appid",
	"partner.merchant_id":           "--partner-merchant",
	"authorized_data.business_type": "--business-type",
	"authorized_data.stock_id":      "--stock-id",
}

// argFields are the request fields a positional argument sets.
var argFields = map[string][]string{"STOCK_ID": {"stock_id"}, "COUPON_CODE": {"coupon_code"},
	"RECEIPT_ID": {"subsidy_receipt_id", "subsidy_return_receipt_id"}}

// nameOf is how the user gave a request field: the positional argument
// (STOCK_ID), its flag (--status), or a path in the --file JSON.
func (c *call) nameOf(field string) string {
	if c.cmd != nil && slices.Contains(argFields[c.cmd.arg], field) {
		return c.cmd.arg
	}
	if f, ok := fieldFlags[field]; ok {
		return f
	}
	if c.fs != nil && c.fs.Lookup(strings.ReplaceAll(field, "_", "-")) != nil {
		return "--" + strings.ReplaceAll(field, "_", "-")
	}
	if c.file != "" {
		return shown(c.file) + ": " + field
	}
	return field
}
