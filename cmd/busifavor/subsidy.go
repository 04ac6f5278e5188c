package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/busifavor-go/busifavor"
)

// subsidyCommands pay subsidies for redeemed coupons (营销补差), return
// them and read them.
var subsidyCommands = []command{
	{
		name: "subsidy pay", group: groupSubsidy, summary: "pay a subsidy for a redeemed coupon (money moves)",
		usage: "--stock-id S --coupon-code C --transaction-id T --payer-merchant P --payee-merchant Q --amount 分 --description D --out-subsidy-no N [--yes] [--json]",
		help: `Pays a subsidy for a redeemed coupon (营销补差付款): --amount 分 move from
--payer-merchant (the stock's creator or owner) to --payee-merchant, for the
coupon's use on the WeChat Pay order --transaction-id. At most the coupon's
discount per order, NORMAL (满减券) stocks only.

Money moves, so the command asks first: it prints what it will pay and
waits for "y" on a terminal, or takes --yes (a script). The request is
checked before it asks; nothing is sent when it breaks a rule.

--out-subsidy-no is this payment's number: keep it with the order before
running the command. It is never resent on its own: when an answer is lost
the command looks the payment up by that number first, and resends only
what is not listed. When it still cannot tell whether WeChat Pay paid, it
exits 1 saying "outcome unknown" and how to find out (busifavor subsidy list
with the same number); run it again only with the same --out-subsidy-no,
never a new one. A payment can come back ACCEPTED (not settled yet):
busifavor subsidy list follows it.`,
		examples: []string{"subsidy pay --stock-id 1200000001 --coupon-code SANDBOX0002 --transaction-id 4200000000000000000000000001 " +
			"--payer-merchant 10000098 --payee-merchant 1900000002 --amount 300 --description 周末补差 --out-subsidy-no subsidy-0002 --yes"},
		needs: needClient,
		flags: func(fs *flag.FlagSet) action {
			var req busifavor.CreateSubsidyPayReceiptRequest
			fs.StringVar(&req.StockID, "stock-id", "", "the coupon's stock (required)")
			fs.StringVar(&req.CouponCode, "coupon-code", "", "the redeemed coupon (required)")
			fs.StringVar(&req.TransactionID, "transaction-id", "", "the WeChat Pay order the coupon was used on (required)")
			fs.StringVar(&req.PayerMerchant, "payer-merchant", "", "the merchant that pays: the stock's creator or owner (required)")
			fs.StringVar(&req.PayeeMerchant, "payee-merchant", "", "the merchant that receives (required)")
			fs.Int64Var(&req.Amount, "amount", 0, "the subsidy in 分 (1 元 = 100 分; required)")
			fs.StringVar(&req.Description, "description", "", "the payment's note (required)")
			fs.StringVar(&req.OutSubsidyNo, "out-subsidy-no", "", "this payment's unique number (required)")
			yes := fs.Bool("yes", false, "pay without asking (money moves)")
			asJSON := callFlags(fs)
			return func(ctx context.Context, c *call) int {
				var resp *busifavor.SubsidyPayReceiptResponse
				code, ok := c.moneyCreate(req, *yes,
					fmt.Sprintf("Pay a subsidy of %s from %s to %s for coupon %s of stock %s on order %s (out_subsidy_no %s)",
						money(req.Amount), req.PayerMerchant, req.PayeeMerchant, req.CouponCode, req.StockID, req.TransactionID, req.OutSubsidyNo),
					func() (err error) { resp, err = c.env.client.CreateSubsidyPayReceipt(ctx, req); return err },
					fmt.Sprintf("  WeChat Pay may or may not have paid. Find out with\n"+
						"    busifavor subsidy list --stock-id %s --coupon-code %s --out-subsidy-no %s\n"+
						"  (WeChat Pay may list it only after a while). Not listed after a while: run this same command again,\n"+
						"  with the same --out-subsidy-no; never with a new number, which would pay twice.\n",
						req.StockID, req.CouponCode, req.OutSubsidyNo))
				if !ok {
					return code
				}
				return printPayReceipt(c, &resp.SubsidyPayReceipt, resp.RequestID, *asJSON, resp)
			}
		},
	},
	{
		name: "subsidy get", group: groupSubsidy, summary: "read a subsidy payment or return by WeChat Pay's id", arg: "RECEIPT_ID",
		usage: "RECEIPT_ID [--return] [--json]",
		help: `Reads a subsidy payment (查询营销补差付款单详情) by the id WeChat Pay gave it,
or with --return a subsidy return (查询营销补差回退单详情). A payment without
an id yet (ACCEPTED) is read with busifavor subsidy list.`,
		examples: []string{"subsidy get 1100000000000000000000000001"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			isReturn := fs.Bool("return", false, "RECEIPT_ID is a subsidy return's id")
			asJSON := callFlags(fs)
			return func(ctx context.Context, c *call) int {
				if *isReturn {
					resp, err := c.env.client.GetSubsidyReturnReceipt(ctx, busifavor.GetSubsidyReturnReceiptRequest{SubsidyReturnReceiptID: c.arg})
					if err != nil {
						return c.report(err)
					}
					return printReturnReceipt(c, &resp.SubsidyReturnReceipt, resp.RequestID, *asJSON, resp)
				}
				resp, err := c.env.client.GetSubsidyPayReceipt(ctx, busifavor.GetSubsidyPayReceiptRequest{SubsidyReceiptID: c.arg})
				if err != nil {
					return c.report(err)
				}
				return printPayReceipt(c, &resp.SubsidyPayReceipt, resp.RequestID, *asJSON, resp)
			}
		},
	},
	{
		name: "subsidy list", group: groupSubsidy, summary: "list a coupon's subsidy payments",
		usage: "--stock-id S --coupon-code C [--out-subsidy-no N] [--json]",
		help: `Lists a coupon's subsidy payments (查询营销补差付款单列表), or with
--out-subsidy-no the one with that number: how a payment whose answer was
lost is found, and how an ACCEPTED one is followed until it settles. A
payment's status also shows whether it was returned (RETURNING,
PARTIAL_RETURN, FULL_RETURN).`,
		examples: []string{"subsidy list --stock-id 1200000001 --coupon-code SANDBOX0002"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			var req busifavor.ListSubsidyPayReceiptsRequest
			fs.StringVar(&req.StockID, "stock-id", "", "the coupon's stock (required)")
			fs.StringVar(&req.CouponCode, "coupon-code", "", "the coupon (required)")
			fs.StringVar(&req.OutSubsidyNo, "out-subsidy-no", "", "list only the payment with this number")
			asJSON := callFlags(fs)
			return func(ctx context.Context, c *call) int {
				resp, err := c.env.client.ListSubsidyPayReceipts(ctx, req)
				if err != nil {
					return c.report(err)
				}
				if *asJSON {
					return printJSON(c.stdout, resp)
				}
				for _, r := range resp.PayReceiptList {
					fmt.Fprintf(c.stdout, "%-24s %-26s %-22s %-28s %s\n", r.OutSubsidyNo, r.Status, money(r.Amount), orDash(r.SubsidyReceiptID), localTime(r.SuccessTime))
				}
				fmt.Fprintf(c.stderr, "busifavor: %d payments (out_subsidy_no, status, amount, id, paid at); request id %s\n", len(resp.PayReceiptList), resp.RequestID)
				return exitOK
			}
		},
	},
	{
		name: "subsidy return", group: groupSubsidy, summary: "return a subsidy after a refund (money moves)",
		usage: "--stock-id S --coupon-code C --transaction-id T --refund-id R --payer-merchant P --payee-merchant Q --amount 分 --description D --out-subsidy-return-no N [--yes] [--json]",
		help: `Returns a subsidy payment, wholly or in part, after the order was refunded
(营销补差回退): --amount 分 move back from --payee-merchant to
--payer-merchant, the payment's merchants unchanged. All returns of a coupon
together are at most its payment.

Money moves, so the command asks first, as subsidy pay does (--yes for a
script). --out-subsidy-return-no is this return's number; when an answer is
lost the command reads the payment's status before it resends anything, and
when it cannot tell whether the return was made it exits 1 saying "outcome
unknown" and how to find out; run it again only with the same number.`,
		examples: []string{"subsidy return --stock-id 1200000001 --coupon-code SANDBOX0002 --transaction-id 4200000000000000000000000001 " +
			"--refund-id 5000000000000000000000000001 --payer-merchant 10000098 --payee-merchant 1900000002 --amount 100 --description 退款回退 " +
			"--out-subsidy-return-no return-0001 --yes"},
		needs: needClient,
		flags: func(fs *flag.FlagSet) action {
			var req busifavor.CreateSubsidyReturnReceiptRequest
			fs.StringVar(&req.StockID, "stock-id", "", "the coupon's stock (required)")
			fs.StringVar(&req.CouponCode, "coupon-code", "", "the coupon (required)")
			fs.StringVar(&req.TransactionID, "transaction-id", "", "the WeChat Pay order of the payment (required)")
			fs.StringVar(&req.RefundID, "refund-id", "", "the WeChat Pay refund (required)")
			fs.StringVar(&req.PayerMerchant, "payer-merchant", "", "the payment's payer, who receives the money back (required)")
			fs.StringVar(&req.PayeeMerchant, "payee-merchant", "", "the payment's payee, who gives it back (required)")
			fs.Int64Var(&req.Amount, "amount", 0, "the amount returned in 分 (required)")
			fs.StringVar(&req.Description, "description", "", "the return's note (required)")
			fs.StringVar(&req.OutSubsidyReturnNo, "out-subsidy-return-no", "", "this return's unique number (required)")
			yes := fs.Bool("yes", false, "return without asking (money moves)")
			asJSON := callFlags(fs)
			return func(ctx context.Context, c *call) int {
				var resp *busifavor.SubsidyReturnReceiptResponse
				code, ok := c.moneyCreate(req, *yes,
					fmt.Sprintf("Return %s of the subsidy from %s to %s for coupon %s of stock %s, refund %s (out_subsidy_return_no %s)",
						money(req.Amount), req.PayeeMerchant, req.PayerMerchant, req.CouponCode, req.StockID, req.RefundID, req.OutSubsidyReturnNo),
					func() (err error) { resp, err = c.env.client.CreateSubsidyReturnReceipt(ctx, req); return err },
					fmt.Sprintf("  WeChat Pay may or may not have made the return. No read names a return by its number; the payment's\n"+
						"  status shows whether one was made:\n"+
						"    busifavor subsidy list --stock-id %s --coupon-code %s\n"+
						"  RETURNING, PARTIAL_RETURN or FULL_RETURN: a return was made, maybe this one (the merchant platform's bill names it).\n"+
						"  Still SUCCESS after a while: run this same command again, with the same --out-subsidy-return-no; never a new number.\n",
						req.StockID, req.CouponCode))
				if !ok {
					return code
				}
				return printReturnReceipt(c, &resp.SubsidyReturnReceipt, resp.RequestID, *asJSON, resp)
			}
		},
	},
}

// moneyCreate runs a money create: req is checked, then confirmed (yes, or
// a terminal answer), then sent by create. On an error it reports it, and
// after an unknown outcome prints reconcile (how to find out; never a new
// number); ok is false then, with the exit status.
func (c *call) moneyCreate(req interface{ Validate() error }, yes bool, what string, create func() error, reconcile string) (code int, ok bool) {
	if err := req.Validate(); err != nil {
		return c.report(err), false
	}
	if !c.confirm(yes, what) {
		return exitUsage, false
	}
	if err := create(); err != nil {
		code := c.report(err)
		if errors.Is(err, busifavor.ErrOutcomeUnknown) {
			fmt.Fprint(c.stderr, reconcile)
		}
		return code, false
	}
	return exitOK, true
}

// confirm asks before a money create: yes (--yes) confirms, else "y" typed
// on a terminal after what lists what will be done. Without a terminal it
// says to pass --yes. It reports whether to go on; nothing was sent when
// not.
func (c *call) confirm(yes bool, what string) bool {
	if yes {
		return true
	}
	if !stdinTerminal {
		c.fail("money moves: pass --yes to confirm (stdin is not a terminal to ask on); nothing was sent\n  %s", what)
		return false
	}
	fmt.Fprintf(c.stderr, "%s.\nProceed? [y/N] ", what)
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if !strings.HasSuffix(line, "\n") {
		fmt.Fprintln(c.stderr) // the input ended before a line did
	}
	if ans := strings.ToLower(strings.TrimSpace(line)); (err == nil || errors.Is(err, io.EOF)) && (ans == "y" || ans == "yes") {
		return true
	}
	c.fail("not confirmed; nothing was sent")
	return false
}

// money is an amount in 分 for people: "300 分 (3.00 元)".
func money(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d 分 (%s%d.%02d 元)", sign, fen, sign, fen/100, fen%100)
}

// orDash is s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printPayReceipt prints a subsidy payment (v as it came, with asJSON) and
// picks the exit status: 0 when paid or still settling, 1 when it failed or
// reads a status this package does not know, which is never a success.
func printPayReceipt(c *call, r *busifavor.SubsidyPayReceipt, requestID string, asJSON bool, v any) int {
	if asJSON {
		printJSON(c.stdout, v)
	} else {
		fmt.Fprintf(c.stdout, "payment:     %s (out_subsidy_no %s)\nstatus:      %s\namount:      %s from %s to %s\n"+
			"coupon:      %s of stock %s, order %s\ncreated:     %s\npaid:        %s\nrequest id:  %s\n",
			orDash(r.SubsidyReceiptID), r.OutSubsidyNo, r.Status, money(r.Amount), r.PayerMerchant, r.PayeeMerchant,
			r.CouponCode, r.StockID, r.TransactionID, localTime(r.CreateTime), localTime(r.SuccessTime), requestID)
	}
	switch {
	case r.Status.Pending():
		fmt.Fprintf(c.stderr, "busifavor: the payment is not settled yet; follow it with\n  busifavor subsidy list --stock-id %s --coupon-code %s --out-subsidy-no %s\n",
			r.StockID, r.CouponCode, r.OutSubsidyNo)
	case r.Status.Failed():
		fmt.Fprintf(c.stderr, "busifavor: the payment failed: %s\n", r.FailReason)
		return exitAPI
	case !r.Status.Paid():
		fmt.Fprintf(c.stderr, "busifavor: the payment reads status %q, which this command does not know: not taken for success\n", r.Status)
		return exitAPI
	}
	return exitOK
}

// printReturnReceipt prints a subsidy return and picks the exit status as
// printPayReceipt does.
func printReturnReceipt(c *call, r *busifavor.SubsidyReturnReceipt, requestID string, asJSON bool, v any) int {
	if asJSON {
		printJSON(c.stdout, v)
	} else {
		fmt.Fprintf(c.stdout, "return:      %s (out_subsidy_return_no %s)\nstatus:      %s\namount:      %s from %s back to %s\n"+
			"coupon:      %s of stock %s, order %s, refund %s\ncreated:     %s\nreturned:    %s\nrequest id:  %s\n",
			orDash(r.SubsidyReturnReceiptID), r.OutSubsidyReturnNo, r.Status, money(r.Amount), r.PayeeMerchant, r.PayerMerchant,
			r.CouponCode, r.StockID, r.TransactionID, r.RefundID, localTime(r.ReturnCreateTime), localTime(r.ReturnDoneTime), requestID)
	}
	switch {
	case r.Status.Pending():
		fmt.Fprintf(c.stderr, "busifavor: the return is not settled yet; its payment's status shows it: busifavor subsidy list --stock-id %s --coupon-code %s\n",
			r.StockID, r.CouponCode)
	case r.Status.Failed():
		fmt.Fprintf(c.stderr, "busifavor: the return failed: %s\n", r.FailReason)
		return exitAPI
	case !r.Status.Returned():
		fmt.Fprintf(c.stderr, "busifavor: the return reads status %q, which this command does not know: not taken for success\n", r.Status)
		return exitAPI
	}
	return exitOK
}
