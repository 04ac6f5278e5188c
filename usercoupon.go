package busifavor

import (
	"encoding/json"
	"time"
)

// CouponState is a user coupon's state (商家券状态). Values newer than this
// package are kept as they came.
type CouponState string

// The documented coupon states. SENDED is WeChat Pay's spelling.
const (
	CouponStateSended      CouponState = "SENDED"      // usable (可用)
	CouponStateUsed        CouponState = "USED"        // redeemed (已核销)
	CouponStateExpired     CouponState = "EXPIRED"     // past its time (已过期)
	CouponStateDeleted     CouponState = "DELETED"     // deleted by the user (已删除)
	CouponStateDeactivated CouponState = "DEACTIVATED" // deactivated by the merchant (已失效)
)

// UserCoupon is one coupon a user holds (用户券), as WeChat Pay reads it. It
// holds no openid, but its codes identify a user's coupon: log CouponCode
// only where coupon codes may be logged.
type UserCoupon struct {
	// BelongMerchant is the merchant the coupon's stock belongs to.
	BelongMerchant string `json:"belong_merchant"`
	// StockName is the stock's name.
	StockName string `json:"stock_name"`
	// Comment is the stock's merchant-only note.
	Comment string `json:"comment,omitempty"`
	// GoodsName says what the coupon applies to.
	GoodsName string `json:"goods_name"`
	// StockType is the stock's kind; unknown values are kept.
	StockType StockType `json:"stock_type"`
	// CouponState is the coupon's state; unknown values are kept.
	CouponState CouponState `json:"coupon_state,omitempty"`
	// DisplayPatternInfo is the coupon's look.
	DisplayPatternInfo *DisplayPatternInfo `json:"display_pattern_info,omitempty"`
	// CouponUseRule is the stock's redemption rule.
	CouponUseRule CouponUseRule `json:"coupon_use_rule"`
	// CustomEntrance is the coupon page's entrances.
	CustomEntrance *CustomEntrance `json:"custom_entrance,omitempty"`
	// CouponCode identifies the coupon.
	CouponCode string `json:"coupon_code,omitempty"`
	// StockID is the coupon's stock.
	StockID string `json:"stock_id,omitempty"`
	// AvailableStartTime is when this coupon becomes usable.
	AvailableStartTime time.Time `json:"available_start_time,omitzero"`
	// ExpireTime is when it expires.
	ExpireTime time.Time `json:"expire_time,omitzero"`
	// ReceiveTime is when the user received it.
	ReceiveTime time.Time `json:"receive_time,omitzero"`
	// SendRequestNo is the number the coupon was sent with.
	SendRequestNo string `json:"send_request_no,omitempty"`
	// UseRequestNo is the number it was redeemed with, once redeemed.
	UseRequestNo string `json:"use_request_no,omitempty"`
	// UseTime is when it was redeemed.
	UseTime time.Time `json:"use_time,omitzero"`
	// AssociateOutTradeNo is the merchant order it is associated with.
	AssociateOutTradeNo string `json:"associate_out_trade_no,omitempty"`
	// ReturnRequestNo is the number it was returned with, once returned.
	ReturnRequestNo string `json:"return_request_no,omitempty"`
	// ReturnTime is when it was returned.
	ReturnTime time.Time `json:"return_time,omitzero"`
	// DeactivateRequestNo is the number it was deactivated with.
	DeactivateRequestNo string `json:"deactivate_request_no,omitempty"`
	// DeactivateTime is when it was deactivated.
	DeactivateTime time.Time `json:"deactivate_time,omitzero"`
	// DeactivateReason is why, when WeChat Pay says.
	DeactivateReason string `json:"deactivate_reason,omitempty"`
}

// UnmarshalJSON reads the coupon's times in any shape ParseTime accepts.
func (u *UserCoupon) UnmarshalJSON(b []byte) error {
	type plain UserCoupon
	w := struct {
		*plain
		AvailableStartTime flexTime `json:"available_start_time"`
		ExpireTime         flexTime `json:"expire_time"`
		ReceiveTime        flexTime `json:"receive_time"`
		UseTime            flexTime `json:"use_time"`
		ReturnTime         flexTime `json:"return_time"`
		DeactivateTime     flexTime `json:"deactivate_time"`
	}{plain: (*plain)(u)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	u.AvailableStartTime, u.ExpireTime, u.ReceiveTime = time.Time(w.AvailableStartTime), time.Time(w.ExpireTime), time.Time(w.ReceiveTime)
	u.UseTime, u.ReturnTime, u.DeactivateTime = time.Time(w.UseTime), time.Time(w.ReturnTime), time.Time(w.DeactivateTime)
	return nil
}
