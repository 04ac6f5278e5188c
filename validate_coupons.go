package busifavor

import "strings"

// Documented limits of the coupon endpoints, in bytes. Sources: the official
// API page of each endpoint ("page") and wechatpay-go v0.2.21's models.
const (
	AppidMaxLen     = 32  // appid string[1,32] (page: use coupon)
	OpenidMaxLen    = 128 // openid string[1,128] (page: use coupon)
	UseRequestNoLen = 128 // use_request_no string(128) (page: use coupon)
)

// couponStates are the documented coupon states a request may filter on.
var couponStates = []CouponState{CouponStateSended, CouponStateUsed, CouponStateExpired, CouponStateDeleted, CouponStateDeactivated}

// Validate checks the request and returns a *ValidationError naming every
// broken rule, or nil.
func (r SendCouponRequest) Validate() error {
	var v validator
	v.identifier("openid", r.Openid, OpenidMaxLen)
	v.identifier("appid", r.Appid, AppidMaxLen)
	v.stockID(r.StockID)
	v.merchantNo("out_request_no", r.OutRequestNo)
	if r.CouponCode != "" {
		v.identifier("coupon_code", r.CouponCode, CouponCodeMaxLen)
	}
	return v.err()
}

// Validate checks the request and returns a *ValidationError naming every
// broken rule, or nil.
func (r UseCouponRequest) Validate() error {
	var v validator
	v.identifier("coupon_code", r.CouponCode, CouponCodeMaxLen)
	if r.StockID != "" {
		v.stockID(r.StockID)
	}
	v.identifier("appid", r.Appid, AppidMaxLen)
	if r.UseTime.IsZero() {
		v.add("use_time", "is required: when the coupon is redeemed")
	}
	v.identifier("use_request_no", r.UseRequestNo, UseRequestNoLen)
	if r.Openid != "" {
		v.identifier("openid", r.Openid, OpenidMaxLen)
	}
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r GetUserCouponRequest) Validate() error {
	var v validator
	v.identifier("openid", r.Openid, OpenidMaxLen)
	v.identifier("coupon_code", r.CouponCode, CouponCodeMaxLen)
	v.identifier("appid", r.Appid, AppidMaxLen)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r ListUserCouponsRequest) Validate() error {
	var v validator
	v.identifier("openid", r.Openid, OpenidMaxLen)
	v.identifier("appid", r.Appid, AppidMaxLen)
	if r.StockID != "" {
		v.stockID(r.StockID)
	}
	for f, id := range map[string]string{"creator_merchant": r.CreatorMerchant, "belong_merchant": r.BelongMerchant, "sender_merchant": r.SenderMerchant} {
		if id != "" {
			v.merchantID(f, id)
		}
	}
	if r.Offset < 0 {
		v.add("offset", "must not be negative: it is a page number from 0")
	}
	if r.Limit < 0 {
		v.add("limit", "must not be negative; 0 leaves the page size to WeChat Pay")
	}
	oneOf(&v, "coupon_state", r.CouponState, false, couponStates)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r TradeInfoRequest) Validate() error {
	var v validator
	v.stockID(r.StockID)
	v.identifier("coupon_code", r.CouponCode, CouponCodeMaxLen)
	v.identifier("out_trade_no", r.OutTradeNo, 0)
	v.merchantNo("out_request_no", r.OutRequestNo)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r ReturnCouponRequest) Validate() error {
	var v validator
	v.identifier("coupon_code", r.CouponCode, CouponCodeMaxLen)
	v.stockID(r.StockID)
	v.identifier("return_request_no", r.ReturnRequestNo, 0)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r DeactivateCouponRequest) Validate() error {
	var v validator
	v.identifier("coupon_code", r.CouponCode, CouponCodeMaxLen)
	v.stockID(r.StockID)
	v.identifier("deactivate_request_no", r.DeactivateRequestNo, 0)
	v.text("deactivate_reason", r.DeactivateReason, false, 0)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil. That
// SendTime is at most 24 hours old is WeChat Pay's check, on its clock.
func (r SendGovCardRequest) Validate() error {
	var v validator
	v.identifier("card_id", r.CardID, 0)
	v.identifier("appid", r.Appid, AppidMaxLen)
	v.identifier("openid", r.Openid, OpenidMaxLen)
	v.identifier("out_request_no", r.OutRequestNo, 0)
	if r.SendTime.IsZero() {
		v.add("send_time", "is required: when the card is sent")
	}
	return v.err()
}

// merchantNo checks a merchant number the models restrict to letters,
// digits and | _ * - (可包含英文字母，数字，｜，_，*，-等内容).
func (v *validator) merchantNo(f, s string) {
	if !v.required(f, s) {
		return
	}
	for i, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune("|｜_*-", r)) {
			v.add(f, "has %q at byte %d; use only letters, digits and | _ * -", r, i)
			return
		}
	}
}
