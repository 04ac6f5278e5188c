package busifavor

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// couponsPath holds the coupon writes; userCouponsPath a user's coupons.
const couponsPath = "/v3/marketing/busifavor/coupons"

func userCouponsPath(openid string) string {
	return "/v3/marketing/busifavor/users/" + url.PathEscape(openid) + "/coupons"
}

// chinaTime is UTC+8, the zone WeChat Pay's request times are written in.
var chinaTime = time.FixedZone("CST", 8*3600)

// wireTime writes t as the pages ask for request times: RFC 3339 to the
// second in UTC+8, as in 2015-05-20T13:29:35+08:00.
func wireTime(t time.Time) string { return t.In(chinaTime).Format(time.RFC3339) }

// SendCouponRequest sends a coupon of a stock to a user (发放商家券).
type SendCouponRequest struct {
	// OpenID is the user, under AppID: 1 to 128 bytes.
	OpenID string `json:"openid" log:"id"`
	// AppID is the sending merchant's appid: 1 to 32 bytes.
	AppID string `json:"appid"`
	// StockID is the stock, 1 to 20 bytes.
	StockID string `json:"stock_id"`
	// OutRequestNo is the merchant's number for this send, unique per stock
	// and user; letters, digits and | _ * - only. It makes SendCoupon safe to
	// retry.
	OutRequestNo string `json:"out_request_no"`
	// CouponCode names the code to send; required for MERCHANT_API stocks,
	// with the upload rule (see UploadCouponCodesRequest).
	CouponCode string `json:"coupon_code,omitempty" log:"code"`
}

// SendCouponResponse is WeChat Pay's answer to SendCoupon. wechatpay-go's
// models make every field optional, and no current page documents the
// answer, so none is required: a 2xx means the coupon was sent, and an empty
// CouponCode means WeChat Pay did not say which (find it with
// ListUserCoupons).
type SendCouponResponse struct {
	// StockID is the stock.
	StockID string `json:"stock_id"`
	// OutRequestNo is the number the coupon was sent with.
	OutRequestNo string `json:"out_request_no"`
	// CouponCode is the sent coupon's code.
	CouponCode string `json:"coupon_code" log:"code"`
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// UseCouponRequest redeems a coupon (核销用户券).
type UseCouponRequest struct {
	// CouponCode is the coupon: 1 to 32 bytes, with the upload rule (see
	// UploadCouponCodesRequest).
	CouponCode string `log:"code"`
	// StockID is the coupon's stock, 1 to 20 bytes; required for stocks in
	// MERCHANT_API or MERCHANT_UPLOAD code mode.
	StockID string
	// AppID is an appid bound to the merchant, under which the answer's
	// openid is given: 1 to 32 bytes.
	AppID string
	// UseTime is when the merchant redeems the coupon; it is sent to the
	// second in UTC+8 (2015-05-20T13:29:35+08:00), whatever its location.
	UseTime time.Time
	// UseRequestNo is the merchant's unique number for this redemption, 1 to
	// 128 bytes. It makes UseCoupon safe to retry: a repeat returns the first
	// result. Use a new number for each redemption.
	UseRequestNo string
	// OpenID, when set (1 to 128 bytes), makes WeChat Pay check that the
	// coupon is this user's.
	OpenID string `log:"id"`
}

// MarshalJSON writes the request as the page documents it, use_time as a
// string.
func (r UseCouponRequest) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		CouponCode   string `json:"coupon_code"`
		StockID      string `json:"stock_id,omitempty"`
		Appid        string `json:"appid"`
		UseTime      string `json:"use_time"`
		UseRequestNo string `json:"use_request_no"`
		Openid       string `json:"openid,omitempty"`
	}{r.CouponCode, r.StockID, r.AppID, wireTime(r.UseTime), r.UseRequestNo, r.OpenID})
}

// UseCouponResponse is WeChat Pay's answer to UseCoupon. OpenID is personal
// data: print the response with Masked.
type UseCouponResponse struct {
	// StockID is the coupon's stock.
	StockID string `json:"stock_id" required:"models"`
	// OpenID is the coupon's owner under the request's appid.
	OpenID string `json:"openid" log:"id"`
	// WechatPayUseTime is when WeChat Pay redeemed the coupon.
	WechatPayUseTime time.Time `json:"wechatpay_use_time" required:"models"`
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// Masked returns a copy of r with OpenID masked (see MaskID).
func (r UseCouponResponse) Masked() UseCouponResponse { return masked(r) }

// GetUserCouponRequest names a user's coupon (查询用户券详情). All three
// fields go in the path; OpenID is masked in logs and errors.
type GetUserCouponRequest struct {
	// OpenID is the user, under AppID: 1 to 128 bytes.
	OpenID string `log:"id"`
	// CouponCode is the coupon: 1 to 32 bytes, with the upload rule (see
	// UploadCouponCodesRequest).
	CouponCode string `log:"code"`
	// AppID is an appid bound to the merchant: 1 to 32 bytes.
	AppID string
}

// GetUserCouponResponse is WeChat Pay's answer to GetUserCoupon.
type GetUserCouponResponse struct {
	UserCoupon
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// ListUserCouponsRequest selects a page of a user's coupons (根据过滤条件
// 查询用户券). Which merchant field is required depends on the caller: the
// creator passes CreatorMerchant, the stock's merchant BelongMerchant, a
// sender SenderMerchant.
type ListUserCouponsRequest struct {
	// OpenID is the user, under AppID: 1 to 128 bytes; it goes in the path.
	OpenID string `log:"id"`
	// AppID is an appid bound to the merchant: 1 to 32 bytes.
	AppID string
	// StockID, when set, selects one stock.
	StockID string
	// CreatorMerchant, BelongMerchant and SenderMerchant select by the
	// stock's creator, owner or sender (8 to 15 bytes each when set).
	CreatorMerchant, BelongMerchant, SenderMerchant string
	// Page is the page number (分页页码, the query's offset), from 0. It counts
	// pages, where ListCouponCodesRequest.Offset counts items.
	Page int64
	// Limit is the page size; 0 leaves it to WeChat Pay.
	Limit int64
	// CouponState, when set, selects coupons in that state.
	CouponState CouponState
}

// ListUserCouponsResponse is one page of a user's coupons.
type ListUserCouponsResponse struct {
	// Data is this page.
	Data []UserCoupon `json:"data,omitempty"`
	// TotalCount is every coupon that matches.
	TotalCount int64 `json:"total_count" required:"models"`
	// Limit is the page size.
	Limit int64 `json:"limit" required:"models"`
	// Page is the page number, as asked (the answer's offset).
	Page int64 `json:"offset" required:"models"`
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// AssociateTradeInfoRequest ties a coupon to a WeChat Pay order (关联订单信息).
type AssociateTradeInfoRequest struct {
	// StockID is the coupon's stock, 1 to 20 bytes.
	StockID string `json:"stock_id"`
	// CouponCode is the coupon: 1 to 32 bytes, with the upload rule (see
	// UploadCouponCodesRequest).
	CouponCode string `json:"coupon_code" log:"code"`
	// OutTradeNo is the merchant's order number of the WeChat Pay order.
	OutTradeNo string `json:"out_trade_no"`
	// OutRequestNo is the merchant's unique number for this request; letters,
	// digits and | _ * - only. It makes the call safe to retry.
	OutRequestNo string `json:"out_request_no"`
}

// DisassociateTradeInfoRequest unties a coupon from the order it was tied
// to (取消关联订单信息). Its fields, and their rules, are
// AssociateTradeInfoRequest's.
type DisassociateTradeInfoRequest AssociateTradeInfoRequest

// AssociateTradeInfoResponse is WeChat Pay's answer to AssociateTradeInfo.
type AssociateTradeInfoResponse struct {
	// WechatPayAssociateTime is when the coupon was tied to the order.
	WechatPayAssociateTime time.Time `json:"wechatpay_associate_time" required:"models"`
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// DisassociateTradeInfoResponse is WeChat Pay's answer to
// DisassociateTradeInfo.
type DisassociateTradeInfoResponse struct {
	// WechatPayDisassociateTime is when the coupon was untied.
	WechatPayDisassociateTime time.Time `json:"wechatpay_disassociate_time" required:"models"`
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// ReturnCouponRequest returns a redeemed coupon to the user (申请退券),
// after a refund: the coupon becomes usable again.
type ReturnCouponRequest struct {
	// CouponCode is the coupon: 1 to 32 bytes, with the upload rule (see
	// UploadCouponCodesRequest).
	CouponCode string `json:"coupon_code" log:"code"`
	// StockID is its stock, 1 to 20 bytes.
	StockID string `json:"stock_id"`
	// ReturnRequestNo is the merchant's unique number for this return. It
	// makes ReturnCoupon safe to retry.
	ReturnRequestNo string `json:"return_request_no"`
}

// ReturnCouponResponse is WeChat Pay's answer to ReturnCoupon.
type ReturnCouponResponse struct {
	// WechatPayReturnTime is when the coupon was returned.
	WechatPayReturnTime time.Time `json:"wechatpay_return_time" required:"models"`
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// DeactivateCouponRequest makes a usable coupon unusable (使券失效).
type DeactivateCouponRequest struct {
	// CouponCode is the coupon: 1 to 32 bytes, with the upload rule (see
	// UploadCouponCodesRequest).
	CouponCode string `json:"coupon_code" log:"code"`
	// StockID is its stock, 1 to 20 bytes.
	StockID string `json:"stock_id"`
	// DeactivateRequestNo is the merchant's unique number for this request.
	// It makes DeactivateCoupon safe to retry.
	DeactivateRequestNo string `json:"deactivate_request_no"`
	// DeactivateReason is the merchant's reason, optional.
	DeactivateReason string `json:"deactivate_reason,omitempty"`
}

// DeactivateCouponResponse is WeChat Pay's answer to DeactivateCoupon.
type DeactivateCouponResponse struct {
	// WechatPayDeactivateTime is when the coupon was deactivated.
	WechatPayDeactivateTime time.Time `json:"wechatpay_deactivate_time" required:"models"`
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// SendGovCardRequest sends a government consumption card (发放消费卡) to a
// user.
type SendGovCardRequest struct {
	// CardID is the card (消费卡 card_id); it goes in the path.
	CardID string `json:"-"`
	// AppID is the card creator's appid, bound to the merchant.
	AppID string `json:"appid"`
	// OpenID is the user, under AppID.
	OpenID string `json:"openid" log:"id"`
	// OutRequestNo is the merchant's number for this send; with SendTime it
	// must be unique, and it makes SendGovCard safe to retry.
	OutRequestNo string `json:"out_request_no"`
	// SendTime is when the merchant sends the card, at most 24 hours ago;
	// it is sent to the second in UTC+8.
	SendTime time.Time `json:"-"`
}

// MarshalJSON writes the request as the page documents it, send_time as a
// string.
func (r SendGovCardRequest) MarshalJSON() ([]byte, error) {
	type plain SendGovCardRequest
	return json.Marshal(struct {
		plain
		SendTime string `json:"send_time"`
	}{plain(r), wireTime(r.SendTime)})
}

// SendGovCardResponse is WeChat Pay's answer to SendGovCard.
type SendGovCardResponse struct {
	// CardCode is the code of the card sent.
	CardCode string `json:"card_code" log:"code" required:"page,models"`
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// SendCoupon sends a coupon of a stock to a user (发放商家券). It is retried
// like a GET: OutRequestNo makes a repeated send give the user one coupon.
//
// WeChat Pay API: POST /v3/marketing/busifavor/coupons/send
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/coupon/send-coupon.html
func (c *Client) SendCoupon(ctx context.Context, req SendCouponRequest) (*SendCouponResponse, error) {
	var out struct {
		Result   SendCouponResponse `json:"send_coupon_result"`
		Response `json:"-"`
	}
	if err := c.send(ctx, "SendCoupon", &req, http.MethodPost, couponsPath+"/send", nil, &req, &out); err != nil {
		return nil, err
	}
	out.Result.Response = out.Response
	return &out.Result, nil
}

// UseCoupon redeems a coupon (核销用户券). It is retried, with the same body,
// on transport errors and 5xx: UseRequestNo makes WeChat Pay redeem once and
// answer a retried redemption with the first result. A till branches on
// errors.Is(err, ErrCouponUsed) (redeemed under another number),
// ErrCouponNotUsable (outside its valid time) and ErrCouponNotFound.
//
// WeChat Pay API: POST /v3/marketing/busifavor/coupons/use
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/coupon/use-coupon.html
func (c *Client) UseCoupon(ctx context.Context, req UseCouponRequest) (*UseCouponResponse, error) {
	out := &UseCouponResponse{}
	if err := c.send(ctx, "UseCoupon", &req, http.MethodPost, couponsPath+"/use", nil, &req, out); err != nil {
		return nil, err
	}
	return out, nil
}

// GetUserCoupon reads one of a user's coupons (查询用户券详情).
// errors.Is(err, ErrCouponNotFound) means the user has no such coupon.
//
// WeChat Pay API: GET /v3/marketing/busifavor/users/{openid}/coupons/{coupon_code}/appids/{appid}
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/coupon/query-coupon.html
func (c *Client) GetUserCoupon(ctx context.Context, req GetUserCouponRequest) (*GetUserCouponResponse, error) {
	out := &GetUserCouponResponse{}
	path := userCouponsPath(req.OpenID) + "/" + url.PathEscape(req.CouponCode) + "/appids/" + url.PathEscape(req.AppID)
	if err := c.send(ctx, "GetUserCoupon", req, http.MethodGet, path, nil, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}

// ListUserCoupons reads one page of a user's coupons (根据过滤条件查询用户
// 券). AllUserCoupons walks every page.
//
// WeChat Pay API: GET /v3/marketing/busifavor/users/{openid}/coupons
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/coupon/list-coupons-by-filter.html
func (c *Client) ListUserCoupons(ctx context.Context, req ListUserCouponsRequest) (*ListUserCouponsResponse, error) {
	q := url.Values{"appid": {req.AppID}}
	for name, v := range map[string]string{"stock_id": req.StockID, "creator_merchant": req.CreatorMerchant,
		"belong_merchant": req.BelongMerchant, "sender_merchant": req.SenderMerchant, "coupon_state": string(req.CouponState)} {
		if v != "" {
			q.Set(name, v)
		}
	}
	if req.Page > 0 {
		q.Set("offset", strconv.FormatInt(req.Page, 10))
	}
	if req.Limit > 0 {
		q.Set("limit", strconv.FormatInt(req.Limit, 10))
	}
	out := &ListUserCouponsResponse{}
	if err := c.send(ctx, "ListUserCoupons", req, http.MethodGet, userCouponsPath(req.OpenID), q, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}

// AllUserCoupons yields every coupon ListUserCoupons would page through,
// from page req.Offset on (the offset is a page number), each coupon once.
// It stops after the last coupon the pages' total_count promises, when the
// caller stops ranging, and after the first error, which it yields with a
// zero UserCoupon: an *APIError or transport error; ErrMalformedResponse
// for a page without total_count (WeChat Pay's models require it: a list
// that does not say how long it is cannot be walked to its end); ErrPaging
// when a page brings no new coupon, a page short of the page size is not
// the last (the coupons between would be skipped), or the pages exceed what
// total_count and the page size allow, so that a broken server cannot make
// it loop.
func (c *Client) AllUserCoupons(ctx context.Context, req ListUserCouponsRequest) iter.Seq2[UserCoupon, error] {
	return walkPages(req.Page, true, userCouponKey, func(offset int64) (listPage[UserCoupon], error) {
		req.Page = offset
		page, err := c.ListUserCoupons(ctx, req)
		if err != nil {
			return listPage[UserCoupon]{}, err
		}
		return listPage[UserCoupon]{items: page.Data, total: page.TotalCount, limit: page.Limit}, nil
	})
}

// userCouponKey identifies a coupon of a list: its code within its stock
// (codes are unique per stock), or "" when the answer left the code out.
func userCouponKey(u UserCoupon) string {
	if u.CouponCode == "" {
		return ""
	}
	return u.StockID + "/" + u.CouponCode
}

// AssociateTradeInfo ties a coupon to a WeChat Pay order (关联订单信息), so
// that the order's payment can apply it. It is retried like a GET:
// OutRequestNo makes a repeat act once.
//
// WeChat Pay API: POST /v3/marketing/busifavor/coupons/associate
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/coupon/associate-trade-info.html
func (c *Client) AssociateTradeInfo(ctx context.Context, req AssociateTradeInfoRequest) (*AssociateTradeInfoResponse, error) {
	out := &AssociateTradeInfoResponse{}
	if err := c.send(ctx, "AssociateTradeInfo", &req, http.MethodPost, couponsPath+"/associate", nil, &req, out); err != nil {
		return nil, err
	}
	return out, nil
}

// DisassociateTradeInfo unties a coupon from the order it was tied to
// (取消关联订单信息). It is retried like a GET: OutRequestNo makes a repeat
// act once.
//
// WeChat Pay API: POST /v3/marketing/busifavor/coupons/disassociate
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/coupon/disassociate-trade-info.html
func (c *Client) DisassociateTradeInfo(ctx context.Context, req DisassociateTradeInfoRequest) (*DisassociateTradeInfoResponse, error) {
	out := &DisassociateTradeInfoResponse{}
	if err := c.send(ctx, "DisassociateTradeInfo", &req, http.MethodPost, couponsPath+"/disassociate", nil, &req, out); err != nil {
		return nil, err
	}
	return out, nil
}

// ReturnCoupon returns a redeemed coupon (申请退券), after the order was
// refunded: the coupon is usable again. It is retried like a GET:
// ReturnRequestNo makes a repeat act once.
//
// WeChat Pay API: POST /v3/marketing/busifavor/coupons/return
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/coupon/return-coupon.html
func (c *Client) ReturnCoupon(ctx context.Context, req ReturnCouponRequest) (*ReturnCouponResponse, error) {
	out := &ReturnCouponResponse{}
	if err := c.send(ctx, "ReturnCoupon", &req, http.MethodPost, couponsPath+"/return", nil, &req, out); err != nil {
		return nil, err
	}
	return out, nil
}

// DeactivateCoupon makes a usable coupon unusable (使券失效). It is retried
// like a GET: DeactivateRequestNo makes a repeat act once.
//
// WeChat Pay API: POST /v3/marketing/busifavor/coupons/deactivate
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/coupon/deactivate-coupon.html
func (c *Client) DeactivateCoupon(ctx context.Context, req DeactivateCouponRequest) (*DeactivateCouponResponse, error) {
	out := &DeactivateCouponResponse{}
	if err := c.send(ctx, "DeactivateCoupon", &req, http.MethodPost, couponsPath+"/deactivate", nil, &req, out); err != nil {
		return nil, err
	}
	return out, nil
}

// SendGovCard sends a government consumption card to a user (发放消费卡). It
// is retried like a GET: OutRequestNo with SendTime makes a repeat send one
// card.
//
// WeChat Pay API: POST /v3/marketing/busifavor/coupons/{card_id}/send
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/coupon/send-gov-card.html
func (c *Client) SendGovCard(ctx context.Context, req SendGovCardRequest) (*SendGovCardResponse, error) {
	out := &SendGovCardResponse{}
	if err := c.send(ctx, "SendGovCard", &req, http.MethodPost, couponsPath+"/"+url.PathEscape(req.CardID)+"/send", nil, &req, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Documented limits of the coupon endpoints, in bytes. Sources: the official
// API page of each endpoint ("page") and wechatpay-go v0.2.21's models.
const (
	appIDMaxLen     = 32  // appid string[1,32] (page: use coupon)
	openIDMaxLen    = 128 // openid string[1,128] (page: use coupon)
	useRequestNoLen = 128 // use_request_no string(128) (page: use coupon)

	govCardIDMaxLen        = 28 // card_id string[1,28] (page: 发放消费卡)
	govCardRequestNoMaxLen = 32 // out_request_no string[1,32] (page: 发放消费卡)
)

// couponStates are the documented coupon states a request may filter on.
var couponStates = []CouponState{CouponStateSent, CouponStateUsed, CouponStateExpired, CouponStateDeleted, CouponStateDeactivated}

// Validate checks the request and returns a *ValidationError naming every
// broken rule, or nil.
func (r SendCouponRequest) Validate() error {
	var v validator
	v.identifier("openid", r.OpenID, openIDMaxLen)
	v.identifier("appid", r.AppID, appIDMaxLen)
	v.stockID(r.StockID)
	v.merchantNo("out_request_no", r.OutRequestNo)
	if r.CouponCode != "" {
		v.couponCode("coupon_code", r.CouponCode)
	}
	return v.err()
}

// Validate checks the request and returns a *ValidationError naming every
// broken rule, or nil.
func (r UseCouponRequest) Validate() error {
	var v validator
	v.couponCode("coupon_code", r.CouponCode)
	if r.StockID != "" {
		v.stockID(r.StockID)
	}
	v.identifier("appid", r.AppID, appIDMaxLen)
	if r.UseTime.IsZero() {
		v.add("use_time", "is required: when the coupon is redeemed")
	}
	v.identifier("use_request_no", r.UseRequestNo, useRequestNoLen)
	if r.OpenID != "" {
		v.identifier("openid", r.OpenID, openIDMaxLen)
	}
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r GetUserCouponRequest) Validate() error {
	var v validator
	v.pathID("openid", r.OpenID, openIDMaxLen)
	v.couponCode("coupon_code", r.CouponCode)
	v.pathID("appid", r.AppID, appIDMaxLen)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r ListUserCouponsRequest) Validate() error {
	var v validator
	v.pathID("openid", r.OpenID, openIDMaxLen)
	v.identifier("appid", r.AppID, appIDMaxLen)
	if r.StockID != "" {
		v.stockID(r.StockID)
	}
	for f, id := range map[string]string{"creator_merchant": r.CreatorMerchant, "belong_merchant": r.BelongMerchant, "sender_merchant": r.SenderMerchant} {
		if id != "" {
			v.merchantID(f, id)
		}
	}
	if r.Page < 0 {
		v.add("offset", "must not be negative: it is a page number from 0")
	}
	if r.Limit < 0 {
		v.add("limit", "must not be negative; 0 leaves the page size to WeChat Pay")
	}
	oneOf(&v, "coupon_state", r.CouponState, false, couponStates)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r AssociateTradeInfoRequest) Validate() error {
	var v validator
	v.stockID(r.StockID)
	v.couponCode("coupon_code", r.CouponCode)
	v.identifier("out_trade_no", r.OutTradeNo, 0)
	v.merchantNo("out_request_no", r.OutRequestNo)
	return v.err()
}

// Validate checks the request as AssociateTradeInfoRequest.Validate does.
func (r DisassociateTradeInfoRequest) Validate() error {
	return AssociateTradeInfoRequest(r).Validate()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r ReturnCouponRequest) Validate() error {
	var v validator
	v.couponCode("coupon_code", r.CouponCode)
	v.stockID(r.StockID)
	v.requestNo("return_request_no", r.ReturnRequestNo) // string(128) (page: return coupon)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r DeactivateCouponRequest) Validate() error {
	var v validator
	v.couponCode("coupon_code", r.CouponCode)
	v.stockID(r.StockID)
	v.requestNo("deactivate_request_no", r.DeactivateRequestNo) // string(128) (page: deactivate coupon)
	v.text("deactivate_reason", r.DeactivateReason, false, 0)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil. That
// SendTime is at most 24 hours old is WeChat Pay's check, on its clock.
func (r SendGovCardRequest) Validate() error {
	var v validator
	v.pathID("card_id", r.CardID, govCardIDMaxLen)
	v.identifier("appid", r.AppID, appIDMaxLen)
	v.identifier("openid", r.OpenID, openIDMaxLen)
	v.identifier("out_request_no", r.OutRequestNo, govCardRequestNoMaxLen)
	if r.SendTime.IsZero() {
		v.add("send_time", "is required: when the card is sent")
	}
	return v.err()
}

// fmt and slog print these types with personal data and coupon codes
// masked (see privacy.go); json.Marshal is unchanged.

// Format prints r as fmt does, openids and coupon codes masked.
func (r SendCouponRequest) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r SendCouponRequest) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r SendCouponResponse) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r SendCouponResponse) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r UseCouponRequest) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r UseCouponRequest) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r UseCouponResponse) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r UseCouponResponse) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r GetUserCouponRequest) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r GetUserCouponRequest) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r GetUserCouponResponse) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r GetUserCouponResponse) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r ListUserCouponsRequest) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r ListUserCouponsRequest) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r ListUserCouponsResponse) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r ListUserCouponsResponse) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r AssociateTradeInfoRequest) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r AssociateTradeInfoRequest) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r DisassociateTradeInfoRequest) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r DisassociateTradeInfoRequest) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r ReturnCouponRequest) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r ReturnCouponRequest) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r DeactivateCouponRequest) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r DeactivateCouponRequest) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r SendGovCardRequest) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r SendGovCardRequest) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r SendGovCardResponse) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r SendGovCardResponse) LogValue() slog.Value { return logValue(masked(r)) }
