package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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

const usage = `busifavor runs WeChat Pay merchant coupons (商家券) from a shell: it sets the
URL that receives coupon events and receives them, creates and reads stocks,
uploads and lists their codes, redeems, reads, returns and deactivates users'
coupons, signs coupons for the front-end send channels and uploads images.

usage:
  busifavor set --notify-url URL [--mchid ID] [--json]   set the notify URL
  busifavor get [--mchid ID] [--json]                     read the notify URL
  busifavor listen [--addr ADDR] [--show-openid] [--show-codes]
                                                          receive events, print them as JSON lines
  busifavor stock create --file stock.json [--json]       create a coupon stock
  busifavor stock get STOCK_ID [--json]                   read a stock
  busifavor codes upload STOCK_ID --file codes.txt        upload coupon codes, in batches
  busifavor codes list STOCK_ID [--status S] [--json]     list a stock's uploaded codes
  busifavor coupon use CODE --appid A --use-request-no N  redeem a coupon (核销)
  busifavor coupon get CODE --openid O --appid A          read a user's coupon
  busifavor coupon return CODE --stock-id S --return-request-no N
                                                          return a redeemed coupon
  busifavor coupon deactivate CODE --stock-id S --deactivate-request-no N
                                                          make a coupon unusable
  busifavor coupon link --stock-id S --out-request-no N --openid O [--channel h5|miniprogram|jsapi]
                                                          sign a coupon for a front end (APIv2 key)
  busifavor image upload FILE                             upload a logo or picture, print its URL
  busifavor event send URL [--keys-dir DIR]               send a signed sample event to a backend
  busifavor partner build|terminate --stock-id S (--partner-merchant M | --partner-appid A) --idempotency-key K
                                                          authorize a partner to send a stock's coupons, or stop it (委托营销)
  busifavor partner list --stock-id S                     list a stock's partnerships
  busifavor GROUP                                         a group's commands (stock, codes, coupon, image, event, partner)
  busifavor COMMAND --help                                a command's flags and an example

Try it now: with nothing configured every command runs against the sandbox,
which holds a demo stock (1200000001), its codes and a user's coupons, e.g.
  busifavor stock get 1200000001

With no WECHATPAY_* variable set at all (and no credential flag), or with
--sandbox, every command runs against an in-process fake WeChat Pay
(busifavortest): nothing leaves the machine. Any WECHATPAY_* variable, even
an empty or misspelt one, means WeChat Pay was meant: an incomplete set is
exit status 2, naming what is missing. Credentials come from flags or the
environment:

  --merchant-id       WECHATPAY_MCHID             the merchant that signs requests
  --cert-serial       WECHATPAY_CERT_SERIAL       its API certificate serial
  --private-key-file  WECHATPAY_PRIVATE_KEY_FILE  its API private key (apiclient_key.pem)
 and either WeChat Pay public-key mode:
  --public-key-id     WECHATPAY_PUBLIC_KEY_ID     PUB_KEY_ID_…
  --public-key-file   WECHATPAY_PUBLIC_KEY_FILE   WeChat Pay public key (pub_key.pem)
 or platform-certificate mode:
  --apiv3-key-file    WECHATPAY_APIV3_KEY         APIv3 key (the flag names a file, so
                                                  the key stays out of ps; listen
                                                  needs it in both modes)

--verbose (any command) prints each attempt to stderr: the method, the path
template (never the path, which can hold an openid or a coupon code), the
status, the error code, the request id and the duration; for listen, each
event's outcome.

Exit status: 0 success, 1 API or network error, 2 usage, credential or
validation error (nothing was sent).
`

// command is one subcommand: its flags beyond the common ones, its help and
// what it does.
type command struct {
	name, synopsis, help string
	// arg names the one positional argument the command takes, if any.
	arg string
	// flags registers the command's own flags.
	flags func(fs *flag.FlagSet, o *options)
	// run does the command's work with a ready environment.
	run func(ctx context.Context, env *environment, o *options, stdout, stderr io.Writer) int
}

// options are every flag's value.
type options struct {
	creds      credentials
	sandbox    bool
	verbose    bool
	baseURL    string
	asJSON     bool
	mchid      string
	notifyURL  string
	timeout    time.Duration
	addr       string
	showOpenID bool
	showCodes  bool   // listen: print codes unmasked
	arg        string // the positional argument (a stock id)
	fs         *flag.FlagSet
	cmd        *command
	file       string // --file
	status     string // --status
	prefix     string // --request-no-prefix
	appid      string // --appid
	stockID    string // --stock-id
	openid     string // --openid
	requestNo  string // --use-request-no, --return-request-no, --deactivate-request-no
	reason     string // --deactivate-reason
	useTime    string // --use-time
	link       linkOptions
	partner    partnerOptions
	event      eventOptions
}

func apiFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.mchid, "mchid", "", "the merchant whose notify URL this is, when it is not the signing merchant\n(--merchant-id): a service provider acting for a sub-merchant (default: the signing merchant)")
	callFlags(fs, o, 30*time.Second)
}

// callFlags are the flags of every command that calls the API.
func callFlags(fs *flag.FlagSet, o *options, timeout time.Duration) {
	fs.BoolVar(&o.asJSON, "json", false, "print WeChat Pay's answer as JSON")
	fs.DurationVar(&o.timeout, "timeout", timeout, "give up on the call, retries included, after this long")
}

var commands = append([]command{
	{
		name: "set", synopsis: "set --notify-url URL [--mchid ID] [--json]",
		help: `Sets the https URL that WeChat Pay POSTs the merchant's coupon events to.
The URL is checked first (https, 10 to 256 bytes, a public host, no query);
if it breaks a rule nothing is sent and the exit status is 2.

example:
  busifavor set --notify-url https://shop.example.com/busifavor/notify
`,
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.notifyURL, "notify-url", "", "the https URL that receives coupon events (required)")
			apiFlags(fs, o)
		},
		run: setCallbacks,
	},
	{
		name: "get", synopsis: "get [--mchid ID] [--json]",
		help: `Reads the notify URL WeChat Pay has for the merchant.

example:
  busifavor get --json
`,
		flags: apiFlags,
		run:   getCallbacks,
	},
	{
		name: "listen", synopsis: "listen [--addr ADDR] [--show-openid] [--show-codes]",
		help: `Serves the notification handler on ADDR and prints each verified, decrypted
coupon event as one JSON line on stdout; refusals are logged on stderr.
Openid and unionid (personal data) are masked unless --show-openid is given,
the coupon code and a member card code (bearer credentials: whoever holds
one can redeem it) unless --show-codes is given.

Events are encrypted with the APIv3 key, so listen needs it in every mode
(WECHATPAY_APIV3_KEY or --apiv3-key-file), also with a WeChat Pay public key.

Test events: in the sandbox, listen sends itself a sample COUPON.SEND event
at start. Outside it only WeChat Pay can sign an event the listener accepts,
unless the listener is given a test key: busifavor event send URL signs a
sample with one and prints how to configure it (see busifavor event send
--help). In tests, drive a handler with busifavortest (see its guide).
WeChat Pay only calls https URLs: put TLS in front of ADDR.

example:
  busifavor listen --addr 127.0.0.1:8080
`,
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "host:port to receive events on")
			fs.BoolVar(&o.showOpenID, "show-openid", false, "print openid and unionid unmasked (personal data)")
			fs.BoolVar(&o.showCodes, "show-codes", false, "print coupon and member card codes unmasked (bearer credentials)")
		},
		run: func(ctx context.Context, env *environment, o *options, stdout, stderr io.Writer) int {
			return listen(ctx, env, o.addr, o.showOpenID, o.showCodes, stdout, stderr)
		},
	},
}, append(stockCommands, append(couponCommands, append(channelCommands, append(eventCommands, partnerCommands...)...)...)...)...)

// run is the whole command, callable in-process from tests; environ is
// its whole environment.
func run(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	if a := args[0]; a == "-h" || a == "-help" || a == "--help" || a == "help" {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	cmd, rest := findCommand(args)
	if cmd == nil && groupHelp(stdout, args) {
		return exitOK
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "busifavor: unknown command %q\n\n%s", strings.Join(args[:min(2, len(args))], " "), usage)
		return exitUsage
	}
	var o options
	fs := flag.NewFlagSet("busifavor "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cmd.flags(fs, &o)
	fs.BoolVar(&o.sandbox, "sandbox", false, "run against an in-process fake WeChat Pay (the default when no credentials are set)")
	fs.BoolVar(&o.verbose, "verbose", false, "print each attempt to stderr (method, path template, status, code, request id, duration) and, for listen, each event's outcome")
	fs.StringVar(&o.baseURL, "base-url", "", "send requests (and the platform-certificate download) to this URL instead of\nhttps://api.mch.weixin.qq.com, e.g. a proxy; failover to the backup domain is then off")
	o.creds.register(fs)
	fs.Usage = func() {} // help goes to stdout, below; errors get a pointer to it
	if err := parseArgs(fs, rest, cmd, &o); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			commandUsage(stdout, cmd, fs)
			return exitOK
		}
		// The flag package has printed what was wrong.
		fmt.Fprintf(stderr, "see busifavor %s --help\n", cmd.name)
		return exitUsage
	}
	if msg := o.argProblem(fs, cmd); msg != "" {
		fmt.Fprintf(stderr, "busifavor %s: %s; see busifavor %s --help\n", cmd.name, msg, cmd.name)
		return exitUsage
	}
	if fs.Lookup("timeout") != nil && o.timeout <= 0 {
		fmt.Fprintf(stderr, "busifavor %s: --timeout must be more than 0, got %s; see busifavor %s --help\n", cmd.name, o.timeout, cmd.name)
		return exitUsage
	}
	o.fs, o.cmd = fs, cmd
	// The sandbox is implicit only when nothing asks for WeChat Pay: no
	// credential flag and no WECHATPAY_* variable, even an empty or misspelt
	// one (a job whose environment failed to load must not "succeed").
	implicitSandbox := o.creds.empty() && o.link.apiV2KeyFile == "" && len(wechatPayVars(environ)) == 0
	getenv := func(k string) string { return environ[k] }
	o.creds.fromEnv(getenv)
	o.link.apiV2Env = getenv("WECHATPAY_APIV2_KEY")

	var env *environment
	var err error
	var observe []busifavor.Option
	var obs *verbose
	if o.verbose {
		obs = &verbose{w: stderr}
		observe = append(observe, busifavor.WithObserver(obs))
	}
	if o.sandbox || implicitSandbox {
		if !o.sandbox {
			fmt.Fprintln(stderr, "busifavor: no WECHATPAY_* variable is set: using the in-process sandbox (busifavortest), nothing leaves this machine")
		}
		env, err = newSandbox(ctx, o.baseURL, observe...)
	} else {
		env, err = o.creds.environment(ctx, o.baseURL, observe...)
	}
	if err != nil {
		fmt.Fprintf(stderr, "busifavor %s: %v\n", cmd.name, err)
		var ne *networkError
		if errors.As(err, &ne) {
			return exitAPI
		}
		if errors.Is(err, errIncomplete) {
			for _, note := range envNotes(environ) {
				fmt.Fprintf(stderr, "  %s\n", note)
			}
		}
		return usageHint(stderr, cmd)
	}
	defer env.close()
	if obs != nil {
		env.observer = obs
	}

	if cmd.name != "listen" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	if code := cmd.run(ctx, env, &o, stdout, stderr); code != exitUsage {
		return code
	}
	return usageHint(stderr, cmd)
}

// usageHint ends every usage error with where the command's help is.
func usageHint(w io.Writer, cmd *command) int {
	fmt.Fprintf(w, "see busifavor %s --help\n", cmd.name)
	return exitUsage
}

// groupHelp prints the commands of a group (busifavor stock, busifavor
// codes --help) and reports whether args named one.
func groupHelp(w io.Writer, args []string) bool {
	if len(args) > 2 || len(args) == 2 && args[1] != "--help" && args[1] != "-help" && args[1] != "-h" && args[1] != "help" {
		return false
	}
	var lines []string
	for _, c := range commands {
		if group, _, ok := strings.Cut(c.name, " "); ok && group == args[0] {
			lines = append(lines, fmt.Sprintf("  busifavor %s", c.synopsis))
		}
	}
	if len(lines) == 0 {
		return false
	}
	fmt.Fprintf(w, "busifavor %s: commands\n\n%s\n\nbusifavor %s COMMAND --help shows a command's flags and an example.\n",
		args[0], strings.Join(lines, "\n"), args[0])
	return true
}

// findCommand finds the command args start with, one word (set) or two
// (stock create), and returns it with the arguments after its name.
func findCommand(args []string) (*command, []string) {
	for i := range commands {
		words := strings.Fields(commands[i].name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == commands[i].name {
			return &commands[i], args[len(words):]
		}
	}
	return nil, nil
}

// parseArgs parses flags before and after the positional argument, so that
// both "stock get ID --json" and "stock get --json ID" work.
func parseArgs(fs *flag.FlagSet, args []string, cmd *command, o *options) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cmd.arg == "" || fs.NArg() == 0 {
		return nil
	}
	o.arg = fs.Arg(0)
	return fs.Parse(fs.Args()[1:])
}

// argProblem says what is wrong with the positional arguments, or "".
func (o *options) argProblem(fs *flag.FlagSet, cmd *command) string {
	switch {
	case fs.NArg() > 0:
		return fmt.Sprintf("unexpected argument %q", fs.Arg(0))
	case cmd.arg != "" && o.arg == "":
		return cmd.arg + " is required"
	}
	return ""
}

func setCallbacks(ctx context.Context, env *environment, o *options, stdout, stderr io.Writer) int {
	resp, err := env.client.SetCallbacks(ctx, busifavor.SetCallbacksRequest{MchID: o.mchid, NotifyURL: o.notifyURL})
	if err != nil {
		return report(stderr, err, o)
	}
	return print(stdout, o.asJSON, resp, resp.NotifyURL, resp.MchID, resp.UpdateTime, resp.RequestID)
}

func getCallbacks(ctx context.Context, env *environment, o *options, stdout, stderr io.Writer) int {
	resp, err := env.client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{MchID: o.mchid})
	if err != nil {
		return report(stderr, err, o)
	}
	if env.sandbox != nil {
		fmt.Fprintln(stderr, "busifavor: the sandbox starts afresh on every run, with an example URL set; what an earlier `set` stored is gone")
	}
	return print(stdout, o.asJSON, resp, resp.NotifyURL, resp.MchID, time.Time{}, resp.RequestID)
}

// commandUsage prints a command's help and its flags.
func commandUsage(w io.Writer, cmd *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: busifavor %s [credentials]\n\n%s\nflags:\n", cmd.synopsis, cmd.help)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprint(w, "\nCredentials are described in busifavor --help.\n")
}

// print writes a response for people or, with asJSON, as JSON.
func print(w io.Writer, asJSON bool, v any, notifyURL, mchid string, updated time.Time, requestID string) int {
	if asJSON {
		return printJSON(w, v)
	}
	fmt.Fprintf(w, "notify URL:  %s\n", notifyURL)
	fmt.Fprintf(w, "mchid:       %s\n", mchid)
	if !updated.IsZero() {
		fmt.Fprintf(w, "updated:     %s\n", localTime(updated))
	}
	fmt.Fprintf(w, "request id:  %s\n", requestID)
	return exitOK
}

// report explains a failed call and picks the exit status. The error text
// already carries the request id. Invalid fields are named as the user gave
// them (o.nameOf): --status, STOCK_ID, or a path in --file's JSON.
func report(w io.Writer, err error, o *options) int {
	var ve *busifavor.ValidationError
	if errors.As(err, &ve) {
		fmt.Fprintln(w, "busifavor: invalid request, nothing was sent:")
		for _, f := range ve.Fields {
			fmt.Fprintf(w, "  %s: %s\n", o.nameOf(f.Field), f.Reason)
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

// fieldFlags names the request fields whose flag is not the field's name
// with dashes.
var fieldFlags = map[string]string{
	"upload_request_no_prefix": "--request-no-prefix",
	"send_coupon_merchant":     "--send-merchant",
	"open_id":                  "--openid",
}

// argFields are the request fields a positional argument sets.
var argFields = map[string]string{"STOCK_ID": "stock_id", "COUPON_CODE": "coupon_code"}

// nameOf is how the user gave a request field: the positional argument
// (STOCK_ID), its flag (--status), or a path in the --file JSON.
func (o *options) nameOf(field string) string {
	if o.cmd != nil && argFields[o.cmd.arg] == field {
		return o.cmd.arg
	}
	if f, ok := fieldFlags[field]; ok {
		return f
	}
	if o.fs != nil && o.fs.Lookup(strings.ReplaceAll(field, "_", "-")) != nil {
		return "--" + strings.ReplaceAll(field, "_", "-")
	}
	if o.file != "" {
		return o.file + ": " + field
	}
	return field
}
