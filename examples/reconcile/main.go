// Command reconcile is a nightly subsidy reconciliation (营销补差对账) to
// copy: it reads the subsidy payments the merchant's own books hold for a
// day, reads each from WeChat Pay, waits for those still pending, and
// reports what was paid, what failed (and why) and what is unknown. An
// unknown payment is never counted as paid.
//
//	. DIR/sandbox.env     # or the merchant's own WECHATPAY_* variables
//	go run ./examples/reconcile [--wait 10m] [--poll 5s] payments-2026-12-01.csv
//
// It reads the merchant's credentials from the variables the example backend
// reads: WECHATPAY_MCHID, WECHATPAY_CERT_SERIAL, WECHATPAY_PRIVATE_KEY_FILE,
// WECHATPAY_PUBLIC_KEY_ID, WECHATPAY_PUBLIC_KEY_FILE, and
// WECHATPAY_BASE_URL when set (busifavor sandbox writes them all into
// sandbox.env).
//
// The file is the day's payments from the merchant's books, as CSV with a
// header row naming (at least) the columns stock_id, coupon_code and
// out_subsidy_no, or as a JSON array of objects with those keys; other
// columns or keys are ignored. The file chooses the day: WeChat Pay's list
// of payments (查询营销补差付款单列表) is read per coupon, with stock_id and
// coupon_code required and out_subsidy_no optional, and has no date filter
// and no paging. So each coupon in the file is listed once, its payments
// matched to the file by out_subsidy_no, and a payment of the coupon that
// the file does not hold is noted (it may be another day's).
//
// A payment still pending (ACCEPTED, or not listed yet: the list may lag
// behind the create) is waited for with busifavor.WaitSubsidyPayReceipt,
// all of them together, until --wait has passed. What has not settled by
// then, a status this program does not know, and a coupon that could not be
// read, are unknown.
//
// Exit status: 0 when every payment in the file is paid or failed; 1 when
// any is unknown (run it again later; never pay again under a new
// out_subsidy_no for an unknown one); 2 for a bad file or configuration
// (nothing was read from WeChat Pay).
package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/busifavor-go/busifavor"
)

// Exit statuses.
const (
	exitSettled = 0
	exitUnknown = 1
	exitUsage   = 2
)

// waiters is how many pending payments are waited for at once.
const waiters = 4

// cst is WeChat Pay's time zone, in which the report prints times.
var cst = time.FixedZone("CST", 8*60*60)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the reconciliation: it parses args, reads the books' file, builds
// the client from env, reads and waits for every payment, and prints the
// report on stdout (the client's log on stderr). It returns the exit status.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		wait = fs.Duration("wait", 10*time.Minute, "how long to wait, in all, for the payments still pending")
		poll = fs.Duration("poll", 5*time.Second, "the first wait between two reads of a pending payment; it doubles up to 30s")
	)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: reconcile [--wait 10m] [--poll 5s] FILE   (FILE: CSV or JSON with stock_id, coupon_code, out_subsidy_no)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 1 || *wait <= 0 || *poll <= 0 {
		fmt.Fprintln(stderr, "reconcile: give one FILE, a positive --wait and a positive --poll")
		fs.Usage()
		return exitUsage
	}
	entries, err := readBooks(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "reconcile:", err)
		return exitUsage
	}
	client, err := newClient(ctx, env, slog.New(slog.NewTextHandler(stderr, nil)))
	if err != nil {
		fmt.Fprintln(stderr, "reconcile:", err)
		return exitUsage
	}
	r := reconciler{client: client, out: stdout, wait: *wait,
		poll: busifavor.PollPolicy{InitialBackoff: *poll, MaxBackoff: max(*poll, 30*time.Second)}}
	results := r.reconcile(ctx, entries)
	return report(stdout, fs.Arg(0), results)
}

// entry is one payment in the merchant's books.
type entry struct {
	StockID      string `json:"stock_id"`
	CouponCode   string `json:"coupon_code"`
	OutSubsidyNo string `json:"out_subsidy_no"`
	where        string // "line 3" of a CSV file, "entry 2" of a JSON one
}

// readBooks reads the payments of the merchant's books from path (see the
// package comment), checking each as the SDK would before any is read from
// WeChat Pay.
func readBooks(path string) ([]entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var entries []entry
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '[' {
		entries, err = readJSON(data)
	} else {
		entries, err = readCSV(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%s: no payments", path)
	}
	var errs []error
	seen := map[string]string{}
	for _, e := range entries {
		req := busifavor.WaitSubsidyPayReceiptRequest{StockID: e.StockID, CouponCode: e.CouponCode, OutSubsidyNo: e.OutSubsidyNo}
		if err := req.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", path, e.where, err))
		} else if first, ok := seen[e.OutSubsidyNo]; ok {
			errs = append(errs, fmt.Errorf("%s %s: out_subsidy_no %s is also at %s; a number names one payment", path, e.where, e.OutSubsidyNo, first))
		} else {
			seen[e.OutSubsidyNo] = e.where
		}
	}
	return entries, errors.Join(errs...)
}

// readJSON reads a JSON array of payments.
func readJSON(data []byte) ([]entry, error) {
	var entries []entry
	if err := json.Unmarshal(data, &entries); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			line, col := position(data, syntax.Offset)
			return nil, fmt.Errorf("line %d, column %d: %w", line, col, err)
		}
		return nil, err
	}
	for i := range entries {
		entries[i].where = fmt.Sprintf("entry %d", i+1)
	}
	return entries, nil
}

// position is the line and column (both from 1) of the byte a
// json.SyntaxError's Offset ends at: the last byte read.
func position(data []byte, offset int64) (line, col int) {
	if len(data) == 0 {
		return 1, 1
	}
	before := data[:min(max(int(offset), 1), len(data))]
	line = bytes.Count(before[:len(before)-1], []byte("\n")) + 1
	return line, len(before) - 1 - bytes.LastIndexByte(before[:len(before)-1], '\n')
}

// readCSV reads payments from CSV with a header row.
func readCSV(data []byte) ([]entry, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("the header row: %w", err)
	}
	col := map[string]int{}
	for i, name := range header {
		col[strings.TrimSpace(name)] = i
	}
	var missing []string
	for _, name := range []string{"stock_id", "coupon_code", "out_subsidy_no"} {
		if _, ok := col[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the header row has no column %s", strings.Join(missing, ", "))
	}
	var entries []entry
	for {
		record, err := r.Read()
		if err == io.EOF {
			return entries, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := r.FieldPos(0)
		field := func(name string) string {
			if i := col[name]; i < len(record) {
				return strings.TrimSpace(record[i])
			}
			return ""
		}
		entries = append(entries, entry{StockID: field("stock_id"), CouponCode: field("coupon_code"),
			OutSubsidyNo: field("out_subsidy_no"), where: fmt.Sprintf("line %d", line)})
	}
}

// verdict is what the reconciliation found about a payment.
type verdict string

const (
	paid    verdict = "paid"
	failed  verdict = "failed"
	unknown verdict = "unknown"
	pending verdict = "pending" // only until the wait ends
)

// result is a payment of the books and what WeChat Pay says of it.
type result struct {
	entry
	verdict verdict
	receipt *busifavor.SubsidyPayReceipt // as last read; nil when none was
	why     string                       // for unknown: what is not known
}

// reconciler reads the payments through client.
type reconciler struct {
	client *busifavor.Client
	out    io.Writer
	wait   time.Duration
	poll   busifavor.PollPolicy
}

// reconcile lists each coupon's payments once, then waits for the pending
// ones, and returns a result per entry, in the file's order.
func (r reconciler) reconcile(ctx context.Context, entries []entry) []*result {
	results := make([]*result, len(entries))
	byCoupon := map[[2]string][]*result{}
	var coupons [][2]string // in the file's order
	for i, e := range entries {
		results[i] = &result{entry: e}
		key := [2]string{e.StockID, e.CouponCode}
		if byCoupon[key] == nil {
			coupons = append(coupons, key)
		}
		byCoupon[key] = append(byCoupon[key], results[i])
	}
	fmt.Fprintf(r.out, "reconcile: %d payments of %d coupons\n", len(entries), len(coupons))

	var waiting []*result
	for _, key := range coupons {
		list, err := r.client.ListSubsidyPayReceipts(ctx, busifavor.ListSubsidyPayReceiptsRequest{StockID: key[0], CouponCode: key[1]})
		ours := byCoupon[key]
		if err != nil {
			for _, res := range ours {
				res.verdict, res.why = unknown, "could not read the coupon's payments: "+err.Error()
			}
			continue
		}
		listed := map[string]*busifavor.SubsidyPayReceipt{}
		for i := range list.PayReceiptList {
			listed[list.PayReceiptList[i].OutSubsidyNo] = &list.PayReceiptList[i]
		}
		for _, res := range ours {
			res.receipt = listed[res.OutSubsidyNo]
			delete(listed, res.OutSubsidyNo)
			r.judge(res)
			if res.verdict == pending {
				waiting = append(waiting, res)
				fmt.Fprintf(r.out, "pending  %s  %s\n", res.OutSubsidyNo, statusOf(res.receipt))
			}
		}
		for _, no := range slices.Sorted(maps.Keys(listed)) {
			other := listed[no]
			fmt.Fprintf(r.out, "note     coupon %s of stock %s also lists payment %s (%s, %d 分), which the file does not hold\n",
				busifavor.MaskCode(key[1]), key[0], no, other.Status, other.Amount)
		}
	}
	if len(waiting) > 0 {
		fmt.Fprintf(r.out, "waiting up to %s for %d pending payments\n", r.wait, len(waiting))
		r.waitFor(ctx, waiting)
	}
	return results
}

// judge sets res's verdict from the receipt listed for it (nil: not listed).
func (r reconciler) judge(res *result) {
	switch s := res.receipt; {
	case s == nil || s.Status.Pending():
		res.verdict = pending
	case s.Status.Paid():
		res.verdict = paid
	case s.Status.Failed():
		res.verdict = failed
	default:
		res.verdict, res.why = unknown, fmt.Sprintf("status %q, which this program does not know", s.Status)
	}
}

// waitFor waits for the pending payments together, for r.wait at most, and
// settles each result.
func (r reconciler) waitFor(ctx context.Context, waiting []*result) {
	ctx, cancel := context.WithTimeout(ctx, r.wait)
	defer cancel()
	slots := make(chan struct{}, waiters)
	var wg sync.WaitGroup
	for _, res := range waiting {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			got, err := busifavor.WaitSubsidyPayReceipt(ctx, r.client, busifavor.WaitSubsidyPayReceiptRequest{
				StockID: res.StockID, CouponCode: res.CouponCode, OutSubsidyNo: res.OutSubsidyNo, Poll: r.poll})
			if got != nil {
				res.receipt = &got.SubsidyPayReceipt
			}
			var failure *busifavor.ReceiptFailedError
			var status *busifavor.ReceiptStatusError
			switch {
			case err == nil:
				res.verdict = paid
			case errors.As(err, &failure):
				res.verdict = failed
			case errors.As(err, &status):
				res.verdict, res.why = unknown, fmt.Sprintf("status %q, which this program does not know", status.PayStatus)
			case errors.Is(err, busifavor.ErrReceiptNotFound):
				res.verdict, res.why = unknown, fmt.Sprintf("not listed by WeChat Pay within %s: the create may never have arrived, or the list lags", r.wait)
			case res.receipt != nil && res.receipt.Status.Pending() && ctx.Err() != nil:
				res.verdict, res.why = unknown, fmt.Sprintf("still %s after %s", res.receipt.Status, r.wait)
			default:
				res.verdict, res.why = unknown, "could not read it: "+err.Error()
			}
		}()
	}
	wg.Wait()
}

// statusOf names a listed receipt's status, or says it is not listed.
func statusOf(s *busifavor.SubsidyPayReceipt) string {
	if s == nil {
		return "not listed yet"
	}
	return string(s.Status)
}

// failReasons says in words why a payment failed, by the reason's
// canonical spelling (the pages' words).
var failReasons = map[busifavor.SubsidyPayReceiptFailReason]string{
	busifavor.SubsidyPayReceiptFailReasonInsufficientBalance: "the payer's balance is short (扣款商户余额不足)",
	busifavor.SubsidyPayReceiptFailReasonNotIncomeSplitOrder: "the order is not a profit-sharing order (非分账订单)",
	busifavor.SubsidyPayReceiptFailReasonExceedAmountQuota:   "over the subsidy amount quota",
	busifavor.SubsidyPayReceiptFailReasonExceedCountQuota:    "over the subsidy count quota",
	busifavor.SubsidyPayReceiptFailReasonOther:               "another reason",
}

// report prints a line per payment, in the file's order, and the totals,
// and returns the exit status.
func report(w io.Writer, file string, results []*result) int {
	var n = map[verdict]int{}
	var amount = map[verdict]int64{}
	for _, res := range results {
		n[res.verdict]++
		coupon := fmt.Sprintf("coupon %s of stock %s", busifavor.MaskCode(res.CouponCode), res.StockID)
		switch s := res.receipt; res.verdict {
		case paid:
			amount[paid] += s.Amount
			at := ""
			if !s.SuccessTime.IsZero() {
				at = "  at " + s.SuccessTime.In(cst).Format(time.RFC3339)
			}
			fmt.Fprintf(w, "paid     %s  %s  %d 分  %s  receipt %s%s\n", res.OutSubsidyNo, coupon, s.Amount, s.Status, s.SubsidyReceiptID, at)
		case failed:
			why := failReasons[s.FailReason.Canonical()]
			if why == "" {
				why = "a reason this program does not know"
			}
			fmt.Fprintf(w, "failed   %s  %s  %d 分  %s: %s; nothing was paid\n", res.OutSubsidyNo, coupon, s.Amount, s.FailReason, why)
		default:
			fmt.Fprintf(w, "unknown  %s  %s  %s: not counted as paid\n", res.OutSubsidyNo, coupon, res.why)
		}
	}
	fmt.Fprintf(w, "%s: %d paid (%d 分), %d failed, %d unknown\n", file, n[paid], amount[paid], n[failed], n[unknown])
	if n[failed] > 0 {
		fmt.Fprintln(w, "failed: nothing was paid for these; once the cause is fixed, pay them again under new out_subsidy_no numbers.")
	}
	if n[unknown] > 0 {
		fmt.Fprintln(w, "unknown: run reconcile again later; if one stays unknown, look it up in the merchant platform's bill (商户平台).")
		fmt.Fprintln(w, "  Never pay an unknown one again under a new out_subsidy_no: it may have been paid. One that is not listed")
		fmt.Fprintln(w, "  may be sent again only as the identical create with the same out_subsidy_no.")
		return exitUnknown
	}
	return exitSettled
}

// newClient builds the busifavor client from the WECHATPAY_* variables, as
// examples/merchant-backend does (its APIv3 key aside: reconciling receives
// no events).
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
