package busifavor

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
