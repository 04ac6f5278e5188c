package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/busifavor-go/busifavor"
)

// couponCommands act on one user coupon.
var couponCommands = []command{
	{
		name: "coupon use", arg: "COUPON_CODE",
		synopsis: "coupon use COUPON_CODE --appid A --use-request-no N [--stock-id S] [--openid O] [--use-time T] [--json]",
		help: `Redeems (核销) a coupon. --use-request-no makes it safe to run again: the
same number returns the first result instead of redeeming twice; use a new
number for each redemption. --stock-id is required for stocks whose codes
the merchant names or uploads. --use-time is RFC 3339 (default: now).

Exit status 1 names why WeChat Pay refused: used already, outside its
valid time, or no such coupon.

example:
  busifavor coupon use SANDBOX0001 --stock-id 1200000001 --appid wx233544546545989 --use-request-no till7-0001
`,
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.appid, "appid", "", "an appid bound to the merchant (required)")
			fs.StringVar(&o.requestNo, "use-request-no", "", "this redemption's unique number (required)")
			fs.StringVar(&o.stockID, "stock-id", "", "the coupon's stock")
			fs.StringVar(&o.openid, "openid", "", "check that the coupon is this user's")
			fs.StringVar(&o.useTime, "use-time", "", "when the coupon is redeemed, RFC 3339 (default: now)")
			fs.BoolVar(&o.showOpenID, "show-openid", false, "print the openid unmasked (personal data)")
			callFlags(fs, o, 30*time.Second)
		},
		run: useCoupon,
	},
	{
		name: "coupon get", arg: "COUPON_CODE", synopsis: "coupon get COUPON_CODE --openid O --appid A [--json]",
		help: `Reads a user's coupon: its state, stock, times and the numbers it was sent,
redeemed, returned or deactivated with.

example:
  busifavor coupon get SANDBOX0001 --openid oUpF8uMuAJO_M2pxb1Q9zNjWeS6o --appid wx233544546545989
`,
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.openid, "openid", "", "the coupon's owner (required)")
			fs.StringVar(&o.appid, "appid", "", "an appid bound to the merchant (required)")
			callFlags(fs, o, 30*time.Second)
		},
		run: getCoupon,
	},
	{
		name: "coupon return", arg: "COUPON_CODE", synopsis: "coupon return COUPON_CODE --stock-id S --return-request-no N [--json]",
		help: `Returns (退券) a redeemed coupon after its order was refunded: the user can
use it again. --return-request-no makes running it again safe.

example:
  busifavor coupon return SANDBOX0002 --stock-id 1200000001 --return-request-no refund-0001
`,
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.stockID, "stock-id", "", "the coupon's stock (required)")
			fs.StringVar(&o.requestNo, "return-request-no", "", "this return's unique number (required)")
			callFlags(fs, o, 30*time.Second)
		},
		run: returnCoupon,
	},
	{
		name: "coupon deactivate", arg: "COUPON_CODE",
		synopsis: "coupon deactivate COUPON_CODE --stock-id S --deactivate-request-no N [--deactivate-reason R] [--json]",
		help: `Makes a usable coupon unusable (使券失效). --deactivate-request-no makes
running it again safe.

example:
  busifavor coupon deactivate SANDBOX0001 --stock-id 1200000001 --deactivate-request-no off-0001 --deactivate-reason 订单取消
`,
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.stockID, "stock-id", "", "the coupon's stock (required)")
			fs.StringVar(&o.requestNo, "deactivate-request-no", "", "this deactivation's unique number (required)")
			fs.StringVar(&o.reason, "deactivate-reason", "", "why, for the merchant's records")
			callFlags(fs, o, 30*time.Second)
		},
		run: deactivateCoupon,
	},
}

func useCoupon(ctx context.Context, env *environment, o *options, stdout, stderr io.Writer) int {
	at := time.Now()
	if o.useTime != "" {
		t, err := busifavor.ParseTime(o.useTime)
		if err != nil {
			fmt.Fprintf(stderr, "busifavor coupon use: --use-time: %v; nothing was sent\n", err)
			return exitUsage
		}
		at = t
	}
	resp, err := env.client.UseCoupon(ctx, busifavor.UseCouponRequest{CouponCode: o.arg, StockID: o.stockID, AppID: o.appid,
		UseTime: at, UseRequestNo: o.requestNo, OpenID: o.openid})
	if err != nil {
		return report(stderr, err, o)
	}
	shown := *resp
	if !o.showOpenID {
		shown = resp.Masked()
	}
	if o.asJSON {
		return printJSON(stdout, shown)
	}
	fmt.Fprintf(stdout, "redeemed:    %s\nstock id:    %s\nopenid:      %s\nrequest id:  %s\n",
		localTime(shown.WechatPayUseTime), shown.StockID, shown.OpenID, shown.RequestID)
	return exitOK
}

func getCoupon(ctx context.Context, env *environment, o *options, stdout, stderr io.Writer) int {
	resp, err := env.client.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{OpenID: o.openid, CouponCode: o.arg, AppID: o.appid})
	if err != nil {
		return report(stderr, err, o)
	}
	if o.asJSON {
		return printJSON(stdout, resp)
	}
	fmt.Fprintf(stdout, "coupon:      %s\nstate:       %s\nstock id:    %s (%s)\nusable:      %s to %s\n",
		resp.CouponCode, resp.CouponState, resp.StockID, resp.StockName, localTime(resp.AvailableStartTime), localTime(resp.ExpireTime))
	if resp.UseRequestNo != "" {
		fmt.Fprintf(stdout, "redeemed:    %s (%s)\n", localTime(resp.UseTime), resp.UseRequestNo)
	}
	if resp.AssociateOutTradeNo != "" {
		fmt.Fprintf(stdout, "order:       %s\n", resp.AssociateOutTradeNo)
	}
	fmt.Fprintf(stdout, "request id:  %s\n", resp.RequestID)
	return exitOK
}

func returnCoupon(ctx context.Context, env *environment, o *options, stdout, stderr io.Writer) int {
	resp, err := env.client.ReturnCoupon(ctx, busifavor.ReturnCouponRequest{CouponCode: o.arg, StockID: o.stockID, ReturnRequestNo: o.requestNo})
	if err != nil {
		return report(stderr, err, o)
	}
	if o.asJSON {
		return printJSON(stdout, resp)
	}
	fmt.Fprintf(stdout, "returned:    %s\nrequest id:  %s\n", localTime(resp.WechatPayReturnTime), resp.RequestID)
	return exitOK
}

func deactivateCoupon(ctx context.Context, env *environment, o *options, stdout, stderr io.Writer) int {
	resp, err := env.client.DeactivateCoupon(ctx, busifavor.DeactivateCouponRequest{CouponCode: o.arg, StockID: o.stockID,
		DeactivateRequestNo: o.requestNo, DeactivateReason: o.reason})
	if err != nil {
		return report(stderr, err, o)
	}
	if o.asJSON {
		return printJSON(stdout, resp)
	}
	fmt.Fprintf(stdout, "deactivated: %s\nrequest id:  %s\n", localTime(resp.WechatPayDeactivateTime), resp.RequestID)
	return exitOK
}
