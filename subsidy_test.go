package busifavor_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// usedCoupon creates a NORMAL stock (10 元 off) on c, sends a coupon of it
// and redeems it, and returns the stock id and coupon code.
func usedCoupon(t *testing.T, c *busifavor.Client, outRequestNo string) (string, string) {
	t.Helper()
	id := newCouponStock(t, c, busifavor.CouponCodeModeWechatPay, outRequestNo)
	sent, err := c.SendCoupon(ctx, busifavor.SendCouponRequest{OpenID: testOpenid, AppID: testAppid, StockID: id, OutRequestNo: "s"})
	require.NoError(t, err)
	_, err = c.UseCoupon(ctx, busifavor.UseCouponRequest{CouponCode: sent.CouponCode, AppID: testAppid, UseTime: time.Now(), UseRequestNo: "u"})
	require.NoError(t, err)
	return id, sent.CouponCode
}

func payRequest(stockID, code, no string, amount int64) busifavor.CreateSubsidyPayReceiptRequest {
	return busifavor.CreateSubsidyPayReceiptRequest{StockID: stockID, CouponCode: code, TransactionID: "4200000913202101152566792388",
		PayerMerchant: busifavortest.DefaultMchID, PayeeMerchant: "1900000109", Amount: amount, Description: "满减补差", OutSubsidyNo: no}
}

func returnRequest(stockID, code, no string, amount int64) busifavor.CreateSubsidyReturnReceiptRequest {
	return busifavor.CreateSubsidyReturnReceiptRequest{StockID: stockID, CouponCode: code, TransactionID: "4200000913202101152566792388",
		RefundID: "50100506732021010105138718375", PayerMerchant: busifavortest.DefaultMchID, PayeeMerchant: "1900000109", Amount: amount,
		Description: "退款回退", OutSubsidyReturnNo: no}
}

// TestSubsidyPayPollReturn pays with a delayed settlement, polls to the end
// (the clock moves on only when the poller reports a pending read), returns
// part, then the rest, and sees the payment wholly returned.
func TestSubsidyPayPollReturn(t *testing.T) {
	var skew atomic.Int64
	start := time.Now()
	s, c := newFake(t, []busifavortest.Option{
		busifavortest.WithClock(func() time.Time { return start.Add(time.Duration(skew.Load())) }),
		busifavortest.WithSubsidySettlement(busifavortest.SubsidySettlement{Delay: time.Minute}),
	})
	id, code := usedCoupon(t, c, "poll")
	pay := payRequest(id, code, "pay-1", 1000)
	created, err := c.CreateSubsidyPayReceipt(ctx, pay)
	require.NoError(t, err)
	assert.Equal(t, busifavor.SubsidyPayReceiptStatusAccepted, created.Status)
	assert.Empty(t, created.SubsidyReceiptID, "no id before the payment succeeds")

	var pending []string
	policy := busifavor.PollPolicy{Initial: time.Millisecond, Max: time.Millisecond, Pending: func(status string) {
		pending = append(pending, status)
		skew.Add(int64(30 * time.Second))
	}}
	got, err := c.WaitSubsidyPayReceipt(ctx, busifavor.ListSubsidyPayReceiptsRequest{StockID: id, CouponCode: code, OutSubsidyNo: "pay-1"}, policy)
	require.NoError(t, err)
	assert.Equal(t, busifavor.SubsidyPayReceiptStatusSuccess, got.Status)
	assert.NotEmpty(t, got.SubsidyReceiptID)
	assert.Equal(t, []string{"PAY_RECEIPT_ACCEPTED", "PAY_RECEIPT_ACCEPTED"}, pending)

	s.SetSubsidySettlement(busifavortest.SubsidySettlement{})
	_, err = c.CreateSubsidyReturnReceipt(ctx, returnRequest(id, code, "ret-1", 1001))
	assert.ErrorIs(t, err, busifavor.ErrInvalidRequest, "returns cannot exceed the payment")
	created1, err := c.CreateSubsidyReturnReceipt(ctx, returnRequest(id, code, "ret-1", 400))
	require.NoError(t, err)
	before := len(s.Requests())
	r1, err := c.WaitSubsidyReturnReceipt(ctx, &created1.SubsidyReturnReceipt, policy)
	require.NoError(t, err)
	assert.Len(t, s.Requests(), before, "a return created settled is not read again")
	assert.Equal(t, busifavor.SubsidyReturnReceiptStatusSuccess, r1.Status)
	p, err := c.GetSubsidyPayReceipt(ctx, busifavor.GetSubsidyPayReceiptRequest{SubsidyReceiptID: got.SubsidyReceiptID})
	require.NoError(t, err)
	assert.Equal(t, busifavor.SubsidyPayReceiptStatusPartialReturn, p.Status)
	_, err = c.CreateSubsidyReturnReceipt(ctx, returnRequest(id, code, "ret-2", 601))
	assert.ErrorIs(t, err, busifavor.ErrInvalidRequest)
	_, err = c.CreateSubsidyReturnReceipt(ctx, returnRequest(id, code, "ret-2", 600))
	require.NoError(t, err)
	p, err = c.GetSubsidyPayReceipt(ctx, busifavor.GetSubsidyPayReceiptRequest{SubsidyReceiptID: got.SubsidyReceiptID})
	require.NoError(t, err)
	assert.Equal(t, busifavor.SubsidyPayReceiptStatusFullReturn, p.Status)
}

// TestSubsidyFailureReasons settles a payment failed for a short balance.
func TestSubsidyFailureReasons(t *testing.T) {
	s, c := newFake(t, []busifavortest.Option{busifavortest.WithSubsidySettlement(busifavortest.SubsidySettlement{FailReason: "PAY_RECEIPT_INSUFFICIENT_BALANCE"})})
	id, code := usedCoupon(t, c, "fail")
	_, err := c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-1", 100))
	require.NoError(t, err)
	got, err := c.WaitSubsidyPayReceipt(ctx, busifavor.ListSubsidyPayReceiptsRequest{StockID: id, CouponCode: code, OutSubsidyNo: "pay-1"}, busifavor.PollPolicy{})
	assert.ErrorIs(t, err, busifavor.ErrSubsidyFailed)
	assert.ErrorIs(t, err, busifavor.ErrInsufficientBalance)
	require.NotNil(t, got)
	assert.Equal(t, busifavor.SubsidyPayReceiptFailReasonInsufficientBalance, got.FailReason)

	s.SetSubsidySettlement(busifavortest.SubsidySettlement{FailReason: "PAY_RECEIPT_OTHER"})
	_, err = c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-2", 100))
	require.NoError(t, err)
	_, err = c.WaitSubsidyPayReceipt(ctx, busifavor.ListSubsidyPayReceiptsRequest{StockID: id, CouponCode: code, OutSubsidyNo: "pay-2"}, busifavor.PollPolicy{})
	assert.ErrorIs(t, err, busifavor.ErrSubsidyFailed)
	assert.NotErrorIs(t, err, busifavor.ErrInsufficientBalance)

	// A payment not listed is waited for (the list may lag), within the
	// context.
	cctx, cancel := context.WithCancel(ctx)
	var pending []string
	_, err = c.WaitSubsidyPayReceipt(cctx, busifavor.ListSubsidyPayReceiptsRequest{StockID: id, CouponCode: code, OutSubsidyNo: "nope"},
		busifavor.PollPolicy{Initial: time.Millisecond, Pending: func(status string) {
			if pending = append(pending, status); len(pending) == 2 {
				cancel()
			}
		}})
	assert.ErrorIs(t, err, busifavor.ErrReceiptNotFound)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []string{"NOT_LISTED", "NOT_LISTED"}, pending)
	_, err = c.WaitSubsidyPayReceipt(ctx, busifavor.ListSubsidyPayReceiptsRequest{StockID: id, CouponCode: code}, busifavor.PollPolicy{})
	assert.ErrorIs(t, err, busifavor.ErrValidation)
}

// TestWaitStopsWithTheContext polls a receipt that never settles.
func TestWaitStopsWithTheContext(t *testing.T) {
	_, c := newFake(t, []busifavortest.Option{busifavortest.WithSubsidySettlement(busifavortest.SubsidySettlement{Delay: time.Hour})})
	id, code := usedCoupon(t, c, "ctx")
	_, err := c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-1", 100))
	require.NoError(t, err)
	cctx, cancel := context.WithCancel(ctx)
	reads := 0
	_, err = c.WaitSubsidyPayReceipt(cctx, busifavor.ListSubsidyPayReceiptsRequest{StockID: id, CouponCode: code, OutSubsidyNo: "pay-1"},
		busifavor.PollPolicy{Initial: time.Millisecond, Pending: func(string) {
			if reads++; reads == 3 {
				cancel()
			}
		}})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 3, reads)
}

// TestFakeSubsidyRules checks the fake's refusals and idempotency.
func TestFakeSubsidyRules(t *testing.T) {
	_, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	id, code := usedCoupon(t, c, "rules")
	_, err := c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-1", 1001))
	assert.ErrorIs(t, err, busifavor.ErrInvalidRequest, "more than the coupon's 10 元 discount")
	_, err = c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-1", 1000))
	require.NoError(t, err)
	_, err = c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-1", 999))
	assert.ErrorIs(t, err, busifavor.ErrReceiptExists)
	assert.ErrorIs(t, err, busifavor.ErrResourceAlreadyExists)
	_, err = c.GetSubsidyPayReceipt(ctx, busifavor.GetSubsidyPayReceiptRequest{SubsidyReceiptID: "1120200119165100000000009999"})
	assert.ErrorIs(t, err, busifavor.ErrReceiptNotFound)

	fresh := newCouponStock(t, c, busifavor.CouponCodeModeWechatPay, "rules-2")
	sent, err := c.SendCoupon(ctx, busifavor.SendCouponRequest{OpenID: testOpenid, AppID: testAppid, StockID: fresh, OutRequestNo: "s"})
	require.NoError(t, err)
	_, err = c.CreateSubsidyPayReceipt(ctx, payRequest(fresh, sent.CouponCode, "pay-2", 100))
	assert.ErrorIs(t, err, busifavor.ErrInvalidRequest, "the coupon was not redeemed")
	_, err = c.CreateSubsidyReturnReceipt(ctx, returnRequest(fresh, sent.CouponCode, "ret-x", 100))
	assert.ErrorIs(t, err, busifavor.ErrInvalidRequest, "nothing was paid")
}

// TestSubsidyValidation checks the subsidy rules on both sides.
func TestSubsidyValidation(t *testing.T) {
	pay := payRequest("1", "C", "p", 500_000)
	assert.NoError(t, pay.Validate())
	pay.Amount = 500_000 + 1
	assert.Equal(t, []string{"amount"}, fieldsOf(pay.Validate()))
	pay.Amount = 0
	assert.Equal(t, []string{"amount"}, fieldsOf(pay.Validate()))
	pay.Amount, pay.OutSubsidyNo = 1, "no spaces"
	assert.Equal(t, []string{"out_subsidy_no"}, fieldsOf(pay.Validate()))
	assert.ElementsMatch(t, []string{"stock_id", "coupon_code", "transaction_id", "payer_merchant", "payee_merchant", "amount", "description", "out_subsidy_no"},
		fieldsOf(busifavor.CreateSubsidyPayReceiptRequest{}.Validate()))
	ret := returnRequest("1", "C", "r", 1)
	assert.NoError(t, ret.Validate())
	ret.Amount, ret.OutSubsidyReturnNo = -1, strings.Repeat("r", 10)+"."
	assert.ElementsMatch(t, []string{"amount", "out_subsidy_return_no"}, fieldsOf(ret.Validate()))
	assert.Equal(t, []string{"subsidy_receipt_id"}, fieldsOf(busifavor.GetSubsidyPayReceiptRequest{}.Validate()))
	assert.Equal(t, []string{"subsidy_return_receipt_id"}, fieldsOf(busifavor.GetSubsidyReturnReceiptRequest{}.Validate()))
	assert.ElementsMatch(t, []string{"stock_id", "coupon_code"}, fieldsOf(busifavor.ListSubsidyPayReceiptsRequest{}.Validate()))
}

// TestSubsidyEndpointsMapCodesAndRefuseMalformedAnswers checks every code's
// sentinel and the malformed answers for the five endpoints.
func TestSubsidyEndpointsMapCodesAndRefuseMalformedAnswers(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	calls := map[string]func() (any, error){
		"CreateSubsidyPayReceipt": func() (any, error) { return c.CreateSubsidyPayReceipt(ctx, payRequest("1", "C", "p", 1)) },
		"GetSubsidyPayReceipt": func() (any, error) {
			return c.GetSubsidyPayReceipt(ctx, busifavor.GetSubsidyPayReceiptRequest{SubsidyReceiptID: "1120200119165100000000000001"})
		},
		"ListSubsidyPayReceipts": func() (any, error) {
			return c.ListSubsidyPayReceipts(ctx, busifavor.ListSubsidyPayReceiptsRequest{StockID: "1", CouponCode: "C"})
		},
		"CreateSubsidyReturnReceipt": func() (any, error) { return c.CreateSubsidyReturnReceipt(ctx, returnRequest("1", "C", "r", 1)) },
		"GetSubsidyReturnReceipt": func() (any, error) {
			return c.GetSubsidyReturnReceipt(ctx, busifavor.GetSubsidyReturnReceiptRequest{SubsidyReturnReceiptID: "2120200119165100000000000001"})
		},
	}
	state := map[string]map[busifavor.ErrorCode]error{
		"CreateSubsidyPayReceipt":    {busifavor.ErrorCodeResourceAlreadyExists: busifavor.ErrReceiptExists},
		"CreateSubsidyReturnReceipt": {busifavor.ErrorCodeResourceAlreadyExists: busifavor.ErrReceiptExists},
		"GetSubsidyPayReceipt":       {busifavor.ErrorCodeResourceNotExists: busifavor.ErrReceiptNotFound},
		"GetSubsidyReturnReceipt":    {busifavor.ErrorCodeResourceNotExists: busifavor.ErrReceiptNotFound},
	}
	for name, call := range calls {
		for _, code := range busifavor.ErrorCodes() {
			s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: code})
			resp, err := call()
			assert.Nil(t, resp, "%s %s", name, code)
			assert.ErrorIs(t, err, codeSentinel[code], "%s %s", name, code)
			for _, sentinel := range []error{busifavor.ErrReceiptExists, busifavor.ErrReceiptNotFound, busifavor.ErrCouponNotFound} {
				assert.Equal(t, state[name][code] == sentinel, errors.Is(err, sentinel), "%s %s %v", name, code, sentinel)
			}
		}
		bodies := []string{`<html>`, `[]`, `{"status":1}`}
		if name == "ListSubsidyPayReceipts" {
			bodies = []string{`<html>`, `[]`, `{"pay_receipt_list":{}}`, `{"pay_receipt_list":[{"status":"PAY_RECEIPT_SUCCESS"}]}`,
				`{"pay_receipt_list":[{"status":"PAY_RECEIPT_SUCCESS","out_subsidy_no":"p","create_time":"bad"}]}`}
		} else {
			bodies = append(bodies, `{}`, `{"status":"PAY_RECEIPT_SUCCESS","success_time":"x","create_time":"y"}`)
		}
		for _, body := range bodies {
			s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: body})
			resp, err := call()
			assert.ErrorIs(t, err, busifavor.ErrMalformedResponse, "%s %s", name, body)
			assert.Nil(t, resp, "%s %s", name, body)
		}
	}
}
