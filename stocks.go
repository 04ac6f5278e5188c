package busifavor

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// stocksPath is the stocks collection; stockPath names one stock.
const stocksPath = "/v3/marketing/busifavor/stocks"

func stockPath(stockID string) string { return stocksPath + "/" + url.PathEscape(stockID) }

// StockType is a stock's kind (批次类型); it says which coupon rule of
// CouponUseRule applies.
type StockType string

// The documented stock types.
const (
	StockTypeNormal   StockType = "NORMAL"   // fixed amount off above a minimum (固定面额满减券)
	StockTypeDiscount StockType = "DISCOUNT" // percentage off (折扣券)
	StockTypeExchange StockType = "EXCHANGE" // buy an item at a fixed price (换购券)
)

// CouponCodeMode says where a stock's coupon codes come from (券code模式).
type CouponCodeMode string

// The documented coupon code modes.
const (
	// CouponCodeModeWechatPay: WeChat Pay assigns the codes.
	CouponCodeModeWechatPay CouponCodeMode = "WECHATPAY_MODE"
	// CouponCodeModeMerchantAPI: the merchant names the code when it sends a
	// coupon; no codes are uploaded.
	CouponCodeModeMerchantAPI CouponCodeMode = "MERCHANT_API"
	// CouponCodeModeMerchantUpload: the merchant uploads codes beforehand
	// (UploadCouponCodes) and each send takes one of them. Only stocks in
	// this mode accept uploads.
	CouponCodeModeMerchantUpload CouponCodeMode = "MERCHANT_UPLOAD"
)

// CouponUseMethod is how a coupon is redeemed (核销方式).
type CouponUseMethod string

// The documented use methods.
const (
	CouponUseMethodOffline      CouponUseMethod = "OFF_LINE"      // at the till (线下滴码核销)
	CouponUseMethodMiniPrograms CouponUseMethod = "MINI_PROGRAMS" // in the merchant's mini program (线上小程序核销)
	CouponUseMethodSelfConsume  CouponUseMethod = "SELF_CONSUME"  // by the user (用户自助核销)
	CouponUseMethodPaymentCode  CouponUseMethod = "PAYMENT_CODE"  // with the payment code (付款码核销)
)

// CodeDisplayMode is how the coupon code shows on the card (code展示模式).
type CodeDisplayMode string

// The documented code display modes.
const (
	CodeDisplayModeNotShow CodeDisplayMode = "NOT_SHOW"
	CodeDisplayModeBarcode CodeDisplayMode = "BARCODE"
	CodeDisplayModeQRCode  CodeDisplayMode = "QRCODE"
)

// StockState is a stock's state (批次状态). Values newer than this package
// are kept as they came.
type StockState string

// The documented stock states. STOPED is WeChat Pay's spelling.
const (
	StockStateUnaudit StockState = "UNAUDIT" // under review (审核中)
	StockStateRunning StockState = "RUNNING" // sending (运行中)
	StockStateStopped StockState = "STOPED"  // stopped (已停止)
	StockStatePaused  StockState = "PAUSED"  // sending paused (暂停发放)
)

// CreateStockRequest is the body of POST /v3/marketing/busifavor/stocks: a
// new coupon stock (商家券批次). Validate lists the rules.
type CreateStockRequest struct {
	// StockName is shown to users: at most 21 characters (字数).
	StockName string `json:"stock_name"`
	// BelongMerchant is the merchant the stock belongs to: the calling
	// merchant, or a sub-merchant for a service provider. 8 to 15 bytes.
	BelongMerchant string `json:"belong_merchant"`
	// Comment is seen only by the merchant: at most 20 characters.
	Comment string `json:"comment,omitempty"`
	// GoodsName says what the coupon applies to, shown in the user's card
	// wallet: at most 15 characters.
	GoodsName string `json:"goods_name"`
	// StockType selects which coupon rule of CouponUseRule must be set.
	StockType StockType `json:"stock_type"`
	// CouponUseRule says when and how coupons are redeemed.
	CouponUseRule CouponUseRule `json:"coupon_use_rule"`
	// StockSendRule says how many coupons are sent and to whom.
	StockSendRule StockSendRule `json:"stock_send_rule"`
	// OutRequestNo is the merchant's unique number for this creation
	// (商户请求单号, "merchant id + date + serial"), 1 to 128 bytes. It makes
	// CreateStock safe to retry: the same number creates one stock.
	OutRequestNo string `json:"out_request_no"`
	// CustomEntrance adds entrances (mini program, official account, …) to
	// the coupon's detail page.
	CustomEntrance *CustomEntrance `json:"custom_entrance,omitempty"`
	// DisplayPatternInfo is the coupon's look.
	DisplayPatternInfo *DisplayPatternInfo `json:"display_pattern_info,omitempty"`
	// CouponCodeMode says where codes come from.
	CouponCodeMode CouponCodeMode `json:"coupon_code_mode"`
	// NotifyConfig sets the appid used to compute openids in events.
	NotifyConfig *NotifyConfig `json:"notify_config,omitempty"`
}

// CouponUseRule is a stock's redemption rule (核销规则). Exactly one of
// FixedNormalCoupon, DiscountCoupon and ExchangeCoupon is set: the one that
// matches the stock type.
type CouponUseRule struct {
	// CouponAvailableTime is when coupons can be used.
	CouponAvailableTime AvailableTime `json:"coupon_available_time" required:"models"`
	// FixedNormalCoupon is the rule of a NORMAL stock.
	FixedNormalCoupon *FixedNormalCoupon `json:"fixed_normal_coupon,omitempty"`
	// DiscountCoupon is the rule of a DISCOUNT stock.
	DiscountCoupon *DiscountCoupon `json:"discount_coupon,omitempty"`
	// ExchangeCoupon is the rule of an EXCHANGE stock.
	ExchangeCoupon *ExchangeCoupon `json:"exchange_coupon,omitempty"`
	// UseMethod is how coupons are redeemed.
	UseMethod CouponUseMethod `json:"use_method" required:"models"`
	// MiniProgramsAppID is the mini program that redeems coupons; only with
	// CouponUseMethodMiniPrograms.
	MiniProgramsAppID string `json:"mini_programs_appid,omitempty"`
	// MiniProgramsPath is the page in that mini program; only with
	// CouponUseMethodMiniPrograms.
	MiniProgramsPath string `json:"mini_programs_path,omitempty"`
}

// AvailableTime is when coupons can be used (券可核销时间): a window of at
// most a year, optionally narrowed to days after receipt, weekdays and hours,
// or irregular ranges.
type AvailableTime struct {
	// AvailableBeginTime starts the window.
	AvailableBeginTime time.Time `json:"available_begin_time" required:"models"`
	// AvailableEndTime ends it: after the begin time, at most a year later.
	AvailableEndTime time.Time `json:"available_end_time" required:"models"`
	// AvailableDayAfterReceive, when positive, makes a coupon usable for that
	// many days once it takes effect (生效后N天内有效); never past the window.
	AvailableDayAfterReceive int64 `json:"available_day_after_receive,omitempty"`
	// AvailableWeek limits use to weekdays and hours of the day.
	AvailableWeek *AvailableWeek `json:"available_week,omitempty"`
	// IrregularAvailableTime limits use to up to two non-overlapping ranges.
	// The JSON name is WeChat Pay's spelling.
	IrregularAvailableTime []TimeRange `json:"irregulary_avaliable_time,omitempty"`
	// WaitDaysAfterReceive delays a received coupon by that many days, at most
	// 30; it needs AvailableDayAfterReceive.
	WaitDaysAfterReceive int64 `json:"wait_days_after_receive,omitempty"`
}

// AvailableWeek limits use to weekdays and, on those days, to up to two
// ranges of the day.
type AvailableWeek struct {
	// WeekDay lists the days (time.Sunday is 0, as on the wire); required when
	// AvailableDayTime is set.
	WeekDay []time.Weekday `json:"week_day,omitempty"`
	// AvailableDayTime is at most two non-overlapping ranges of the day.
	AvailableDayTime []DayTimeRange `json:"available_day_time,omitempty"`
}

// DayTimeRange is a range of the day in seconds since midnight: 0 is
// 00:00:00 and 86399 is 23:59:59.
type DayTimeRange struct {
	// BeginTime is the first second of the range.
	BeginTime int64 `json:"begin_time"`
	// EndTime is the last second, after BeginTime.
	EndTime int64 `json:"end_time"`
}

// TimeRange is an irregular range of use (无规律的有效时间).
type TimeRange struct {
	// BeginTime starts the range.
	BeginTime time.Time `json:"begin_time"`
	// EndTime ends it, after BeginTime.
	EndTime time.Time `json:"end_time"`
}

// FixedNormalCoupon is a NORMAL stock's rule: DiscountAmount 分 off a
// purchase of at least TransactionMinimum 分.
type FixedNormalCoupon struct {
	// DiscountAmount is the amount off, in 分: 1 to 10,000,000.
	DiscountAmount int64 `json:"discount_amount"`
	// TransactionMinimum is the least purchase, in 分: 1 to 10,000,000.
	TransactionMinimum int64 `json:"transaction_minimum"`
}

// DiscountCoupon is a DISCOUNT stock's rule: pay DiscountPercent percent
// (88 is 12% off) of a purchase of at least TransactionMinimum 分.
type DiscountCoupon struct {
	// DiscountPercent is the percentage paid, as in 88 for 88折.
	DiscountPercent int64 `json:"discount_percent"`
	// TransactionMinimum is the least purchase, in 分: 1 to 10,000,000.
	TransactionMinimum int64 `json:"transaction_minimum"`
}

// ExchangeCoupon is an EXCHANGE stock's rule: buy the item for
// ExchangePrice 分 with a purchase of at least TransactionMinimum 分.
type ExchangeCoupon struct {
	// ExchangePrice is the item's price, in 分: 0 to 10,000,000.
	ExchangePrice int64 `json:"exchange_price"`
	// TransactionMinimum is the least purchase, in 分: 1 to 10,000,000.
	TransactionMinimum int64 `json:"transaction_minimum"`
}

// StockSendRule is a stock's sending rule (发放规则).
type StockSendRule struct {
	// MaxCoupons caps the coupons sent, 1 to 1,000,000,000 when set.
	MaxCoupons int64 `json:"max_coupons,omitempty"`
	// MaxCouponsPerUser caps the coupons one user may receive: 1 to 100.
	MaxCouponsPerUser int64 `json:"max_coupons_per_user"`
	// MaxCouponsByDay caps the coupons sent per day, 1 to 1,000,000,000 when
	// set; only for DISCOUNT and EXCHANGE stocks.
	MaxCouponsByDay int64 `json:"max_coupons_by_day,omitempty"`
	// NaturalPersonLimit counts all accounts of one identity together
	// against MaxCouponsPerUser (自然人防刷).
	NaturalPersonLimit bool `json:"natural_person_limit,omitempty"`
	// PreventAPIAbuse turns on WeChat Pay's anti-abuse checks (防刷).
	PreventAPIAbuse bool `json:"prevent_api_abuse,omitempty"`
	// MaxAmount is the total budget in 分 (总预算金额). 暂未开放 (not open
	// yet, models): read from answers, refused in requests.
	MaxAmount int64 `json:"max_amount,omitempty"`
	// MaxAmountByDay is the daily budget in 分 (单天发放上限金额). 暂未开放:
	// read from answers, refused in requests.
	MaxAmountByDay int64 `json:"max_amount_by_day,omitempty"`
	// Transferable says whether the coupon may be given to a friend. 暂未开放:
	// read from answers, refused in requests.
	Transferable bool `json:"transferable,omitempty"`
	// Shareable says whether the coupon may be shared. 暂未开放: read from
	// answers, refused in requests.
	Shareable bool `json:"shareable,omitempty"`
}

// CustomEntrance is the entrances on a coupon's detail page (自定义入口).
type CustomEntrance struct {
	// MiniProgramsInfo is a mini program entrance.
	MiniProgramsInfo *MiniProgramsInfo `json:"mini_programs_info,omitempty"`
	// AppID is an official account users can go to.
	AppID string `json:"appid,omitempty"`
	// HallID is a WeChat Pay marketing hall (营销馆) id.
	HallID string `json:"hall_id,omitempty"`
	// StoreID is a store where the coupon can be used.
	StoreID string `json:"store_id,omitempty"`
	// CodeDisplayMode is how the code shows on the card.
	CodeDisplayMode CodeDisplayMode `json:"code_display_mode,omitempty"`
}

// MiniProgramsInfo is a mini program entrance on the coupon's detail page.
type MiniProgramsInfo struct {
	// MiniProgramsAppID is the mini program, bound to the stock's merchant.
	MiniProgramsAppID string `json:"mini_programs_appid"`
	// MiniProgramsPath is the page to open.
	MiniProgramsPath string `json:"mini_programs_path"`
	// EntranceWords is the entrance's text: at most 5 characters.
	EntranceWords string `json:"entrance_words"`
	// GuidingWords is an optional hint: at most 6 characters.
	GuidingWords string `json:"guiding_words,omitempty"`
}

// DisplayPatternInfo is a coupon's look (样式信息). Image URLs must come
// from WeChat Pay's marketing image upload API.
type DisplayPatternInfo struct {
	// Description is the detailed rules shown on the coupon's page: at most
	// 1000 bytes.
	Description string `json:"description,omitempty"`
	// MerchantLogoURL is the merchant's logo (120×120 px).
	MerchantLogoURL string `json:"merchant_logo_url,omitempty"`
	// MerchantName is filled in by WeChat Pay from the merchant's brand; at
	// most 16 bytes when set.
	MerchantName string `json:"merchant_name,omitempty"`
	// BackgroundColor is one of WeChat Pay's named card colors.
	BackgroundColor string `json:"background_color,omitempty"`
	// CouponImageURL is the coupon's picture (1074×603 px).
	CouponImageURL string `json:"coupon_image_url,omitempty"`
	// FinderInfo links a WeChat Channels (视频号) account.
	FinderInfo *FinderInfo `json:"finder_info,omitempty"`
}

// FinderInfo links a WeChat Channels account and video to the coupon.
type FinderInfo struct {
	// FinderID is the Channels account id.
	FinderID string `json:"finder_id,omitempty"`
	// FinderVideoID is a video of that account.
	FinderVideoID string `json:"finder_video_id,omitempty"`
	// FinderVideoCoverImageURL is the cover shown for it (716×402 px).
	FinderVideoCoverImageURL string `json:"finder_video_cover_image_url,omitempty"`
}

// NotifyConfig is a stock's event settings (事件回调通知商户的配置).
type NotifyConfig struct {
	// NotifyAppID is the mini program or official account whose openids
	// events carry; without it events carry no openid or unionid.
	NotifyAppID string `json:"notify_appid,omitempty"`
}

// CreateStockResponse is WeChat Pay's answer to CreateStock.
type CreateStockResponse struct {
	// StockID is the new stock's id (批次号).
	StockID string `json:"stock_id" required:"models"`
	// CreateTime is when the stock was created.
	CreateTime time.Time `json:"create_time" required:"models"`
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// Stock is a coupon stock as GetStock reads it.
type Stock struct {
	// StockID is the stock's id.
	StockID string `json:"stock_id" required:"models"`
	// StockName is shown to users.
	StockName string `json:"stock_name" required:"models"`
	// BelongMerchant is the merchant the stock belongs to.
	BelongMerchant string `json:"belong_merchant"`
	// Comment is seen only by the merchant.
	Comment string `json:"comment,omitempty"`
	// GoodsName says what the coupon applies to.
	GoodsName string `json:"goods_name"`
	// StockType is the stock's kind; unknown values are kept.
	StockType StockType `json:"stock_type" required:"models"`
	// CouponUseRule says when and how coupons are redeemed.
	CouponUseRule CouponUseRule `json:"coupon_use_rule"`
	// StockSendRule says how many coupons are sent and to whom.
	StockSendRule StockSendRule `json:"stock_send_rule"`
	// CustomEntrance is the entrances on the coupon's page, if any.
	CustomEntrance *CustomEntrance `json:"custom_entrance,omitempty"`
	// DisplayPatternInfo is the coupon's look, if set.
	DisplayPatternInfo *DisplayPatternInfo `json:"display_pattern_info,omitempty"`
	// StockState is the stock's state; unknown values are kept.
	StockState StockState `json:"stock_state" required:"models"`
	// CouponCodeMode says where codes come from.
	CouponCodeMode CouponCodeMode `json:"coupon_code_mode" required:"models"`
	// CouponCodeCount counts uploaded codes; only for MERCHANT_UPLOAD stocks.
	CouponCodeCount *CouponCodeCount `json:"coupon_code_count,omitempty"`
	// NotifyConfig is the stock's event settings, if set.
	NotifyConfig *NotifyConfig `json:"notify_config,omitempty"`
	// SendCountInformation counts what has been sent, when WeChat Pay says.
	SendCountInformation *SendCount `json:"send_count_information,omitempty"`
	// Subsidy reports whether the stock's coupons allow subsidies (补差).
	Subsidy bool `json:"subsidy,omitempty"`
}

// CouponCodeCount counts a MERCHANT_UPLOAD stock's uploaded codes.
type CouponCodeCount struct {
	// TotalCount is every code uploaded so far.
	TotalCount int64 `json:"total_count"`
	// AvailableCount is the codes not yet sent.
	AvailableCount int64 `json:"available_count"`
}

// SendCount is what a stock has sent (批次发放情况).
type SendCount struct {
	// TotalSendNum is the coupons sent.
	TotalSendNum int64 `json:"total_send_num,omitempty"`
	// TotalSendAmount is the budget sent, in 分 (NORMAL stocks).
	TotalSendAmount int64 `json:"total_send_amount,omitempty"`
	// TodaySendNum is the coupons sent today, for stocks with a daily cap.
	TodaySendNum int64 `json:"today_send_num,omitempty"`
	// TodaySendAmount is the budget sent today, in 分.
	TodaySendAmount int64 `json:"today_send_amount,omitempty"`
}

// GetStockRequest names the stock GetStock reads.
type GetStockRequest struct {
	// StockID is the stock's id: 1 to 20 bytes.
	StockID string
}

// GetStockResponse is WeChat Pay's answer to GetStock.
type GetStockResponse struct {
	Stock
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// UpdateStockRequest changes a stock's details (修改商家券基本信息). Only the
// fields set are sent; empty strings and nil pointers leave a detail as it
// is. The stock's name cannot be changed.
type UpdateStockRequest struct {
	// StockID is the stock to change, 1 to 20 bytes; it goes in the path.
	StockID string `json:"-"`
	// OutRequestNo is the merchant's unique number for this change, 1 to 128
	// bytes. It makes UpdateStock safe to retry.
	OutRequestNo string `json:"out_request_no"`
	// CustomEntrance changes the coupon page's entrances.
	CustomEntrance *UpdateCustomEntrance `json:"custom_entrance,omitempty"`
	// Comment changes the merchant's note: at most 20 characters.
	Comment string `json:"comment,omitempty"`
	// GoodsName changes what the coupon applies to: at most 15 characters.
	GoodsName string `json:"goods_name,omitempty"`
	// DisplayPatternInfo changes the coupon's look. The logo and the merchant
	// name cannot be changed.
	DisplayPatternInfo *DisplayPatternInfo `json:"display_pattern_info,omitempty"`
	// CouponUseRule changes how coupons are redeemed.
	CouponUseRule *UpdateCouponUseRule `json:"coupon_use_rule,omitempty"`
	// StockSendRule changes the anti-abuse setting.
	StockSendRule *UpdateStockSendRule `json:"stock_send_rule,omitempty"`
	// NotifyConfig changes the appid used for openids in events.
	NotifyConfig *NotifyConfig `json:"notify_config,omitempty"`
}

// UpdateCustomEntrance changes a coupon page's entrances; empty fields stay.
type UpdateCustomEntrance struct {
	// MiniProgramsInfo changes the mini program entrance.
	MiniProgramsInfo *UpdateMiniProgramsInfo `json:"mini_programs_info,omitempty"`
	// AppID changes the official account.
	AppID string `json:"appid,omitempty"`
	// HallID changes the marketing hall.
	HallID string `json:"hall_id,omitempty"`
	// CodeDisplayMode changes how the code shows.
	CodeDisplayMode CodeDisplayMode `json:"code_display_mode,omitempty"`
}

// UpdateMiniProgramsInfo changes a mini program entrance; empty fields stay.
type UpdateMiniProgramsInfo struct {
	// MiniProgramsAppID changes the mini program.
	MiniProgramsAppID string `json:"mini_programs_appid,omitempty"`
	// MiniProgramsPath changes the page.
	MiniProgramsPath string `json:"mini_programs_path,omitempty"`
	// EntranceWords changes the entrance text: at most 5 characters.
	EntranceWords string `json:"entrance_words,omitempty"`
	// GuidingWords changes the hint: at most 6 characters.
	GuidingWords string `json:"guiding_words,omitempty"`
}

// UpdateCouponUseRule changes how coupons are redeemed; empty fields stay.
type UpdateCouponUseRule struct {
	// UseMethod changes the redemption method.
	UseMethod CouponUseMethod `json:"use_method,omitempty"`
	// MiniProgramsAppID changes the redeeming mini program; only with
	// CouponUseMethodMiniPrograms.
	MiniProgramsAppID string `json:"mini_programs_appid,omitempty"`
	// MiniProgramsPath changes its page; only with CouponUseMethodMiniPrograms.
	MiniProgramsPath string `json:"mini_programs_path,omitempty"`
}

// UpdateStockSendRule changes a stock's anti-abuse setting. The
// natural-person limit cannot be changed.
type UpdateStockSendRule struct {
	// PreventAPIAbuse, when not nil, turns anti-abuse checks on or off.
	PreventAPIAbuse *bool `json:"prevent_api_abuse,omitempty"`
}

// UpdateStockResponse is WeChat Pay's answer to UpdateStock, which has no
// body.
type UpdateStockResponse struct {
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// UpdateStockBudgetRequest changes a stock's total or daily cap
// (修改批次预算): exactly one of the two per call, stating the current value
// so that a change based on a stale read is refused.
type UpdateStockBudgetRequest struct {
	// StockID is the stock, 1 to 20 bytes; it goes in the path.
	StockID string `json:"-"`
	// TargetMaxCoupons is the new total cap (1 to 1,000,000,000); set it or
	// TargetMaxCouponsByDay, not both.
	TargetMaxCoupons int64 `json:"target_max_coupons,omitempty"`
	// CurrentMaxCoupons is the total cap now; required with
	// TargetMaxCoupons.
	CurrentMaxCoupons int64 `json:"current_max_coupons,omitempty"`
	// TargetMaxCouponsByDay is the new daily cap (1 to 1,000,000,000).
	TargetMaxCouponsByDay int64 `json:"target_max_coupons_by_day,omitempty"`
	// CurrentMaxCouponsByDay is the daily cap now; required with
	// TargetMaxCouponsByDay.
	CurrentMaxCouponsByDay int64 `json:"current_max_coupons_by_day,omitempty"`
	// ModifyBudgetRequestNo is the merchant's unique number for this change,
	// 1 to 128 bytes. It makes UpdateStockBudget safe to retry.
	ModifyBudgetRequestNo string `json:"modify_budget_request_no"`
}

// UpdateStockBudgetResponse is WeChat Pay's answer to UpdateStockBudget: the
// caps now in effect.
type UpdateStockBudgetResponse struct {
	// MaxCoupons is the total cap.
	MaxCoupons int64 `json:"max_coupons" required:"models"`
	// MaxCouponsByDay is the daily cap, when the stock has one.
	MaxCouponsByDay int64 `json:"max_coupons_by_day,omitempty"`
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// CreateStock creates a coupon stock (创建商家券). The request is validated
// first; when it breaks a rule, a *ValidationError is returned and nothing is
// sent. It is retried like a GET (see # Retries): OutRequestNo makes a
// repeated creation return the first stock instead of a second one.
// ErrorCodeOf(err) == ErrorCodeResourceAlreadyExists means OutRequestNo
// was used before for a different stock (批次已存在).
//
// WeChat Pay API: POST /v3/marketing/busifavor/stocks
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/busi-favor/create-busifavor-stock.html
func (c *Client) CreateStock(ctx context.Context, req CreateStockRequest) (*CreateStockResponse, error) {
	out := &CreateStockResponse{}
	if err := c.send(ctx, "CreateStock", &req, http.MethodPost, stocksPath, nil, &req, out); err != nil {
		return nil, err
	}
	return out, nil
}

// GetStock reads a coupon stock (查询商家券详情).
// ErrorCodeOf(err) == ErrorCodeResourceNotExists means there is no such
// stock.
//
// WeChat Pay API: GET /v3/marketing/busifavor/stocks/{stock_id}
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/busi-favor/query-stock.html
func (c *Client) GetStock(ctx context.Context, req GetStockRequest) (*GetStockResponse, error) {
	out := &GetStockResponse{}
	if err := c.send(ctx, "GetStock", req, http.MethodGet, stockPath(req.StockID), nil, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateStock changes a stock's details (修改商家券基本信息). It is retried
// like a GET: OutRequestNo makes a repeated change take effect once.
//
// WeChat Pay API: PATCH /v3/marketing/busifavor/stocks/{stock_id}
// https://pay.weixin.qq.com/doc/v3/merchant/4015716868
func (c *Client) UpdateStock(ctx context.Context, req UpdateStockRequest) (*UpdateStockResponse, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	ctx, oc := c.observe(ctx, "UpdateStock", http.MethodPatch)
	a, err := c.do(ctx, "UpdateStock", http.MethodPatch, stockPath(req.StockID), nil, req)
	oc.end(err)
	if err != nil {
		return nil, err
	}
	return &UpdateStockResponse{Response: responseOf(a)}, nil
}

// UpdateStockBudget changes a stock's total or daily cap (修改批次预算). It
// is retried like a GET: ModifyBudgetRequestNo makes a repeated change take
// effect once. WeChat Pay refuses the change (PARAM_ERROR or
// INVALID_REQUEST) when the current cap stated is not the stock's.
//
// WeChat Pay API: PATCH /v3/marketing/busifavor/stocks/{stock_id}/budget
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/busi-favor/modify-budget.html
func (c *Client) UpdateStockBudget(ctx context.Context, req UpdateStockBudgetRequest) (*UpdateStockBudgetResponse, error) {
	out := &UpdateStockBudgetResponse{}
	if err := c.send(ctx, "UpdateStockBudget", &req, http.MethodPatch, stockPath(req.StockID)+"/budget", nil, &req, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Documented limits of the stock endpoints. Sources: the official API page
// of each endpoint ("page") and wechatpay-go v0.2.21's
// merchantexclusivecoupon models ("models"). 字数 limits count characters
// (runes), string[a,b] limits count bytes.
const (
	stockNameMaxRunes     = 21            // stock_name 字数上限21 (page, models)
	commentMaxRunes       = 20            // comment 字数上限20 (page, models)
	goodsNameMaxRunes     = 15            // goods_name 字数上限15 (page, models)
	entranceWordsMaxRunes = 5             // entrance_words 字数上限5 (models)
	guidingWordsMaxRunes  = 6             // guiding_words 字数上限6 (models)
	descriptionMaxLen     = 1000          // display_pattern_info.description string(1000) (page: modify stock)
	merchantNameMaxLen    = 16            // display_pattern_info.merchant_name string(16) (page: modify stock)
	maxAmount             = 10_000_000    // discount_amount, transaction_minimum, exchange_price ≤ 10000000 分 (models)
	maxCoupons            = 1_000_000_000 // max_coupons, max_coupons_by_day ≤ 1000000000 (models)
	maxCouponsPerUser     = 100           // 每个用户最多100张券 (models)
	maxWaitDays           = 30            // wait_days_after_receive 最大不能超过30天 (models)
	maxDayTimeRanges      = 2             // available_day_time 最多不超过2个 (models)
	maxIrregularRanges    = 2             // irregular ranges (page: coupon_available_time rules)
	lastSecondOfDay       = 86399         // 86399代表当天23点59分59秒 (models)
)

// stockTypes, codeModes, useMethods and displayModes are the documented
// values a stock request may carry.
var (
	stockTypes   = []StockType{StockTypeNormal, StockTypeDiscount, StockTypeExchange}
	codeModes    = []CouponCodeMode{CouponCodeModeWechatPay, CouponCodeModeMerchantAPI, CouponCodeModeMerchantUpload}
	useMethods   = []CouponUseMethod{CouponUseMethodOffline, CouponUseMethodMiniPrograms, CouponUseMethodSelfConsume, CouponUseMethodPaymentCode}
	displayModes = []CodeDisplayMode{CodeDisplayModeNotShow, CodeDisplayModeBarcode, CodeDisplayModeQRCode}
)

// Validate checks the request against every documented rule, cross-field
// ones included, and returns a *ValidationError naming each broken one by its
// JSON path (coupon_use_rule.fixed_normal_coupon.discount_amount), or nil.
func (r CreateStockRequest) Validate() error {
	var v validator
	v.text("stock_name", r.StockName, true, stockNameMaxRunes)
	if v.required("belong_merchant", r.BelongMerchant) {
		v.merchantID("belong_merchant", r.BelongMerchant)
	}
	v.text("comment", r.Comment, false, commentMaxRunes)
	v.text("goods_name", r.GoodsName, true, goodsNameMaxRunes)
	oneOf(&v, "stock_type", r.StockType, true, stockTypes)
	v.useRule(r.CouponUseRule, r.StockType)
	v.sendRule(r.StockSendRule, r.StockType)
	v.requestNo("out_request_no", r.OutRequestNo)
	if e := r.CustomEntrance; e != nil {
		if m := e.MiniProgramsInfo; m != nil {
			// page: APPID, path and entrance words are required for a mini program entrance.
			v.text("custom_entrance.mini_programs_info.mini_programs_appid", m.MiniProgramsAppID, true, 0)
			v.text("custom_entrance.mini_programs_info.mini_programs_path", m.MiniProgramsPath, true, 0)
			v.text("custom_entrance.mini_programs_info.entrance_words", m.EntranceWords, true, entranceWordsMaxRunes)
			v.text("custom_entrance.mini_programs_info.guiding_words", m.GuidingWords, false, guidingWordsMaxRunes)
		}
		oneOf(&v, "custom_entrance.code_display_mode", e.CodeDisplayMode, false, displayModes)
	}
	if d := r.DisplayPatternInfo; d != nil {
		v.displayPattern(d)
	}
	oneOf(&v, "coupon_code_mode", r.CouponCodeMode, true, codeModes)
	return v.err()
}

// useRule checks coupon_use_rule, whose coupon rule must match stockType.
func (v *validator) useRule(u CouponUseRule, stockType StockType) {
	const p = "coupon_use_rule."
	v.availableTime(p+"coupon_available_time.", u.CouponAvailableTime)
	// models: the three rules are mutually exclusive, each required for its stock type.
	isSet := map[StockType]bool{
		StockTypeNormal:   u.FixedNormalCoupon != nil,
		StockTypeDiscount: u.DiscountCoupon != nil,
		StockTypeExchange: u.ExchangeCoupon != nil,
	}
	for _, typ := range stockTypes {
		switch {
		case !slices.Contains(stockTypes, stockType): // stock_type itself is reported
		case typ == stockType && !isSet[typ]:
			v.add(p+ruleFor[typ], "is required for stock_type %s", stockType)
		case typ != stockType && isSet[typ]:
			v.add(p+ruleFor[typ], "must not be set for stock_type %s, which takes %s", stockType, ruleFor[stockType])
		}
	}
	if c := u.FixedNormalCoupon; c != nil {
		v.between(p+"fixed_normal_coupon.discount_amount", c.DiscountAmount, 1, maxAmount)
		v.between(p+"fixed_normal_coupon.transaction_minimum", c.TransactionMinimum, 1, maxAmount)
	}
	if c := u.DiscountCoupon; c != nil {
		if c.DiscountPercent <= 0 { // page: required; no range is documented beyond it
			v.add(p+"discount_coupon.discount_percent", "is required and must be positive, as in 88 for 88折")
		}
		v.between(p+"discount_coupon.transaction_minimum", c.TransactionMinimum, 1, maxAmount)
	}
	if c := u.ExchangeCoupon; c != nil {
		v.between(p+"exchange_coupon.exchange_price", c.ExchangePrice, 0, maxAmount)
		v.between(p+"exchange_coupon.transaction_minimum", c.TransactionMinimum, 1, maxAmount)
	}
	oneOf(v, p+"use_method", u.UseMethod, true, useMethods)
	v.miniProgramsOnly(p, u.UseMethod, u.MiniProgramsAppID, u.MiniProgramsPath)
}

// ruleFor names the coupon rule each stock type takes.
var ruleFor = map[StockType]string{
	StockTypeNormal:   "fixed_normal_coupon",
	StockTypeDiscount: "discount_coupon",
	StockTypeExchange: "exchange_coupon",
}

// miniProgramsOnly refuses mini program fields with another use method
// (models: 核销方式为线上小程序核销才有效).
func (v *validator) miniProgramsOnly(p string, m CouponUseMethod, appid, path string) {
	if m == "" || m == CouponUseMethodMiniPrograms {
		return
	}
	if appid != "" {
		v.add(p+"mini_programs_appid", "only applies when use_method is MINI_PROGRAMS, not %s", m)
	}
	if path != "" {
		v.add(p+"mini_programs_path", "only applies when use_method is MINI_PROGRAMS, not %s", m)
	}
}

// availableTime checks coupon_available_time; p ends with a dot.
func (v *validator) availableTime(p string, t AvailableTime) {
	begin, end := t.AvailableBeginTime, t.AvailableEndTime
	if begin.IsZero() {
		v.add(p+"available_begin_time", "is required")
	}
	if end.IsZero() {
		v.add(p+"available_end_time", "is required")
	}
	if !begin.IsZero() && !end.IsZero() {
		switch {
		case !end.After(begin):
			v.add(p+"available_end_time", "must be after available_begin_time")
		case end.After(begin.AddDate(1, 0, 0)): // models: 商家券有效期最长为1年
			v.add(p+"available_end_time", "must be at most one year after available_begin_time (商家券有效期最长为1年)")
		}
	}
	if t.AvailableDayAfterReceive < 0 {
		v.add(p+"available_day_after_receive", "must not be negative; 0 leaves it unset")
	}
	switch w := t.WaitDaysAfterReceive; {
	case w < 0 || w > maxWaitDays:
		v.add(p+"wait_days_after_receive", "must be 0 to %d days, got %d", maxWaitDays, w)
	case w > 0 && t.AvailableDayAfterReceive <= 0: // models: 需配合available_day_after_receive一同填写
		v.add(p+"wait_days_after_receive", "needs available_day_after_receive: set both or neither")
	}
	if w := t.AvailableWeek; w != nil {
		for i, d := range w.WeekDay {
			if d < time.Sunday || d > time.Saturday {
				v.add(p+"available_week.week_day"+index(i), "must be 0 (Sunday) to 6 (Saturday), got %d", d)
			}
		}
		if len(w.AvailableDayTime) > 0 && len(w.WeekDay) == 0 { // models: 当填写available_day_time时，week_day必填
			v.add(p+"available_week.week_day", "is required when available_day_time is set")
		}
		if n := len(w.AvailableDayTime); n > maxDayTimeRanges {
			v.add(p+"available_week.available_day_time", "must have at most %d ranges, got %d", maxDayTimeRanges, n)
		}
		ranges := make([][2]int64, len(w.AvailableDayTime))
		for i, r := range w.AvailableDayTime {
			f := p + "available_week.available_day_time" + index(i)
			if r.BeginTime < 0 || r.EndTime > lastSecondOfDay || r.BeginTime >= r.EndTime {
				v.add(f, "must have 0 <= begin_time < end_time <= %d (seconds of the day), got %d..%d", lastSecondOfDay, r.BeginTime, r.EndTime)
			}
			ranges[i] = [2]int64{r.BeginTime, r.EndTime}
		}
		v.noOverlap(p+"available_week.available_day_time", ranges)
	}
	if n := len(t.IrregularAvailableTime); n > maxIrregularRanges {
		v.add(p+"irregulary_avaliable_time", "must have at most %d ranges, got %d", maxIrregularRanges, n)
	}
	ranges := make([][2]int64, 0, len(t.IrregularAvailableTime))
	for i, r := range t.IrregularAvailableTime {
		f := p + "irregulary_avaliable_time" + index(i)
		switch {
		case r.BeginTime.IsZero() || r.EndTime.IsZero():
			v.add(f, "needs both begin_time and end_time")
		case !r.EndTime.After(r.BeginTime):
			v.add(f+".end_time", "must be after begin_time")
		default:
			ranges = append(ranges, [2]int64{r.BeginTime.UnixNano(), r.EndTime.UnixNano()})
		}
	}
	v.noOverlap(p+"irregulary_avaliable_time", ranges)
}

// noOverlap refuses ranges that overlap (page: coupon_available_time rules).
func (v *validator) noOverlap(f string, ranges [][2]int64) {
	sorted := slices.Clone(ranges)
	slices.SortFunc(sorted, func(a, b [2]int64) int { return int(min(max(a[0]-b[0], -1), 1)) })
	for i := 1; i < len(sorted); i++ {
		if sorted[i][0] <= sorted[i-1][1] {
			v.add(f, "ranges must not overlap")
			return
		}
	}
}

// sendRule checks stock_send_rule.
func (v *validator) sendRule(r StockSendRule, stockType StockType) {
	const p = "stock_send_rule."
	if r.MaxCoupons != 0 {
		v.between(p+"max_coupons", r.MaxCoupons, 1, maxCoupons)
	}
	v.between(p+"max_coupons_per_user", r.MaxCouponsPerUser, 1, maxCouponsPerUser)
	if r.MaxCouponsByDay != 0 {
		v.between(p+"max_coupons_by_day", r.MaxCouponsByDay, 1, maxCoupons)
		// models: stock_type为DISCOUNT或EXCHANGE时可传入此字段
		if stockType == StockTypeNormal {
			v.add(p+"max_coupons_by_day", "applies only to DISCOUNT and EXCHANGE stocks, not NORMAL")
		}
	}
	// models: 该字段暂未开放 (not open yet) for each of these.
	for _, f := range []struct {
		name string
		set  bool
	}{{"max_amount", r.MaxAmount != 0}, {"max_amount_by_day", r.MaxAmountByDay != 0}, {"transferable", r.Transferable}, {"shareable", r.Shareable}} {
		if f.set {
			v.add(p+f.name, "is not open yet (暂未开放): leave it unset")
		}
	}
}

// displayPattern checks display_pattern_info.
func (v *validator) displayPattern(d *DisplayPatternInfo) {
	const p = "display_pattern_info."
	v.bytesAtMost(p+"description", d.Description, descriptionMaxLen)     // page: description string(1000)
	v.bytesAtMost(p+"merchant_name", d.MerchantName, merchantNameMaxLen) // page: merchant_name string(16)
	v.mediaURL(p+"merchant_logo_url", d.MerchantLogoURL)
	v.mediaURL(p+"coupon_image_url", d.CouponImageURL)
	if d.FinderInfo != nil {
		v.mediaURL(p+"finder_info.finder_video_cover_image_url", d.FinderInfo.FinderVideoCoverImageURL)
	}
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r GetStockRequest) Validate() error {
	var v validator
	v.stockID(r.StockID)
	return v.err()
}

// Validate checks the request against every documented rule and returns a
// *ValidationError, or nil.
func (r UpdateStockRequest) Validate() error {
	var v validator
	v.stockID(r.StockID)
	v.requestNo("out_request_no", r.OutRequestNo)
	v.text("comment", r.Comment, false, commentMaxRunes)
	v.text("goods_name", r.GoodsName, false, goodsNameMaxRunes)
	if e := r.CustomEntrance; e != nil {
		if m := e.MiniProgramsInfo; m != nil {
			v.text("custom_entrance.mini_programs_info.entrance_words", m.EntranceWords, false, entranceWordsMaxRunes)
			v.text("custom_entrance.mini_programs_info.guiding_words", m.GuidingWords, false, guidingWordsMaxRunes)
		}
		oneOf(&v, "custom_entrance.code_display_mode", e.CodeDisplayMode, false, displayModes)
	}
	if d := r.DisplayPatternInfo; d != nil {
		v.displayPattern(d)
		// models: merchant_logo_url and merchant_name 暂不支持修改
		if d.MerchantLogoURL != "" {
			v.add("display_pattern_info.merchant_logo_url", "cannot be changed after creation; leave it empty")
		}
		if d.MerchantName != "" {
			v.add("display_pattern_info.merchant_name", "cannot be changed after creation; leave it empty")
		}
	}
	if u := r.CouponUseRule; u != nil {
		oneOf(&v, "coupon_use_rule.use_method", u.UseMethod, false, useMethods)
		v.miniProgramsOnly("coupon_use_rule.", u.UseMethod, u.MiniProgramsAppID, u.MiniProgramsPath)
	}
	return v.err()
}

// Validate checks the request against every documented rule and returns a
// *ValidationError, or nil.
func (r UpdateStockBudgetRequest) Validate() error {
	var v validator
	v.stockID(r.StockID)
	v.requestNo("modify_budget_request_no", r.ModifyBudgetRequestNo)
	total, daily := r.TargetMaxCoupons != 0, r.TargetMaxCouponsByDay != 0
	switch { // page: 二选一; models: 只能修改一个
	case total && daily:
		v.add("target_max_coupons", "set target_max_coupons or target_max_coupons_by_day, not both: one change per call")
	case !total && !daily:
		v.add("target_max_coupons", "set target_max_coupons or target_max_coupons_by_day")
	}
	if total {
		v.between("target_max_coupons", r.TargetMaxCoupons, 1, maxCoupons)
		if r.CurrentMaxCoupons <= 0 { // page: 当传入target_max_coupons大于0时，current_max_coupons必传
			v.add("current_max_coupons", "is required with target_max_coupons: the stock's total cap now")
		}
	}
	if daily {
		v.between("target_max_coupons_by_day", r.TargetMaxCouponsByDay, 1, maxCoupons)
		if r.CurrentMaxCouponsByDay <= 0 {
			v.add("current_max_coupons_by_day", "is required with target_max_coupons_by_day: the stock's daily cap now")
		}
	}
	return v.err()
}
