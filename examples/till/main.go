// Command till redeems a merchant coupon at a till (核销用户券) and prints
// what the cashier should do. It is an example to copy into a point of sale.
//
//	. DIR/sandbox.env     # or the merchant's own WECHATPAY_* variables
//	go run ./examples/till --transaction S012-T03-000042 --code CODE --appid wx233544546545989
//
// It reads the merchant's credentials from the variables the example backend
// reads: WECHATPAY_MCHID, WECHATPAY_CERT_SERIAL, WECHATPAY_PRIVATE_KEY_FILE,
// WECHATPAY_PUBLIC_KEY_ID, WECHATPAY_PUBLIC_KEY_FILE, and
// WECHATPAY_BASE_URL when set (busifavor sandbox writes them all into
// sandbox.env).
//
// The redemption number (use_request_no) is derived from the till's own
// transaction and the coupon's line in it, never made up per call: running
// the till again for the same transaction and line sends the same number.
// The UseCoupon page describes use_request_no only as 每次核销请求的唯一标识,
// 商户需保证唯一 (each redemption request's unique identifier; the merchant
// keeps it unique). It does not say what a repeated number gets. This
// example assumes, as the busifavor SDK does, that WeChat Pay answers a
// repeated number with the first result; busifavortest behaves so. A coupon
// is redeemed once whatever the number (a second redemption under another
// number is refused with RESOURCE_ALREADY_EXISTS, 券已被其他订单核销), so the
// assumption decides only how a repeat is answered, never whether the
// coupon is redeemed twice. Where it does not hold, a repeat would be refused
// as already used; with --openid the till then reads the coupon
// (GetUserCoupon) and recognises its own redemption by its use_request_no.
//
// Exit status: 0 redeemed; 1 refused (the coupon cannot be used: tell the
// customer); 2 bad input or configuration (nothing was sent); 3 ask again:
// the outcome is unknown or WeChat Pay asked to slow down, so run the till
// again with the same --transaction and --line, and do not hand over the
// goods until it says redeemed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/busifavor-go/busifavor"
)

// Exit statuses.
const (
	exitRedeemed = 0
	exitRefused  = 1
	exitUsage    = 2
	exitAskAgain = 3
)

// cst is WeChat Pay's time zone, in which the till prints times.
var cst = time.FixedZone("CST", 8*60*60)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the till: it parses args, builds the client from env, redeems the
// coupon and prints the verdict for the cashier on stdout (details and the
// client's log on stderr). It returns the exit status.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("till", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		transaction = fs.String("transaction", "", "the till's own transaction number (required): the redemption number is derived from it")
		line        = fs.Int("line", 1, "the coupon's line in the transaction: 1 for the first coupon, 2 for a second one on the same transaction")
		code        = fs.String("code", "", "the coupon code scanned (required)")
		stockID     = fs.String("stock-id", "", "the coupon's stock; required for stocks whose codes the merchant uploads or sets")
		appID       = fs.String("appid", "", "an appid bound to the merchant (required); the answer's openid is under it")
		openID      = fs.String("openid", "", "the customer's openid, when the till knows it: WeChat Pay then checks the coupon is theirs")
		timeout     = fs.Duration("timeout", 5*time.Second, "how long the redemption may take, retries included")
	)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: till --transaction T --code CODE --appid APPID [--line N] [--stock-id ID] [--openid ID] [--timeout 5s]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	var problems []string
	for _, f := range []struct{ name, value string }{{"--transaction", *transaction}, {"--code", *code}, {"--appid", *appID}} {
		if f.value == "" {
			problems = append(problems, f.name+" is required")
		}
	}
	if *line < 1 {
		problems = append(problems, "--line must be 1 or more")
	}
	if *timeout <= 0 {
		problems = append(problems, "--timeout must be positive")
	}
	if fs.NArg() > 0 {
		problems = append(problems, "unexpected argument "+fs.Arg(0))
	}
	if len(problems) > 0 {
		fmt.Fprintln(stderr, "till:", strings.Join(problems, "; "))
		fs.Usage()
		return exitUsage
	}

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	client, err := newClient(ctx, env, logger)
	if err != nil {
		fmt.Fprintln(stderr, "till:", err)
		return exitUsage
	}
	// A till cannot keep a customer waiting: one quick retry, and a deadline
	// for the whole call. The start-up code of a backend would retry more
	// patiently with the same client.
	quick, err := client.With(
		busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 2, InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}),
		busifavor.WithTimeout(*timeout))
	if err != nil {
		fmt.Fprintln(stderr, "till:", err)
		return exitUsage
	}

	t := till{client: quick, out: stdout, errOut: stderr}
	return t.redeem(ctx, busifavor.UseCouponRequest{
		CouponCode:   *code,
		StockID:      *stockID,
		AppID:        *appID,
		UseTime:      time.Now(),
		UseRequestNo: useRequestNo(*transaction, *line),
		OpenID:       *openID,
	})
}

// useRequestNo derives the redemption number from the till's transaction
// and the coupon's line in it: the same transaction and line always give
// the same number, so a retry, or the till run again after a lost answer,
// can only repeat the first redemption.
func useRequestNo(transaction string, line int) string {
	return fmt.Sprintf("%s-%d", transaction, line)
}

// till redeems coupons with a quick client and tells the cashier the result.
type till struct {
	client *busifavor.Client
	out    io.Writer // the verdict, for the cashier
	errOut io.Writer // details, for whoever reads the till's log
}

// redeem redeems req's coupon and prints what the cashier should do; it
// returns the exit status.
func (t till) redeem(ctx context.Context, req busifavor.UseCouponRequest) int {
	coupon := busifavor.MaskCode(req.CouponCode)
	resp, err := t.client.UseCoupon(ctx, req)
	var apiErr *busifavor.APIError
	answered := errors.As(err, &apiErr)
	switch {
	case err == nil:
		fmt.Fprintf(t.out, "REDEEMED coupon %s of stock %s, use_request_no %s, owner %s, at %s\n",
			coupon, resp.StockID, req.UseRequestNo, busifavor.MaskID(resp.OpenID), resp.WechatPayUseTime.In(cst).Format(time.RFC3339))
		fmt.Fprintln(t.out, "cashier: apply the discount and hand over the goods.")
		return exitRedeemed

	case errors.Is(err, busifavor.ErrValidation):
		// Refused before sending: the input breaks a documented rule.
		fmt.Fprintln(t.out, "NOT SENT: the input is not valid; nothing was redeemed.")
		fmt.Fprintln(t.out, "cashier: rescan the coupon; if it happens again, call support.")
		fmt.Fprintln(t.errOut, "till:", err)
		return exitUsage

	case errors.Is(err, busifavor.ErrCouponUsed):
		if ours, ok := t.redeemedByUs(ctx, req); ok {
			fmt.Fprintf(t.out, "REDEEMED coupon %s earlier under this transaction (use_request_no %s); WeChat Pay answered the repeat as already used.\n",
				coupon, req.UseRequestNo)
			fmt.Fprintf(t.out, "cashier: the discount belongs to this transaction once; hand over the goods once (redeemed at %s).\n",
				ours.UseTime.In(cst).Format(time.RFC3339))
			return exitRedeemed
		}
		fmt.Fprintf(t.out, "REFUSED coupon %s: already used by another order (券已被其他订单核销).\n", coupon)
		fmt.Fprintln(t.out, "cashier: do not apply the discount; ask for another coupon or payment.")
		if req.OpenID == "" {
			fmt.Fprintln(t.out, "  (If an earlier run for this transaction and line said UNKNOWN, run again with --openid: the till then checks whether the redemption is this transaction's.)")
		}
		fmt.Fprintln(t.errOut, "till:", err)
		return exitRefused

	case errors.Is(err, busifavor.ErrCouponNotUsable):
		fmt.Fprintf(t.out, "REFUSED coupon %s: it cannot be used now (expired, not valid yet, or deactivated: 券不在有效期).\n", coupon)
		fmt.Fprintln(t.out, "cashier: do not apply the discount; the customer can check the coupon's dates in WeChat's card package.")
		fmt.Fprintln(t.errOut, "till:", err)
		return exitRefused

	case errors.Is(err, busifavor.ErrCouponNotFound):
		fmt.Fprintf(t.out, "REFUSED coupon %s: WeChat Pay knows no such coupon for this merchant.\n", coupon)
		fmt.Fprintln(t.out, "cashier: rescan it (a stock whose codes the merchant sets needs --stock-id); it may be another merchant's coupon.")
		fmt.Fprintln(t.errOut, "till:", err)
		return exitRefused

	case errors.Is(err, busifavor.ErrFrequencyLimited) || answered && apiErr.StatusCode == http.StatusTooManyRequests:
		// Refused for now: nothing was redeemed by this answer.
		fmt.Fprintf(t.out, "BUSY: WeChat Pay asked the till to slow down; coupon %s is not redeemed yet.\n", coupon)
		fmt.Fprintf(t.out, "cashier: wait a few seconds and run the till again with the same transaction and line (use_request_no %s).\n", req.UseRequestNo)
		fmt.Fprintln(t.errOut, "till:", err)
		return exitAskAgain

	case answered && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500:
		// Another refusal of WeChat Pay's (a 4xx it answered). Running the
		// till again with the same number is safe, but will most likely
		// get the same answer.
		fmt.Fprintf(t.out, "REFUSED coupon %s: WeChat Pay answered %s: %s\n", coupon, apiErr.Code, apiErr.Description())
		fmt.Fprintf(t.out, "cashier: do not apply the discount; call support with request id %s.\n", apiErr.RequestID)
		fmt.Fprintln(t.errOut, "till:", err)
		return exitRefused

	default:
		// No answer (ErrTransport), a 5xx after the retry, the deadline, an
		// answer that did not verify: the coupon may or may not have been
		// redeemed. Only the same use_request_no finds out without risk.
		fmt.Fprintf(t.out, "UNKNOWN: no usable answer from WeChat Pay; coupon %s may or may not be redeemed.\n", coupon)
		fmt.Fprintf(t.out, "cashier: do not hand over the goods yet. Ask again: run the till with the same transaction and line (use_request_no %s),\n", req.UseRequestNo)
		fmt.Fprintln(t.out, "  which gets the first result and never redeems twice. Never redeem this coupon under a new transaction number.")
		fmt.Fprintln(t.errOut, "till:", err)
		return exitAskAgain
	}
}

// redeemedByUs reads the coupon, when the till knows its owner's openid,
// and reports whether it was redeemed under req's use_request_no: the till's
// own earlier redemption, answered as already used by a WeChat Pay that does
// not replay repeats. GetUserCoupon's answer carries use_request_no once the
// coupon is redeemed (wechatpay-go's model of 查询用户券详情: 核销时传入的唯一
// 凭证（如券已被核销，将返回此字段）). Without an openid, or if the read fails,
// it reports false and the refusal stands.
func (t till) redeemedByUs(ctx context.Context, req busifavor.UseCouponRequest) (*busifavor.GetUserCouponResponse, bool) {
	if req.OpenID == "" {
		return nil, false
	}
	c, err := t.client.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{OpenID: req.OpenID, CouponCode: req.CouponCode, AppID: req.AppID})
	if err != nil {
		fmt.Fprintln(t.errOut, "till: reading the used coupon:", err)
		return nil, false
	}
	if c.CouponState != busifavor.CouponStateUsed || c.UseRequestNo != req.UseRequestNo {
		return nil, false
	}
	return c, true
}

// newClient builds the busifavor client from the WECHATPAY_* variables, as
// examples/merchant-backend does (its APIv3 key aside: a till receives no
// events).
func newClient(ctx context.Context, env func(string) string, logger *slog.Logger) (*busifavor.Client, error) {
	var missing []string
	for _, name := range []string{"WECHATPAY_MCHID", "WECHATPAY_CERT_SERIAL", "WECHATPAY_PRIVATE_KEY_FILE", "WECHATPAY_PUBLIC_KEY_ID", "WECHATPAY_PUBLIC_KEY_FILE"} {
		if env(name) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("set %s (after `busifavor sandbox --dir DIR`, `. DIR/sandbox.env` sets them all)", strings.Join(missing, ", "))
	}
	privateKey, err := utils.LoadPrivateKeyWithPath(env("WECHATPAY_PRIVATE_KEY_FILE"))
	if err != nil {
		return nil, fmt.Errorf("WECHATPAY_PRIVATE_KEY_FILE: %w", err)
	}
	publicKey, err := utils.LoadPublicKeyWithPath(env("WECHATPAY_PUBLIC_KEY_FILE"))
	if err != nil {
		return nil, fmt.Errorf("WECHATPAY_PUBLIC_KEY_FILE: %w", err)
	}
	cc, err := core.NewClient(ctx, option.WithWechatPayPublicKeyAuthCipher(
		env("WECHATPAY_MCHID"), env("WECHATPAY_CERT_SERIAL"), privateKey, env("WECHATPAY_PUBLIC_KEY_ID"), publicKey),
		option.WithHTTPClient(busifavor.NewHTTPClient(&http.Client{Timeout: 30 * time.Second})))
	if err != nil {
		return nil, err
	}
	opts := []busifavor.Option{busifavor.WithLogger(logger)}
	if base := env("WECHATPAY_BASE_URL"); base != "" { // a proxy, or busifavor sandbox
		opts = append(opts, busifavor.WithBaseURL(base))
	}
	return busifavor.NewClient(cc, opts...)
}
