package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

const appID = "wx233544546545989"

// sandbox is a fake WeChat Pay with a stock, and the environment the till
// reads, written as busifavor sandbox writes sandbox.env.
type sandbox struct {
	fake    *busifavortest.Server
	client  *busifavor.Client // the merchant's own, for seeding
	env     map[string]string
	stockID string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	fake := busifavortest.NewServer()
	t.Cleanup(fake.Close)
	client, err := fake.Client()
	if err != nil {
		t.Fatal(err)
	}
	env, err := fake.WriteCredentials(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env["WECHATPAY_BASE_URL"] = fake.URL
	begin := fake.Now().Add(-time.Hour) // the fake's clock, not today's date
	stock, err := client.CreateStock(context.Background(), busifavor.CreateStockRequest{
		StockName: "满100减10元", BelongMerchant: fake.MchID(), GoodsName: "全场可用", StockType: busifavor.StockTypeNormal,
		CouponUseRule: busifavor.CouponUseRule{
			CouponAvailableTime: busifavor.AvailableTime{AvailableBeginTime: begin, AvailableEndTime: begin.AddDate(0, 1, 0)},
			FixedNormalCoupon:   &busifavor.FixedNormalCoupon{DiscountAmount: 1000, TransactionMinimum: 10000},
			UseMethod:           busifavor.CouponUseMethodOffline,
		},
		StockSendRule:  busifavor.StockSendRule{MaxCoupons: 100, MaxCouponsPerUser: 10},
		OutRequestNo:   "till-stock",
		CouponCodeMode: busifavor.CouponCodeModeWechatPay,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &sandbox{fake: fake, client: client, env: env, stockID: stock.StockID}
}

// send sends the user openid a coupon and returns its code.
func (s *sandbox) send(t *testing.T, openid, outRequestNo string) string {
	t.Helper()
	sent, err := s.client.SendCoupon(context.Background(), busifavor.SendCouponRequest{
		StockID: s.stockID, OpenID: openid, AppID: appID, OutRequestNo: outRequestNo})
	if err != nil {
		t.Fatal(err)
	}
	return sent.CouponCode
}

// till runs the till as main would, with s's environment.
func (s *sandbox) till(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return s.env[k] }, &out, &errOut)
	t.Logf("till %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
	return code, out.String(), errOut.String()
}

// uses counts the UseCoupon requests the fake received.
func (s *sandbox) uses() int {
	n := 0
	for _, r := range s.fake.Requests() {
		if r.Path == "/v3/marketing/busifavor/coupons/use" {
			n++
		}
	}
	return n
}

// noSecrets fails when the output holds a whole coupon code or openid.
func noSecrets(t *testing.T, output string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(output, s) {
			t.Errorf("the output holds %q unmasked", s)
		}
	}
}

const owner = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"

func TestTillRedeemsOnceAndRefusesAnotherTransaction(t *testing.T) {
	s := newSandbox(t)
	code := s.send(t, owner, "send-1")

	exit, out, errOut := s.till(t, "--transaction", "S012-T03-000042", "--code", code, "--appid", appID)
	if exit != exitRedeemed || !strings.Contains(out, "REDEEMED coupon "+busifavor.MaskCode(code)) ||
		!strings.Contains(out, "use_request_no S012-T03-000042-1, owner "+busifavor.MaskID(owner)) ||
		!strings.Contains(out, "+08:00") || !strings.Contains(out, "cashier: apply the discount and hand over the goods.") {
		t.Fatalf("first redemption: exit %d, output:\n%s", exit, out)
	}
	noSecrets(t, out+errOut, code, owner)
	if c, _ := s.fake.UserCoupon(code); c.CouponState != busifavor.CouponStateUsed || c.UseRequestNo != "S012-T03-000042-1" {
		t.Fatalf("the fake holds the coupon %s under %q, want USED under S012-T03-000042-1", c.CouponState, c.UseRequestNo)
	}

	// The same transaction and line again (the cashier pressed twice): the
	// same number, the first result.
	if exit, out, _ := s.till(t, "--transaction", "S012-T03-000042", "--code", code, "--appid", appID); exit != exitRedeemed ||
		!strings.Contains(out, "REDEEMED coupon ") {
		t.Fatalf("the same transaction again: exit %d, output:\n%s", exit, out)
	}

	// Another transaction: the coupon is used.
	exit, out, errOut = s.till(t, "--transaction", "S012-T03-000043", "--code", code, "--appid", appID)
	if exit != exitRefused || !strings.Contains(out, "REFUSED coupon "+busifavor.MaskCode(code)+": already used by another order") ||
		!strings.Contains(out, "cashier: do not apply the discount") || !strings.Contains(out, "run again with --openid") {
		t.Fatalf("another transaction: exit %d, output:\n%s", exit, out)
	}
	noSecrets(t, out+errOut, code, owner)
	if c, _ := s.fake.UserCoupon(code); c.UseRequestNo != "S012-T03-000042-1" {
		t.Fatalf("the refused redemption changed the coupon's use_request_no to %q", c.UseRequestNo)
	}
}

func TestTillLostAnswerAsksAgainAndTheRetryRedeemsOnce(t *testing.T) {
	s := newSandbox(t)
	code := s.send(t, owner, "send-1")

	// Both attempts of the till's quick client redeem (the first) or repeat
	// (the second), and both answers are lost on the way back.
	s.fake.FailOn("UseCoupon", 2, busifavortest.Fault{Kind: busifavortest.FaultLostAnswer})
	exit, out, errOut := s.till(t, "--transaction", "S012-T03-000044", "--line", "2", "--code", code, "--appid", appID)
	if exit != exitAskAgain || !strings.Contains(out, "UNKNOWN: no usable answer from WeChat Pay") ||
		!strings.Contains(out, "do not hand over the goods yet") || !strings.Contains(out, "use_request_no S012-T03-000044-2") ||
		!strings.Contains(out, "Never redeem this coupon under a new transaction number") {
		t.Fatalf("lost answers: exit %d, output:\n%s", exit, out)
	}
	noSecrets(t, out+errOut, code, owner)
	if n := s.uses(); n != 2 {
		t.Fatalf("the till sent %d redemptions, want 2 (one retry)", n)
	}
	if c, _ := s.fake.UserCoupon(code); c.CouponState != busifavor.CouponStateUsed {
		t.Fatalf("the lost redemption did not take effect on the fake: %s", c.CouponState)
	}

	// Asked again with the same transaction and line: the first result.
	exit, out, _ = s.till(t, "--transaction", "S012-T03-000044", "--line", "2", "--code", code, "--appid", appID)
	if exit != exitRedeemed || !strings.Contains(out, "REDEEMED coupon "+busifavor.MaskCode(code)) {
		t.Fatalf("asked again: exit %d, output:\n%s", exit, out)
	}
	if c, _ := s.fake.UserCoupon(code); c.UseRequestNo != "S012-T03-000044-2" {
		t.Fatalf("the coupon was redeemed under %q", c.UseRequestNo)
	}
}

func TestTillRecognisesItsOwnRedemptionWhenARepeatIsRefused(t *testing.T) {
	s := newSandbox(t)
	code := s.send(t, owner, "send-1")
	if exit, _, _ := s.till(t, "--transaction", "S012-T03-000045", "--code", code, "--appid", appID, "--openid", owner); exit != exitRedeemed {
		t.Fatalf("redemption: exit %d", exit)
	}

	// A WeChat Pay that answered a repeated use_request_no as already used
	// (no page promises the replay busifavortest does).
	usedAgain := busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeResourceAlreadyExists}
	s.fake.FailOn("UseCoupon", 1, usedAgain)
	exit, out, errOut := s.till(t, "--transaction", "S012-T03-000045", "--code", code, "--appid", appID, "--openid", owner)
	if exit != exitRedeemed || !strings.Contains(out, "REDEEMED coupon "+busifavor.MaskCode(code)+" earlier under this transaction") ||
		!strings.Contains(out, "hand over the goods once") {
		t.Fatalf("own redemption refused as used: exit %d, output:\n%s", exit, out)
	}
	noSecrets(t, out+errOut, code, owner)

	// Another transaction's number is not this one's: refused.
	exit, out, _ = s.till(t, "--transaction", "S012-T03-000046", "--code", code, "--appid", appID, "--openid", owner)
	if exit != exitRefused || !strings.Contains(out, "already used by another order") || strings.Contains(out, "run again with --openid") {
		t.Fatalf("another transaction with --openid: exit %d, output:\n%s", exit, out)
	}
}

func TestTillRefusals(t *testing.T) {
	s := newSandbox(t)
	ctx := context.Background()
	deactivated := s.send(t, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6a", "send-deactivated")
	if _, err := s.client.DeactivateCoupon(ctx, busifavor.DeactivateCouponRequest{
		CouponCode: deactivated, StockID: s.stockID, DeactivateRequestNo: "deactivate-1"}); err != nil {
		t.Fatal(err)
	}
	usable := s.send(t, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6b", "send-usable")

	for _, tc := range []struct {
		name  string
		fault *busifavortest.Fault
		args  []string
		exit  int
		want  []string
		sent  int // UseCoupon requests the fake receives
	}{
		{name: "not usable", args: []string{"--code", deactivated}, exit: exitRefused, sent: 1,
			want: []string{"REFUSED coupon " + busifavor.MaskCode(deactivated) + ": it cannot be used now", "do not apply the discount"}},
		{name: "not found", args: []string{"--code", "9876543210123"}, exit: exitRefused, sent: 1,
			want: []string{"REFUSED coupon " + busifavor.MaskCode("9876543210123") + ": WeChat Pay knows no such coupon", "rescan it"}},
		{name: "not valid", args: []string{"--code", usable, "--transaction", "S012 T03"}, exit: exitUsage, sent: 0,
			want: []string{"NOT SENT: the input is not valid; nothing was redeemed."}},
		{name: "rate limited", args: []string{"--code", usable},
			fault: &busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeFrequencyLimited},
			exit:  exitAskAgain, sent: 2, // the quick client retries once
			want: []string{"BUSY: WeChat Pay asked the till to slow down; coupon " + busifavor.MaskCode(usable) + " is not redeemed yet.",
				"run the till again with the same transaction and line"}},
		{name: "another refusal", args: []string{"--code", usable, "--openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6z"}, exit: exitRefused, sent: 1,
			want: []string{"REFUSED coupon " + busifavor.MaskCode(usable) + ": WeChat Pay answered USER_NOT_EXISTS", "call support with request id "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := s.uses()
			if tc.fault != nil {
				s.fake.FailOn("UseCoupon", 2, *tc.fault)
			}
			args := append([]string{"--transaction", "S012-T03-" + strings.ReplaceAll(tc.name, " ", "-"), "--appid", appID}, tc.args...)
			exit, out, errOut := s.till(t, args...)
			if exit != tc.exit {
				t.Errorf("exit %d, want %d", exit, tc.exit)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("the output lacks %q:\n%s", w, out)
				}
			}
			if n := s.uses() - before; n != tc.sent {
				t.Errorf("the till sent %d redemptions, want %d", n, tc.sent)
			}
			noSecrets(t, out+errOut, deactivated, usable, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6z")
		})
	}
	if c, _ := s.fake.UserCoupon(usable); c.CouponState != busifavor.CouponStateSent {
		t.Fatalf("a refused redemption changed the coupon: %s", c.CouponState)
	}
}

func TestTillUsage(t *testing.T) {
	s := newSandbox(t)
	exit, _, errOut := s.till(t, "--code", "123456789")
	if exit != exitUsage || !strings.Contains(errOut, "--transaction is required; --appid is required") {
		t.Fatalf("missing flags: exit %d, stderr:\n%s", exit, errOut)
	}
	delete(s.env, "WECHATPAY_CERT_SERIAL")
	delete(s.env, "WECHATPAY_PUBLIC_KEY_ID")
	exit, _, errOut = s.till(t, "--transaction", "T1", "--code", "123456789", "--appid", appID)
	if exit != exitUsage || !strings.Contains(errOut, "set WECHATPAY_CERT_SERIAL, WECHATPAY_PUBLIC_KEY_ID (after `busifavor sandbox --dir DIR`") {
		t.Fatalf("missing variables: exit %d, stderr:\n%s", exit, errOut)
	}
	if n := s.uses(); n != 0 {
		t.Fatalf("the till sent %d redemptions without its configuration", n)
	}
}

// The redemption number depends only on the transaction and the line.
func TestUseRequestNo(t *testing.T) {
	for _, tc := range []struct {
		transaction string
		line        int
		want        string
	}{{"S012-T03-000042", 1, "S012-T03-000042-1"}, {"S012-T03-000042", 2, "S012-T03-000042-2"}} {
		if got := useRequestNo(tc.transaction, tc.line); got != tc.want {
			t.Errorf("useRequestNo(%q, %d) = %q, want %q", tc.transaction, tc.line, got, tc.want)
		}
	}
}
