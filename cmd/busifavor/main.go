// Command busifavor runs WeChat Pay merchant coupons (商家券) from a shell:
// the notify URL and its events, stocks and their codes, users' coupons,
// subsidies (营销补差), the front-end send channels and images.
//
//	busifavor COMMAND [ARGUMENT] [flags]
//	busifavor --help           (every command, by group, and the variables each reads)
//	busifavor GROUP            (stock, codes, coupon, subsidy, image, event: the group's commands)
//	busifavor COMMAND --help   (a command's flags and an example that runs in the sandbox)
//	busifavor check            (what the credentials hold, and one signed call)
//	busifavor completion bash|zsh
//
// Every command is an entry of one table (run.go): its name, group,
// summary, flags and the code that reads them, and examples. Dispatch, the
// help, "did you mean" suggestions and shell completion are made from it.
//
// Credentials come from flags or the environment (WECHATPAY_MCHID,
// WECHATPAY_CERT_SERIAL, WECHATPAY_PRIVATE_KEY_FILE; WECHATPAY_PUBLIC_KEY_ID
// and WECHATPAY_PUBLIC_KEY_FILE, or WECHATPAY_PLATFORM_CERTIFICATES=1 for
// platform certificates; WECHATPAY_APIV3_KEY, WECHATPAY_APIV2_KEY and
// WECHATPAY_BASE_URL), and each command reads only what it uses. With no
// WECHATPAY_* variable set at all, or with --sandbox, the command runs
// against an in-process busifavortest server holding a demo stock
// (1200000001), its codes, a user's coupons and a subsidy payment, so every
// command's example runs with nothing configured. Any WECHATPAY_* variable,
// even an empty or misspelt one, means WeChat Pay was meant: what is missing
// or inconsistent is exit status 2, each setting named, before any request.
//
// Exit status: 0 on success, 2 for a usage, credential or validation error
// (nothing is sent), 1 for an API or network error.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// stdin is what --file - and a money command's confirmation read, and
// stdinTerminal says whether it is a terminal to ask on. main sets them
// from the process's standard input; a run in-process (a test) reads an
// empty input and is not interactive, so a money command needs --yes.
var (
	stdin         io.Reader = strings.NewReader("")
	stdinTerminal bool
)

func main() {
	stdin = os.Stdin
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		stdinTerminal = true
	}
	// SIGTERM is what containers and service managers send to stop.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	environ := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			environ[k] = v
		}
	}
	code := run(ctx, os.Args[1:], environ, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
