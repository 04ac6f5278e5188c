// Command busifavor runs WeChat Pay merchant coupons (商家券) from a shell:
// it sets the URL that receives coupon events and receives them, creates and
// reads stocks, uploads and lists their codes, redeems, reads, returns and
// deactivates users' coupons, signs coupons for the front-end send channels
// and uploads images.
//
//	busifavor set --notify-url URL [--mchid ID] [--json]
//	busifavor get [--mchid ID] [--json]
//	busifavor listen [--addr ADDR] [--show-openid] [--show-codes]
//	busifavor stock create|get …, codes upload|list …, coupon use|get|return|deactivate|link …, image upload …
//	busifavor sandbox [--addr ADDR] [--dir DIR] [--route NOTIFY_URL=LOCAL_URL]…   (the fake WeChat Pay as a server)
//	busifavor GROUP            (stock, codes, coupon, image: the group's commands)
//	busifavor COMMAND --help   (a command's flags and an example that runs in the sandbox)
//
// Credentials come from flags or the environment (WECHATPAY_MCHID,
// WECHATPAY_CERT_SERIAL, WECHATPAY_PRIVATE_KEY_FILE, and either
// WECHATPAY_PUBLIC_KEY_ID + WECHATPAY_PUBLIC_KEY_FILE or WECHATPAY_APIV3_KEY).
// With no WECHATPAY_* variable set at all, or with --sandbox, the command
// runs against an in-process busifavortest server holding a demo stock
// (1200000001), its codes and a user's coupons, so every command's example
// runs with nothing configured. Any WECHATPAY_* variable, even an empty or
// misspelt one, means WeChat Pay was meant: an incomplete set is exit
// status 2, naming what is missing and any near-miss name.
//
// Exit status: 0 on success, 2 for a usage, credential or validation error
// (nothing is sent), 1 for an API or network error.
package main

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
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
