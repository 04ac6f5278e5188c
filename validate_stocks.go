package busifavor

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Documented limits of the stock and code endpoints. Sources: the official
// API page of each endpoint ("page") and wechatpay-go v0.2.21's
// merchantexclusivecoupon models ("models"). 字数 limits count characters
// (runes), string[a,b] limits count bytes.
const (
	StockIDMaxLen         = 20            // stock_id string[1,20] (page: query stock)
	RequestNoMaxLen       = 128           // out_request_no string(128), upload_request_no string[1,128], … (pages)
	StockNameMaxRunes     = 21            // stock_name 字数上限21 (page, models)
	CommentMaxRunes       = 20            // comment 字数上限20 (page, models)
	GoodsNameMaxRunes     = 15            // goods_name 字数上限15 (page, models)
	EntranceWordsMaxRunes = 5             // entrance_words 字数上限5 (models)
	GuidingWordsMaxRunes  = 6             // guiding_words 字数上限6 (models)
	DescriptionMaxLen     = 1000          // display_pattern_info.description string(1000) (page: modify stock)
	MerchantNameMaxLen    = 16            // display_pattern_info.merchant_name string(16) (page: modify stock)
	MaxAmount             = 10_000_000    // discount_amount, transaction_minimum, exchange_price ≤ 10000000 分 (models)
	MaxCoupons            = 1_000_000_000 // max_coupons, max_coupons_by_day ≤ 1000000000 (models)
	MaxCouponsPerUser     = 100           // 每个用户最多100张券 (models)
	MaxWaitDays           = 30            // wait_days_after_receive 最大不能超过30天 (models)
	MaxDayTimeRanges      = 2             // available_day_time 最多不超过2个 (models)
	MaxIrregularRanges    = 2             // irregular ranges (page: coupon_available_time rules)
	LastSecondOfDay       = 86399         // 86399代表当天23点59分59秒 (models)
	CouponCodeMaxLen      = 32            // 单个券code长度为【1，32】 (page: upload codes); coupon_code string[1,32] (page: use coupon)
	MaxCodesPerUpload     = 200           // 条目个数限制为【1，200】 (page: upload codes)
)

// stockTypes, codeModes, useMethods, displayModes and codeStatuses are the
// documented values a request may carry.
var (
	stockTypes   = []StockType{StockTypeNormal, StockTypeDiscount, StockTypeExchange}
	codeModes    = []CouponCodeMode{CouponCodeModeWechatPay, CouponCodeModeMerchantAPI, CouponCodeModeMerchantUpload}
	useMethods   = []CouponUseMethod{UseMethodOffline, UseMethodMiniPrograms, UseMethodSelfConsume, UseMethodPaymentCode}
	displayModes = []CodeDisplayMode{CodeDisplayNotShow, CodeDisplayBarcode, CodeDisplayQRCode}
	codeStatuses = []CouponCodeStatus{CouponCodeAvailable, CouponCodeDispatched}
)

// Validate checks the request against every documented rule, cross-field
// ones included, and returns a *ValidationError naming each broken one by its
// JSON path (coupon_use_rule.fixed_normal_coupon.discount_amount), or nil.
func (r CreateStockRequest) Validate() error {
	var v validator
	v.text("stock_name", r.StockName, true, StockNameMaxRunes)
	if v.required("belong_merchant", r.BelongMerchant) {
		v.merchantID("belong_merchant", r.BelongMerchant)
	}
	v.text("comment", r.Comment, false, CommentMaxRunes)
	v.text("goods_name", r.GoodsName, true, GoodsNameMaxRunes)
	oneOf(&v, "stock_type", r.StockType, true, stockTypes)
	v.useRule(r.CouponUseRule, r.StockType)
	v.sendRule(r.StockSendRule, r.StockType)
	v.requestNo("out_request_no", r.OutRequestNo)
	if e := r.CustomEntrance; e != nil {
		if m := e.MiniProgramsInfo; m != nil {
			// page: APPID, path and entrance words are required for a mini program entrance.
			v.text("custom_entrance.mini_programs_info.mini_programs_appid", m.MiniProgramsAppid, true, 0)
			v.text("custom_entrance.mini_programs_info.mini_programs_path", m.MiniProgramsPath, true, 0)
			v.text("custom_entrance.mini_programs_info.entrance_words", m.EntranceWords, true, EntranceWordsMaxRunes)
			v.text("custom_entrance.mini_programs_info.guiding_words", m.GuidingWords, false, GuidingWordsMaxRunes)
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
		v.between(p+"fixed_normal_coupon.discount_amount", c.DiscountAmount, 1, MaxAmount)
		v.between(p+"fixed_normal_coupon.transaction_minimum", c.TransactionMinimum, 1, MaxAmount)
	}
	if c := u.DiscountCoupon; c != nil {
		if c.DiscountPercent <= 0 { // page: required; no range is documented beyond it
			v.add(p+"discount_coupon.discount_percent", "is required and must be positive, as in 88 for 88折")
		}
		v.between(p+"discount_coupon.transaction_minimum", c.TransactionMinimum, 1, MaxAmount)
	}
	if c := u.ExchangeCoupon; c != nil {
		v.between(p+"exchange_coupon.exchange_price", c.ExchangePrice, 0, MaxAmount)
		v.between(p+"exchange_coupon.transaction_minimum", c.TransactionMinimum, 1, MaxAmount)
	}
	oneOf(v, p+"use_method", u.UseMethod, true, useMethods)
	v.miniProgramsOnly(p, u.UseMethod, u.MiniProgramsAppid, u.MiniProgramsPath)
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
	if m == "" || m == UseMethodMiniPrograms {
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
	case w < 0 || w > MaxWaitDays:
		v.add(p+"wait_days_after_receive", "must be 0 to %d days, got %d", MaxWaitDays, w)
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
		if n := len(w.AvailableDayTime); n > MaxDayTimeRanges {
			v.add(p+"available_week.available_day_time", "must have at most %d ranges, got %d", MaxDayTimeRanges, n)
		}
		ranges := make([][2]int64, len(w.AvailableDayTime))
		for i, r := range w.AvailableDayTime {
			f := p + "available_week.available_day_time" + index(i)
			if r.BeginTime < 0 || r.EndTime > LastSecondOfDay || r.BeginTime >= r.EndTime {
				v.add(f, "must have 0 <= begin_time < end_time <= %d (seconds of the day), got %d..%d", LastSecondOfDay, r.BeginTime, r.EndTime)
			}
			ranges[i] = [2]int64{r.BeginTime, r.EndTime}
		}
		v.noOverlap(p+"available_week.available_day_time", ranges)
	}
	if n := len(t.IrregularAvailableTime); n > MaxIrregularRanges {
		v.add(p+"irregulary_avaliable_time", "must have at most %d ranges, got %d", MaxIrregularRanges, n)
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
		v.between(p+"max_coupons", r.MaxCoupons, 1, MaxCoupons)
	}
	v.between(p+"max_coupons_per_user", r.MaxCouponsPerUser, 1, MaxCouponsPerUser)
	if r.MaxCouponsByDay != 0 {
		v.between(p+"max_coupons_by_day", r.MaxCouponsByDay, 1, MaxCoupons)
		// models: stock_type为DISCOUNT或EXCHANGE时可传入此字段
		if stockType == StockTypeNormal {
			v.add(p+"max_coupons_by_day", "applies only to DISCOUNT and EXCHANGE stocks, not NORMAL")
		}
	}
}

// displayPattern checks display_pattern_info.
func (v *validator) displayPattern(d *DisplayPatternInfo) {
	const p = "display_pattern_info."
	v.bytesAtMost(p+"description", d.Description, DescriptionMaxLen)     // page: description string(1000)
	v.bytesAtMost(p+"merchant_name", d.MerchantName, MerchantNameMaxLen) // page: merchant_name string(16)
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
	v.text("comment", r.Comment, false, CommentMaxRunes)
	v.text("goods_name", r.GoodsName, false, GoodsNameMaxRunes)
	if e := r.CustomEntrance; e != nil {
		if m := e.MiniProgramsInfo; m != nil {
			v.text("custom_entrance.mini_programs_info.entrance_words", m.EntranceWords, false, EntranceWordsMaxRunes)
			v.text("custom_entrance.mini_programs_info.guiding_words", m.GuidingWords, false, GuidingWordsMaxRunes)
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
		v.miniProgramsOnly("coupon_use_rule.", u.UseMethod, u.MiniProgramsAppid, u.MiniProgramsPath)
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
		v.between("target_max_coupons", r.TargetMaxCoupons, 1, MaxCoupons)
		if r.CurrentMaxCoupons <= 0 { // page: 当传入target_max_coupons大于0时，current_max_coupons必传
			v.add("current_max_coupons", "is required with target_max_coupons: the stock's total cap now")
		}
	}
	if daily {
		v.between("target_max_coupons_by_day", r.TargetMaxCouponsByDay, 1, MaxCoupons)
		if r.CurrentMaxCouponsByDay <= 0 {
			v.add("current_max_coupons_by_day", "is required with target_max_coupons_by_day: the stock's daily cap now")
		}
	}
	return v.err()
}

// Validate checks the request against every documented rule, duplicate codes
// included, and returns a *ValidationError, or nil.
func (r UploadCouponCodesRequest) Validate() error {
	var v validator
	v.stockID(r.StockID)
	switch n := len(r.CouponCodeList); {
	case n == 0:
		v.add("coupon_code_list", "is required: 1 to %d codes", MaxCodesPerUpload)
	case n > MaxCodesPerUpload:
		v.add("coupon_code_list", "must have at most %d codes per call, got %d; UploadAllCouponCodes splits longer lists", MaxCodesPerUpload, n)
	}
	seen := make(map[string]int, len(r.CouponCodeList))
	for i, c := range r.CouponCodeList {
		f := "coupon_code_list" + index(i)
		v.couponCode(f, c)
		if j, dup := seen[c]; dup {
			v.add(f, "repeats coupon_code_list[%d]; each code once per call", j)
		} else {
			seen[c] = i
		}
	}
	v.requestNo("upload_request_no", r.UploadRequestNo)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r ListCouponCodesRequest) Validate() error {
	var v validator
	v.stockID(r.StockID)
	if r.Limit < 0 {
		v.add("limit", "must not be negative; 0 leaves the page size to WeChat Pay")
	}
	if r.Offset < 0 {
		v.add("offset", "must not be negative")
	}
	oneOf(&v, "status", r.Status, false, codeStatuses)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r GetCouponCodeRequest) Validate() error {
	var v validator
	v.stockID(r.StockID)
	v.couponCode("coupon_code", r.CouponCode)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r DeleteCouponCodeRequest) Validate() error {
	var v validator
	v.stockID(r.StockID)
	v.couponCode("coupon_code", r.CouponCode)
	v.requestNo("delete_request_no", r.DeleteRequestNo)
	return v.err()
}

// required adds "is required" when s is empty and reports whether it is set.
func (v *validator) required(f, s string) bool {
	if s == "" {
		v.add(f, "is required")
		return false
	}
	return true
}

// text checks a text field: valid UTF-8 and, when maxRunes > 0, at most
// that many characters (字数).
func (v *validator) text(f, s string, required bool, maxRunes int) {
	if s == "" {
		if required {
			v.add(f, "is required")
		}
		return
	}
	if !utf8.ValidString(s) {
		v.add(f, "must be valid UTF-8")
		return
	}
	if n := utf8.RuneCountInString(s); maxRunes > 0 && n > maxRunes {
		v.add(f, "must be at most %d characters (字数; a Chinese character counts one), got %d", maxRunes, n)
	}
}

// bytesAtMost checks an optional field of at most n bytes.
func (v *validator) bytesAtMost(f, s string, n int) {
	if len(s) > n {
		v.add(f, "must be at most %d bytes, got %d", n, len(s))
	}
}

// between checks lo <= n <= hi.
func (v *validator) between(f string, n, lo, hi int64) {
	if n < lo || n > hi {
		v.add(f, "must be %d to %d, got %d", lo, hi, n)
	}
}

// stockID checks a stock_id: string[1,20], printable.
func (v *validator) stockID(s string) {
	v.identifier("stock_id", s, StockIDMaxLen)
}

// requestNo checks a merchant request number: string[1,128], printable.
func (v *validator) requestNo(f, s string) {
	v.identifier(f, s, RequestNoMaxLen)
}

// identifier checks a required id of 1 to max bytes (any length when max is
// 0: the page gives none) without white space or control characters.
func (v *validator) identifier(f, s string, max int) {
	if !v.required(f, s) {
		return
	}
	if max > 0 && len(s) > max {
		v.add(f, "must be 1 to %d bytes long, got %d", max, len(s))
	}
	if hasSpaceOrControl(s) {
		v.add(f, "must be printable text without white space or control characters")
	}
}

// couponCode checks a merchant coupon code: 1 to 32 bytes of 0-9 a-z A-Z,
// space, - _ \ / = | (page: upload codes, which allows the space; the older
// wiki page did not).
func (v *validator) couponCode(f, s string) {
	if !v.required(f, s) {
		return
	}
	if len(s) > CouponCodeMaxLen {
		v.add(f, "must be 1 to %d bytes long, got %d", CouponCodeMaxLen, len(s))
	}
	for i, r := range s {
		if !isCodeChar(r) {
			v.add(f, "has %q at byte %d; codes may hold only 0-9 a-z A-Z, space and - _ \\ / = |", r, i)
			break
		}
	}
}

func isCodeChar(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune(" -_\\/=|", r)
}

// oneOf checks that val is one of allowed, or empty when not required.
func oneOf[T ~string](v *validator, f string, val T, required bool, allowed []T) {
	if val == "" {
		if required {
			v.add(f, "is required: one of %s", joinValues(allowed))
		}
		return
	}
	if !slices.Contains(allowed, val) {
		v.add(f, "must be one of %s, got %q", joinValues(allowed), string(val))
	}
}

func joinValues[T ~string](vals []T) string {
	s := make([]string, len(vals))
	for i, x := range vals {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

// index formats an array index for a JSON path: [3].
func index(i int) string { return "[" + strconv.Itoa(i) + "]" }
