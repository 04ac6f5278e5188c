package busifavor

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// SetCallbacksRequest is the body of POST /v3/marketing/busifavor/callbacks.
type SetCallbacksRequest struct {
	// MchID is the merchant whose notify URL is set; empty means the calling
	// merchant. 8 to 15 bytes when set.
	MchID string `json:"mchid,omitempty"`
	// NotifyURL receives the coupon events: https, 10 to 256 bytes, a public
	// host, no query string.
	NotifyURL string `json:"notify_url"`
}

// SetCallbacksResponse is WeChat Pay's answer to SetCallbacks.
type SetCallbacksResponse struct {
	// UpdateTime is when the URL was set; zero only if WeChat Pay omitted it
	// (the page marks it optional; wechatpay-go's models require it).
	UpdateTime time.Time `json:"update_time"`
	// NotifyURL is the URL now in effect.
	NotifyURL string `json:"notify_url" required:"page,models"`
	// MchID is the merchant it is set for.
	MchID string `json:"mchid" required:"page,models"`
	// RequestID is the answer's Request-ID header, for WeChat Pay support.
	RequestID string `json:"request_id,omitempty"`
}

// GetCallbacksRequest selects whose notify URL GetCallbacks reads.
type GetCallbacksRequest struct {
	// MchID is the merchant to query; empty means the calling merchant.
	MchID string
}

// GetCallbacksResponse is WeChat Pay's answer to GetCallbacks.
type GetCallbacksResponse struct {
	// NotifyURL is the URL in effect.
	NotifyURL string `json:"notify_url" required:"page,models"`
	// MchID is the merchant it is set for.
	MchID string `json:"mchid" required:"page,models"`
	// RequestID is the answer's Request-ID header, for WeChat Pay support.
	RequestID string `json:"request_id,omitempty"`
}

// ParseTime parses a WeChat Pay time in every shape seen on the wire: RFC
// 3339 with or without fractional seconds (2019-05-20T13:29:35+08:00,
// 2019-05-20T13:29:35.120+08:00, …Z) and the API page's prose shape with a
// colon before the milliseconds (2019-05-20T13:29:35:120+08:00).
func ParseTime(s string) (time.Time, error) {
	v := s
	// "2006-01-02T15:04:05" is 19 bytes; a colon after it starts milliseconds.
	if len(v) > 20 && v[19] == ':' && v[20] >= '0' && v[20] <= '9' {
		v = v[:19] + "." + v[20:]
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", clip(s, 64))
	}
	return t, nil
}

// CouponEvent is a verified, decrypted coupon event notification. The same
// notification can arrive more than once (WeChat Pay retries until it gets a
// 2xx in time): make handlers idempotent on ID, for example with Deduplicate.
type CouponEvent struct {
	// ID identifies the notification; redeliveries carry the same ID.
	ID string `json:"id"`
	// CreateTime is when WeChat Pay created the notification.
	CreateTime time.Time `json:"create_time"`
	// EventType is the envelope's event_type, "COUPON.SEND" for a claimed
	// coupon.
	EventType string `json:"event_type"`
	// ResourceType is "encrypt-resource".
	ResourceType string `json:"resource_type"`
	// Summary is WeChat Pay's description, such as "商家券领券通知".
	Summary string `json:"summary"`
	// Coupon is the decrypted resource of a COUPON.SEND event; it is zero for
	// other event types, whose payload is in Plaintext.
	Coupon CouponSend `json:"coupon"`
	// Plaintext is the decrypted resource as it came. It may hold personal
	// data (openid): do not log it.
	Plaintext json.RawMessage `json:"-" log:"omit"`
}

// String identifies the event without personal data or the plaintext, and
// with the coupon code masked, so that logging an event leaks nothing.
func (e CouponEvent) String() string {
	return fmt.Sprintf("CouponEvent{ID:%s EventType:%s StockID:%s CouponCode:%s SendChannel:%s}",
		e.ID, e.EventType, e.Coupon.StockID, MaskCode(e.Coupon.CouponCode), e.Coupon.SendChannel)
}

// Format prints e as String does for %s, and otherwise as fmt does with the
// openid, unionid and coupon code masked and Plaintext left out (see
// privacy.go); json.Marshal is unchanged.
func (e CouponEvent) Format(f fmt.State, verb rune) {
	if verb == 's' {
		_, _ = f.Write([]byte(e.String()))
		return
	}
	printMasked(f, verb, masked(e))
}

// LogValue makes slog log e as Format prints it.
func (e CouponEvent) LogValue() slog.Value { return logValue(masked(e)) }

// Masked returns a copy of e for displays and records that need the coupon
// code but not the user: OpenID and UnionID masked (MaskID) and Plaintext
// dropped. fmt and slog print e with the codes masked too (Format,
// LogValue). json.Marshal of e itself is unchanged, for queues that need the
// data.
func (e CouponEvent) Masked() CouponEvent {
	e.Coupon = e.Coupon.Masked()
	e.Plaintext = nil
	return e
}

// CouponSend is the decrypted resource of a COUPON.SEND event (商家券领券通知).
type CouponSend struct {
	// EventType is "EVENT_TYPE_BUSICOUPON_SEND".
	EventType string `json:"event_type"`
	// CouponCode is the code of the claimed coupon.
	CouponCode string `json:"coupon_code" log:"code"`
	// StockID is the coupon stock (批次号).
	StockID string `json:"stock_id"`
	// SendTime is when the coupon was claimed.
	SendTime time.Time `json:"send_time"`
	// OpenID is the user's openid; empty unless the stock was created with
	// notify_appid.
	OpenID string `json:"openid,omitempty" log:"id"`
	// UnionID is the user's unionid, when WeChat Pay sends one.
	UnionID string `json:"unionid,omitempty" log:"id"`
	// SendChannel is how the coupon was sent: one of the SendChannel…
	// constants, or a value newer than this package, kept as it came.
	SendChannel string `json:"send_channel"`
	// SendMerchant is the merchant that sent the coupon.
	SendMerchant string `json:"send_merchant"`
	// AttachInfo is present for some channels.
	AttachInfo *AttachInfo `json:"attach_info,omitempty"`
}

// Masked returns a copy of c for displays and records that need the coupon
// code but not the user: OpenID and UnionID masked (MaskID). fmt and slog
// print c with the codes masked too (Format, LogValue).
func (c CouponSend) Masked() CouponSend {
	c.OpenID, c.UnionID = MaskID(c.OpenID), MaskID(c.UnionID)
	return c
}

// The documented send_channel values.
const (
	SendChannelMiniApp          = "BUSICOUPON_SEND_CHANNEL_MINIAPP"
	SendChannelAPI              = "BUSICOUPON_SEND_CHANNEL_API"
	SendChannelPayGift          = "BUSICOUPON_SEND_CHANNEL_PAYGIFT"
	SendChannelH5               = "BUSICOUPON_SEND_CHANNEL_H5"
	SendChannelFTOF             = "BUSICOUPON_SEND_CHANNEL_FTOF"
	SendChannelMemberCardAct    = "BUSICOUPON_SEND_CHANNEL_MEMBERCARD_ACT"
	SendChannelHall             = "BUSICOUPON_SEND_CHANNEL_HALL"
	SendChannelJSAPI            = "BUSICOUPON_SEND_CHANNEL_JSAPI"
	SendChannelMiniAppLive      = "BUSICOUPON_SEND_CHANNEL_MINI_APP_LIVE"
	SendChannelWechatSearch     = "BUSICOUPON_SEND_CHANNEL_WECHAT_SEARCH"
	SendChannelPayHasDiscount   = "BUSICOUPON_SEND_CHANNEL_PAY_HAS_DISCOUNT"
	SendChannelWechatAd         = "BUSICOUPON_SEND_CHANNEL_WECHAT_AD"
	SendChannelRightsPlatform   = "BUSICOUPON_SEND_CHANNEL_RIGHTS_PLATFORM"
	SendChannelReceiveMoneyGift = "BUSICOUPON_SEND_CHANNEL_RECEIVE_MONEY_GIFT"
	SendChannelMemberPayRight   = "BUSICOUPON_SEND_CHANNEL_MEMBER_PAY_RIGHT"
	SendChannelBusiSmartRetail  = "BUSICOUPON_SEND_CHANNEL_BUSI_SMART_RETAIL"
	SendChannelFinderLiveroom   = "BUSICOUPON_SEND_CHANNEL_FINDER_LIVEROOM"
)

// AttachInfo is the optional attach_info of a COUPON.SEND event.
type AttachInfo struct {
	// TransactionID is the payment that earned the coupon (pay gift).
	TransactionID string `json:"transaction_id,omitempty"`
	// ActCode is the activity code.
	ActCode string `json:"act_code,omitempty"`
	// HallCode is the coupon hall (券礼包/券中心) code.
	HallCode string `json:"hall_code,omitempty"`
	// HallBelongMchID is the merchant owning the hall. The docs say int and
	// SDKs disagree, so a JSON number or string is accepted.
	HallBelongMchID string `json:"hall_belong_mch_id,omitempty" wire:"numstr"`
	// CardID is the member card id.
	CardID string `json:"card_id,omitempty"`
	// Code is the member card code.
	Code string `json:"code,omitempty" log:"code"`
	// ActivityID is the activity id.
	ActivityID string `json:"activity_id,omitempty"`
}

// CouponState is a user coupon's state (商家券状态). Values newer than this
// package are kept as they came.
type CouponState string

// The documented coupon states. SENDED is WeChat Pay's spelling.
const (
	CouponStateSent        CouponState = "SENDED"      // usable (可用)
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
	BelongMerchant string `json:"belong_merchant" required:"models"`
	// StockName is the stock's name.
	StockName string `json:"stock_name" required:"models"`
	// Comment is the stock's merchant-only note.
	Comment string `json:"comment,omitempty"`
	// GoodsName says what the coupon applies to.
	GoodsName string `json:"goods_name" required:"models"`
	// StockType is the stock's kind; unknown values are kept.
	StockType StockType `json:"stock_type" required:"models"`
	// CouponState is the coupon's state; unknown values are kept.
	CouponState CouponState `json:"coupon_state,omitempty"`
	// DisplayPatternInfo is the coupon's look.
	DisplayPatternInfo *DisplayPatternInfo `json:"display_pattern_info,omitempty"`
	// CouponUseRule is the stock's redemption rule.
	CouponUseRule CouponUseRule `json:"coupon_use_rule" required:"models"`
	// CustomEntrance is the coupon page's entrances.
	CustomEntrance *CustomEntrance `json:"custom_entrance,omitempty"`
	// Transferable says whether the coupon may be given to a friend; 暂未开放
	// (not open yet, models).
	Transferable bool `json:"transferable,omitempty"`
	// Shareable says whether the coupon may be shared; 暂未开放.
	Shareable bool `json:"shareable,omitempty"`
	// CouponCode identifies the coupon.
	CouponCode string `json:"coupon_code,omitempty" log:"code"`
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

// fmt and slog print these types with personal data and coupon codes
// masked (see privacy.go); json.Marshal is unchanged.

// Format prints r as fmt does, openids and coupon codes masked.
func (r CouponSend) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r CouponSend) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r UserCoupon) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r UserCoupon) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, the card code masked.
func (r AttachInfo) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r AttachInfo) LogValue() slog.Value { return logValue(masked(r)) }
