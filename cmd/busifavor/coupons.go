package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/busifavor-go/busifavor"
)

// couponCommands send and act on users' coupons.
var couponCommands = []command{
	{
		name: "coupon send", group: groupCoupons, summary: "send a coupon to a user (发放)",
		usage: "--stock-id S --openid O --appid A --out-request-no N [--coupon-code C] [--json]",
		help: `Sends a coupon of a stock to a user (发放消费卡), as the merchant's backend
would: the user is --openid under --appid, an appid bound to the merchant.
--out-request-no makes running it again safe: the same number sends one
coupon, and the answer names it. --coupon-code names the code to give, for
stocks whose codes the merchant names (MERCHANT_API); WeChat Pay picks one
otherwise. The coupon's COUPON.SEND event goes to the notify URL.`,
		examples: []string{"coupon send --stock-id 1200000001 --openid oUpF8uMuAJO_M2pxb1Q9zNjWeS6o --appid wx233544546545989 --out-request-no send-0001"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			var req busifavor.SendCouponRequest
			fs.StringVar(&req.StockID, "stock-id", "", "the stock (required)")
			fs.StringVar(&req.OpenID, "openid", "", "the user, under --appid (required)")
			fs.StringVar(&req.AppID, "appid", "", "an appid bound to the merchant (required)")
			fs.StringVar(&req.OutRequestNo, "out-request-no", "", "this send's unique number (required)")
			fs.StringVar(&req.CouponCode, "coupon-code", "", "the code to give, for MERCHANT_API stocks")
			asJSON := callFlags(fs)
			return func(ctx context.Context, c *call) int {
				resp, err := c.env.client.SendCoupon(ctx, req)
				if err != nil {
					return c.report(err)
				}
				if *asJSON {
					return printJSON(c.stdout, resp)
				}
				code := resp.CouponCode
				if code == "" {
					code = "- (WeChat Pay did not say: find it with busifavor coupon get or the COUPON.SEND event)"
				}
				fmt.Fprintf(c.stdout, "coupon:      %s\nstock id:    %s\nsent as:     %s\nrequest id:  %s\n", code, resp.StockID, resp.OutRequestNo, resp.RequestID)
				return exitOK
			}
		},
	},
	{
		name: "coupon use", group: groupCoupons, summary: "redeem a coupon (核销)", arg: "COUPON_CODE",
		usage: "COUPON_CODE --appid A --use-request-no N [--stock-id S] [--openid O] [--use-time T] [--json]",
		help: `Redeems (核销) a coupon. --use-request-no makes it safe to run again: the
same number returns the first result instead of redeeming twice; use a new
number for each redemption. --stock-id is required for stocks whose codes
the merchant names or uploads. --use-time is RFC 3339 (default: now).

Exit status 1 names why WeChat Pay refused: used already, outside its
valid time, or no such coupon.`,
		examples: []string{"coupon use SANDBOX0001 --stock-id 1200000001 --appid wx233544546545989 --use-request-no till7-0001"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			var req busifavor.UseCouponRequest
			fs.StringVar(&req.AppID, "appid", "", "an appid bound to the merchant (required)")
			fs.StringVar(&req.UseRequestNo, "use-request-no", "", "this redemption's unique number (required)")
			fs.StringVar(&req.StockID, "stock-id", "", "the coupon's stock")
			fs.StringVar(&req.OpenID, "openid", "", "check that the coupon is this user's")
			useTime := fs.String("use-time", "", "when the coupon is redeemed, RFC 3339 (default: now)")
			showOpenID := fs.Bool("show-openid", false, "print the openid unmasked (personal data)")
			asJSON := callFlags(fs)
			return func(ctx context.Context, c *call) int {
				req.CouponCode, req.UseTime = c.arg, time.Now()
				if *useTime != "" {
					t, err := busifavor.ParseTime(*useTime)
					if err != nil {
						return c.fail("--use-time: %v; nothing was sent", err)
					}
					req.UseTime = t
				}
				resp, err := c.env.client.UseCoupon(ctx, req)
				if err != nil {
					return c.report(err)
				}
				shown := *resp
				if !*showOpenID {
					shown = resp.Masked()
				}
				if *asJSON {
					return printJSON(c.stdout, shown)
				}
				fmt.Fprintf(c.stdout, "redeemed:    %s\nstock id:    %s\nopenid:      %s\nrequest id:  %s\n",
					localTime(shown.WechatPayUseTime), shown.StockID, shown.OpenID, shown.RequestID)
				return exitOK
			}
		},
	},
	{
		name: "coupon get", group: groupCoupons, summary: "read a user's coupon", arg: "COUPON_CODE",
		usage: "COUPON_CODE --openid O --appid A [--json]",
		help: `Reads a user's coupon: its state, stock, times, the order it is tied to and
the numbers it was sent, redeemed, returned or deactivated with.`,
		examples: []string{"coupon get SANDBOX0001 --openid oUpF8uMuAJO_M2pxb1Q9zNjWeS6o --appid wx233544546545989"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			var req busifavor.GetUserCouponRequest
			fs.StringVar(&req.OpenID, "openid", "", "the coupon's owner (required)")
			fs.StringVar(&req.AppID, "appid", "", "an appid bound to the merchant (required)")
			asJSON := callFlags(fs)
			return func(ctx context.Context, c *call) int {
				req.CouponCode = c.arg
				resp, err := c.env.client.GetUserCoupon(ctx, req)
				if err != nil {
					return c.report(err)
				}
				if *asJSON {
					return printJSON(c.stdout, resp)
				}
				fmt.Fprintf(c.stdout, "coupon:      %s\nstate:       %s\nstock id:    %s (%s)\nusable:      %s to %s\n",
					resp.CouponCode, resp.CouponState, resp.StockID, resp.StockName, localTime(resp.AvailableStartTime), localTime(resp.ExpireTime))
				if resp.UseRequestNo != "" {
					fmt.Fprintf(c.stdout, "redeemed:    %s (%s)\n", localTime(resp.UseTime), resp.UseRequestNo)
				}
				if resp.AssociateOutTradeNo != "" {
					fmt.Fprintf(c.stdout, "order:       %s\n", resp.AssociateOutTradeNo)
				}
				fmt.Fprintf(c.stdout, "request id:  %s\n", resp.RequestID)
				return exitOK
			}
		},
	},
	{
		name: "coupon return", group: groupCoupons, summary: "return a redeemed coupon (退券)", arg: "COUPON_CODE",
		usage: "COUPON_CODE --stock-id S --return-request-no N [--json]",
		help: `Returns (退券) a redeemed coupon after its order was refunded: the user can
use it again. --return-request-no makes running it again safe.`,
		examples: []string{"coupon return SANDBOX0002 --stock-id 1200000001 --return-request-no refund-0001"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			var req busifavor.ReturnCouponRequest
			fs.StringVar(&req.StockID, "stock-id", "", "the coupon's stock (required)")
			fs.StringVar(&req.ReturnRequestNo, "return-request-no", "", "this return's unique number (required)")
			asJSON := callFlags(fs)
			return func(ctx context.Context, c *call) int {
				req.CouponCode = c.arg
				resp, err := c.env.client.ReturnCoupon(ctx, req)
				if err != nil {
					return c.report(err)
				}
				if *asJSON {
					return printJSON(c.stdout, resp)
				}
				fmt.Fprintf(c.stdout, "returned:    %s\nrequest id:  %s\n", localTime(resp.WechatPayReturnTime), resp.RequestID)
				return exitOK
			}
		},
	},
	{
		name: "coupon deactivate", group: groupCoupons, summary: "make a coupon unusable (使券失效)", arg: "COUPON_CODE",
		usage: "COUPON_CODE --stock-id S --deactivate-request-no N [--deactivate-reason R] [--json]",
		help: `Makes a usable coupon unusable (使券失效). --deactivate-request-no makes
running it again safe.`,
		examples: []string{"coupon deactivate SANDBOX0001 --stock-id 1200000001 --deactivate-request-no off-0001 --deactivate-reason 订单取消"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			var req busifavor.DeactivateCouponRequest
			fs.StringVar(&req.StockID, "stock-id", "", "the coupon's stock (required)")
			fs.StringVar(&req.DeactivateRequestNo, "deactivate-request-no", "", "this deactivation's unique number (required)")
			fs.StringVar(&req.DeactivateReason, "deactivate-reason", "", "why, for the merchant's records")
			asJSON := callFlags(fs)
			return func(ctx context.Context, c *call) int {
				req.CouponCode = c.arg
				resp, err := c.env.client.DeactivateCoupon(ctx, req)
				if err != nil {
					return c.report(err)
				}
				if *asJSON {
					return printJSON(c.stdout, resp)
				}
				fmt.Fprintf(c.stdout, "deactivated: %s\nrequest id:  %s\n", localTime(resp.WechatPayDeactivateTime), resp.RequestID)
				return exitOK
			}
		},
	},
	tradeInfoCommand(true),
	tradeInfoCommand(false),
}

// tradeInfoCommand is coupon associate (ties a coupon to an order, 关联订单
// 信息) or, when associate is false, coupon disassociate (取消关联订单信息).
func tradeInfoCommand(associate bool) command {
	cmd := command{
		name: "coupon associate", group: groupCoupons, summary: "tie a coupon to a WeChat Pay order (关联订单信息)", arg: "COUPON_CODE",
		usage: "COUPON_CODE --stock-id S --out-trade-no T --out-request-no N [--json]",
		help: `Ties a coupon to the WeChat Pay order it is used on (关联订单信息), by the
merchant's order number (--out-trade-no): WeChat Pay then shows the order with
the coupon, and subsidies (busifavor subsidy pay) are paid for it.
--out-request-no makes running it again safe.`,
		examples: []string{"coupon associate SANDBOX0001 --stock-id 1200000001 --out-trade-no order-0001 --out-request-no assoc-0001"},
		needs:    needClient,
	}
	if !associate {
		cmd.name, cmd.summary = "coupon disassociate", "untie a coupon from its order (取消关联订单信息)"
		cmd.help = `Unties a coupon from the order it was tied to (取消关联订单信息), for
instance after the order was cancelled. --out-trade-no names that order;
--out-request-no makes running it again safe.`
		cmd.examples = []string{"coupon disassociate SANDBOX0002 --stock-id 1200000001 --out-trade-no sandbox-order-1 --out-request-no disassoc-0001"}
	}
	cmd.flags = func(fs *flag.FlagSet) action {
		var req busifavor.AssociateTradeInfoRequest
		fs.StringVar(&req.StockID, "stock-id", "", "the coupon's stock (required)")
		fs.StringVar(&req.OutTradeNo, "out-trade-no", "", "the merchant's order number of the WeChat Pay order (required)")
		fs.StringVar(&req.OutRequestNo, "out-request-no", "", "this request's unique number (required)")
		asJSON := callFlags(fs)
		return func(ctx context.Context, c *call) int {
			req.CouponCode = c.arg
			var resp any
			var at time.Time
			var requestID string
			if associate {
				r, err := c.env.client.AssociateTradeInfo(ctx, req)
				if err != nil {
					return c.report(err)
				}
				resp, at, requestID = r, r.WechatPayAssociateTime, r.RequestID
			} else {
				r, err := c.env.client.DisassociateTradeInfo(ctx, busifavor.DisassociateTradeInfoRequest(req))
				if err != nil {
					return c.report(err)
				}
				resp, at, requestID = r, r.WechatPayDisassociateTime, r.RequestID
			}
			if *asJSON {
				return printJSON(c.stdout, resp)
			}
			verb := "associated:  "
			if !associate {
				verb = "untied:      "
			}
			fmt.Fprintf(c.stdout, "%s%s (order %s)\nrequest id:  %s\n", verb, localTime(at), req.OutTradeNo, requestID)
			return exitOK
		}
	}
	return cmd
}
