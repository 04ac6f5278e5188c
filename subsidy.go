package busifavor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// subsidyPath holds the subsidy receipts (营销补差).
const subsidyPath = "/v3/marketing/busifavor/subsidy"

// SubsidyPayReceiptStatus is a subsidy payment's state (补差付款单据状态).
// Values newer than this package are kept as they came.
type SubsidyPayReceiptStatus string

// The documented payment states.
const (
	PayReceiptUnknown       SubsidyPayReceiptStatus = "PAY_RECEIPT_UNKNOWN"        // not known yet (未知)
	PayReceiptAccepted      SubsidyPayReceiptStatus = "PAY_RECEIPT_ACCEPTED"       // accepted, in progress (已受理)
	PayReceiptSuccess       SubsidyPayReceiptStatus = "PAY_RECEIPT_SUCCESS"        // paid (补差付款成功)
	PayReceiptFail          SubsidyPayReceiptStatus = "PAY_RECEIPT_FAIL"           // failed; FailReason says why
	PayReceiptReturning     SubsidyPayReceiptStatus = "PAY_RECEIPT_RETURNING"      // paid, a return in progress
	PayReceiptPartialReturn SubsidyPayReceiptStatus = "PAY_RECEIPT_PARTIAL_RETURN" // paid, partly returned
	PayReceiptFullReturn    SubsidyPayReceiptStatus = "PAY_RECEIPT_FULL_RETURN"    // paid, wholly returned
)

// Final reports whether the payment has settled: anything but UNKNOWN and
// ACCEPTED. A state newer than this package counts as final, so that a
// poller returns it instead of waiting for ever.
func (s SubsidyPayReceiptStatus) Final() bool {
	return s != PayReceiptUnknown && s != PayReceiptAccepted && s != ""
}

// SubsidyPayReceiptFailReason says why a payment failed.
type SubsidyPayReceiptFailReason string

// The documented payment failure reasons.
const (
	PayFailInsufficientBalance SubsidyPayReceiptFailReason = "PAY_RECEIPT_INSUFFICIENT_BALANCE"        // the payer's balance is short (余额不足)
	PayFailNotIncomeSplitOrder SubsidyPayReceiptFailReason = "PAY_RECEIPT_NOT_INCOMESPLIT_ORDER"       // the order is not a profit-sharing order
	PayFailExceedAmountQuota   SubsidyPayReceiptFailReason = "PAY_RECEIPT_EXCEED_SUBSIDY_AMOUNT_QUOTA" // over the subsidy amount quota
	PayFailExceedCountQuota    SubsidyPayReceiptFailReason = "PAY_RECEIPT_EXCEED_SUBSIDY_COUNT_QUOTA"  // over the subsidy count quota
	PayFailOther               SubsidyPayReceiptFailReason = "PAY_RECEIPT_OTHER"                       // another reason
)

// SubsidyReturnReceiptStatus is a subsidy return's state. Values newer than
// this package are kept as they came.
type SubsidyReturnReceiptStatus string

// The documented return states.
const (
	ReturnReceiptUnknown  SubsidyReturnReceiptStatus = "RETURN_RECEIPT_UNKNOWN"
	ReturnReceiptAccepted SubsidyReturnReceiptStatus = "RETURN_RECEIPT_ACCEPTED"
	ReturnReceiptSuccess  SubsidyReturnReceiptStatus = "RETURN_RECEIPT_SUCCESS"
	ReturnReceiptFail     SubsidyReturnReceiptStatus = "RETURN_RECEIPT_FAIL"
)

// Final reports whether the return has settled: anything but UNKNOWN and
// ACCEPTED (newer states count as final).
func (s SubsidyReturnReceiptStatus) Final() bool {
	return s != ReturnReceiptUnknown && s != ReturnReceiptAccepted && s != ""
}

// SubsidyReturnReceiptFailReason says why a return failed.
type SubsidyReturnReceiptFailReason string

// The documented return failure reasons.
const (
	ReturnFailInsufficientBalance SubsidyReturnReceiptFailReason = "RETURN_RECEIPT_INSUFFICIENT_BALANCE" // the payee's balance is short
	ReturnFailOther               SubsidyReturnReceiptFailReason = "RETURN_RECEIPT_OTHER"                // another reason
)

var (
	// ErrSubsidyFailed is matched by the error WaitSubsidyPayReceipt and
	// WaitSubsidyReturnReceipt return when the receipt ended in failure;
	// errors.As with *ReceiptFailedError gives the reason.
	ErrSubsidyFailed = errors.New("busifavor: subsidy receipt failed")
	// ErrInsufficientBalance is matched when a receipt failed because the
	// paying merchant's balance was short (PAY_RECEIPT_INSUFFICIENT_BALANCE,
	// RETURN_RECEIPT_INSUFFICIENT_BALANCE): top up, then create a new receipt.
	ErrInsufficientBalance = errors.New("busifavor: insufficient balance for the subsidy")
	// ErrReceiptExists is matched by an *APIError from a receipt create
	// answering RESOURCE_ALREADY_EXISTS: the merchant number was used for a
	// different receipt.
	ErrReceiptExists = errors.New("busifavor: the merchant number names another receipt")
	// ErrReceiptNotFound is matched by an *APIError from a receipt read
	// answering RESOURCE_NOT_EXISTS.
	ErrReceiptNotFound = errors.New("busifavor: no such receipt")
)

// ReceiptFailedError is a receipt that ended in failure.
type ReceiptFailedError struct {
	// ReceiptID names the receipt by the merchant's number for it
	// (out_subsidy_no or out_subsidy_return_no).
	ReceiptID string
	// Reason is WeChat Pay's fail_reason, as it came.
	Reason string
}

// Error names the receipt and the reason.
func (e *ReceiptFailedError) Error() string {
	return fmt.Sprintf("busifavor: subsidy receipt %s failed: %s", e.ReceiptID, e.Reason)
}

// Is matches ErrSubsidyFailed, and ErrInsufficientBalance for a balance
// reason.
func (e *ReceiptFailedError) Is(target error) bool {
	switch target {
	case ErrSubsidyFailed:
		return true
	case ErrInsufficientBalance:
		return e.Reason == string(PayFailInsufficientBalance) || e.Reason == string(ReturnFailInsufficientBalance)
	}
	return false
}

// CreateSubsidyPayReceiptRequest pays a subsidy for a redeemed coupon
// (营销补差付款): money moves from the payer to the payee.
type CreateSubsidyPayReceiptRequest struct {
	// StockID is the coupon's stock, 1 to 20 bytes; NORMAL and DISCOUNT
	// stocks only.
	StockID string `json:"stock_id"`
	// CouponCode is the redeemed coupon, 1 to 32 bytes.
	CouponCode string `json:"coupon_code"`
	// TransactionID is the WeChat Pay order the coupon was used on.
	TransactionID string `json:"transaction_id"`
	// PayerMerchant pays: the stock's creator or its owner.
	PayerMerchant string `json:"payer_merchant"`
	// PayeeMerchant receives: the stock's owner or a brand merchant of it.
	PayeeMerchant string `json:"payee_merchant"`
	// Amount is in 分: positive, at most the coupon's discount and at most
	// MaxSubsidyAmount (5000 元).
	Amount int64 `json:"amount"`
	// Description is the payment's note, returned as it was.
	Description string `json:"description"`
	// OutSubsidyNo is the merchant's unique number for this payment; letters,
	// digits and | _ * - only. It makes the create safe to retry: one payment
	// per number.
	OutSubsidyNo string `json:"out_subsidy_no"`
}

// SubsidyPayReceipt is a subsidy payment.
type SubsidyPayReceipt struct {
	// SubsidyReceiptID is WeChat Pay's id for the payment, given once the
	// payment succeeded.
	SubsidyReceiptID string `json:"subsidy_receipt_id,omitempty"`
	// StockID, CouponCode and TransactionID are what the payment is for.
	StockID       string `json:"stock_id"`
	CouponCode    string `json:"coupon_code"`
	TransactionID string `json:"transaction_id"`
	// PayerMerchant pays and PayeeMerchant receives.
	PayerMerchant string `json:"payer_merchant"`
	PayeeMerchant string `json:"payee_merchant"`
	// Amount is in 分.
	Amount int64 `json:"amount"`
	// Description is the payment's note.
	Description string `json:"description"`
	// Status is the payment's state; Status.Final says whether it settled.
	Status SubsidyPayReceiptStatus `json:"status"`
	// FailReason says why a failed payment failed.
	FailReason SubsidyPayReceiptFailReason `json:"fail_reason,omitempty"`
	// SuccessTime is when the payment succeeded.
	SuccessTime time.Time `json:"success_time,omitzero"`
	// OutSubsidyNo is the merchant's number for the payment.
	OutSubsidyNo string `json:"out_subsidy_no"`
	// CreateTime is when the receipt was created.
	CreateTime time.Time `json:"create_time,omitzero"`
}

// UnmarshalJSON reads the receipt's times in any shape ParseTime accepts.
func (r *SubsidyPayReceipt) UnmarshalJSON(b []byte) error {
	type plain SubsidyPayReceipt
	w := struct {
		*plain
		SuccessTime flexTime `json:"success_time"`
		CreateTime  flexTime `json:"create_time"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	r.SuccessTime, r.CreateTime = time.Time(w.SuccessTime), time.Time(w.CreateTime)
	return nil
}

// missing does not ask for subsidy_receipt_id: WeChat Pay gives it only
// once the payment succeeded.
func (r *SubsidyPayReceipt) missing() []string {
	return missingOf("out_subsidy_no", r.OutSubsidyNo, "status", string(r.Status))
}

// SubsidyPayReceiptResponse is WeChat Pay's answer with one payment receipt.
type SubsidyPayReceiptResponse struct {
	SubsidyPayReceipt
	// RequestID is the answer's Request-ID header, for WeChat Pay support.
	RequestID string `json:"-"`
}

func (r *SubsidyPayReceiptResponse) setRequestID(id string) { r.RequestID = id }

// GetSubsidyPayReceiptRequest names a payment receipt.
type GetSubsidyPayReceiptRequest struct {
	// SubsidyReceiptID is WeChat Pay's id for the payment.
	SubsidyReceiptID string
}

// ListSubsidyPayReceiptsRequest selects the payments of one coupon.
type ListSubsidyPayReceiptsRequest struct {
	// StockID is the coupon's stock, 1 to 20 bytes.
	StockID string
	// CouponCode is the coupon, 1 to 32 bytes.
	CouponCode string
	// OutSubsidyNo, when set, selects the payment with that number.
	OutSubsidyNo string
}

// ListSubsidyPayReceiptsResponse lists a coupon's payments.
type ListSubsidyPayReceiptsResponse struct {
	// PayReceiptList has the coupon's payments; empty when it had none.
	PayReceiptList []SubsidyPayReceipt `json:"pay_receipt_list,omitempty"`
	// RequestID is the answer's Request-ID header, for WeChat Pay support.
	RequestID string `json:"-"`
}

// missing checks every receipt of the list: money is never read from a
// receipt that lacks its number or status.
func (r *ListSubsidyPayReceiptsResponse) missing() []string {
	for i := range r.PayReceiptList {
		if m := r.PayReceiptList[i].missing(); len(m) > 0 {
			return []string{"pay_receipt_list" + index(i) + "." + m[0]}
		}
	}
	return nil
}

func (r *ListSubsidyPayReceiptsResponse) setRequestID(id string) { r.RequestID = id }

// CreateSubsidyReturnReceiptRequest returns (part of) a subsidy payment
// after a refund (营销补差回退): money moves back from the payee to the payer.
type CreateSubsidyReturnReceiptRequest struct {
	// StockID, CouponCode and TransactionID name the paid coupon.
	StockID       string `json:"stock_id"`
	CouponCode    string `json:"coupon_code"`
	TransactionID string `json:"transaction_id"`
	// RefundID is the WeChat Pay refund.
	RefundID string `json:"refund_id"`
	// PayerMerchant and PayeeMerchant are the payment's, unchanged: the
	// payer receives the money back.
	PayerMerchant string `json:"payer_merchant"`
	PayeeMerchant string `json:"payee_merchant"`
	// Amount is in 分: positive; all returns of a coupon together at most
	// its payment.
	Amount int64 `json:"amount"`
	// Description is the return's note.
	Description string `json:"description"`
	// OutSubsidyReturnNo is the merchant's unique number for this return;
	// letters, digits and | _ * - only. It makes the create safe to retry.
	OutSubsidyReturnNo string `json:"out_subsidy_return_no"`
}

// SubsidyReturnReceipt is a subsidy return.
type SubsidyReturnReceipt struct {
	// SubsidyReturnReceiptID is WeChat Pay's id for the return, given once
	// the return succeeded.
	SubsidyReturnReceiptID string `json:"subsidy_return_receipt_id,omitempty"`
	// StockID, CouponCode, TransactionID and RefundID are what it is for.
	StockID       string `json:"stock_id"`
	CouponCode    string `json:"coupon_code"`
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
	Status SubsidyReturnReceiptStatus `json:"status"`
	// FailReason says why a failed return failed.
	FailReason SubsidyReturnReceiptFailReason `json:"fail_reason,omitempty"`
	// ReturnDoneTime is when the return succeeded.
	ReturnDoneTime time.Time `json:"return_done_time,omitzero"`
	// SubsidyReceiptID is the payment returned.
	SubsidyReceiptID string `json:"subsidy_receipt_id"`
	// OutSubsidyReturnNo is the merchant's number for the return.
	OutSubsidyReturnNo string `json:"out_subsidy_return_no"`
	// ReturnCreateTime is when the receipt was created.
	ReturnCreateTime time.Time `json:"return_create_time,omitzero"`
}

// UnmarshalJSON reads the receipt's times in any shape ParseTime accepts.
func (r *SubsidyReturnReceipt) UnmarshalJSON(b []byte) error {
	type plain SubsidyReturnReceipt
	w := struct {
		*plain
		ReturnDoneTime   flexTime `json:"return_done_time"`
		ReturnCreateTime flexTime `json:"return_create_time"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	r.ReturnDoneTime, r.ReturnCreateTime = time.Time(w.ReturnDoneTime), time.Time(w.ReturnCreateTime)
	return nil
}

func (r *SubsidyReturnReceipt) missing() []string {
	return missingOf("out_subsidy_return_no", r.OutSubsidyReturnNo, "status", string(r.Status))
}

// SubsidyReturnReceiptResponse is WeChat Pay's answer with one return
// receipt.
type SubsidyReturnReceiptResponse struct {
	SubsidyReturnReceipt
	// RequestID is the answer's Request-ID header, for WeChat Pay support.
	RequestID string `json:"-"`
}

func (r *SubsidyReturnReceiptResponse) setRequestID(id string) { r.RequestID = id }

// GetSubsidyReturnReceiptRequest names a return receipt.
type GetSubsidyReturnReceiptRequest struct {
	// SubsidyReturnReceiptID is WeChat Pay's id for the return.
	SubsidyReturnReceiptID string
}

// CreateSubsidyPayReceipt pays a subsidy for a redeemed coupon (营销补差付
// 款). Money: it is retried only on transport errors and 5xx, always with
// the same body, and OutSubsidyNo makes WeChat Pay pay once: a second create
// with the same number returns the first receipt, and one with the same
// number but another body fails with ErrReceiptExists. The receipt may come
// back ACCEPTED; WaitSubsidyPayReceipt polls it to its end.
//
// WeChat Pay API: POST /v3/marketing/busifavor/subsidy/pay-receipts
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/subsidy/subsidy-pay.html
func (c *Client) CreateSubsidyPayReceipt(ctx context.Context, req CreateSubsidyPayReceiptRequest) (*SubsidyPayReceiptResponse, error) {
	out := &SubsidyPayReceiptResponse{}
	if err := c.send(ctx, "CreateSubsidyPayReceipt", req, http.MethodPost, subsidyPath+"/pay-receipts", nil, req, out); err != nil {
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
// after a refund (营销补差回退). Money: retried only on transport errors and
// 5xx, always with the same body; OutSubsidyReturnNo makes WeChat Pay return
// once, and a second create with the same number returns the first receipt.
//
// WeChat Pay API: POST /v3/marketing/busifavor/subsidy/return-receipts
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/subsidy/subsidy-return.html
func (c *Client) CreateSubsidyReturnReceipt(ctx context.Context, req CreateSubsidyReturnReceiptRequest) (*SubsidyReturnReceiptResponse, error) {
	out := &SubsidyReturnReceiptResponse{}
	if err := c.send(ctx, "CreateSubsidyReturnReceipt", req, http.MethodPost, subsidyPath+"/return-receipts", nil, req, out); err != nil {
		return nil, err
	}
	return out, nil
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

// PollPolicy says how patiently a Wait… helper polls: the first wait is
// Initial, doubling up to Max. The context bounds the whole wait. A zero
// Initial takes DefaultPollPolicy's, and Max is at least Initial.
type PollPolicy struct {
	Initial, Max time.Duration
	// Pending, when set, is called with each pending status read, for
	// progress logs.
	Pending func(status string)
}

// DefaultPollPolicy polls after 1 s, then 2 s, 4 s, … up to every 30 s.
var DefaultPollPolicy = PollPolicy{Initial: time.Second, Max: 30 * time.Second}

// WaitSubsidyPayReceipt reads the payment req names (its stock, coupon and
// OutSubsidyNo, which is required here) through ListSubsidyPayReceipts until
// its status is final, waiting between reads as p says, and returns it: the
// list finds a payment before WeChat Pay has given it an id. A failed
// payment returns the receipt and a *ReceiptFailedError (ErrSubsidyFailed;
// ErrInsufficientBalance for a short balance). A read's retryable error is
// retried by the client; any other error, a payment not in the list
// (ErrReceiptNotFound), and the context's end stop the wait.
func (c *Client) WaitSubsidyPayReceipt(ctx context.Context, req ListSubsidyPayReceiptsRequest, p PollPolicy) (*SubsidyPayReceipt, error) {
	if req.OutSubsidyNo == "" {
		return nil, &ValidationError{Fields: []FieldError{{Field: "out_subsidy_no", Reason: "is required: it names the payment to wait for"}}}
	}
	r, err := poll(ctx, p, func() (*SubsidyPayReceipt, string, bool, error) {
		list, err := c.ListSubsidyPayReceipts(ctx, req)
		if err != nil {
			return nil, "", false, err
		}
		for i := range list.PayReceiptList {
			if r := &list.PayReceiptList[i]; r.OutSubsidyNo == req.OutSubsidyNo {
				return r, string(r.Status), r.Status.Final(), nil
			}
		}
		return nil, "", false, fmt.Errorf("%w: coupon %s has no payment %s (request id %s)", ErrReceiptNotFound, req.CouponCode, req.OutSubsidyNo, list.RequestID)
	})
	if err == nil && r.Status == PayReceiptFail {
		err = &ReceiptFailedError{ReceiptID: r.OutSubsidyNo, Reason: string(r.FailReason)}
	}
	return r, err
}

// WaitSubsidyReturnReceipt waits for the return req creates to settle, as
// WaitSubsidyPayReceipt does. Until WeChat Pay has given the return an id it
// reads it by sending req again, which OutSubsidyReturnNo makes return the
// same receipt as it is now (nothing is returned twice); then it reads it by
// id. Pass the request exactly as it was first sent.
func (c *Client) WaitSubsidyReturnReceipt(ctx context.Context, req CreateSubsidyReturnReceiptRequest, p PollPolicy) (*SubsidyReturnReceipt, error) {
	var id string
	r, err := poll(ctx, p, func() (*SubsidyReturnReceipt, string, bool, error) {
		var r *SubsidyReturnReceipt
		if id == "" {
			got, err := c.CreateSubsidyReturnReceipt(ctx, req)
			if err != nil {
				return nil, "", false, err
			}
			r = &got.SubsidyReturnReceipt
		} else {
			got, err := c.GetSubsidyReturnReceipt(ctx, GetSubsidyReturnReceiptRequest{SubsidyReturnReceiptID: id})
			if err != nil {
				return nil, "", false, err
			}
			r = &got.SubsidyReturnReceipt
		}
		id = r.SubsidyReturnReceiptID
		return r, string(r.Status), r.Status.Final(), nil
	})
	if err == nil && r.Status == ReturnReceiptFail {
		err = &ReceiptFailedError{ReceiptID: r.OutSubsidyReturnNo, Reason: string(r.FailReason)}
	}
	return r, err
}

// poll calls read until it reports a final state, waiting as p says.
func poll[T any](ctx context.Context, p PollPolicy, read func() (T, string, bool, error)) (T, error) {
	if p.Initial <= 0 {
		p.Initial = DefaultPollPolicy.Initial
	}
	p.Max = max(p.Max, p.Initial)
	wait := p.Initial
	for {
		r, status, final, err := read()
		if err != nil || final {
			return r, err
		}
		if p.Pending != nil {
			p.Pending(status)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			var zero T
			return zero, &contextError{ctxErr: ctx.Err()}
		case <-t.C:
		}
		wait = min(2*wait, p.Max)
	}
}

// MaxSubsidyAmount is the most one subsidy payment may be: 5000 元, in 分
// (models: 最高补差金额为5000元).
const MaxSubsidyAmount = 500_000

// Validate checks the request and returns a *ValidationError naming every
// broken rule, or nil. That the amount is at most the coupon's discount is
// WeChat Pay's check.
func (r CreateSubsidyPayReceiptRequest) Validate() error {
	var v validator
	v.stockID(r.StockID)
	v.identifier("coupon_code", r.CouponCode, CouponCodeMaxLen)
	v.identifier("transaction_id", r.TransactionID, 0)
	v.identifier("payer_merchant", r.PayerMerchant, 0)
	v.identifier("payee_merchant", r.PayeeMerchant, 0)
	v.between("amount", r.Amount, 1, MaxSubsidyAmount)
	v.text("description", r.Description, true, 0)
	v.merchantNo("out_subsidy_no", r.OutSubsidyNo)
	return v.err()
}

// Validate checks the request and returns a *ValidationError naming every
// broken rule, or nil. That the returns stay within the payment is WeChat
// Pay's check.
func (r CreateSubsidyReturnReceiptRequest) Validate() error {
	var v validator
	v.stockID(r.StockID)
	v.identifier("coupon_code", r.CouponCode, CouponCodeMaxLen)
	v.identifier("transaction_id", r.TransactionID, 0)
	v.identifier("refund_id", r.RefundID, 0)
	v.identifier("payer_merchant", r.PayerMerchant, 0)
	v.identifier("payee_merchant", r.PayeeMerchant, 0)
	v.between("amount", r.Amount, 1, MaxSubsidyAmount)
	v.text("description", r.Description, true, 0)
	v.merchantNo("out_subsidy_return_no", r.OutSubsidyReturnNo)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r GetSubsidyPayReceiptRequest) Validate() error {
	var v validator
	v.identifier("subsidy_receipt_id", r.SubsidyReceiptID, 0)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r GetSubsidyReturnReceiptRequest) Validate() error {
	var v validator
	v.identifier("subsidy_return_receipt_id", r.SubsidyReturnReceiptID, 0)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r ListSubsidyPayReceiptsRequest) Validate() error {
	var v validator
	v.stockID(r.StockID)
	v.identifier("coupon_code", r.CouponCode, CouponCodeMaxLen)
	if r.OutSubsidyNo != "" {
		v.merchantNo("out_subsidy_no", r.OutSubsidyNo)
	}
	return v.err()
}
