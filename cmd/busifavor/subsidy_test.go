package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// redeemedCoupon makes, on s, a NORMAL stock with a 10 元 discount and a
// coupon of it redeemed, and returns the stock id and the coupon code.
func redeemedCoupon(t *testing.T, s *busifavortest.Server) (stockID, code string) {
	t.Helper()
	client, err := s.Client()
	require.NoError(t, err)
	ctx := context.Background()
	begin := s.Now().Add(-time.Hour)
	st, err := client.CreateStock(ctx, busifavor.CreateStockRequest{StockName: "补差券", BelongMerchant: s.MchID(), GoodsName: "全场",
		StockType: busifavor.StockTypeNormal, CouponUseRule: busifavor.CouponUseRule{
			CouponAvailableTime: busifavor.AvailableTime{AvailableBeginTime: begin, AvailableEndTime: begin.AddDate(0, 1, 0)},
			FixedNormalCoupon:   &busifavor.FixedNormalCoupon{DiscountAmount: 1000, TransactionMinimum: 5000}, UseMethod: busifavor.CouponUseMethodOffline},
		StockSendRule: busifavor.StockSendRule{MaxCouponsPerUser: 1}, OutRequestNo: "subsidy-stock", CouponCodeMode: busifavor.CouponCodeModeWechatPay})
	require.NoError(t, err)
	sent, err := client.SendCoupon(ctx, busifavor.SendCouponRequest{OpenID: sandboxOpenID, AppID: sandboxAppID, StockID: st.StockID, OutRequestNo: "s1"})
	require.NoError(t, err)
	_, err = client.UseCoupon(ctx, busifavor.UseCouponRequest{CouponCode: sent.CouponCode, StockID: st.StockID, AppID: sandboxAppID,
		UseTime: s.Now(), UseRequestNo: "u1"})
	require.NoError(t, err)
	return st.StockID, sent.CouponCode
}

// payArgs are subsidy pay's arguments for the coupon, amount in 分 and
// number.
func payArgs(s *busifavortest.Server, stockID, code, amount, number string) []string {
	return []string{"subsidy", "pay", "--stock-id", stockID, "--coupon-code", code, "--transaction-id", sandboxTransaction,
		"--payer-merchant", s.MchID(), "--payee-merchant", sandboxPayee, "--amount", amount, "--description", "补差",
		"--out-subsidy-no", number, "--base-url", s.URL}
}

// withTerminal runs f as if stdin were a terminal on which input is typed.
func withTerminal(t *testing.T, input string, f func()) {
	t.Helper()
	oldIn, oldTerminal := stdin, stdinTerminal
	defer func() { stdin, stdinTerminal = oldIn, oldTerminal }()
	stdin, stdinTerminal = strings.NewReader(input), true
	f()
}

// TestSubsidyPayAsksBeforeMoneyMoves: without --yes and without a terminal
// nothing is sent (exit status 2, saying to pass --yes); on a terminal,
// anything but y sends nothing, y pays; --yes pays without asking. A bad
// request is refused before anyone is asked.
func TestSubsidyPayAsksBeforeMoneyMoves(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)
	stockID, code := redeemedCoupon(t, s)
	before := len(s.Requests())

	status, out, errOut := runCmd(t, env, payArgs(s, stockID, code, "300", "pay-1")...)
	assert.Equal(t, exitUsage, status, errOut)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "pass --yes to confirm")
	assert.Contains(t, errOut, "300 分 (3.00 元) from 10000098 to 1900000002")
	withTerminal(t, "n\n", func() {
		status, _, errOut = runCmd(t, env, payArgs(s, stockID, code, "300", "pay-1")...)
	})
	assert.Equal(t, exitUsage, status)
	assert.Contains(t, errOut, "Proceed? [y/N]")
	assert.Contains(t, errOut, "not confirmed; nothing was sent")
	withTerminal(t, "", func() { // end of input: no
		status, _, _ = runCmd(t, env, payArgs(s, stockID, code, "300", "pay-1")...)
	})
	assert.Equal(t, exitUsage, status)
	withTerminal(t, "y\n", func() {
		status, _, errOut = runCmd(t, env, append(payArgs(s, stockID, code, "-5", "pay-1"), "--yes")...)
	})
	assert.Equal(t, exitUsage, status)
	assert.Contains(t, errOut, "--amount: ")
	assert.NotContains(t, errOut, "Proceed?", "a bad request is refused before anyone is asked")
	assert.Len(t, s.Requests(), before, "nothing was sent")

	withTerminal(t, "y\n", func() {
		status, out, errOut = runCmd(t, env, payArgs(s, stockID, code, "300", "pay-1")...)
	})
	require.Equal(t, exitOK, status, errOut)
	assert.Contains(t, out, "status:      PAY_RECEIPT_SUCCESS")
	assert.Contains(t, out, "amount:      300 分 (3.00 元) from 10000098 to 1900000002")
	status, out, errOut = runCmd(t, env, append(payArgs(s, stockID, code, "200", "pay-2"), "--yes", "--json")...)
	require.Equal(t, exitOK, status, errOut)
	var paid busifavor.SubsidyPayReceipt
	require.NoError(t, json.Unmarshal([]byte(out), &paid))
	assert.Equal(t, int64(200), paid.Amount)
	assert.Len(t, s.SubsidyPayReceipts(), 2)
}

// TestSubsidyPayUnknownOutcomePrintsHowToReconcile: when WeChat Pay refuses
// in a way an earlier attempt could have caused and the read-back does not
// find the payment, the outcome is unknown: exit status 1, and the command
// prints the subsidy list to run and to resend only under the same
// number.
func TestSubsidyPayUnknownOutcomePrintsHowToReconcile(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)
	stockID, code := redeemedCoupon(t, s)
	s.FailOn("CreateSubsidyPayReceipt", 1,
		busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeResourceAlreadyExists})
	status, out, errOut := runCmd(t, env, append(payArgs(s, stockID, code, "300", "pay-9"), "--yes")...)
	assert.Equal(t, exitAPI, status, errOut)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "outcome unknown")
	assert.Contains(t, errOut, "busifavor subsidy list --stock-id "+stockID+" --coupon-code "+code+" --out-subsidy-no pay-9")
	assert.Contains(t, errOut, "with the same --out-subsidy-no; never with a new number")
	assert.Empty(t, s.SubsidyPayReceipts(), "nothing was paid")
}

// TestSubsidyReadAndReturn: list, get by id and return, each with --json;
// an unknown outcome of a return says how to reconcile it.
func TestSubsidyReadAndReturn(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)
	stockID, code := redeemedCoupon(t, s)
	status, _, errOut := runCmd(t, env, append(payArgs(s, stockID, code, "500", "pay-1"), "--yes")...)
	require.Equal(t, exitOK, status, errOut)
	id := s.SubsidyPayReceipts()[0].SubsidyReceiptID
	base := []string{"--base-url", s.URL}

	status, out, errOut := runCmd(t, env, append([]string{"subsidy", "list", "--stock-id", stockID, "--coupon-code", code}, base...)...)
	require.Equal(t, exitOK, status, errOut)
	assert.Contains(t, out, "pay-1")
	assert.Contains(t, out, id)
	assert.Contains(t, errOut, "1 payments")
	status, out, errOut = runCmd(t, env, append([]string{"subsidy", "get", id, "--json"}, base...)...)
	require.Equal(t, exitOK, status, errOut)
	var got busifavor.SubsidyPayReceipt
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.Equal(t, "pay-1", got.OutSubsidyNo)

	ret := append([]string{"subsidy", "return", "--stock-id", stockID, "--coupon-code", code, "--transaction-id", sandboxTransaction,
		"--refund-id", "5000000000000000000000000001", "--payer-merchant", s.MchID(), "--payee-merchant", sandboxPayee,
		"--amount", "200", "--description", "退款", "--out-subsidy-return-no", "ret-1"}, base...)
	status, _, errOut = runCmd(t, env, ret...)
	assert.Equal(t, exitUsage, status)
	assert.Contains(t, errOut, "pass --yes")
	status, out, errOut = runCmd(t, env, append(ret, "--yes")...)
	require.Equal(t, exitOK, status, errOut)
	assert.Contains(t, out, "status:      RETURN_RECEIPT_SUCCESS")
	retID := strings.Fields(out[strings.Index(out, "return:")+len("return:"):])[0]
	status, out, errOut = runCmd(t, env, append([]string{"subsidy", "get", retID, "--return"}, base...)...)
	require.Equal(t, exitOK, status, errOut)
	assert.Contains(t, out, "ret-1")

	s.FailOn("CreateSubsidyReturnReceipt", 1,
		busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeResourceAlreadyExists})
	ret2 := append(ret[:len(ret)-3:len(ret)-3], "ret-2", "--base-url", s.URL, "--yes")
	status, _, errOut = runCmd(t, env, ret2...)
	assert.Equal(t, exitAPI, status, errOut)
	assert.Contains(t, errOut, "outcome unknown")
	assert.Contains(t, errOut, "busifavor subsidy list --stock-id "+stockID+" --coupon-code "+code)
	assert.Contains(t, errOut, "with the same --out-subsidy-return-no")
}
