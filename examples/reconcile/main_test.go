package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

const (
	appID = "wx233544546545989"
	payee = "1900000109"
)

// sandbox is a fake WeChat Pay whose clock the test moves, with a stock,
// and the environment reconcile reads, written as busifavor sandbox writes
// sandbox.env.
type sandbox struct {
	fake    *busifavortest.Server
	client  *busifavor.Client // the merchant's own, for seeding
	env     map[string]string
	stockID string
	later   atomic.Int64 // how far the fake's clock runs ahead of time.Now
	sent    int
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	s := &sandbox{}
	s.fake = busifavortest.NewServer(busifavortest.WithClock(func() time.Time { return time.Now().Add(time.Duration(s.later.Load())) }))
	t.Cleanup(s.fake.Close)
	var err error
	if s.client, err = s.fake.Client(); err != nil {
		t.Fatal(err)
	}
	if s.env, err = s.fake.WriteCredentials(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	s.env["WECHATPAY_BASE_URL"] = s.fake.URL
	begin := s.fake.Now().Add(-time.Hour) // the fake's clock, not today's date
	stock, err := s.client.CreateStock(context.Background(), busifavor.CreateStockRequest{
		StockName: "满100减10元", BelongMerchant: s.fake.MchID(), GoodsName: "全场可用", StockType: busifavor.StockTypeNormal,
		CouponUseRule: busifavor.CouponUseRule{
			CouponAvailableTime: busifavor.AvailableTime{AvailableBeginTime: begin, AvailableEndTime: begin.AddDate(0, 1, 0)},
			FixedNormalCoupon:   &busifavor.FixedNormalCoupon{DiscountAmount: 1000, TransactionMinimum: 10000},
			UseMethod:           busifavor.CouponUseMethodOffline,
		},
		StockSendRule:  busifavor.StockSendRule{MaxCoupons: 100, MaxCouponsPerUser: 10},
		OutRequestNo:   "reconcile-stock",
		CouponCodeMode: busifavor.CouponCodeModeWechatPay,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.stockID = stock.StockID
	return s
}

// redeemed sends a coupon and redeems it, and returns its code.
func (s *sandbox) redeemed(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	s.sent++
	sent, err := s.client.SendCoupon(ctx, busifavor.SendCouponRequest{StockID: s.stockID,
		OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", AppID: appID, OutRequestNo: fmt.Sprintf("send-%d", s.sent)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.UseCoupon(ctx, busifavor.UseCouponRequest{CouponCode: sent.CouponCode, AppID: appID,
		UseTime: s.fake.Now(), UseRequestNo: fmt.Sprintf("use-%d", s.sent)}); err != nil {
		t.Fatal(err)
	}
	return sent.CouponCode
}

// pay pays a subsidy of amount 分 for the coupon under outSubsidyNo, settling
// as st says.
func (s *sandbox) pay(t *testing.T, code, outSubsidyNo string, amount int64, st busifavortest.SubsidySettlement) {
	t.Helper()
	s.fake.SetSubsidySettlement(st)
	_, err := s.client.CreateSubsidyPayReceipt(context.Background(), busifavor.CreateSubsidyPayReceiptRequest{
		StockID: s.stockID, CouponCode: code, TransactionID: "4200000913202101152566792388",
		PayerMerchant: s.fake.MchID(), PayeeMerchant: payee, Amount: amount, Description: "满减券补差", OutSubsidyNo: outSubsidyNo})
	if err != nil {
		t.Fatal(err)
	}
}

// hookWriter calls hook once, when a write holds trigger.
type hookWriter struct {
	bytes.Buffer
	trigger string
	hook    func()
}

func (w *hookWriter) Write(p []byte) (int, error) {
	if w.hook != nil && bytes.Contains(p, []byte(w.trigger)) {
		w.hook()
		w.hook = nil
	}
	return w.Buffer.Write(p)
}

// reconcile runs the reconciliation as main would, with s's environment;
// onWait, when set, runs when it starts waiting for pending payments.
func (s *sandbox) reconcile(t *testing.T, onWait func(), args ...string) (code int, stdout, stderr string) {
	t.Helper()
	out := &hookWriter{trigger: "waiting up to", hook: onWait}
	var errOut bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return s.env[k] }, out, &errOut)
	t.Logf("reconcile %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
	return code, out.String(), errOut.String()
}

// lists counts the ListSubsidyPayReceipts requests the fake received.
func (s *sandbox) lists() int {
	n := 0
	for _, r := range s.fake.Requests() {
		if r.Method == "GET" && r.Path == busifavortest.SubsidyPath+"/pay-receipts" {
			n++
		}
	}
	return n
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("the output lacks %q", w)
		}
	}
}

func noCodes(t *testing.T, output string, codes ...string) {
	t.Helper()
	for _, c := range codes {
		if strings.Contains(output, c) {
			t.Errorf("the output holds the coupon code %s unmasked", c)
		}
	}
}

func TestReconcilePaidFailedAndPendingThenPaid(t *testing.T) {
	s := newSandbox(t)
	a, b, c := s.redeemed(t), s.redeemed(t), s.redeemed(t)
	s.pay(t, a, "subsidy-0001", 500, busifavortest.SubsidySettlement{})
	s.pay(t, a, "subsidy-0009", 300, busifavortest.SubsidySettlement{}) // not in the books
	s.pay(t, b, "subsidy-0002", 400, busifavortest.SubsidySettlement{FailReason: string(busifavor.SubsidyPayReceiptFailReasonInsufficientBalance)})
	s.pay(t, c, "subsidy-0003", 600, busifavortest.SubsidySettlement{Delay: time.Minute}) // ACCEPTED for a minute on the fake's clock
	books := writeFile(t, "payments.csv", "date,stock_id,coupon_code,out_subsidy_no,amount\n"+
		fmt.Sprintf("2026-12-01,%s,%s,subsidy-0001,500\n", s.stockID, a)+
		fmt.Sprintf("2026-12-01,%s,%s,subsidy-0002,400\n", s.stockID, b)+
		fmt.Sprintf("2026-12-01,%s,%s,subsidy-0003,600\n", s.stockID, c))

	// In real life time passes by itself while reconcile waits; here the
	// fake's clock moves past the settlement when the wait starts.
	exit, out, errOut := s.reconcile(t, func() { s.later.Add(int64(2 * time.Minute)) }, "--poll", "10ms", books)
	if exit != exitSettled {
		t.Errorf("exit %d, want %d", exit, exitSettled)
	}
	wantLines(t, out,
		"reconcile: 3 payments of 3 coupons\n",
		"pending  subsidy-0003  PAY_RECEIPT_ACCEPTED\n",
		"waiting up to 10m0s for 1 pending payments\n",
		"note     coupon "+busifavor.MaskCode(a)+" of stock "+s.stockID+" also lists payment subsidy-0009 (PAY_RECEIPT_SUCCESS, 300 分), which the file does not hold\n",
		"paid     subsidy-0001  coupon "+busifavor.MaskCode(a)+" of stock "+s.stockID+"  500 分  PAY_RECEIPT_SUCCESS  receipt ",
		"failed   subsidy-0002  coupon "+busifavor.MaskCode(b)+" of stock "+s.stockID+"  400 分  PAY_RECEIPT_INSUFFICIENT_BALANCE: the payer's balance is short (扣款商户余额不足); nothing was paid\n",
		"paid     subsidy-0003  coupon "+busifavor.MaskCode(c)+" of stock "+s.stockID+"  600 分  PAY_RECEIPT_SUCCESS  receipt ",
		books+": 2 paid (1100 分), 1 failed, 0 unknown\n",
		"failed: nothing was paid for these; once the cause is fixed, pay them again under new out_subsidy_no numbers.\n")
	if strings.Contains(out, "unknown:") {
		t.Errorf("nothing is unknown, yet the report says so")
	}
	if !strings.Contains(out, "+08:00\n") {
		t.Errorf("the payment times are not in WeChat Pay's zone")
	}
	noCodes(t, out+errOut, a, b, c)
	if n := s.lists(); n < 4 {
		t.Errorf("reconcile listed %d times; want one per coupon and at least one more for the pending payment", n)
	}
}

func TestReconcileUnknownIsNeverPaid(t *testing.T) {
	s := newSandbox(t)
	d, f, g, e := s.redeemed(t), s.redeemed(t), s.redeemed(t), s.redeemed(t)
	s.pay(t, d, "subsidy-0004", 500, busifavortest.SubsidySettlement{})
	s.pay(t, f, "subsidy-0005", 500, busifavortest.SubsidySettlement{})
	s.pay(t, g, "subsidy-0006", 500, busifavortest.SubsidySettlement{Delay: time.Hour}) // the fake's clock stays put
	books := writeFile(t, "payments.json", fmt.Sprintf(`[
  {"stock_id": %[1]q, "coupon_code": %[2]q, "out_subsidy_no": "subsidy-0004"},
  {"stock_id": %[1]q, "coupon_code": %[3]q, "out_subsidy_no": "subsidy-0005"},
  {"stock_id": %[1]q, "coupon_code": %[4]q, "out_subsidy_no": "subsidy-0006"},
  {"stock_id": %[1]q, "coupon_code": %[5]q, "out_subsidy_no": "subsidy-9999"}
]`, s.stockID, d, f, g, e))

	// The first list (coupon d's) shows its payment in a status no page
	// documents; the next three (coupon f's, the client's three attempts) get
	// no answer; subsidy-0006 stays ACCEPTED; subsidy-9999 was never created.
	frozen := fmt.Sprintf(`{"pay_receipt_list":[{"stock_id":%q,"coupon_code":%q,"transaction_id":"4200000913202101152566792388",`+
		`"payer_merchant":%q,"payee_merchant":%q,"amount":500,"description":"满减券补差","status":"PAY_RECEIPT_FROZEN","out_subsidy_no":"subsidy-0004"}]}`,
		s.stockID, d, s.fake.MchID(), payee)
	s.fake.FailOn("ListSubsidyPayReceipts", 1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: frozen})
	s.fake.FailOn("ListSubsidyPayReceipts", 3, busifavortest.Fault{Kind: busifavortest.FaultGarbled})

	exit, out, errOut := s.reconcile(t, nil, "--poll", "10ms", "--wait", "100ms", books)
	if exit != exitUnknown {
		t.Errorf("exit %d, want %d", exit, exitUnknown)
	}
	wantLines(t, out,
		"pending  subsidy-0006  PAY_RECEIPT_ACCEPTED\n",
		"pending  subsidy-9999  not listed yet\n",
		"waiting up to 100ms for 2 pending payments\n",
		"unknown  subsidy-0004  coupon "+busifavor.MaskCode(d)+" of stock "+s.stockID+`  status "PAY_RECEIPT_FROZEN", which this program does not know: not counted as paid`+"\n",
		"unknown  subsidy-0005  coupon "+busifavor.MaskCode(f)+" of stock "+s.stockID+"  could not read the coupon's payments: busifavor: gave up after 3 attempts",
		"unknown  subsidy-0006  coupon "+busifavor.MaskCode(g)+" of stock "+s.stockID+"  still PAY_RECEIPT_ACCEPTED after 100ms: not counted as paid\n",
		"unknown  subsidy-9999  coupon "+busifavor.MaskCode(e)+" of stock "+s.stockID+"  not listed by WeChat Pay within 100ms: the create may never have arrived, or the list lags: not counted as paid\n",
		books+": 0 paid (0 分), 0 failed, 4 unknown\n",
		"Never pay an unknown one again under a new out_subsidy_no: it may have been paid. One that is not listed\n",
		"may be sent again only as the identical create with the same out_subsidy_no")
	if strings.Contains(out, "paid     ") {
		t.Errorf("an unknown payment was reported paid")
	}
	noCodes(t, out+errOut, d, f, g, e)
}

func TestReconcileRefusesABadFileBeforeReading(t *testing.T) {
	s := newSandbox(t)
	for _, tc := range []struct {
		name, content, want string
	}{
		{"missing.csv", "stock_id,coupon_code\n1200000001,ABCD12345678\n", "the header row has no column out_subsidy_no"},
		{"broken.json", "[\n  {\"stock_id\": \"1200000001\",\n   \"coupon_code\": }\n]", "line 3, column 19: invalid character '}'"},
		{"first.json", "[x]", "line 1, column 2: invalid character 'x'"},
		{"empty.csv", "stock_id,coupon_code,out_subsidy_no\n", "no payments"},
		{"twice.csv", "stock_id,coupon_code,out_subsidy_no\n1200000001,ABCD12345678,subsidy-1\n1200000001,ABCD12345679,subsidy-1\n",
			"line 3: out_subsidy_no subsidy-1 is also at line 2"},
		{"bad.csv", "stock_id,coupon_code,out_subsidy_no\n1200000001,ABCD12345678,subsidy#1\n,ABCD12345678,subsidy-2\n",
			"bad.csv line 2: busifavor: request refused before sending: out_subsidy_no"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exit, out, errOut := s.reconcile(t, nil, writeFile(t, tc.name, tc.content))
			if exit != exitUsage || !strings.Contains(errOut, tc.want) || out != "" {
				t.Errorf("exit %d (want %d), stderr lacks %q or stdout is not empty", exit, exitUsage, tc.want)
			}
		})
	}
	if exit, _, errOut := s.reconcile(t, nil); exit != exitUsage || !strings.Contains(errOut, "usage: reconcile") {
		t.Errorf("no file: exit %d, stderr:\n%s", exit, errOut)
	}
	delete(s.env, "WECHATPAY_MCHID")
	books := writeFile(t, "ok.csv", "stock_id,coupon_code,out_subsidy_no\n1200000001,ABCD12345678,subsidy-1\n")
	if exit, _, errOut := s.reconcile(t, nil, books); exit != exitUsage || !strings.Contains(errOut, "set WECHATPAY_MCHID (after") {
		t.Errorf("no credentials: exit %d, stderr:\n%s", exit, errOut)
	}
	if n := s.lists(); n != 0 {
		t.Errorf("reconcile read %d lists from a bad file or without credentials", n)
	}
}
