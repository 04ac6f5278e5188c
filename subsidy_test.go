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

	var pending []busifavor.ReceiptStatus
	policy := busifavor.PollPolicy{InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Pending: func(status busifavor.ReceiptStatus) {
		pending = append(pending, status)
		skew.Add(int64(30 * time.Second))
	}}
	got, err := busifavor.WaitSubsidyPayReceipt(ctx, c, busifavor.WaitSubsidyPayReceiptRequest{StockID: id, CouponCode: code, OutSubsidyNo: "pay-1", Poll: policy})
	require.NoError(t, err)
	assert.Equal(t, busifavor.SubsidyPayReceiptStatusSuccess, got.Status)
	assert.NotEmpty(t, got.SubsidyReceiptID)
	assert.Equal(t, []busifavor.ReceiptStatus{"PAY_RECEIPT_ACCEPTED", "PAY_RECEIPT_ACCEPTED"}, pending)

	s.SetSubsidySettlement(busifavortest.SubsidySettlement{})
	_, err = c.CreateSubsidyReturnReceipt(ctx, returnRequest(id, code, "ret-1", 1001))
	assert.Equal(t, busifavor.ErrorCodeInvalidRequest, busifavor.ErrorCodeOf(err), "returns cannot exceed the payment")
	created1, err := c.CreateSubsidyReturnReceipt(ctx, returnRequest(id, code, "ret-1", 400))
	require.NoError(t, err)
	before := len(s.Requests())
	r1, err := busifavor.WaitSubsidyReturnReceipt(ctx, c, busifavor.WaitSubsidyReturnReceiptRequest{Created: &created1.SubsidyReturnReceipt, Poll: policy})
	require.NoError(t, err)
	assert.Len(t, s.Requests(), before, "a return created settled is not read again")
	assert.Equal(t, busifavor.SubsidyReturnReceiptStatusSuccess, r1.Status)
	p, err := c.GetSubsidyPayReceipt(ctx, busifavor.GetSubsidyPayReceiptRequest{SubsidyReceiptID: got.SubsidyReceiptID})
	require.NoError(t, err)
	assert.Equal(t, busifavor.SubsidyPayReceiptStatusPartialReturn, p.Status)
	_, err = c.CreateSubsidyReturnReceipt(ctx, returnRequest(id, code, "ret-2", 601))
	assert.Equal(t, busifavor.ErrorCodeInvalidRequest, busifavor.ErrorCodeOf(err))
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
	got, err := busifavor.WaitSubsidyPayReceipt(ctx, c, busifavor.WaitSubsidyPayReceiptRequest{StockID: id, CouponCode: code, OutSubsidyNo: "pay-1"})
	assert.ErrorIs(t, err, busifavor.ErrSubsidyFailed)
	assert.ErrorIs(t, err, busifavor.ErrInsufficientBalance)
	require.NotNil(t, got)
	assert.Equal(t, busifavor.SubsidyPayReceiptFailReasonInsufficientBalance, got.FailReason)

	s.SetSubsidySettlement(busifavortest.SubsidySettlement{FailReason: "PAY_RECEIPT_OTHER"})
	_, err = c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-2", 100))
	require.NoError(t, err)
	_, err = busifavor.WaitSubsidyPayReceipt(ctx, c, busifavor.WaitSubsidyPayReceiptRequest{StockID: id, CouponCode: code, OutSubsidyNo: "pay-2"})
	assert.ErrorIs(t, err, busifavor.ErrSubsidyFailed)
	assert.NotErrorIs(t, err, busifavor.ErrInsufficientBalance)

	// A payment not listed is waited for (the list may lag), within the
	// context.
	cctx, cancel := context.WithCancel(ctx)
	var pending []busifavor.ReceiptStatus
	_, err = busifavor.WaitSubsidyPayReceipt(cctx, c, busifavor.WaitSubsidyPayReceiptRequest{StockID: id, CouponCode: code, OutSubsidyNo: "nope", Poll: busifavor.PollPolicy{InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Pending: func(status busifavor.ReceiptStatus) {
		if pending = append(pending, status); len(pending) == 2 {
			cancel()
		}
	}}})
	assert.ErrorIs(t, err, busifavor.ErrReceiptNotFound)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []busifavor.ReceiptStatus{busifavor.ReceiptStatusNotListed, busifavor.ReceiptStatusNotListed}, pending)
	_, err = busifavor.WaitSubsidyPayReceipt(ctx, c, busifavor.WaitSubsidyPayReceiptRequest{StockID: id, CouponCode: code})
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
	_, err = busifavor.WaitSubsidyPayReceipt(cctx, c, busifavor.WaitSubsidyPayReceiptRequest{StockID: id, CouponCode: code, OutSubsidyNo: "pay-1", Poll: busifavor.PollPolicy{InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Pending: func(busifavor.ReceiptStatus) {
		if reads++; reads == 3 {
			cancel()
		}
	}}})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 3, reads)
}

// TestFakeSubsidyRules checks the fake's refusals and idempotency.
func TestFakeSubsidyRules(t *testing.T) {
	_, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	id, code := usedCoupon(t, c, "rules")
	_, err := c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-1", 1001))
	assert.Equal(t, busifavor.ErrorCodeInvalidRequest, busifavor.ErrorCodeOf(err), "more than the coupon's 10 元 discount")
	_, err = c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-1", 1000))
	require.NoError(t, err)
	_, err = c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-1", 999))
	assert.ErrorIs(t, err, busifavor.ErrReceiptExists)
	assert.Equal(t, busifavor.ErrorCodeResourceAlreadyExists, busifavor.ErrorCodeOf(err))
	_, err = c.GetSubsidyPayReceipt(ctx, busifavor.GetSubsidyPayReceiptRequest{SubsidyReceiptID: "1120200119165100000000009999"})
	assert.ErrorIs(t, err, busifavor.ErrReceiptNotFound)

	fresh := newCouponStock(t, c, busifavor.CouponCodeModeWechatPay, "rules-2")
	sent, err := c.SendCoupon(ctx, busifavor.SendCouponRequest{OpenID: testOpenid, AppID: testAppid, StockID: fresh, OutRequestNo: "s"})
	require.NoError(t, err)
	_, err = c.CreateSubsidyPayReceipt(ctx, payRequest(fresh, sent.CouponCode, "pay-2", 100))
	assert.Equal(t, busifavor.ErrorCodeInvalidRequest, busifavor.ErrorCodeOf(err), "the coupon was not redeemed")
	_, err = c.CreateSubsidyReturnReceipt(ctx, returnRequest(fresh, sent.CouponCode, "ret-x", 100))
	assert.Equal(t, busifavor.ErrorCodeInvalidRequest, busifavor.ErrorCodeOf(err), "nothing was paid")
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

// subsidyCalls calls each subsidy endpoint once with a valid request.
func subsidyCalls(c *busifavor.Client) map[string]func() (any, error) {
	return map[string]func() (any, error){
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
}

// TestSubsidyEndpointsMapCodesAndRefuseMalformedAnswers checks every code's
// sentinel and the malformed answers for the five endpoints.
func TestSubsidyEndpointsMapCodesAndRefuseMalformedAnswers(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	calls := subsidyCalls(c)
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
			assertCode(t, err, code, "%s %s", name, code)
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

// readerFake is a SubsidyReturnReceiptReader of a test's own: no Client, no
// fake WeChat Pay. Each read answers the next of its lists or receipts.
type readerFake struct {
	lists    []*busifavor.ListSubsidyPayReceiptsResponse
	receipts []*busifavor.SubsidyReturnReceiptResponse
	listed   []busifavor.ListSubsidyPayReceiptsRequest
	reads    int
}

func (f *readerFake) ListSubsidyPayReceipts(_ context.Context, req busifavor.ListSubsidyPayReceiptsRequest) (*busifavor.ListSubsidyPayReceiptsResponse, error) {
	f.listed = append(f.listed, req)
	r := f.lists[0]
	f.lists = f.lists[1:]
	return r, nil
}

func (f *readerFake) GetSubsidyReturnReceipt(context.Context, busifavor.GetSubsidyReturnReceiptRequest) (*busifavor.SubsidyReturnReceiptResponse, error) {
	f.reads++
	r := f.receipts[0]
	f.receipts = f.receipts[1:]
	return r, nil
}

// TestWaitOverANarrowInterface: the Wait… functions need only the methods
// they call, so a fake of those drives them; the request's settings reach
// the list, the pending statuses are typed, and what Validate refuses reads
// nothing.
func TestWaitOverANarrowInterface(t *testing.T) {
	fast := busifavor.PollPolicy{InitialBackoff: time.Nanosecond, MaxBackoff: time.Nanosecond}
	pay := func(status busifavor.SubsidyPayReceiptStatus) *busifavor.ListSubsidyPayReceiptsResponse {
		return &busifavor.ListSubsidyPayReceiptsResponse{PayReceiptList: []busifavor.SubsidyPayReceipt{{OutSubsidyNo: "pay-1", Status: status}}}
	}
	f := &readerFake{lists: []*busifavor.ListSubsidyPayReceiptsResponse{{}, pay("ACCEPTED"), pay("SUCCESS")}}
	var pending []busifavor.ReceiptStatus
	poll := fast
	poll.Pending = func(s busifavor.ReceiptStatus) { pending = append(pending, s) }
	r, err := busifavor.WaitSubsidyPayReceipt(ctx, f, busifavor.WaitSubsidyPayReceiptRequest{StockID: "1", CouponCode: "C", OutSubsidyNo: "pay-1", Poll: poll})
	require.NoError(t, err)
	assert.True(t, r.Status.Paid())
	assert.Equal(t, []busifavor.ReceiptStatus{busifavor.ReceiptStatusNotListed, "ACCEPTED"}, pending)
	assert.Equal(t, busifavor.ListSubsidyPayReceiptsRequest{StockID: "1", CouponCode: "C", OutSubsidyNo: "pay-1"}, f.listed[0])

	const id = "1000000000000000000000000001"
	f = &readerFake{receipts: []*busifavor.SubsidyReturnReceiptResponse{
		{SubsidyReturnReceipt: busifavor.SubsidyReturnReceipt{SubsidyReturnReceiptID: id, OutSubsidyReturnNo: "ret-1", Status: busifavor.SubsidyReturnReceiptStatusSuccess}},
	}}
	created := &busifavor.SubsidyReturnReceipt{SubsidyReturnReceiptID: id, OutSubsidyReturnNo: "ret-1", Status: busifavor.SubsidyReturnReceiptStatusAccepted}
	got, err := busifavor.WaitSubsidyReturnReceipt(ctx, f, busifavor.WaitSubsidyReturnReceiptRequest{Created: created, Poll: fast})
	require.NoError(t, err)
	assert.True(t, got.Status.Returned())
	assert.Equal(t, 1, f.reads)

	// Refused before anything is read.
	f = &readerFake{}
	for _, req := range []busifavor.WaitSubsidyPayReceiptRequest{
		{StockID: "1", CouponCode: "C"},          // no out_subsidy_no
		{CouponCode: "C", OutSubsidyNo: "pay-1"}, // no stock
		{StockID: "1", CouponCode: "C", OutSubsidyNo: "pay-1", Poll: busifavor.PollPolicy{MaxBackoff: -1}}, // a negative backoff
	} {
		_, err := busifavor.WaitSubsidyPayReceipt(ctx, f, req)
		assert.ErrorIs(t, err, busifavor.ErrValidation, "%+v", req)
	}
	_, err = busifavor.WaitSubsidyReturnReceipt(ctx, f, busifavor.WaitSubsidyReturnReceiptRequest{Created: created, Poll: busifavor.PollPolicy{InitialBackoff: time.Hour}})
	assert.ErrorIs(t, err, busifavor.ErrValidation)
	assert.Empty(t, f.listed)
	assert.Zero(t, f.reads)
	_, err = busifavor.WaitSubsidyPayReceipt(ctx, nil, busifavor.WaitSubsidyPayReceiptRequest{StockID: "1", CouponCode: "C", OutSubsidyNo: "pay-1"})
	assert.ErrorContains(t, err, "nil SubsidyPayReceiptLister")
	_, err = busifavor.WaitSubsidyReturnReceipt(ctx, nil, busifavor.WaitSubsidyReturnReceiptRequest{Created: created})
	assert.ErrorContains(t, err, "nil SubsidyReturnReceiptReader")
}

// TestWaitOverAFakeAnsweringNil: a fake of the narrow interface that
// answers nil and no error gets an error from the Wait… functions, not a
// panic and never a success.
func TestWaitOverAFakeAnsweringNil(t *testing.T) {
	ctx := context.Background()
	fast := busifavor.PollPolicy{InitialBackoff: time.Nanosecond, MaxBackoff: time.Nanosecond}
	f := &readerFake{lists: []*busifavor.ListSubsidyPayReceiptsResponse{nil}}
	var (
		got *busifavor.SubsidyPayReceiptResponse
		err error
	)
	require.NotPanics(t, func() {
		got, err = busifavor.WaitSubsidyPayReceipt(ctx, f, busifavor.WaitSubsidyPayReceiptRequest{StockID: "1", CouponCode: "C", OutSubsidyNo: "pay-1", Poll: fast})
	})
	assert.Error(t, err)
	assert.Nil(t, got)

	const id = "1000000000000000000000000001"
	f = &readerFake{receipts: []*busifavor.SubsidyReturnReceiptResponse{nil}}
	created := &busifavor.SubsidyReturnReceipt{SubsidyReturnReceiptID: id, OutSubsidyReturnNo: "ret-1", Status: busifavor.SubsidyReturnReceiptStatusAccepted}
	var ret *busifavor.SubsidyReturnReceiptResponse
	require.NotPanics(t, func() {
		ret, err = busifavor.WaitSubsidyReturnReceipt(ctx, f, busifavor.WaitSubsidyReturnReceiptRequest{Created: created, Poll: fast})
	})
	assert.Error(t, err)
	assert.False(t, err == nil && ret != nil && ret.Status.Returned())

	created = &busifavor.SubsidyReturnReceipt{OutSubsidyReturnNo: "ret-1", Status: busifavor.SubsidyReturnReceiptStatusAccepted}
	f = &readerFake{lists: []*busifavor.ListSubsidyPayReceiptsResponse{nil}}
	require.NotPanics(t, func() {
		_, err = busifavor.WaitSubsidyReturnReceipt(ctx, f, busifavor.WaitSubsidyReturnReceiptRequest{Created: created, Poll: fast})
	})
	assert.Error(t, err)
}
