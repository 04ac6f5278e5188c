package busifavor_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// methods lists each request's method and path, in order.
func methods(reqs []busifavortest.Request) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.Method + " " + strings.TrimPrefix(r.Path, busifavortest.SubsidyPath)
	}
	return out
}

const (
	payPath    = busifavortest.SubsidyPath + "/pay-receipts"
	returnPath = busifavortest.SubsidyPath + "/return-receipts"
)

// TestSubsidyStatusSpellings checks both spellings of every status and
// reason, and that an unknown status is neither pending nor a success.
func TestSubsidyStatusSpellings(t *testing.T) {
	for _, tc := range []struct {
		status                         string
		canonical                      busifavor.SubsidyPayReceiptStatus
		pending, paid, failed, isFinal bool
	}{
		{"ACCEPTED", busifavor.SubsidyPayReceiptStatusAccepted, true, false, false, false},
		{"PAY_RECEIPT_ACCEPTED", busifavor.SubsidyPayReceiptStatusAccepted, true, false, false, false},
		{"PAY_RECEIPT_UNKNOWN", busifavor.SubsidyPayReceiptStatusUnknown, true, false, false, false},
		{"SUCCESS", busifavor.SubsidyPayReceiptStatusSuccess, false, true, false, true},
		{"PAY_RECEIPT_SUCCESS", busifavor.SubsidyPayReceiptStatusSuccess, false, true, false, true},
		{"FAIL", busifavor.SubsidyPayReceiptStatusFail, false, false, true, true},
		{"PAY_RECEIPT_FAIL", busifavor.SubsidyPayReceiptStatusFail, false, false, true, true},
		{"RETURNING", busifavor.SubsidyPayReceiptStatusReturning, false, true, false, true},
		{"PARTIAL_RETURN", busifavor.SubsidyPayReceiptStatusPartialReturn, false, true, false, true},
		{"PAY_RECEIPT_FULL_RETURN", busifavor.SubsidyPayReceiptStatusFullReturn, false, true, false, true},
		{"PROCESSING", "", false, false, false, false},
		{"PAY_RECEIPT_", "", false, false, false, false},
		{"success", "", false, false, false, false},
		{"", "", false, false, false, false},
	} {
		s := busifavor.SubsidyPayReceiptStatus(tc.status)
		assert.Equal(t, tc.canonical, s.Canonical(), tc.status)
		assert.Equal(t, tc.pending, s.Pending(), tc.status)
		assert.Equal(t, tc.paid, s.Paid(), tc.status)
		assert.Equal(t, tc.failed, s.Failed(), tc.status)
		assert.Equal(t, tc.isFinal, s.Final(), tc.status)
	}
	for status, want := range map[string][3]bool{ // pending, returned, failed
		"RETURN_RECEIPT_ACCEPTED": {true, false, false}, "ACCEPTED": {true, false, false},
		"RETURN_RECEIPT_SUCCESS": {false, true, false}, "SUCCESS": {false, true, false},
		"RETURN_RECEIPT_FAIL": {false, false, true}, "FAIL": {false, false, true},
		"RETURN_RECEIPT_DONE": {}, "": {},
	} {
		s := busifavor.SubsidyReturnReceiptStatus(status)
		assert.Equal(t, want, [3]bool{s.Pending(), s.Returned(), s.Failed()}, status)
		assert.Equal(t, want[1] || want[2], s.Final(), status)
	}
	for _, reason := range []string{"INSUFFICIENT_BALANCE", "PAY_RECEIPT_INSUFFICIENT_BALANCE", "RETURN_RECEIPT_INSUFFICIENT_BALANCE"} {
		assert.ErrorIs(t, &busifavor.ReceiptFailedError{ReceiptID: "p", Reason: reason}, busifavor.ErrInsufficientBalance, reason)
	}
	assert.NotErrorIs(t, &busifavor.ReceiptFailedError{Reason: "NOT_INCOMESPLIT_ORDER"}, busifavor.ErrInsufficientBalance)
	assert.Equal(t, busifavor.SubsidyPayReceiptFailReasonNotIncomeSplitOrder, busifavor.SubsidyPayReceiptFailReason("NOT_INCOMESPLIT_ORDER").Canonical())
	assert.Equal(t, busifavor.SubsidyPayReceiptFailReasonExceedAmountQuota, busifavor.SubsidyPayReceiptFailReason("EXCEED_SUBSIDY_AMOUNT_QUOTA").Canonical())
	assert.Equal(t, busifavor.SubsidyReturnReceiptFailReasonOther, busifavor.SubsidyReturnReceiptFailReason("OTHER").Canonical())
}

// listed is a pay-receipt list answer with one receipt of the given status.
func listed(status, failReason string) string {
	return `{"pay_receipt_list":[{"stock_id":"1","coupon_code":"C","transaction_id":"4200000913202101152566792388",` +
		`"payer_merchant":"1900000001","payee_merchant":"1900000109","amount":100,"description":"d",` +
		`"status":"` + status + `","fail_reason":"` + failReason + `","out_subsidy_no":"pay-1"}]}`
}

// TestWaitPayReceiptInThePagesSpelling polls payments answered in the
// current pages' spelling: ACCEPTED is still pending, FAIL with
// INSUFFICIENT_BALANCE is a failure, SUCCESS a success, and a status this
// package does not know is never a success.
func TestWaitPayReceiptInThePagesSpelling(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	req := busifavor.ListSubsidyPayReceiptsRequest{StockID: "1", CouponCode: "C", OutSubsidyNo: "pay-1"}
	fast := busifavor.PollPolicy{Initial: time.Millisecond}
	answer := func(bodies ...string) {
		for _, b := range bodies {
			s.FailOn(http.MethodGet, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: b})
		}
	}

	answer(listed("ACCEPTED", ""), listed("ACCEPTED", ""), listed("FAIL", "INSUFFICIENT_BALANCE"))
	var pending []string
	r, err := c.WaitSubsidyPayReceipt(ctx, req, busifavor.PollPolicy{Initial: time.Millisecond, Pending: func(st string) { pending = append(pending, st) }})
	assert.ErrorIs(t, err, busifavor.ErrSubsidyFailed)
	assert.ErrorIs(t, err, busifavor.ErrInsufficientBalance)
	require.NotNil(t, r)
	assert.Equal(t, "FAIL", string(r.Status), "the raw value is kept")
	assert.Equal(t, []string{"ACCEPTED", "ACCEPTED"}, pending)

	answer(listed("ACCEPTED", ""), listed("SUCCESS", ""))
	r, err = c.WaitSubsidyPayReceipt(ctx, req, fast)
	require.NoError(t, err)
	assert.Equal(t, busifavor.SubsidyPayReceiptStatusSuccess, r.Status.Canonical())

	for _, status := range []string{"PROCESSING", "success", "PAY_RECEIPT_DONE"} {
		answer(listed(status, ""))
		r, err = c.WaitSubsidyPayReceipt(ctx, req, fast)
		assert.ErrorIs(t, err, busifavor.ErrUnknownReceiptStatus, status)
		var se *busifavor.ReceiptStatusError
		require.ErrorAs(t, err, &se, status)
		assert.Equal(t, status, se.Status)
		assert.Contains(t, err.Error(), status)
		require.NotNil(t, r, "the receipt read is kept")
	}
}

// TestPayLostAnswerIsReadBeforeResending loses answers to a payment in each
// way and checks that the create is sent again only after a read found no
// payment, always identical, and that one payment is made.
func TestPayLostAnswerIsReadBeforeResending(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 3}))
	id, code := usedCoupon(t, c, "lost")
	pay := payRequest(id, code, "pay-1", 100)

	t.Run("the create took effect: the read finds it", func(t *testing.T) {
		s.FailOn(http.MethodPost, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultLostAnswer})
		before := len(s.Requests())
		r, err := c.CreateSubsidyPayReceipt(ctx, pay)
		require.NoError(t, err)
		assert.Equal(t, "pay-1", r.OutSubsidyNo)
		assert.NotEmpty(t, r.RequestID)
		assert.Equal(t, []string{"POST /pay-receipts", "GET /pay-receipts"}, methods(s.Requests()[before:]))
		assert.Len(t, s.SubsidyPayReceipts(), 1)
	})
	t.Run("a 5xx and an empty list: sent again, identical", func(t *testing.T) {
		pay := payRequest(id, code, "pay-2", 100)
		s.FailOn(http.MethodPost, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 500})
		before := len(s.Requests())
		r, err := c.CreateSubsidyPayReceipt(ctx, pay)
		require.NoError(t, err)
		assert.Equal(t, "pay-2", r.OutSubsidyNo)
		reqs := s.Requests()[before:]
		assert.Equal(t, []string{"POST /pay-receipts", "GET /pay-receipts", "POST /pay-receipts"}, methods(reqs))
		assert.Equal(t, string(reqs[0].Body), string(reqs[2].Body))
		assert.Len(t, s.SubsidyPayReceipts(), 2)
	})
	t.Run("a list that lags, then the repeat is refused: read once more", func(t *testing.T) {
		pay := payRequest(id, code, "pay-3", 100)
		s.FailOn(http.MethodPost, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultLostAnswer})
		s.FailOn(http.MethodGet, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: `{"pay_receipt_list":[]}`})
		s.FailOn(http.MethodPost, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeResourceAlreadyExists})
		before := len(s.Requests())
		r, err := c.CreateSubsidyPayReceipt(ctx, pay)
		require.NoError(t, err)
		assert.Equal(t, "pay-3", r.OutSubsidyNo)
		assert.Equal(t, []string{"POST /pay-receipts", "GET /pay-receipts", "POST /pay-receipts", "GET /pay-receipts"}, methods(s.Requests()[before:]))
		assert.Len(t, s.SubsidyPayReceipts(), 3)
	})
	t.Run("the read fails: outcome unknown, nothing sent again", func(t *testing.T) {
		pay := payRequest(id, code, "pay-4", 100)
		s.FailOn(http.MethodPost, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultLostAnswer})
		s.FailOn(http.MethodGet, payPath, 3, busifavortest.Fault{Kind: busifavortest.FaultGarbled})
		before := len(s.Requests())
		r, err := c.CreateSubsidyPayReceipt(ctx, pay)
		assert.Nil(t, r)
		assertOutcomeUnknown(t, err, "CreateSubsidyPayReceipt", "pay-4")
		assert.ErrorIs(t, err, busifavor.ErrTransport)
		assert.Equal(t, []string{"POST /pay-receipts", "GET /pay-receipts", "GET /pay-receipts", "GET /pay-receipts"}, methods(s.Requests()[before:]))
	})
	t.Run("attempts run out: outcome unknown", func(t *testing.T) {
		pay := payRequest(id, code, "pay-5", 100)
		s.FailOn(http.MethodPost, payPath, 3, busifavortest.Fault{Kind: busifavortest.FaultGarbled})
		before := len(s.Requests())
		_, err := c.CreateSubsidyPayReceipt(ctx, pay)
		assertOutcomeUnknown(t, err, "CreateSubsidyPayReceipt", "pay-5")
		assert.Equal(t, []string{"POST /pay-receipts", "GET /pay-receipts", "POST /pay-receipts", "GET /pay-receipts", "POST /pay-receipts"},
			methods(s.Requests()[before:]))
	})
	t.Run("a refusal no earlier attempt can cause is returned as it is", func(t *testing.T) {
		for _, f := range []busifavortest.Fault{
			{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeFrequencyLimited},
			{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeParamError},
			{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeResourceNotExists},
			{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeNoAuthGeneral},
		} {
			s.FailOn(http.MethodPost, payPath, 1, f)
			before := len(s.Requests())
			_, err := c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-6", 100))
			assert.ErrorIs(t, err, codeSentinel[f.Code], "%+v", f)
			assert.NotErrorIs(t, err, busifavor.ErrOutcomeUnknown, "%+v", f)
			assert.Len(t, s.Requests()[before:], 1, "%+v", f)
		}
	})
	t.Run("a 400 SYSTEM_ERROR is a lost answer: read back, then sent again", func(t *testing.T) {
		s.FailOn(http.MethodPost, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 400})
		before := len(s.Requests())
		r, err := c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-9", 100))
		require.NoError(t, err)
		assert.Equal(t, "pay-9", r.OutSubsidyNo)
		assert.Equal(t, []string{"POST /pay-receipts", "GET /pay-receipts", "POST /pay-receipts"}, methods(s.Requests()[before:]))
	})
	t.Run("a 2xx that cannot be read: outcome unknown", func(t *testing.T) {
		s.FailOn(http.MethodPost, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: `{"status":1}`})
		_, err := c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-7", 100))
		assertOutcomeUnknown(t, err, "CreateSubsidyPayReceipt", "pay-7")
		assert.ErrorIs(t, err, busifavor.ErrMalformedResponse)
	})
	t.Run("a stopped context: outcome unknown", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		s.FailOn(http.MethodPost, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultDelay, Delay: time.Hour})
		before := len(s.Requests())
		go func() { // cancel once the create has reached the fake
			for len(s.Requests()) == before {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		_, err := c.CreateSubsidyPayReceipt(cctx, payRequest(id, code, "pay-8", 100))
		assertOutcomeUnknown(t, err, "CreateSubsidyPayReceipt", "pay-8")
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, []string{"POST /pay-receipts"}, methods(s.Requests()[before:]))
	})
	t.Run("the number is listed with another amount", func(t *testing.T) {
		s.FailOn(http.MethodPost, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultGarbled})
		_, err := c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-1", 99))
		assertOutcomeUnknown(t, err, "CreateSubsidyPayReceipt", "pay-1")
		assert.ErrorIs(t, err, busifavor.ErrReceiptExists)
	})
}

// TestPayFreshResendRefusedIsReadBack sends a payment whose answer is lost
// and whose read-back fails (an *OutcomeUnknownError), then, as that error
// asks, the identical request again in a new call, which WeChat Pay refuses
// because the number is taken: the read-back finds the payment the first
// call made, and nothing is paid twice. A refusal of each kind an earlier
// attempt could cause is read back, and an unlisted or different payment
// leaves the outcome unknown, never a plain refusal that reads as "nothing
// was paid".
func TestPayFreshResendRefusedIsReadBack(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 3}))
	id, code := usedCoupon(t, c, "fresh")
	pay := payRequest(id, code, "pay-f1", 100)

	s.FailOn(http.MethodPost, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultLostAnswer})
	s.FailOn(http.MethodGet, payPath, 3, busifavortest.Fault{Kind: busifavortest.FaultGarbled})
	_, err := c.CreateSubsidyPayReceipt(ctx, pay)
	assertOutcomeUnknown(t, err, "CreateSubsidyPayReceipt", "pay-f1")
	require.Len(t, s.SubsidyPayReceipts(), 1, "the lost attempt paid")

	s.FailOn(http.MethodPost, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeResourceAlreadyExists})
	before := len(s.Requests())
	r, err := c.CreateSubsidyPayReceipt(ctx, pay)
	require.NoError(t, err)
	assert.Equal(t, "pay-f1", r.OutSubsidyNo)
	assert.EqualValues(t, 100, r.Amount)
	assert.NotEmpty(t, r.RequestID)
	assert.Equal(t, []string{"POST /pay-receipts", "GET /pay-receipts"}, methods(s.Requests()[before:]))
	assert.Len(t, s.SubsidyPayReceipts(), 1, "paid once")

	for i, refusal := range []busifavor.ErrorCode{busifavor.ErrorCodeResourceAlreadyExists, busifavor.ErrorCodeInvalidRequest,
		busifavor.ErrorCodeRuleLimit, "RULE_LIMIT", "A_CODE_NO_PAGE_LISTS"} {
		t.Run(string(refusal), func(t *testing.T) {
			fresh := payRequest(id, code, fmt.Sprintf("pay-f%d", i+2), 1)
			_, err := c.CreateSubsidyPayReceipt(ctx, fresh)
			require.NoError(t, err)

			s.FailOn(http.MethodPost, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: refusal, Status: 403})
			before := len(s.Requests())
			r, err := c.CreateSubsidyPayReceipt(ctx, fresh)
			require.NoError(t, err, "the payment under the number matches: it is the answer")
			assert.Equal(t, fresh.OutSubsidyNo, r.OutSubsidyNo)
			assert.Equal(t, []string{"POST /pay-receipts", "GET /pay-receipts"}, methods(s.Requests()[before:]))
		})
	}

	t.Run("not listed: outcome unknown, the refusal kept", func(t *testing.T) {
		s.FailOn(http.MethodPost, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeInvalidRequest})
		before, paid := len(s.Requests()), len(s.SubsidyPayReceipts())
		r, err := c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-unlisted", 1))
		assert.Nil(t, r)
		assertOutcomeUnknown(t, err, "CreateSubsidyPayReceipt", "pay-unlisted")
		assert.ErrorIs(t, err, busifavor.ErrInvalidRequest)
		assert.Equal(t, []string{"POST /pay-receipts", "GET /pay-receipts"}, methods(s.Requests()[before:]), "never sent again")
		assert.Len(t, s.SubsidyPayReceipts(), paid)
	})
	t.Run("listed for another payment: outcome unknown", func(t *testing.T) {
		s.FailOn(http.MethodPost, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeResourceAlreadyExists})
		other := pay
		other.Amount = 99
		_, err := c.CreateSubsidyPayReceipt(ctx, other)
		assertOutcomeUnknown(t, err, "CreateSubsidyPayReceipt", "pay-f1")
		assert.ErrorIs(t, err, busifavor.ErrReceiptExists)
		assert.ErrorIs(t, err, busifavor.ErrResourceAlreadyExists)
	})
	t.Run("the read-back fails: outcome unknown", func(t *testing.T) {
		s.FailOn(http.MethodPost, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeResourceAlreadyExists})
		s.FailOn(http.MethodGet, payPath, 3, busifavortest.Fault{Kind: busifavortest.FaultGarbled})
		_, err := c.CreateSubsidyPayReceipt(ctx, pay)
		assertOutcomeUnknown(t, err, "CreateSubsidyPayReceipt", "pay-f1")
		assert.ErrorIs(t, err, busifavor.ErrTransport)
	})
}

// assertOutcomeUnknown checks an *OutcomeUnknownError for op and number.
func assertOutcomeUnknown(t *testing.T, err error, op, number string) {
	t.Helper()
	assert.ErrorIs(t, err, busifavor.ErrOutcomeUnknown)
	var oe *busifavor.OutcomeUnknownError
	if assert.ErrorAs(t, err, &oe) {
		assert.Equal(t, op, oe.Op)
		assert.Equal(t, number, oe.Number)
		assert.NotEmpty(t, oe.Reconcile)
	}
	assert.Contains(t, err.Error(), "never a new number")
}

// TestReturnLostAnswerIsReadBeforeResending loses answers to returns: one
// that took effect shows on the payment, so the return is not sent again;
// one refused with a 5xx leaves the payment untouched and is sent again.
func TestReturnLostAnswerIsReadBeforeResending(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 3}))
	id, code := usedCoupon(t, c, "lost-ret")
	_, err := c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-1", 1000))
	require.NoError(t, err)

	s.FailOn(http.MethodPost, returnPath, 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 500})
	before := len(s.Requests())
	r, err := c.CreateSubsidyReturnReceipt(ctx, returnRequest(id, code, "ret-1", 300))
	require.NoError(t, err)
	assert.True(t, r.Status.Returned())
	reqs := s.Requests()[before:]
	assert.Equal(t, []string{"POST /return-receipts", "GET /pay-receipts", "POST /return-receipts"}, methods(reqs))
	assert.Equal(t, string(reqs[0].Body), string(reqs[2].Body))

	s.FailOn(http.MethodPost, returnPath, 1, busifavortest.Fault{Kind: busifavortest.FaultLostAnswer})
	before = len(s.Requests())
	_, err = c.CreateSubsidyReturnReceipt(ctx, returnRequest(id, code, "ret-2", 300))
	assertOutcomeUnknown(t, err, "CreateSubsidyReturnReceipt", "ret-2")
	assert.Contains(t, err.Error(), "PARTIAL_RETURN")
	assert.Equal(t, []string{"POST /return-receipts", "GET /pay-receipts"}, methods(s.Requests()[before:]), "not sent again")
	p := s.SubsidyPayReceipts()[0]
	assert.Equal(t, busifavor.SubsidyPayReceiptStatusPartialReturn, p.Status)
}

// TestReturnFreshResendRefusedIsReadBack sends a return again in a new call
// after its first answer was lost, and WeChat Pay refuses the resend as a
// return beyond the payment (the first one took the amount): the payment is
// read, shows the return, and the outcome is unknown, not a plain refusal
// that reads as "nothing was returned". A refusal no earlier attempt can
// cause is returned as it is.
func TestReturnFreshResendRefusedIsReadBack(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 3}))
	id, code := usedCoupon(t, c, "fresh-ret")
	_, err := c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-1", 1000))
	require.NoError(t, err)
	ret := returnRequest(id, code, "ret-1", 1000)
	_, err = c.CreateSubsidyReturnReceipt(ctx, ret)
	require.NoError(t, err, "the attempt whose answer the merchant lost")

	for _, refusal := range []busifavor.ErrorCode{busifavor.ErrorCodeInvalidRequest, busifavor.ErrorCodeResourceAlreadyExists, busifavor.ErrorCodeRuleLimit} {
		s.FailOn(http.MethodPost, returnPath, 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: refusal})
		before := len(s.Requests())
		r, err := c.CreateSubsidyReturnReceipt(ctx, ret)
		assert.Nil(t, r, refusal)
		assertOutcomeUnknown(t, err, "CreateSubsidyReturnReceipt", "ret-1")
		assert.ErrorIs(t, err, codeSentinel[refusal], "the refusal is kept")
		assert.Contains(t, err.Error(), "FULL_RETURN")
		assert.Equal(t, []string{"POST /return-receipts", "GET /pay-receipts"}, methods(s.Requests()[before:]), refusal)
	}

	s.FailOn(http.MethodPost, returnPath, 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeParamError})
	before := len(s.Requests())
	_, err = c.CreateSubsidyReturnReceipt(ctx, ret)
	assert.ErrorIs(t, err, busifavor.ErrParamError)
	assert.NotErrorIs(t, err, busifavor.ErrOutcomeUnknown)
	assert.Len(t, s.Requests()[before:], 1)
}

// TestWaitReturnReceiptOnlyReads waits for returns: one with an id is read
// by id, one without through its payment, which ends in an unknown outcome
// (the payment cannot say which return settled); nothing is created again.
func TestWaitReturnReceiptOnlyReads(t *testing.T) {
	var skew atomic.Int64
	start := time.Now() // the fake checks request timestamps against its clock
	s, c := newFake(t, []busifavortest.Option{
		busifavortest.WithClock(func() time.Time { return start.Add(time.Duration(skew.Load())) }),
	})
	id, code := usedCoupon(t, c, "wait-ret")
	_, err := c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-1", 1000))
	require.NoError(t, err)
	policy := busifavor.PollPolicy{Initial: time.Millisecond, Pending: func(string) { skew.Add(int64(30 * time.Second)) }}

	s.SetSubsidySettlement(busifavortest.SubsidySettlement{Delay: time.Minute})
	created, err := c.CreateSubsidyReturnReceipt(ctx, returnRequest(id, code, "ret-1", 400))
	require.NoError(t, err)
	require.Empty(t, created.SubsidyReturnReceiptID, "no id before the return succeeds")
	before := len(s.Requests())
	_, err = c.WaitSubsidyReturnReceipt(ctx, &created.SubsidyReturnReceipt, policy)
	assertOutcomeUnknown(t, err, "WaitSubsidyReturnReceipt", "ret-1")
	assert.Contains(t, err.Error(), "PARTIAL_RETURN")
	for _, m := range methods(s.Requests()[before:]) {
		assert.Equal(t, "GET /pay-receipts", m, "only reads")
	}

	// With an id, the return itself is read until it settles.
	s.SetSubsidySettlement(busifavortest.SubsidySettlement{})
	done, err := c.CreateSubsidyReturnReceipt(ctx, returnRequest(id, code, "ret-2", 100))
	require.NoError(t, err)
	pendingWithID := done.SubsidyReturnReceipt
	pendingWithID.Status = "ACCEPTED"
	before = len(s.Requests())
	got, err := c.WaitSubsidyReturnReceipt(ctx, &pendingWithID, policy)
	require.NoError(t, err)
	assert.True(t, got.Status.Returned())
	assert.Equal(t, []string{"GET /return-receipts/" + done.SubsidyReturnReceiptID}, methods(s.Requests()[before:]))

	// A failed return, and a status nobody knows.
	failed := done.SubsidyReturnReceipt
	failed.Status, failed.FailReason = "FAIL", "INSUFFICIENT_BALANCE"
	_, err = c.WaitSubsidyReturnReceipt(ctx, &failed, policy)
	assert.ErrorIs(t, err, busifavor.ErrInsufficientBalance)
	odd := done.SubsidyReturnReceipt
	odd.Status = "RETURN_RECEIPT_PROCESSING"
	_, err = c.WaitSubsidyReturnReceipt(ctx, &odd, policy)
	assert.ErrorIs(t, err, busifavor.ErrUnknownReceiptStatus)
	_, err = c.WaitSubsidyReturnReceipt(ctx, nil, policy)
	assert.ErrorIs(t, err, busifavor.ErrValidation)
	assert.False(t, errors.Is(err, busifavor.ErrOutcomeUnknown))
}

// TestSubsidyLimitsFromThePages checks both sides of every subsidy limit
// the pages give (string[lo,hi] in bytes).
func TestSubsidyLimitsFromThePages(t *testing.T) {
	r := strings.Repeat
	for _, tc := range []struct {
		field  string
		set    func(*busifavor.CreateSubsidyPayReceiptRequest, *busifavor.CreateSubsidyReturnReceiptRequest, string)
		ok     []string
		broken []string
	}{
		{"coupon_code", func(p *busifavor.CreateSubsidyPayReceiptRequest, q *busifavor.CreateSubsidyReturnReceiptRequest, v string) {
			p.CouponCode, q.CouponCode = v, v
		}, []string{"C", r("C", 128)}, []string{"", r("C", 129)}},
		{"transaction_id", func(p *busifavor.CreateSubsidyPayReceiptRequest, q *busifavor.CreateSubsidyReturnReceiptRequest, v string) {
			p.TransactionID, q.TransactionID = v, v
		}, []string{r("4", 28), r("4", 32)}, []string{"", r("4", 27), r("4", 33)}},
		{"payer_merchant", func(p *busifavor.CreateSubsidyPayReceiptRequest, q *busifavor.CreateSubsidyReturnReceiptRequest, v string) {
			p.PayerMerchant, q.PayerMerchant = v, v
		}, []string{"1", r("1", 32)}, []string{"", r("1", 33)}},
		{"payee_merchant", func(p *busifavor.CreateSubsidyPayReceiptRequest, q *busifavor.CreateSubsidyReturnReceiptRequest, v string) {
			p.PayeeMerchant, q.PayeeMerchant = v, v
		}, []string{"1", r("1", 32)}, []string{"", r("1", 33)}},
		{"description", func(p *busifavor.CreateSubsidyPayReceiptRequest, q *busifavor.CreateSubsidyReturnReceiptRequest, v string) {
			p.Description, q.Description = v, v
		}, []string{"d", r("d", 1024), r("退", 341)}, []string{"", r("d", 1025), r("退", 342)}},
	} {
		for _, v := range tc.ok {
			p, q := payRequest("1", "C", "p", 1), returnRequest("1", "C", "r", 1)
			tc.set(&p, &q, v)
			assert.NoError(t, p.Validate(), "%s %d bytes", tc.field, len(v))
			assert.NoError(t, q.Validate(), "%s %d bytes", tc.field, len(v))
		}
		for _, v := range tc.broken {
			p, q := payRequest("1", "C", "p", 1), returnRequest("1", "C", "r", 1)
			tc.set(&p, &q, v)
			assert.Equal(t, []string{tc.field}, fieldsOf(p.Validate()), "%s %d bytes", tc.field, len(v))
			assert.Equal(t, []string{tc.field}, fieldsOf(q.Validate()), "%s %d bytes", tc.field, len(v))
		}
	}
	for _, v := range []string{"p", r("p", 128), "a|b_c*d-e", "a｜b"} {
		p, q := payRequest("1", "C", v, 1), returnRequest("1", "C", v, 1)
		assert.NoError(t, p.Validate(), v)
		assert.NoError(t, q.Validate(), v)
	}
	for _, v := range []string{"", r("p", 129), "a.b", "a b", "a/b"} {
		p, q := payRequest("1", "C", v, 1), returnRequest("1", "C", v, 1)
		assert.Equal(t, []string{"out_subsidy_no"}, fieldsOf(p.Validate()), v)
		assert.Equal(t, []string{"out_subsidy_return_no"}, fieldsOf(q.Validate()), v)
	}
	for _, v := range []string{r("1", 28), r("1", 32)} {
		q := returnRequest("1", "C", "r", 1)
		q.RefundID = v
		assert.NoError(t, q.Validate())
		assert.NoError(t, busifavor.GetSubsidyPayReceiptRequest{SubsidyReceiptID: v}.Validate())
		assert.NoError(t, busifavor.GetSubsidyReturnReceiptRequest{SubsidyReturnReceiptID: v}.Validate())
	}
	for _, v := range []string{"", ".", "..", r("1", 27), r("1", 33)} {
		q := returnRequest("1", "C", "r", 1)
		q.RefundID = v
		assert.Equal(t, []string{"refund_id"}, fieldsOf(q.Validate()), v)
		assert.Equal(t, []string{"subsidy_receipt_id"}, fieldsOf(busifavor.GetSubsidyPayReceiptRequest{SubsidyReceiptID: v}.Validate()), v)
		assert.Equal(t, []string{"subsidy_return_receipt_id"}, fieldsOf(busifavor.GetSubsidyReturnReceiptRequest{SubsidyReturnReceiptID: v}.Validate()), v)
	}
	list := busifavor.ListSubsidyPayReceiptsRequest{StockID: "1", CouponCode: r("C", 128)}
	assert.NoError(t, list.Validate())
	list.CouponCode += "C"
	assert.Equal(t, []string{"coupon_code"}, fieldsOf(list.Validate()))
}

// TestWaitPayKeepsWhatItListed stops a wait while a read is under way, after
// a first read listed the payment: the wait returns that receipt and never
// says the payment was not listed (a caller could pay again).
func TestWaitPayKeepsWhatItListed(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	s.FailOn(http.MethodGet, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: listed("ACCEPTED", "")})
	s.FailOn(http.MethodGet, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultDelay, Delay: time.Hour})
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	before := len(s.Requests())
	go func() { // cancel once the second read has reached the fake
		for len(s.Requests()) < before+2 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	r, err := c.WaitSubsidyPayReceipt(cctx, busifavor.ListSubsidyPayReceiptsRequest{StockID: "1", CouponCode: "C", OutSubsidyNo: "pay-1"},
		busifavor.PollPolicy{Initial: time.Millisecond})
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, busifavor.ErrReceiptNotFound)
	require.NotNil(t, r, "the receipt listed before")
	assert.Equal(t, "ACCEPTED", string(r.Status))
}

// TestReturnNotResentOverAnUnknownPaymentStatus loses a return's answer (a
// 5xx) while the payment reads a status nobody knows: it may be this return
// under way, so the return is not sent again.
func TestReturnNotResentOverAnUnknownPaymentStatus(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 3}))
	s.FailOn(http.MethodPost, returnPath, 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 500})
	s.FailOn(http.MethodGet, payPath, 1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: listed("PAY_RECEIPT_RETURN_PROCESSING", "")})
	before := len(s.Requests())
	_, err := c.CreateSubsidyReturnReceipt(ctx, returnRequest("1", "C", "ret-1", 100))
	assertOutcomeUnknown(t, err, "CreateSubsidyReturnReceipt", "ret-1")
	assert.ErrorIs(t, err, busifavor.ErrUnknownReceiptStatus)
	assert.Equal(t, []string{"POST /return-receipts", "GET /pay-receipts"}, methods(s.Requests()[before:]), "not sent again")
}

// TestWaitReturnWithoutIDEnds waits for an id-less return whose payment
// never shows it: the wait ends after a bounded number of reads with an
// unknown outcome, even with no deadline.
func TestWaitReturnWithoutIDEnds(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	id, code := usedCoupon(t, c, "quiet")
	_, err := c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-1", 1000))
	require.NoError(t, err)
	ghost := &busifavor.SubsidyReturnReceipt{StockID: id, CouponCode: code, TransactionID: "4200000913202101152566792388",
		Status: busifavor.SubsidyReturnReceiptStatusAccepted, OutSubsidyReturnNo: "ret-ghost"}
	before := len(s.Requests())
	_, err = c.WaitSubsidyReturnReceipt(ctx, ghost, busifavor.PollPolicy{Initial: time.Millisecond})
	assertOutcomeUnknown(t, err, "WaitSubsidyReturnReceipt", "ret-ghost")
	assert.Len(t, s.Requests()[before:], 8, "bounded reads")
}
