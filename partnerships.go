package busifavor

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// 委托营销 (partnerships): a merchant authorizes another merchant, or an
// appid's mini program, to send the coupons of one of its stocks. Pages
// (direct-merchant and service-provider versions of each; the fields and
// rules are the same):
//
//   - 建立合作关系 POST /v3/marketing/partnerships/build:
//     https://pay.weixin.qq.com/docs/merchant/apis/commissioned-marketing/partnerships/build-partnerships.html
//     (service provider: https://pay.weixin.qq.com/docs/partner/products/commissioned-marketing/apilist.html)
//   - 终止合作关系 POST /v3/marketing/partnerships/terminate:
//     https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter9_5_2.shtml
//     (service provider: https://pay.weixin.qq.com/doc/v3/partner/4017171868)
//   - 查询合作关系列表 GET /v3/marketing/partnerships:
//     https://pay.weixin.qq.com/docs/merchant/apis/commissioned-marketing/partnerships/list-partnerships.html
//     (service provider: https://pay.weixin.qq.com/docs/partner/apis/commissioned-marketing/partnerships/list-partnerships.html;
//     old wiki: https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter9_5_3.shtml)
//
// The Idempotency-Key header (业务请求幂等值) is what the pages say of it and
// no more: required on build and terminate, 1 to 48 bytes (terminate pages:
// string[1,48]) of letters, digits and | _ * -, and 商户侧需保持唯一性 (the
// merchant keeps it unique). No page says what WeChat Pay answers when a key
// comes again, with the same body or another.

// partnershipsPath is the partnerships collection.
const partnershipsPath = "/v3/marketing/partnerships"

// Documented limits of the partnership endpoints.
const (
	// IdempotencyKeyMaxLen bounds the Idempotency-Key header (terminate
	// pages: Idempotency-Key string[1,48]; the build pages give no length
	// and are held to the same).
	idempotencyKeyMaxLen = 48
	// MaxPartnershipsPerPage is the largest page ListPartnerships may ask for
	// (list pages: 分页大小,最大50; 0 leaves it to WeChat Pay, 不传默认为20).
	MaxPartnershipsPerPage = 50
)

// PartnerType is who a partnership authorizes (合作方类别).
type PartnerType string

// The documented partner types.
const (
	// PartnerTypeAppID is an appid, whose mini program then offers the
	// stock's coupons (合作方为APPID).
	PartnerTypeAppID PartnerType = "APPID"
	// PartnerTypeMerchant is another merchant, which then sends the stock's
	// coupons itself (合作方为商户).
	PartnerTypeMerchant PartnerType = "MERCHANT"
)

// BusinessType is what a partnership authorizes (授权业务类别). Values newer
// than this package are kept as they came in answers.
type BusinessType string

// The documented business types.
const (
	// BusinessTypeBusifavorStock is a merchant-coupon stock (商家券批次).
	BusinessTypeBusifavorStock BusinessType = "BUSIFAVOR_STOCK"
	// BusinessTypeFavorStock is a payment-coupon stock (代金券批次), which
	// takes no MERCHANT partner (暂不支持合作方为商户的场景: old list and
	// terminate pages).
	BusinessTypeFavorStock BusinessType = "FAVOR_STOCK"
)

// PartnershipState is a partnership's state (合作状态). Values newer than
// this package are kept as they came; only ESTABLISHED authorizes anything.
type PartnershipState string

// The documented partnership states.
const (
	PartnershipStateEstablished PartnershipState = "ESTABLISHED" // 已建立
	PartnershipStateTerminated  PartnershipState = "TERMINATED"  // 已终止
)

// Partner is the other side of a partnership (合作方信息).
type Partner struct {
	// Type says which of AppID and MerchantID names the partner.
	Type PartnerType `json:"type" required:"page"`
	// AppID is the partner appid (string[1,32]); required with
	// PartnerTypeAppID.
	AppID string `json:"appid,omitempty"`
	// MerchantID is the partner merchant (string[8,15]); required with
	// PartnerTypeMerchant.
	MerchantID string `json:"merchant_id,omitempty"`
}

// AuthorizedData is what a partnership authorizes (被授权数据): one stock.
type AuthorizedData struct {
	// BusinessType is the kind of stock.
	BusinessType BusinessType `json:"business_type" required:"page"`
	// StockID is the stock (string[1,20]); required to build or terminate
	// (授权业务类别为券批次时必填, and both business types are stocks).
	StockID string `json:"stock_id,omitempty"`
	// Scenarios are the scenes authorized (授权场景), as list answers carry
	// them; no page lets a request set them.
	Scenarios []string `json:"scenarios,omitempty"`
}

// BuildPartnershipRequest authorizes a partner to send a stock's coupons
// (建立合作关系).
type BuildPartnershipRequest struct {
	// IdempotencyKey is the Idempotency-Key header (业务请求幂等值): 1 to 48
	// bytes of letters, digits and | _ * -, unique per build or terminate on
	// the merchant's side. Keep it with the request and send the same key
	// when trying again; nothing generates one.
	IdempotencyKey string `json:"-"`
	// Partner is who is authorized.
	Partner Partner `json:"partner"`
	// AuthorizedData is the stock.
	AuthorizedData AuthorizedData `json:"authorized_data"`
}

// TerminatePartnershipRequest ends a partnership (终止合作关系). Its fields
// are those of BuildPartnershipRequest.
type TerminatePartnershipRequest struct {
	// IdempotencyKey is the Idempotency-Key header, as in
	// BuildPartnershipRequest; a terminate needs a key of its own.
	IdempotencyKey string `json:"-"`
	// Partner is the partner.
	Partner Partner `json:"partner"`
	// AuthorizedData is the stock.
	AuthorizedData AuthorizedData `json:"authorized_data"`
}

// Partnership is a partnership as WeChat Pay answers it: BuildPartnership's
// answer, or one item of a list.
type Partnership struct {
	// Partner is who is authorized.
	Partner Partner `json:"partner"`
	// AuthorizedData is the stock.
	AuthorizedData AuthorizedData `json:"authorized_data"`
	// State is the partnership's state. The list pages document no state
	// for their items: it is empty there, and TerminateTime says whether an
	// item was terminated.
	State PartnershipState `json:"state,omitempty"`
	// BuildTime is when the partnership was (last) established.
	BuildTime time.Time `json:"build_time,omitzero"`
	// TerminateTime is when it was terminated; zero while it stands.
	TerminateTime time.Time `json:"terminate_time,omitzero"`
	// CreateTime is when WeChat Pay first recorded it.
	CreateTime time.Time `json:"create_time,omitzero"`
	// UpdateTime is when it last changed.
	UpdateTime time.Time `json:"update_time,omitzero"`
}

// BuildPartnershipResponse is WeChat Pay's answer to BuildPartnership: the
// partnership built.
type BuildPartnershipResponse struct {
	Partnership
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// TerminatePartnershipResponse is WeChat Pay's answer to TerminatePartnership.
type TerminatePartnershipResponse struct {
	// TerminateTime is when the partnership ended, the one field the page
	// answers.
	TerminateTime time.Time `json:"terminate_time" required:"page"`
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// ListPartnershipsRequest selects a page of the merchant's partnerships
// (查询合作关系列表).
type ListPartnershipsRequest struct {
	// Partner, when its Type is set, selects one partner or, with AppID and
	// MerchantID empty, one kind of partner (the old list page's example
	// filters by type alone). The zero Partner selects every partner.
	Partner Partner
	// AuthorizedData selects the stocks: BusinessType is required (被授权数据必填);
	// StockID selects one stock. The field table makes StockID
	// required for stocks, the old page's example leaves it out: both are
	// accepted.
	AuthorizedData AuthorizedData
	// Limit is the page size, at most MaxPartnershipsPerPage; 0 leaves it
	// to WeChat Pay (20).
	Limit int64
	// Offset is the page number, from 0 (分页页码,页码从0开始), not an item
	// count.
	Offset int64
}

// ListPartnershipsResponse is one page of partnerships.
type ListPartnershipsResponse struct {
	// Data is this page; the pages do not say that items carry a State.
	Data []Partnership `json:"data,omitempty"`
	// TotalCount is every partnership that matches. The pages return it
	// only when Offset is 0 or the page is empty (当offset=0或者当前查询为空时返回):
	// 0 on the other pages.
	TotalCount int64 `json:"total_count,omitempty"`
	// Offset is the page number, as asked.
	Offset int64 `json:"offset" required:"page"`
	// Limit is the page size WeChat Pay used.
	Limit int64 `json:"limit" required:"page"`
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// headerBody is a JSON body sent with extra headers, the same on every
// attempt (see Client.attempt).
type headerBody struct {
	header http.Header
	body   any
}

// idempotent is body sent with the Idempotency-Key header key.
func idempotent(key string, body any) *headerBody {
	return &headerBody{header: http.Header{"Idempotency-Key": {key}}, body: body}
}

// BuildPartnership authorizes a partner to send a stock's coupons (建立合作关系):
// a MERCHANT partner then sends them itself (SendCoupon, or the send
// channels with itself as send_coupon_merchant, signing with its own APIv2
// key); an APPID partner's mini program offers them.
//
// A failed attempt (a 5xx, no answer) is retried with the same
// Idempotency-Key, as the rest of the request is the same. What WeChat Pay
// does with a key it has seen is not on the pages (see IdempotencyKeyMaxLen
// and the package's partnership notes); keep the key, and after an error
// call again with it, or read the state with ListPartnerships.
//
// The answer's partner, authorized_data, state and build_time are required
// (build page: 必填): an answer without them is ErrMalformedResponse. State
// is as WeChat Pay answered: only PartnershipStateEstablished means the
// partner may send.
//
// WeChat Pay API: POST /v3/marketing/partnerships/build
// https://pay.weixin.qq.com/docs/merchant/apis/commissioned-marketing/partnerships/build-partnerships.html
func (c *Client) BuildPartnership(ctx context.Context, req BuildPartnershipRequest) (*BuildPartnershipResponse, error) {
	out := &BuildPartnershipResponse{}
	if err := c.send(ctx, "BuildPartnership", req, http.MethodPost, partnershipsPath+"/build", nil,
		idempotent(req.IdempotencyKey, req), out); err != nil {
		return nil, err
	}
	var missing []string
	for _, f := range []struct {
		name  string
		empty bool
	}{{"partner", out.Partner.Type == ""}, {"authorized_data", out.AuthorizedData.BusinessType == ""},
		{"state", out.State == ""}, {"build_time", out.BuildTime.IsZero()}} {
		if f.empty {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: required field %v missing or empty (build page: 必填)", ErrMalformedResponse, missing)
	}
	return out, nil
}

// TerminatePartnership ends a partnership (终止合作关系): its partner may no
// longer send the stock's coupons. Retries resend the same Idempotency-Key,
// as BuildPartnership's do.
//
// WeChat Pay API: POST /v3/marketing/partnerships/terminate
// https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter9_5_2.shtml
// (service provider: https://pay.weixin.qq.com/doc/v3/partner/4017171868)
func (c *Client) TerminatePartnership(ctx context.Context, req TerminatePartnershipRequest) (*TerminatePartnershipResponse, error) {
	out := &TerminatePartnershipResponse{}
	if err := c.send(ctx, "TerminatePartnership", req, http.MethodPost, partnershipsPath+"/terminate", nil,
		idempotent(req.IdempotencyKey, req), out); err != nil {
		return nil, err
	}
	return out, nil
}

// ListPartnerships reads one page of the merchant's partnerships (查询合作关系列表);
// partner and authorized_data go in the query as JSON strings.
// AllPartnerships walks every page. The list page also says that an empty
// result is returned as an error (如查询结果为0,将在控制流返回错误) without
// naming its code, and that total_count is returned when the query is empty:
// both may happen.
//
// WeChat Pay API: GET /v3/marketing/partnerships
// https://pay.weixin.qq.com/docs/merchant/apis/commissioned-marketing/partnerships/list-partnerships.html
func (c *Client) ListPartnerships(ctx context.Context, req ListPartnershipsRequest) (*ListPartnershipsResponse, error) {
	q := url.Values{}
	if req.Partner != (Partner{}) {
		q.Set("partner", jsonString(req.Partner))
	}
	q.Set("authorized_data", jsonString(req.AuthorizedData))
	if req.Limit > 0 {
		q.Set("limit", strconv.FormatInt(req.Limit, 10))
	}
	if req.Offset > 0 {
		q.Set("offset", strconv.FormatInt(req.Offset, 10))
	}
	out := &ListPartnershipsResponse{}
	if err := c.send(ctx, "ListPartnerships", req, http.MethodGet, partnershipsPath, q, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}

// jsonString is v as the JSON string a query parameter carries. v is one of
// this file's plain structs, which always marshal.
func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// AllPartnerships yields every partnership ListPartnerships would page
// through, from page req.Offset, each once. The pages count by page number
// and carry total_count only on page 0 (or an empty page), so the walk
// takes the total from there: when it starts past page 0 it first reads
// page 0 for it. It stops after the last partnership total_count promises,
// when the caller stops ranging, and after the first error, yielded with a
// zero Partnership: an *APIError or transport error; ErrMalformedResponse
// when page 0 holds partnerships but no total_count; ErrPaging when the
// pages do not add up (an empty page or a short one before the end, a page
// with nothing new), so that a broken server cannot make it loop.
func (c *Client) AllPartnerships(ctx context.Context, req ListPartnershipsRequest) iter.Seq2[Partnership, error] {
	return func(yield func(Partnership, error) bool) {
		// total is the latest total_count read, -1 until one is. An absent
		// total_count reads as 0, which is a total only for an empty page
		// before any other total is known: an empty page in the middle
		// leaves the known total, so that the walk reports it (ErrPaging).
		total := int64(-1)
		note := func(p *ListPartnershipsResponse) {
			if p.TotalCount > 0 || len(p.Data) == 0 && total < 0 {
				total = p.TotalCount
			}
		}
		noTotal := func(p *ListPartnershipsResponse) error {
			return fmt.Errorf("%w: page 0 of the partnerships holds %d items but no total_count", ErrMalformedResponse, len(p.Data))
		}
		walk := walkPages(req.Offset, true, partnershipKey, func(offset int64) (listPage[Partnership], error) {
			r := req
			r.Offset = offset
			page, err := c.ListPartnerships(ctx, r)
			if err != nil {
				return listPage[Partnership]{}, err
			}
			note(page)
			if total < 0 && offset == 0 {
				return listPage[Partnership]{}, noTotal(page)
			}
			if total < 0 { // started past page 0: read the total there
				r.Offset = 0
				first, err := c.ListPartnerships(ctx, r)
				if err != nil {
					return listPage[Partnership]{}, err
				}
				if note(first); total < 0 {
					return listPage[Partnership]{}, noTotal(first)
				}
			}
			return listPage[Partnership]{items: page.Data, total: total, limit: page.Limit}, nil
		})
		walk(yield)
	}
}

// partnershipKey identifies a partnership in a walk: partner and stock.
func partnershipKey(p Partnership) string {
	return strings.Join([]string{string(p.Partner.Type), p.Partner.AppID, p.Partner.MerchantID,
		string(p.AuthorizedData.BusinessType), p.AuthorizedData.StockID}, "\x00")
}

var (
	partnerTypes  = []PartnerType{PartnerTypeAppID, PartnerTypeMerchant}
	businessTypes = []BusinessType{BusinessTypeBusifavorStock, BusinessTypeFavorStock}
)

// Validate checks the request against every documented rule and returns a
// *ValidationError listing each broken one, or nil.
func (r BuildPartnershipRequest) Validate() error {
	var v validator
	v.idempotencyKey(r.IdempotencyKey)
	v.partnership(r.Partner, r.AuthorizedData, true)
	return v.err()
}

// Validate checks the request as BuildPartnershipRequest.Validate does.
func (r TerminatePartnershipRequest) Validate() error {
	var v validator
	v.idempotencyKey(r.IdempotencyKey)
	v.partnership(r.Partner, r.AuthorizedData, true)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r ListPartnershipsRequest) Validate() error {
	var v validator
	v.partnership(r.Partner, r.AuthorizedData, false)
	if r.Limit < 0 || r.Limit > MaxPartnershipsPerPage {
		v.add("limit", "must be 1 to %d (分页大小,最大%d), or 0 for WeChat Pay's default of 20; got %d",
			MaxPartnershipsPerPage, MaxPartnershipsPerPage, r.Limit)
	}
	if r.Offset < 0 {
		v.add("offset", "must not be negative: it is the page number, from 0")
	}
	return v.err()
}

// idempotencyKey checks the Idempotency-Key header: 1 to 48 bytes of
// letters, digits and | _ * - (可包含英文字母,数字,|,_,*,-等内容,不允许出现其他不合法符号).
// A header carries ASCII only, so the full-width ｜ that
// merchantNo accepts in bodies is refused here.
func (v *validator) idempotencyKey(s string) {
	const f = "Idempotency-Key"
	if s == "" {
		v.add(f, "is required: a key of your own, unique per build or terminate; send the same key again when retrying")
		return
	}
	if len(s) > idempotencyKeyMaxLen {
		v.add(f, "must be 1 to %d bytes long, got %d", idempotencyKeyMaxLen, len(s))
	}
	for i, r := range s {
		if !(isAlnum(r) || strings.ContainsRune("|_*-", r)) {
			v.add(f, "has %q at byte %d; use only letters, digits and | _ * -", r, i)
			return
		}
	}
}

// partnership checks a partner and the stock it is authorized for. strict
// (build, terminate) requires the partner and the stock id; a list filter
// may leave out the whole partner, or the partner's id and the stock id.
func (v *validator) partnership(p Partner, d AuthorizedData, strict bool) {
	if strict || p != (Partner{}) {
		oneOf(v, "partner.type", p.Type, true, partnerTypes)
	}
	switch {
	case p.Type == PartnerTypeAppID && strict && p.AppID == "":
		v.add("partner.appid", "is required for an APPID partner (合作方类别为APPID时必填)")
	case p.Type == PartnerTypeMerchant && strict && p.MerchantID == "":
		v.add("partner.merchant_id", "is required for a MERCHANT partner (合作方类别为MERCHANT时必填)")
	}
	if p.AppID != "" {
		v.identifier("partner.appid", p.AppID, appIDMaxLen)
	}
	if p.MerchantID != "" {
		v.merchantID("partner.merchant_id", p.MerchantID)
	}
	oneOf(v, "authorized_data.business_type", d.BusinessType, true, businessTypes)
	if d.BusinessType == BusinessTypeFavorStock && p.Type == PartnerTypeMerchant {
		v.add("authorized_data.business_type", "FAVOR_STOCK takes no MERCHANT partner (暂不支持合作方为商户的场景); use an APPID partner")
	}
	if strict || d.StockID != "" {
		v.identifier("authorized_data.stock_id", d.StockID, stockIDMaxLen)
	}
	if len(d.Scenarios) > 0 {
		v.add("authorized_data.scenarios", "is set by WeChat Pay in list answers; no page lets a request set it: leave it empty")
	}
}
