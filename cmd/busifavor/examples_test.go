package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// helpExamples returns each command's example lines, as argument lists
// without the leading "busifavor", and checks that its --help prints them.
func helpExamples(t *testing.T) map[string][][]string {
	t.Helper()
	out := map[string][][]string{}
	for _, c := range commands {
		code, help, errOut := runCmd(t, nil, append(strings.Fields(c.name), "--help")...)
		require.Equal(t, exitOK, code, errOut)
		require.NotEmpty(t, c.examples, "%s has no example", c.name)
		for _, e := range c.examples {
			require.Contains(t, help, "\n  busifavor "+e+"\n", "%s --help prints its example", c.name)
			out[c.name] = append(out[c.name], strings.Fields(e))
		}
	}
	return out
}

// TestEveryHelpExampleRunsAsPrinted runs each command's example line from
// the repository root with nothing configured (the sandbox and its demo
// stock, codes and coupons) and expects exit status 0. listen runs until
// its sample event is printed.
func TestEveryHelpExampleRunsAsPrinted(t *testing.T) {
	t.Chdir("../..") // the examples name files the repository holds
	for name, lines := range helpExamples(t) {
		for _, args := range lines {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				if name == "listen" {
					runListenExample(t, args)
					return
				}
				if name == "event send" {
					runEventSendExample(t, args)
					return
				}
				if name == "sandbox" {
					runSandboxExample(t, args)
					return
				}
				code, out, errOut := runCmd(t, nil, args...)
				assert.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
				assert.NotEmpty(t, out)
			})
		}
	}
}

// runListenExample runs listen as printed until the sandbox's sample event
// arrives, then stops it.
func runListenExample(t *testing.T, args []string) {
	addr := args[len(args)-1]
	if l, err := net.Listen("tcp", addr); err != nil {
		t.Skipf("%s is taken on this machine: %v", addr, err)
	} else {
		l.Close()
	}
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, args, nil, out, errOut) }()
	waitFor(t, out, "\n")
	cancel()
	assert.Equal(t, exitOK, <-exit, errOut.String())
}

// runSandboxExample runs busifavor sandbox as printed, but on a free port
// and writing into a scratch directory, until it says it is ready; then
// stops it as SIGINT would.
func runSandboxExample(t *testing.T, args []string) {
	args = slices.Clone(args)
	for i := range args {
		if args[i] == "--dir" {
			args[i+1] = t.TempDir()
		}
	}
	args = append(args, "--addr", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, args, nil, out, errOut) }()
	waitFor(t, out, "sandbox.env")
	cancel()
	assert.Equal(t, exitOK, <-exit, errOut.String())
}

// runEventSendExample runs event send as printed, in a scratch directory
// (it makes its keys there), against a backend on the example's address
// that accepts what it gets; TestEventSendReachesAVerifyingBackend checks
// the event itself.
func runEventSendExample(t *testing.T, args []string) {
	u, err := url.Parse(args[2])
	require.NoError(t, err)
	l, err := net.Listen("tcp", u.Host)
	if err != nil {
		t.Skipf("%s is taken on this machine: %v", u.Host, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }),
		ReadHeaderTimeout: time.Minute}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	t.Chdir(t.TempDir())
	code, out, errOut := runCmd(t, nil, args...)
	assert.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "204")
}

// TestGroupHelp: a group's name alone, or with --help, lists its commands
// on stdout and exits 0.
func TestGroupHelp(t *testing.T) {
	for group, want := range map[string][]string{
		"stock":  {"stock create", "stock get"},
		"codes":  {"codes upload", "codes list"},
		"coupon": {"coupon use", "coupon get", "coupon return", "coupon deactivate", "coupon link"},
		"image":  {"image upload"},
		"event":  {"event send"},
	} {
		for _, args := range [][]string{{group}, {group, "--help"}, {group, "-h"}} {
			code, out, errOut := runCmd(t, nil, args...)
			assert.Equal(t, exitOK, code, args)
			assert.Empty(t, errOut, args)
			for _, w := range want {
				assert.Contains(t, out, "busifavor "+w+" ", args)
			}
		}
	}
	code, _, errOut := runCmd(t, nil, "stock", "frobnicate")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "unknown command")
}

// TestUsageErrorsNameWhatTheUserTyped: invalid fields are named by the flag
// or argument that set them, and every usage error ends with the --help
// hint.
func TestUsageErrorsNameWhatTheUserTyped(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"codes", "list", "1200000001", "--status", "USED"}, "  --status: "},
		{[]string{"stock", "get", "12345678901234567890123"}, "  STOCK_ID: "},
		{[]string{"codes", "upload", "1200000001", "--file", "examples/stock/codes.txt", "--request-no-prefix", "bad prefix"}, "  --request-no-prefix: "},
		{[]string{"coupon", "get", "SANDBOX0001", "--appid", "wx233544546545989"}, "  --openid: "},
		{[]string{"coupon", "use", "SANDBOX0001", "--stock-id", "1200000001", "--appid", "wx233544546545989"}, "  --use-request-no: "},
		{[]string{"coupon", "link", "--stock-id", "1200000001", "--out-request-no", "a-1"}, "  --openid: "},
		{[]string{"stock", "get", "1200000001", "--timeout", "0s"}, "--timeout must be more than 0"},
		{[]string{"codes", "list", "1200000001", "--timeout", "-1s"}, "--timeout must be more than 0"},
		{[]string{"stock", "get"}, "STOCK_ID is required"},
		{[]string{"stock", "create", "--file", "examples/stock/missing.json"}, "missing.json"},
		{[]string{"coupon", "link", "--stock-id", "1", "--out-request-no", "a", "--openid", "o", "--channel", "sms"}, "-channel: must be h5, miniprogram or jsapi"},
		{[]string{"get", "--bogus"}, "-bogus"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Chdir("../..")
			code, _, errOut := runCmd(t, nil, tc.args...)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Contains(t, errOut, tc.want)
			assert.NotContains(t, errOut, "stock_id:")
			assert.True(t, strings.HasSuffix(errOut, "see busifavor "+strings.Join(tc.args[:commandWords(tc.args)], " ")+" --help\n"), "ends with the hint: %q", errOut)
		})
	}
}

// commandWords is how many of args name the command.
func commandWords(args []string) int {
	if c, rest := findCommand(args); c != nil {
		return len(args) - len(rest)
	}
	return 1
}

var weChatPayTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?\+08:00$`)

// TestJSONTimesInWeChatPayShape: every --json output writes its times as
// WeChat Pay does, whatever the command.
func TestJSONTimesInWeChatPayShape(t *testing.T) {
	t.Chdir("../..")
	for _, args := range [][]string{
		{"set", "--notify-url", "https://shop.example.com/busifavor/notify", "--json"},
		{"stock", "create", "--file", "examples/stock/stock.json", "--json"},
		{"stock", "get", "1200000001", "--json"},
		{"codes", "upload", "1200000001", "--file", "examples/stock/codes.txt", "--json"},
		{"codes", "list", "1200000001", "--json"},
		{"coupon", "use", "SANDBOX0001", "--stock-id", "1200000001", "--appid", "wx233544546545989", "--use-request-no", "u-1", "--json"},
		{"coupon", "get", "SANDBOX0002", "--openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "--appid", "wx233544546545989", "--json"},
		{"coupon", "return", "SANDBOX0002", "--stock-id", "1200000001", "--return-request-no", "r-1", "--json"},
		{"coupon", "deactivate", "SANDBOX0001", "--stock-id", "1200000001", "--deactivate-request-no", "d-1", "--json"},
		{"coupon", "associate", "SANDBOX0001", "--stock-id", "1200000001", "--out-trade-no", "o-1", "--out-request-no", "a-1", "--json"},
		{"coupon", "disassociate", "SANDBOX0002", "--stock-id", "1200000001", "--out-trade-no", "sandbox-order-1", "--out-request-no", "a-2", "--json"},
		{"subsidy", "get", "1100000000000000000000000001", "--json"},
		{"subsidy", "list", "--stock-id", "1200000001", "--coupon-code", "SANDBOX0002", "--json"},
		{"subsidy", "pay", "--stock-id", "1200000001", "--coupon-code", "SANDBOX0002", "--transaction-id", "4200000000000000000000000001",
			"--payer-merchant", "10000098", "--payee-merchant", "1900000002", "--amount", "100", "--description", "d", "--out-subsidy-no", "p-1", "--yes", "--json"},
		{"subsidy", "return", "--stock-id", "1200000001", "--coupon-code", "SANDBOX0002", "--transaction-id", "4200000000000000000000000001",
			"--refund-id", "5000000000000000000000000001", "--payer-merchant", "10000098", "--payee-merchant", "1900000002", "--amount", "100",
			"--description", "d", "--out-subsidy-return-no", "r-1", "--yes", "--json"},
	} {
		code, out, errOut := runCmd(t, nil, args...)
		require.Equal(t, exitOK, code, "%v: %s", args, errOut)
		times := 0
		dec := json.NewDecoder(strings.NewReader(out))
		for dec.More() {
			var v any
			require.NoError(t, dec.Decode(&v), args)
			walkJSON(v, func(name string, value any) {
				if s, ok := value.(string); ok && strings.HasSuffix(name, "_time") {
					times++
					assert.Regexp(t, weChatPayTime, s, "%s in %v", name, args)
				}
			})
		}
		if args[0] != "codes" || args[1] != "upload" { // its report has no time
			assert.NotZero(t, times, "%v printed no time:\n%s", args, out)
		}
	}
}

// walkJSON calls f with every member of v, however deep.
func walkJSON(v any, f func(name string, value any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			f(k, e)
			walkJSON(e, f)
		}
	case []any:
		for _, e := range x {
			walkJSON(e, f)
		}
	}
}
