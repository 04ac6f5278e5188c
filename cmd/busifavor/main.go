// Command busifavor sets and reads the URL that receives WeChat Pay
// merchant-coupon (商家券) events, and receives those events.
//
//	busifavor set --notify-url URL [--mchid ID] [--json]
//	busifavor get [--mchid ID] [--json]
//	busifavor listen [--addr ADDR] [--show-openid]
//	busifavor COMMAND --help
//
// Credentials come from flags or the environment (WECHATPAY_MCHID,
// WECHATPAY_CERT_SERIAL, WECHATPAY_PRIVATE_KEY_FILE, and either
// WECHATPAY_PUBLIC_KEY_ID + WECHATPAY_PUBLIC_KEY_FILE or WECHATPAY_APIV3_KEY).
// With none set, or with --sandbox, the command runs against an in-process
// busifavortest server, so the whole signed round trip can be seen with
// nothing configured.
//
// Exit status: 0 on success, 2 for a usage, credential or validation error
// (nothing is sent), 1 for an API or network error.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// SIGTERM is what containers and service managers send to stop.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
