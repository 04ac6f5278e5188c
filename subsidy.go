package busifavor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// subsidyPath holds the subsidy receipts (营销补差).
const subsidyPath = "/v3/marketing/busifavor/subsidy"

// SubsidyPayReceiptStatus is a subsidy payment's state (补差付款单据状态),
// kept exactly as it came. Two spellings are in use: the current pages
// (查询营销补差付款单详情, pay.weixin.qq.com/doc/v3/merchant/4017147336, and
// 查询营销补差付款单列表) write ACCEPTED, SUCCESS, FAIL, RETURNING,
// PARTIAL_RETURN and FULL_RETURN; wechatpay-go's models write them with a
// PAY_RECEIPT_ prefix, as the constants below do. Every method of the type
// accepts both: compare with Canonical, not ==. A status in neither spelling
// is unknown: not pending, not paid, not failed, and so never a success.
type SubsidyPayReceiptStatus string

// The documented payment states, in wechatpay-go's spelling (Canonical's).
const (
	SubsidyPayReceiptStatusUnknown       SubsidyPayReceiptStatus = "PAY_RECEIPT_UNKNOWN"        // not known yet (未知; models only)
	SubsidyPayReceiptStatusAccepted      SubsidyPayReceiptStatus = "PAY_RECEIPT_ACCEPTED"       // accepted, in progress (受理成功)
	SubsidyPayReceiptStatusSuccess       SubsidyPayReceiptStatus = "PAY_RECEIPT_SUCCESS"        // paid (补差付款成功)
	SubsidyPayReceiptStatusFail          SubsidyPayReceiptStatus = "PAY_RECEIPT_FAIL"           // failed; FailReason says why (补差付款失败)
	SubsidyPayReceiptStatusReturning     SubsidyPayReceiptStatus = "PAY_RECEIPT_RETURNING"      // paid, a return in progress (补差回退中)
	SubsidyPayReceiptStatusPartialReturn SubsidyPayReceiptStatus = "PAY_RECEIPT_PARTIAL_RETURN" // paid, partly returned (补差部分回退)
	SubsidyPayReceiptStatusFullReturn    SubsidyPayReceiptStatus = "PAY_RECEIPT_FULL_RETURN"    // paid, wholly returned (补差全额回退)
)

var payReceiptStatuses = []SubsidyPayReceiptStatus{SubsidyPayReceiptStatusUnknown, SubsidyPayReceiptStatusAccepted, SubsidyPayReceiptStatusSuccess,
	SubsidyPayReceiptStatusFail, SubsidyPayReceiptStatusReturning, SubsidyPayReceiptStatusPartialReturn, SubsidyPayReceiptStatusFullReturn}

// Canonical returns the status in wechatpay-go's spelling (one of the
// constants) whichever spelling it came in, or "" for a status this package
// does not know.
func (s SubsidyPayReceiptStatus) Canonical() SubsidyPayReceiptStatus {
	return canonical(s, "PAY_RECEIPT_", payReceiptStatuses)
}

// Pending reports whether the payment has not settled yet: UNKNOWN or
// ACCEPTED.
func (s SubsidyPayReceiptStatus) Pending() bool {
	c := s.Canonical()
	return c == SubsidyPayReceiptStatusUnknown || c == SubsidyPayReceiptStatusAccepted
}

// Paid reports whether the payment succeeded: SUCCESS, or one of the states
// a paid receipt moves to when it is returned (RETURNING, PARTIAL_RETURN,
// FULL_RETURN).
func (s SubsidyPayReceiptStatus) Paid() bool {
	switch s.Canonical() {
	case SubsidyPayReceiptStatusSuccess, SubsidyPayReceiptStatusReturning, SubsidyPayReceiptStatusPartialReturn, SubsidyPayReceiptStatusFullReturn:
		return true
	}
	return false
}

// Failed reports whether the payment failed (FAIL): nothing was paid.
func (s SubsidyPayReceiptStatus) Failed() bool { return s.Canonical() == SubsidyPayReceiptStatusFail }

// Final reports whether the payment has settled, paid or failed. An unknown
// status is not final, and not a success either: the Wait helpers stop on
// it with a *ReceiptStatusError.
func (s SubsidyPayReceiptStatus) Final() bool { return s.Paid() || s.Failed() }

// SubsidyPayReceiptFailReason says why a payment failed, kept as it came:
// the pages write INSUFFICIENT_BALANCE, NOT_INCOMESPLIT_ORDER, …, the models
// PAY_RECEIPT_INSUFFICIENT_BALANCE, …; Canonical accepts both.
type SubsidyPayReceiptFailReason string

// The documented payment failure reasons, in wechatpay-go's spelling.
const (
	SubsidyPayReceiptFailReasonInsufficientBalance SubsidyPayReceiptFailReason = "PAY_RECEIPT_INSUFFICIENT_BALANCE"        // the payer's balance is short (扣款商户余额不足)
	SubsidyPayReceiptFailReasonNotIncomeSplitOrder SubsidyPayReceiptFailReason = "PAY_RECEIPT_NOT_INCOMESPLIT_ORDER"       // the order is not a profit-sharing order (非分账订单)
	SubsidyPayReceiptFailReasonExceedAmountQuota   SubsidyPayReceiptFailReason = "PAY_RECEIPT_EXCEED_SUBSIDY_AMOUNT_QUOTA" // over the subsidy amount quota
	SubsidyPayReceiptFailReasonExceedCountQuota    SubsidyPayReceiptFailReason = "PAY_RECEIPT_EXCEED_SUBSIDY_COUNT_QUOTA"  // over the subsidy count quota
	SubsidyPayReceiptFailReasonOther               SubsidyPayReceiptFailReason = "PAY_RECEIPT_OTHER"                       // another reason
)

// Canonical returns the reason in wechatpay-go's spelling whichever spelling
// it came in, or "" for a reason this package does not know.
func (r SubsidyPayReceiptFailReason) Canonical() SubsidyPayReceiptFailReason {
	return canonical(r, "PAY_RECEIPT_", []SubsidyPayReceiptFailReason{SubsidyPayReceiptFailReasonInsufficientBalance,
		SubsidyPayReceiptFailReasonNotIncomeSplitOrder, SubsidyPayReceiptFailReasonExceedAmountQuota, SubsidyPayReceiptFailReasonExceedCountQuota, SubsidyPayReceiptFailReasonOther})
}

// SubsidyReturnReceiptStatus is a subsidy return's state, kept as it came.
// The return pages and wechatpay-go's models both write RETURN_RECEIPT_…;
// Canonical also accepts the bare ACCEPTED, SUCCESS and FAIL the payment
// pages use, in case the return pages follow them. An unknown status is
// never a success.
type SubsidyReturnReceiptStatus string

// The documented return states.
const (
	SubsidyReturnReceiptStatusUnknown  SubsidyReturnReceiptStatus = "RETURN_RECEIPT_UNKNOWN"  // not known yet (models only)
	SubsidyReturnReceiptStatusAccepted SubsidyReturnReceiptStatus = "RETURN_RECEIPT_ACCEPTED" // accepted, in progress (补差回退已受理)
	SubsidyReturnReceiptStatusSuccess  SubsidyReturnReceiptStatus = "RETURN_RECEIPT_SUCCESS"  // returned (补差回退成功)
	SubsidyReturnReceiptStatusFail     SubsidyReturnReceiptStatus = "RETURN_RECEIPT_FAIL"     // failed; FailReason says why (补差回退失败)
)

// Canonical returns the status in the RETURN_RECEIPT_ spelling whichever
// spelling it came in, or "" for a status this package does not know.
func (s SubsidyReturnReceiptStatus) Canonical() SubsidyReturnReceiptStatus {
	return canonical(s, "RETURN_RECEIPT_", []SubsidyReturnReceiptStatus{SubsidyReturnReceiptStatusUnknown, SubsidyReturnReceiptStatusAccepted,
		SubsidyReturnReceiptStatusSuccess, SubsidyReturnReceiptStatusFail})
}

// Pending reports whether the return has not settled yet: UNKNOWN or
// ACCEPTED.
func (s SubsidyReturnReceiptStatus) Pending() bool {
	c := s.Canonical()
	return c == SubsidyReturnReceiptStatusUnknown || c == SubsidyReturnReceiptStatusAccepted
}

// Returned reports whether the return succeeded (SUCCESS).
func (s SubsidyReturnReceiptStatus) Returned() bool {
	return s.Canonical() == SubsidyReturnReceiptStatusSuccess
}

// Failed reports whether the return failed (FAIL): nothing was returned.
func (s SubsidyReturnReceiptStatus) Failed() bool {
	return s.Canonical() == SubsidyReturnReceiptStatusFail
}

// Final reports whether the return has settled, returned or failed. An
// unknown status is not final, and not a success either.
func (s SubsidyReturnReceiptStatus) Final() bool { return s.Returned() || s.Failed() }

// SubsidyReturnReceiptFailReason says why a return failed, kept as it came;
// Canonical accepts it with or without the RETURN_RECEIPT_ prefix.
type SubsidyReturnReceiptFailReason string

// The documented return failure reasons.
const (
	SubsidyReturnReceiptFailReasonInsufficientBalance SubsidyReturnReceiptFailReason = "RETURN_RECEIPT_INSUFFICIENT_BALANCE" // the payee's balance is short
	SubsidyReturnReceiptFailReasonOther               SubsidyReturnReceiptFailReason = "RETURN_RECEIPT_OTHER"                // another reason
)

// Canonical returns the reason in the RETURN_RECEIPT_ spelling whichever
// spelling it came in, or "" for a reason this package does not know.
func (r SubsidyReturnReceiptFailReason) Canonical() SubsidyReturnReceiptFailReason {
	return canonical(r, "RETURN_RECEIPT_", []SubsidyReturnReceiptFailReason{SubsidyReturnReceiptFailReasonInsufficientBalance, SubsidyReturnReceiptFailReasonOther})
}

// canonical is s with prefix (added if it came without) when that is one of
// known, else "".
func canonical[T ~string](s T, prefix string, known []T) T {
	if c := T(prefix + strings.TrimPrefix(string(s), prefix)); slices.Contains(known, c) {
		return c
	}
	return ""
}

var (
	// ErrSubsidyFailed is matched by the error WaitSubsidyPayReceipt and
	// WaitSubsidyReturnReceipt return when the receipt ended in failure;
	// errors.As with *ReceiptFailedError gives the reason.
	ErrSubsidyFailed = errors.New("busifavor: subsidy receipt failed")
	// ErrInsufficientBalance is matched when a receipt failed because the
	// paying merchant's balance was short (INSUFFICIENT_BALANCE, in either
	// spelling): top up, then create a new receipt.
	ErrInsufficientBalance = errors.New("busifavor: insufficient balance for the subsidy")
	// ErrReceiptExists is matched by an *APIError from a receipt create
	// answering RESOURCE_ALREADY_EXISTS: the merchant number was used for a
	// different receipt.
	ErrReceiptExists = errors.New("busifavor: the merchant number names another receipt")
	// ErrReceiptNotFound is matched by an *APIError from a receipt read
	// answering RESOURCE_NOT_EXISTS, and by WaitSubsidyPayReceipt's error
	// when the payment was never listed within the wait.
	ErrReceiptNotFound = errors.New("busifavor: no such receipt")
	// ErrOutcomeUnknown is matched by an *OutcomeUnknownError: WeChat Pay
	// may or may not have moved the money. Reconcile as its text says; never
	// create the receipt again under a new merchant number.
	ErrOutcomeUnknown = errors.New("busifavor: the outcome of the subsidy receipt is unknown")
	// ErrUnknownReceiptStatus is matched by a *ReceiptStatusError: a receipt
	// read in a status this package does not know, which is never taken
	// for success.
	ErrUnknownReceiptStatus = errors.New("busifavor: the subsidy receipt has a status this package does not know")
)

// ReceiptFailedError is a receipt that ended in failure: a payment, with
// PayReason set, or a return, with ReturnReason set.
type ReceiptFailedError struct {
	// ReceiptID names the receipt by the merchant's number for it
	// (out_subsidy_no or out_subsidy_return_no).
	ReceiptID string
	// PayReason is a failed payment's fail_reason, as it came; empty for a
	// return.
	PayReason SubsidyPayReceiptFailReason
	// ReturnReason is a failed return's fail_reason, as it came; empty for
	// a payment.
	ReturnReason SubsidyReturnReceiptFailReason
}

// Error names the receipt and the reason.
func (e *ReceiptFailedError) Error() string {
	return fmt.Sprintf("busifavor: subsidy receipt %s failed: %s%s", e.ReceiptID, e.PayReason, e.ReturnReason)
}

// Is matches ErrSubsidyFailed, and ErrInsufficientBalance for a balance
// reason in either spelling.
func (e *ReceiptFailedError) Is(target error) bool {
	switch target {
	case ErrSubsidyFailed:
		return true
	case ErrInsufficientBalance:
		return e.PayReason.Canonical() == SubsidyPayReceiptFailReasonInsufficientBalance ||
			e.ReturnReason.Canonical() == SubsidyReturnReceiptFailReasonInsufficientBalance
	}
	return false
}

// OutcomeUnknownError is a subsidy create, or a wait for one, that ended
// without knowing whether WeChat Pay moved the money: the answer was lost, or
// came unreadable, and reading the receipt back did not settle it.
type OutcomeUnknownError struct {
	// Operation is the call: CreateSubsidyPayReceipt,
	// CreateSubsidyReturnReceipt or WaitSubsidyReturnReceipt (as
	// APIError.Operation names a method).
	Operation string
	// Number is the merchant's number for the receipt (out_subsidy_no or
	// out_subsidy_return_no).
	Number string
	// Reconcile says how to find out what happened.
	Reconcile string
	// Err is what left the outcome unknown.
	Err error
}

// Error says that the outcome is unknown, why, and how to reconcile it.
func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("busifavor: %s %s: outcome unknown (%v); %s; if you send it again, send the identical request with the same number, never a new number",
		e.Operation, e.Number, e.Err, e.Reconcile)
}

// Is matches ErrOutcomeUnknown.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// Unwrap gives what left the outcome unknown.
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// ReceiptStatusError is a receipt read in a status this package does not
// know, in neither spelling: a payment's (PayStatus) or a return's
// (ReturnStatus). It is never taken for success.
type ReceiptStatusError struct {
	// ReceiptID names the receipt by the merchant's number for it.
	ReceiptID string
	// PayStatus is a payment's status as it was read; empty for a return.
	PayStatus SubsidyPayReceiptStatus
	// ReturnStatus is a return's status as it was read; empty for a
	// payment.
	ReturnStatus SubsidyReturnReceiptStatus
}

// Error names the receipt and the status read.
func (e *ReceiptStatusError) Error() string {
	return fmt.Sprintf("busifavor: subsidy receipt %s reads status %q, which this package does not know: not taken for success; read it again later or ask WeChat Pay",
		e.ReceiptID, string(e.PayStatus)+string(e.ReturnStatus))
}

// Is matches ErrUnknownReceiptStatus.
func (e *ReceiptStatusError) Is(target error) bool { return target == ErrUnknownReceiptStatus }

// CreateSubsidyPayReceiptRequest pays a subsidy for a redeemed coupon
// (营销补差付款): money moves from the payer to the payee.
type CreateSubsidyPayReceiptRequest struct {
	// StockID is the coupon's stock, 1 to 20 bytes; NORMAL stocks only (the
	// pay page: 仅支持“满减券”).
	StockID string `json:"stock_id"`
	// CouponCode is the redeemed coupon, 1 to 128 bytes.
	CouponCode string `json:"coupon_code" log:"code"`
	// TransactionID is the WeChat Pay order the coupon was used on, 28 to 32
	// bytes.
	TransactionID string `json:"transaction_id"`
	// PayerMerchant pays, 1 to 32 bytes: the stock's creator or its owner.
	PayerMerchant string `json:"payer_merchant"`
	// PayeeMerchant receives, 1 to 32 bytes: the stock's owner or a brand
	// merchant of it.
	PayeeMerchant string `json:"payee_merchant"`
	// Amount is in 分: positive, at most the coupon's discount and at most
	// MaxSubsidyAmount (5000 元).
	Amount int64 `json:"amount"`
	// Description is the payment's note, 1 to 1024 bytes, returned as it
	// was.
	Description string `json:"description"`
	// OutSubsidyNo is the merchant's unique number for this payment, 1 to 128
	// bytes of letters, digits and | _ * -. Keep it with the order before
	// sending: it is how a payment whose answer was lost is found again.
	OutSubsidyNo string `json:"out_subsidy_no"`
}

// SubsidyPayReceipt is a subsidy payment.
type SubsidyPayReceipt struct {
	// SubsidyReceiptID is WeChat Pay's id for the payment, given once the
	// payment succeeded.
	SubsidyReceiptID string `json:"subsidy_receipt_id,omitempty"`
	// StockID, CouponCode and TransactionID are what the payment is for.
	StockID       string `json:"stock_id"`
	CouponCode    string `json:"coupon_code" log:"code"`
	TransactionID string `json:"transaction_id"`
	// PayerMerchant pays and PayeeMerchant receives.
	PayerMerchant string `json:"payer_merchant"`
	PayeeMerchant string `json:"payee_merchant"`
	// Amount is in 分.
	Amount int64 `json:"amount"`
	// Description is the payment's note.
	Description string `json:"description"`
	// Status is the payment's state; Status.Final says whether it settled.
	Status SubsidyPayReceiptStatus `json:"status" required:"page,models"`
	// FailReason says why a failed payment failed.
	FailReason SubsidyPayReceiptFailReason `json:"fail_reason,omitempty"`
	// SuccessTime is when the payment succeeded.
	SuccessTime time.Time `json:"success_time,omitzero"`
	// OutSubsidyNo is the merchant's number for the payment.
	OutSubsidyNo string `json:"out_subsidy_no" required:"page,models"`
	// CreateTime is when the receipt was created.
	CreateTime time.Time `json:"create_time,omitzero"`
}

// SubsidyPayReceiptResponse is WeChat Pay's answer with one payment receipt.
type SubsidyPayReceiptResponse struct {
	SubsidyPayReceipt
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// GetSubsidyPayReceiptRequest names a payment receipt.
type GetSubsidyPayReceiptRequest struct {
	// SubsidyReceiptID is WeChat Pay's id for the payment.
	SubsidyReceiptID string
}

// ListSubsidyPayReceiptsRequest selects the payments of one coupon.
type ListSubsidyPayReceiptsRequest struct {
	// StockID is the coupon's stock, 1 to 20 bytes.
	StockID string
	// CouponCode is the coupon, 1 to 128 bytes.
	CouponCode string `log:"code"`
	// OutSubsidyNo, when set, selects the payment with that number.
	OutSubsidyNo string
}

// ListSubsidyPayReceiptsResponse lists a coupon's payments.
type ListSubsidyPayReceiptsResponse struct {
	// PayReceiptList has the coupon's payments; empty when it had none.
	PayReceiptList []SubsidyPayReceipt `json:"pay_receipt_list,omitempty"`
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// CreateSubsidyReturnReceiptRequest returns (part of) a subsidy payment
// after a refund (营销补差回退): money moves back from the payee to the payer.
type CreateSubsidyReturnReceiptRequest struct {
	// StockID, CouponCode and TransactionID name the paid coupon (1 to 20,
	// 1 to 128 and 28 to 32 bytes).
	StockID       string `json:"stock_id"`
	CouponCode    string `json:"coupon_code" log:"code"`
	TransactionID string `json:"transaction_id"`
	// RefundID is the WeChat Pay refund, 28 to 32 bytes.
	RefundID string `json:"refund_id"`
	// PayerMerchant and PayeeMerchant are the payment's, unchanged: the
	// payer receives the money back.
	PayerMerchant string `json:"payer_merchant"`
	PayeeMerchant string `json:"payee_merchant"`
	// Amount is in 分: positive; all returns of a coupon together at most
	// its payment.
	Amount int64 `json:"amount"`
	// Description is the return's note, 1 to 1024 bytes.
	Description string `json:"description"`
	// OutSubsidyReturnNo is the merchant's unique number for this return, 1
	// to 128 bytes of letters, digits and | _ * -. Keep it with the refund
	// before sending, and send a lost return again only under it.
	OutSubsidyReturnNo string `json:"out_subsidy_return_no"`
}

// SubsidyReturnReceipt is a subsidy return.
type SubsidyReturnReceipt struct {
	// SubsidyReturnReceiptID is WeChat Pay's id for the return, given once
	// the return succeeded.
	SubsidyReturnReceiptID string `json:"subsidy_return_receipt_id,omitempty"`
	// StockID, CouponCode, TransactionID and RefundID are what it is for.
	StockID       string `json:"stock_id"`
	CouponCode    string `json:"coupon_code" log:"code"`
	TransactionID string `json:"transaction_id"`
	RefundID      string `json:"refund_id"`
	// PayerMerchant receives the money back from PayeeMerchant.
	PayerMerchant string `json:"payer_merchant"`
	PayeeMerchant string `json:"payee_merchant"`
	// Amount is in 分.
	Amount int64 `json:"amount"`
	// Description is the return's note.
	Description string `json:"description"`
	// Status is the return's state; Status.Final says whether it settled.
	Status SubsidyReturnReceiptStatus `json:"status" required:"page,models"`
	// FailReason says why a failed return failed.
	FailReason SubsidyReturnReceiptFailReason `json:"fail_reason,omitempty"`
	// ReturnDoneTime is when the return succeeded.
	ReturnDoneTime time.Time `json:"return_done_time,omitzero"`
	// SubsidyReceiptID is the payment returned.
	SubsidyReceiptID string `json:"subsidy_receipt_id"`
	// OutSubsidyReturnNo is the merchant's number for the return.
	OutSubsidyReturnNo string `json:"out_subsidy_return_no" required:"page,models"`
	// ReturnCreateTime is when the receipt was created.
	ReturnCreateTime time.Time `json:"return_create_time,omitzero"`
}

// SubsidyReturnReceiptResponse is WeChat Pay's answer with one return
// receipt.
type SubsidyReturnReceiptResponse struct {
	SubsidyReturnReceipt
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// GetSubsidyReturnReceiptRequest names a return receipt.
type GetSubsidyReturnReceiptRequest struct {
	// SubsidyReturnReceiptID is WeChat Pay's id for the return.
	SubsidyReturnReceiptID string
}

// CreateSubsidyPayReceipt pays a subsidy for a redeemed coupon (营销补差付
// 款). It moves money, so it is never simply repeated (see the package
// documentation, # Money): WeChat Pay does not document that a repeated
// out_subsidy_no returns the first receipt (the page leaves 是否支持幂等
// empty). When an attempt's answer is lost (no answer, or a 5xx), the
// payment is first looked up by ListSubsidyPayReceipts with OutSubsidyNo:
// found, it is the answer; not listed, the identical request is sent again,
// up to the RetryPolicy's MaxAttempts. A call that cannot settle it returns
// an *OutcomeUnknownError (ErrOutcomeUnknown) saying how to reconcile.
//
// A refusal (4xx) says that this attempt paid nothing, not that no earlier
// attempt under the same number did: the call cannot tell a first send from
// the fresh resend an *OutcomeUnknownError asks for. So a refusal that an
// earlier attempt could have caused (RESOURCE_ALREADY_EXISTS,
// INVALID_REQUEST, RULELIMIT and codes this package does not know: all but
// the request-form and caller codes, PARAM_ERROR, SIGN_ERROR, NO_AUTH,
// NOAUTH, APPID_MCHID_NOT_MATCH, MCH_NOT_EXISTS, USER_NOT_EXISTS,
// RESOURCE_NOT_EXISTS, FREQUENCY_LIMITED and RATELIMIT_EXCEEDED) is always
// followed by the read-back: the payment listed under OutSubsidyNo is the
// answer when it matches the request (order, amount and merchants), and
// anything else is an *OutcomeUnknownError that keeps the refusal (and
// matches ErrReceiptExists when the number is listed for another payment).
// The list page says a coupon's payments are listed (如果这张券发生过补差付
// 款,会有补差单据信息返回), so a number that stays unlisted was not paid. Any
// other refusal comes back as it is. The receipt may come back ACCEPTED;
// WaitSubsidyPayReceipt polls it to its end.
//
// WeChat Pay API: POST /v3/marketing/busifavor/subsidy/pay-receipts
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/subsidy/subsidy-pay.html
func (c *Client) CreateSubsidyPayReceipt(ctx context.Context, req CreateSubsidyPayReceiptRequest) (*SubsidyPayReceiptResponse, error) {
	out := &SubsidyPayReceiptResponse{}
	find := func(ctx context.Context) (bool, error) {
		r, resp, err := findPayReceipt(ctx, c, ListSubsidyPayReceiptsRequest{StockID: req.StockID, CouponCode: req.CouponCode, OutSubsidyNo: req.OutSubsidyNo})
		if err != nil || r == nil {
			return false, err
		}
		if r.TransactionID != req.TransactionID || r.Amount != req.Amount || r.PayerMerchant != req.PayerMerchant || r.PayeeMerchant != req.PayeeMerchant {
			return false, fmt.Errorf("%w: out_subsidy_no %s is listed with another order, amount or merchants", ErrReceiptExists, req.OutSubsidyNo)
		}
		out.SubsidyPayReceipt, out.Response = *r, resp
		return true, nil
	}
	err := c.createMoney(ctx, "CreateSubsidyPayReceipt", subsidyPath+"/pay-receipts", req, req.OutSubsidyNo, out, find,
		"read it with WaitSubsidyPayReceipt or ListSubsidyPayReceipts (stock_id, coupon_code, out_subsidy_no); WeChat Pay may list it only after a while")
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetSubsidyPayReceipt reads a payment receipt (查询营销补差付款单详情).
//
// WeChat Pay API: GET /v3/marketing/busifavor/subsidy/pay-receipts/{subsidy_receipt_id}
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/subsidy/pay-receipt-info.html
func (c *Client) GetSubsidyPayReceipt(ctx context.Context, req GetSubsidyPayReceiptRequest) (*SubsidyPayReceiptResponse, error) {
	out := &SubsidyPayReceiptResponse{}
	path := subsidyPath + "/pay-receipts/" + url.PathEscape(req.SubsidyReceiptID)
	if err := c.send(ctx, "GetSubsidyPayReceipt", req, http.MethodGet, path, nil, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}

// ListSubsidyPayReceipts lists a coupon's payment receipts (查询营销补差付款
// 单列表).
//
// WeChat Pay API: GET /v3/marketing/busifavor/subsidy/pay-receipts
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/subsidy/pay-receipt-list.html
func (c *Client) ListSubsidyPayReceipts(ctx context.Context, req ListSubsidyPayReceiptsRequest) (*ListSubsidyPayReceiptsResponse, error) {
	q := url.Values{"stock_id": {req.StockID}, "coupon_code": {req.CouponCode}}
	if req.OutSubsidyNo != "" {
		q.Set("out_subsidy_no", req.OutSubsidyNo)
	}
	out := &ListSubsidyPayReceiptsResponse{}
	if err := c.send(ctx, "ListSubsidyPayReceipts", req, http.MethodGet, subsidyPath+"/pay-receipts", q, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}

// CreateSubsidyReturnReceipt returns a subsidy payment, wholly or in part,
// after a refund (营销补差回退). It moves money, so, as for
// CreateSubsidyPayReceipt, it is never simply repeated: WeChat Pay does not
// document that a repeated out_subsidy_return_no returns the first receipt,
// and no endpoint reads a return by that number. When an attempt's answer is
// lost (no answer, or a 5xx), the payment's status is read with
// ListSubsidyPayReceipts: while it shows no return at all (SUCCESS), the
// identical request is sent again, up to the RetryPolicy's MaxAttempts; once
// it shows a return (RETURNING, PARTIAL_RETURN, FULL_RETURN), which may be
// this one, the call stops with an *OutcomeUnknownError saying how to
// reconcile. A refusal (4xx) says that this attempt returned nothing; one
// that an earlier attempt under the same number could have caused (the
// codes CreateSubsidyPayReceipt reads back for) is followed by the same read
// of the payment and, since no read can name a return by its number, always
// ends in an *OutcomeUnknownError that keeps the refusal. Any other refusal
// comes back as it is. The receipt may come back ACCEPTED;
// WaitSubsidyReturnReceipt polls it to its end.
//
// WeChat Pay API: POST /v3/marketing/busifavor/subsidy/return-receipts
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/subsidy/subsidy-return.html
func (c *Client) CreateSubsidyReturnReceipt(ctx context.Context, req CreateSubsidyReturnReceiptRequest) (*SubsidyReturnReceiptResponse, error) {
	out := &SubsidyReturnReceiptResponse{}
	find := func(ctx context.Context) (bool, error) {
		p, err := returnablePayment(ctx, c, req.StockID, req.CouponCode, req.TransactionID, "")
		if err == nil && p != nil && p.Status.Canonical() != SubsidyPayReceiptStatusSuccess {
			err = fmt.Errorf("the payment %s reads %s: the return may be this one", p.OutSubsidyNo, p.Status)
		}
		return false, err
	}
	err := c.createMoney(ctx, "CreateSubsidyReturnReceipt", subsidyPath+"/return-receipts", req, req.OutSubsidyReturnNo, out, find,
		"no endpoint reads a return by out_subsidy_return_no: the payment's status in ListSubsidyPayReceipts (RETURNING, PARTIAL_RETURN, FULL_RETURN) shows whether a return was made, and the merchant platform's bill names it")
	if err != nil {
		return nil, err
	}
	return out, nil
}

// createMoney sends a subsidy create, which moves money, and decodes its
// answer into out. An attempt is never simply repeated: after one whose
// outcome is unknown (no answer, a 5xx or SYSTEM_ERROR), it waits the retry
// policy's MaxBackoff and find reads whether the receipt exists (filling out
// when it does); only when it reports false is the identical request sent
// again, at most MaxAttempts in all. A refusal (4xx) is read back with find
// too, unless it is of a kind no earlier attempt can cause
// (mayBeEarlierAttempts) and no attempt of this call was lost: the call
// cannot tell a first send from the merchant's fresh resend after an
// *OutcomeUnknownError. Everything else that leaves WeChat Pay's action in
// doubt ends in an *OutcomeUnknownError carrying reconcile.
func (c *Client) createMoney(ctx context.Context, op, path string, req interface{ Validate() error }, number string,
	out any, find func(context.Context) (bool, error), reconcile string) error {
	if err := req.Validate(); err != nil {
		return err
	}
	ctx, oc := c.observe(ctx, op, http.MethodPost)
	err := c.createMoneyAttempts(ctx, op, path, req, number, out, find, reconcile)
	oc.end(err)
	return err
}

// createMoneyAttempts is createMoney once the request is valid.
func (c *Client) createMoneyAttempts(ctx context.Context, op, path string, req any, number string,
	out any, find func(context.Context) (bool, error), reconcile string) error {
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	unknown := func(err error) error {
		return &OutcomeUnknownError{Operation: op, Number: number, Reconcile: reconcile, Err: err}
	}
	var lost error // the previous attempt's error: its outcome is unknown
	for attempt := 1; ; attempt++ {
		a, err := c.do(ctx, op, http.MethodPost, path, nil, req)
		if err == nil {
			if err := decodeAnswer(a, out); err != nil {
				return unknown(err) // WeChat Pay took it, but its receipt cannot be read
			}
			return nil
		}
		var apiErr *APIError
		// A 4xx is a refusal (this attempt moved nothing), except
		// SYSTEM_ERROR, which the error table answers with
		// 请使用相同参数稍后重新调用: like a lost answer.
		refused := errors.As(err, &apiErr) && apiErr.StatusCode < 500 && apiErr.Code != ErrorCodeSystemError || errors.Is(err, errNotSent)
		switch {
		case refused && lost == nil && (apiErr == nil || !mayBeEarlierAttempts(apiErr.Code)):
			return err
		case refused:
			// The refusal may be an earlier attempt's doing (its number or
			// the coupon's amount already taken), this call's or, for a
			// fresh resend after an *OutcomeUnknownError, a former call's:
			// read back.
			found, ferr := find(ctx)
			if ferr == nil && found {
				return nil
			}
			return unknown(errors.Join(lost, err, ferr))
		case apiErr == nil && !errors.Is(err, ErrTransport), ctx.Err() != nil, attempt >= c.cfg.retry.MaxAttempts:
			// A signature that does not verify, a stopped context, or no
			// attempts left: nothing more to learn here.
			return unknown(err)
		}
		lost = err
		// Give a create still running at WeChat Pay time to show before
		// reading: MaxBackoff (5 s by default), at least the backoff.
		if err := sleep(ctx, max(c.cfg.retry.backoff(attempt), c.cfg.retry.MaxBackoff)); err != nil {
			return unknown(errors.Join(lost, err))
		}
		found, ferr := find(ctx)
		if ferr != nil {
			return unknown(errors.Join(lost, ferr))
		}
		if found {
			return nil
		}
	}
}

// mayBeEarlierAttempts reports whether a money create's refusal with code
// may be the doing of an earlier attempt under the same number, so that the
// create is read back before the refusal is believed. Only the codes that
// speak of the request's own form or of the caller are not: PARAM_ERROR
// (参数错误), SIGN_ERROR, NO_AUTH and NOAUTH (无权限),
// APPID_MCHID_NOT_MATCH, MCH_NOT_EXISTS, USER_NOT_EXISTS, RESOURCE_NOT_EXISTS
// (the stock, coupon or order named does not exist), FREQUENCY_LIMITED and
// RATELIMIT_EXCEEDED (nothing was done this time). Every other code is read
// back: RESOURCE_ALREADY_EXISTS (the busifavor error table: 查看
// out_request_no 字段是否重复使用), INVALID_REQUEST and RULELIMIT (or
// RULE_LIMIT), which the caps the pages state can raise once an earlier
// attempt has used the coupon's amount up (pay: 单笔订单补差金额不得超过券的
// 优惠金额; return: 单个券Code回退总金额不能超过补差金额), and any code this
// package does not know.
func mayBeEarlierAttempts(code ErrorCode) bool {
	switch code {
	case ErrorCodeParamError, ErrorCodeSignError, ErrorCodeNoAuth, ErrorCodeNoAuthGeneral, ErrorCodeAppIDMchIDNotMatch, ErrorCodeMchNotExists,
		ErrorCodeUserNotExists, ErrorCodeResourceNotExists, ErrorCodeFrequencyLimited, ErrorCodeRateLimitExceeded:
		return false
	}
	return true
}

// findPayReceipt lists the payments req names and returns the one with
// req.OutSubsidyNo, or nil when it is not listed, with the list's Response.
func findPayReceipt(ctx context.Context, c SubsidyPayReceiptLister, req ListSubsidyPayReceiptsRequest) (*SubsidyPayReceipt, Response, error) {
	list, err := c.ListSubsidyPayReceipts(ctx, req)
	if err != nil {
		return nil, Response{}, err
	}
	if list == nil {
		return nil, Response{}, errNilAnswer("ListSubsidyPayReceipts")
	}
	for i := range list.PayReceiptList {
		if r := &list.PayReceiptList[i]; r.OutSubsidyNo == req.OutSubsidyNo {
			return r, list.Response, nil
		}
	}
	return nil, list.Response, nil
}

// errNilAnswer is the error of a Wait… helper whose interface's method
// (a fake of it) returned neither a response nor an error.
func errNilAnswer(method string) error {
	return fmt.Errorf("busifavor: %s returned no response and no error; nothing is taken for success", method)
}

// returnablePayment returns the paid payment of the coupon on the order
// transactionID (and with id subsidyReceiptID when it is set) that a return
// is made against, or nil when none is listed. Of several, one in a return
// state is preferred. A payment in a status this package does not know is a
// *ReceiptStatusError: it could be a return under way.
func returnablePayment(ctx context.Context, c SubsidyPayReceiptLister, stockID, couponCode, transactionID, subsidyReceiptID string) (*SubsidyPayReceipt, error) {
	list, err := c.ListSubsidyPayReceipts(ctx, ListSubsidyPayReceiptsRequest{StockID: stockID, CouponCode: couponCode})
	if err != nil {
		return nil, err
	}
	if list == nil {
		return nil, errNilAnswer("ListSubsidyPayReceipts")
	}
	var found *SubsidyPayReceipt
	for i := range list.PayReceiptList {
		p := &list.PayReceiptList[i]
		if p.TransactionID != transactionID || subsidyReceiptID != "" && p.SubsidyReceiptID != subsidyReceiptID {
			continue
		}
		if p.Status.Canonical() == "" {
			// It may be a return in a state this package does not know:
			// never read as "no return".
			return nil, &ReceiptStatusError{ReceiptID: p.OutSubsidyNo, PayStatus: p.Status}
		}
		if p.Status.Paid() && (found == nil || p.Status.Canonical() != SubsidyPayReceiptStatusSuccess) {
			found = p
		}
	}
	return found, nil
}

// GetSubsidyReturnReceipt reads a return receipt (查询营销补差回退单详情).
//
// WeChat Pay API: GET /v3/marketing/busifavor/subsidy/return-receipts/{subsidy_return_receipt_id}
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/subsidy/return-receipt-info.html
func (c *Client) GetSubsidyReturnReceipt(ctx context.Context, req GetSubsidyReturnReceiptRequest) (*SubsidyReturnReceiptResponse, error) {
	out := &SubsidyReturnReceiptResponse{}
	path := subsidyPath + "/return-receipts/" + url.PathEscape(req.SubsidyReturnReceiptID)
	if err := c.send(ctx, "GetSubsidyReturnReceipt", req, http.MethodGet, path, nil, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}

// PollPolicy says how patiently WaitSubsidyPayReceipt and
// WaitSubsidyReturnReceipt poll: the first wait is InitialBackoff, doubling
// up to MaxBackoff. The context bounds the whole wait. As in RetryPolicy, a
// zero field takes DefaultPollPolicy()'s value, so PollPolicy{} is the
// default; a negative backoff, or an InitialBackoff above MaxBackoff once
// the defaults are in, is refused.
type PollPolicy struct {
	// InitialBackoff is the wait before the second read. 0 takes the
	// default (1 s).
	InitialBackoff time.Duration
	// MaxBackoff caps the wait between reads. 0 takes the default (30 s).
	MaxBackoff time.Duration
	// Pending, when set, is called with each pending status read, for
	// progress logs.
	Pending func(status ReceiptStatus)
}

// ReceiptStatus is what a Wait… helper read that keeps it waiting: the
// receipt's own status as it came (a SubsidyPayReceiptStatus or
// SubsidyReturnReceiptStatus, converted), or one of the constants below for
// a receipt it could not read yet.
type ReceiptStatus string

// What a Wait… helper reports to PollPolicy.Pending besides a receipt's own
// status.
const (
	// ReceiptStatusNotListed: the payment is not listed yet (the list may lag
	// behind the create).
	ReceiptStatusNotListed ReceiptStatus = "NOT_LISTED"
	// ReceiptStatusPaymentReturning: a return without an id, whose payment
	// shows a return in progress (RETURNING).
	ReceiptStatusPaymentReturning ReceiptStatus = "PAYMENT_RETURNING"
	// ReceiptStatusPaymentShowsNoReturn: a return without an id, whose
	// payment shows no return yet.
	ReceiptStatusPaymentShowsNoReturn ReceiptStatus = "PAYMENT_SHOWS_NO_RETURN"
)

// DefaultPollPolicy polls after 1 s, then 2 s, 4 s, … up to every 30 s. It is
// a function, so that no importer can change what another gets.
func DefaultPollPolicy() PollPolicy {
	return PollPolicy{InitialBackoff: time.Second, MaxBackoff: 30 * time.Second}
}

// withDefaults fills p's zero backoffs from DefaultPollPolicy and checks
// them.
func (p PollPolicy) withDefaults() (PollPolicy, error) {
	d := DefaultPollPolicy()
	var err error
	p.InitialBackoff, p.MaxBackoff, err = backoffs(p.InitialBackoff, p.MaxBackoff, d.InitialBackoff, d.MaxBackoff)
	return p, err
}

// check adds p's broken rules to v, under the field name poll.
func (p PollPolicy) check(v *validator) {
	if _, err := p.withDefaults(); err != nil {
		v.add("poll", "%v", err)
	}
}

// SubsidyPayReceiptLister lists subsidy payments: what WaitSubsidyPayReceipt
// needs. *Client implements it; so can a fake of yours.
type SubsidyPayReceiptLister interface {
	ListSubsidyPayReceipts(ctx context.Context, req ListSubsidyPayReceiptsRequest) (*ListSubsidyPayReceiptsResponse, error)
}

// SubsidyReturnReceiptReader reads subsidy returns and lists payments: what
// WaitSubsidyReturnReceipt needs. *Client implements it; so can a fake of
// yours.
type SubsidyReturnReceiptReader interface {
	SubsidyPayReceiptLister
	GetSubsidyReturnReceipt(ctx context.Context, req GetSubsidyReturnReceiptRequest) (*SubsidyReturnReceiptResponse, error)
}

var (
	_ SubsidyPayReceiptLister    = (*Client)(nil)
	_ SubsidyReturnReceiptReader = (*Client)(nil)
)

// WaitSubsidyPayReceiptRequest names the payment WaitSubsidyPayReceipt
// waits for, and how patiently.
type WaitSubsidyPayReceiptRequest struct {
	// StockID is the coupon's stock, 1 to 20 bytes.
	StockID string
	// CouponCode is the coupon, 1 to 128 bytes.
	CouponCode string `log:"code"`
	// OutSubsidyNo is the merchant's number for the payment: required.
	OutSubsidyNo string
	// Poll says how patiently to poll; the zero value is DefaultPollPolicy().
	Poll PollPolicy
}

// Validate checks the request and returns a *ValidationError naming every
// broken rule, or nil.
func (r WaitSubsidyPayReceiptRequest) Validate() error {
	var v validator
	v.stockID(r.StockID)
	v.couponCodeUpTo("coupon_code", r.CouponCode, subsidyCouponCodeMaxLen)
	if r.OutSubsidyNo == "" {
		v.add("out_subsidy_no", "is required: it names the payment to wait for")
	} else {
		v.merchantNo("out_subsidy_no", r.OutSubsidyNo)
	}
	r.Poll.check(&v)
	return v.err()
}

// WaitSubsidyReturnReceiptRequest names the return WaitSubsidyReturnReceipt
// waits for, and how patiently.
type WaitSubsidyReturnReceiptRequest struct {
	// Created is the receipt CreateSubsidyReturnReceipt answered with (its
	// response's SubsidyReturnReceipt): required.
	Created *SubsidyReturnReceipt
	// Poll says how patiently to poll; the zero value is DefaultPollPolicy().
	Poll PollPolicy
}

// Validate checks the request and returns a *ValidationError naming every
// broken rule, or nil.
func (r WaitSubsidyReturnReceiptRequest) Validate() error {
	var v validator
	if r.Created == nil {
		v.add("created", "is required: pass the receipt CreateSubsidyReturnReceipt answered with")
	}
	r.Poll.check(&v)
	return v.err()
}

// WaitSubsidyPayReceipt reads the payment req names (its stock, coupon and
// OutSubsidyNo, which is required here) through c's ListSubsidyPayReceipts
// until it has settled, waiting between reads as req.Poll says, and returns
// it; it only reads, never creating anything. The list finds a payment
// before WeChat Pay has given it an id. A payment not listed yet is waited
// for too (the list may lag behind the create); if it never shows within
// ctx, the error matches ErrReceiptNotFound and the context's error.
//
// It returns the receipt with a nil error only when the payment was paid
// (Status.Paid: SUCCESS, or a return state after it). A failed payment
// returns the receipt and a *ReceiptFailedError (ErrSubsidyFailed;
// ErrInsufficientBalance for a short balance); a status this package does
// not know returns the receipt and a *ReceiptStatusError. A read's retryable
// error is retried by the client; any other error, and the context's end,
// stop the wait (with the last receipt read, if any). A request Validate
// refuses is a *ValidationError, and nothing is read. The receipt's
// Response is that of the list read it came from.
//
// It is a function over the one method it calls, so that a fake of
// ListSubsidyPayReceipts can drive it; pass a *Client.
func WaitSubsidyPayReceipt(ctx context.Context, c SubsidyPayReceiptLister, req WaitSubsidyPayReceiptRequest) (*SubsidyPayReceiptResponse, error) {
	if c == nil {
		return nil, errors.New("busifavor: WaitSubsidyPayReceipt: nil SubsidyPayReceiptLister; pass a *Client")
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	list := ListSubsidyPayReceiptsRequest{StockID: req.StockID, CouponCode: req.CouponCode, OutSubsidyNo: req.OutSubsidyNo}
	var last *SubsidyPayReceiptResponse // the latest receipt listed, kept through failed reads
	r, err := poll(ctx, req.Poll, func() (*SubsidyPayReceiptResponse, ReceiptStatus, error) {
		found, resp, err := findPayReceipt(ctx, c, list)
		switch {
		case err != nil:
			return last, "", err
		case found == nil && last == nil:
			return nil, ReceiptStatusNotListed, nil
		case found == nil:
			return last, ReceiptStatusNotListed, nil // listed before: the list lags
		}
		r := &SubsidyPayReceiptResponse{SubsidyPayReceipt: *found, Response: resp}
		last = r
		switch {
		case r.Status.Pending():
			return r, ReceiptStatus(r.Status), nil
		case r.Status.Failed():
			return r, "", &ReceiptFailedError{ReceiptID: r.OutSubsidyNo, PayReason: r.FailReason}
		case !r.Status.Paid():
			return r, "", &ReceiptStatusError{ReceiptID: r.OutSubsidyNo, PayStatus: r.Status}
		}
		return r, "", nil
	})
	if last == nil && errors.As(err, new(*contextError)) {
		err = fmt.Errorf("%w: coupon's payment %s was not listed within the wait: %w", ErrReceiptNotFound, req.OutSubsidyNo, err)
	}
	return r, err
}

// WaitSubsidyReturnReceipt waits for the return that
// CreateSubsidyReturnReceipt answered with (req.Created) to settle, reading
// it through c and waiting between reads as req.Poll says; it only reads,
// never sending the create again.
//
// A return WeChat Pay has given an id (the pages give one once it
// succeeded) is read with GetSubsidyReturnReceipt. One without an id cannot
// be read at all, so its payment is read instead, with
// ListSubsidyPayReceipts, until the payment no longer shows a return in
// progress (RETURNING); as the payment's status cannot say which return
// settled, nor how, the wait then ends with an *OutcomeUnknownError that
// carries the payment's status: reconcile with the merchant platform's bill.
// A payment that shows no return at all for 8 reads in a row (the return may
// have failed without an id) ends the wait the same way.
//
// It returns the receipt with a nil error only when the return succeeded
// (RETURN_RECEIPT_SUCCESS, in either spelling). A failed return gives a
// *ReceiptFailedError, a status this package does not know a
// *ReceiptStatusError; the context's end stops the wait. A request Validate
// refuses is a *ValidationError, and nothing is read. The receipt's
// Response is that of the GetSubsidyReturnReceipt it came from, zero when
// the created receipt was not read again.
//
// It is a function over the two methods it calls, so that a fake of them can
// drive it; pass a *Client.
func WaitSubsidyReturnReceipt(ctx context.Context, c SubsidyReturnReceiptReader, req WaitSubsidyReturnReceiptRequest) (*SubsidyReturnReceiptResponse, error) {
	if c == nil {
		return nil, errors.New("busifavor: WaitSubsidyReturnReceipt: nil SubsidyReturnReceiptReader; pass a *Client")
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	last, first, quiet := &SubsidyReturnReceiptResponse{SubsidyReturnReceipt: *req.Created}, true, 0
	return poll(ctx, req.Poll, func() (*SubsidyReturnReceiptResponse, ReceiptStatus, error) {
		r := last
		switch {
		case first && !r.Status.Pending():
			// Settled, or unknown, as created: judge it below.
		case r.SubsidyReturnReceiptID != "":
			got, err := c.GetSubsidyReturnReceipt(ctx, GetSubsidyReturnReceiptRequest{SubsidyReturnReceiptID: r.SubsidyReturnReceiptID})
			if err != nil {
				return last, "", err
			}
			if got == nil {
				return last, "", errNilAnswer("GetSubsidyReturnReceipt")
			}
			r = got
		default:
			pay, err := returnablePayment(ctx, c, r.StockID, r.CouponCode, r.TransactionID, r.SubsidyReceiptID)
			switch {
			case err != nil:
				return last, "", err
			case pay != nil && pay.Status.Canonical() == SubsidyPayReceiptStatusReturning:
				quiet = 0 // a return is in progress
				return last, ReceiptStatusPaymentReturning, nil
			case pay == nil || pay.Status.Canonical() == SubsidyPayReceiptStatusSuccess:
				// No return shows: not yet, or it failed without an id.
				if quiet++; quiet < maxQuietReads {
					return last, ReceiptStatusPaymentShowsNoReturn, nil
				}
				return last, "", &OutcomeUnknownError{Operation: "WaitSubsidyReturnReceipt", Number: r.OutSubsidyReturnNo,
					Reconcile: "the merchant platform's bill says whether it was made; it may have failed",
					Err:       fmt.Errorf("WeChat Pay gave the return no id, and its payment showed no return in %d reads", quiet)}
			}
			return last, "", &OutcomeUnknownError{Operation: "WaitSubsidyReturnReceipt", Number: r.OutSubsidyReturnNo,
				Reconcile: "the merchant platform's bill names the return and how it ended",
				Err:       fmt.Errorf("WeChat Pay gave the return no id, so it cannot be read; its payment %s now reads %s", pay.OutSubsidyNo, pay.Status)}
		}
		first = false
		last = r
		switch {
		case r.Status.Pending():
			return r, ReceiptStatus(r.Status), nil
		case r.Status.Failed():
			return r, "", &ReceiptFailedError{ReceiptID: r.OutSubsidyReturnNo, ReturnReason: r.FailReason}
		case !r.Status.Returned():
			return r, "", &ReceiptStatusError{ReceiptID: r.OutSubsidyReturnNo, ReturnStatus: r.Status}
		}
		return r, "", nil
	})
}

// maxQuietReads bounds how often WaitSubsidyReturnReceipt reads a payment
// that shows no return for a return without an id: a return that failed
// before WeChat Pay gave it an id leaves no other trace.
const maxQuietReads = 8

// poll calls read until it reports no pending status (an empty one), waiting
// as p says (p is checked by the request's Validate), and returns its last
// receipt and error; when ctx ends first, the last receipt read and a
// *contextError.
func poll[T any](ctx context.Context, p PollPolicy, read func() (r T, pending ReceiptStatus, err error)) (T, error) {
	p, _ = p.withDefaults()
	wait := p.InitialBackoff
	for {
		r, pending, err := read()
		if err != nil || pending == "" {
			return r, err
		}
		if p.Pending != nil {
			p.Pending(pending)
		}
		if err := sleep(ctx, wait); err != nil {
			return r, err
		}
		wait = min(2*wait, p.MaxBackoff)
	}
}

// MaxSubsidyAmount is the most one subsidy payment may be: 5000 元, in 分
// (pages: 最高补差金额为5000元).
const maxSubsidyAmount = 500_000

// Subsidy limits, in bytes, from the subsidy pages (营销补差付款, 营销补差回退
// and the three reads, which agree).
const (
	subsidyCouponCodeMaxLen  = 128  // coupon_code string[1,128]
	subsidyDescriptionMaxLen = 1024 // description string[1,1024]
	subsidyMerchantMaxLen    = 32   // payer_merchant, payee_merchant string[1,32]
	wechatPayIDMinLen        = 28   // transaction_id, refund_id, subsidy_receipt_id, subsidy_return_receipt_id string[28,32]
	wechatPayIDMaxLen        = 32
)

// subsidyCommon checks the fields a payment and a return share.
func (v *validator) subsidyCommon(stockID, couponCode, transactionID, payer, payee string, amount int64, description string) {
	v.stockID(stockID)
	v.couponCodeUpTo("coupon_code", couponCode, subsidyCouponCodeMaxLen)
	v.sized("transaction_id", transactionID, wechatPayIDMinLen, wechatPayIDMaxLen)
	v.identifier("payer_merchant", payer, subsidyMerchantMaxLen)
	v.identifier("payee_merchant", payee, subsidyMerchantMaxLen)
	v.between("amount", amount, 1, maxSubsidyAmount)
	v.text("description", description, true, 0)
	v.bytesAtMost("description", description, subsidyDescriptionMaxLen)
}

// Validate checks the request and returns a *ValidationError naming every
// broken rule, or nil. That the amount is at most the coupon's discount is
// WeChat Pay's check.
func (r CreateSubsidyPayReceiptRequest) Validate() error {
	var v validator
	v.subsidyCommon(r.StockID, r.CouponCode, r.TransactionID, r.PayerMerchant, r.PayeeMerchant, r.Amount, r.Description)
	v.merchantNo("out_subsidy_no", r.OutSubsidyNo)
	return v.err()
}

// Validate checks the request and returns a *ValidationError naming every
// broken rule, or nil. That the returns stay within the payment is WeChat
// Pay's check.
func (r CreateSubsidyReturnReceiptRequest) Validate() error {
	var v validator
	v.subsidyCommon(r.StockID, r.CouponCode, r.TransactionID, r.PayerMerchant, r.PayeeMerchant, r.Amount, r.Description)
	v.sized("refund_id", r.RefundID, wechatPayIDMinLen, wechatPayIDMaxLen)
	v.merchantNo("out_subsidy_return_no", r.OutSubsidyReturnNo)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r GetSubsidyPayReceiptRequest) Validate() error {
	var v validator
	v.sized("subsidy_receipt_id", r.SubsidyReceiptID, wechatPayIDMinLen, wechatPayIDMaxLen)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r GetSubsidyReturnReceiptRequest) Validate() error {
	var v validator
	v.sized("subsidy_return_receipt_id", r.SubsidyReturnReceiptID, wechatPayIDMinLen, wechatPayIDMaxLen)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r ListSubsidyPayReceiptsRequest) Validate() error {
	var v validator
	v.stockID(r.StockID)
	v.couponCodeUpTo("coupon_code", r.CouponCode, subsidyCouponCodeMaxLen)
	if r.OutSubsidyNo != "" {
		v.merchantNo("out_subsidy_no", r.OutSubsidyNo)
	}
	return v.err()
}

// fmt and slog print these types with personal data and coupon codes
// masked (see privacy.go); json.Marshal is unchanged.

// Format prints r as fmt does, openids and coupon codes masked.
func (r CreateSubsidyPayReceiptRequest) Format(f fmt.State, verb rune) {
	printMasked(f, verb, masked(r))
}

// LogValue makes slog log r as Format prints it.
func (r CreateSubsidyPayReceiptRequest) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r SubsidyPayReceipt) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r SubsidyPayReceipt) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r SubsidyPayReceiptResponse) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r SubsidyPayReceiptResponse) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r ListSubsidyPayReceiptsRequest) Format(f fmt.State, verb rune) {
	printMasked(f, verb, masked(r))
}

// LogValue makes slog log r as Format prints it.
func (r ListSubsidyPayReceiptsRequest) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r ListSubsidyPayReceiptsResponse) Format(f fmt.State, verb rune) {
	printMasked(f, verb, masked(r))
}

// LogValue makes slog log r as Format prints it.
func (r ListSubsidyPayReceiptsResponse) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r WaitSubsidyPayReceiptRequest) Format(f fmt.State, verb rune) {
	printMasked(f, verb, masked(r))
}

// LogValue makes slog log r as Format prints it.
func (r WaitSubsidyPayReceiptRequest) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r WaitSubsidyReturnReceiptRequest) Format(f fmt.State, verb rune) {
	printMasked(f, verb, masked(r))
}

// LogValue makes slog log r as Format prints it.
func (r WaitSubsidyReturnReceiptRequest) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r CreateSubsidyReturnReceiptRequest) Format(f fmt.State, verb rune) {
	printMasked(f, verb, masked(r))
}

// LogValue makes slog log r as Format prints it.
func (r CreateSubsidyReturnReceiptRequest) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r SubsidyReturnReceipt) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r SubsidyReturnReceipt) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r SubsidyReturnReceiptResponse) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r SubsidyReturnReceiptResponse) LogValue() slog.Value { return logValue(masked(r)) }
