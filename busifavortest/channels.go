package busifavortest

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/busifavor-go/busifavor"
)

// The codes a claim through a send channel is refused with. Each says where
// it comes from. The mini-program plugin answers with its own codes
// (busifavor.MiniProgramErrCode, busifavor.SendCouponResultCode) in what
// ClaimMiniProgram returns; these are the H5 and wx.addCard channels'.
const (
	// ClaimSignError is the signature error H5 and wx.addCard claims get:
	// the sign does not verify under the sending merchant's APIv2 key. No
	// official page gives these channels' code; 272758293 is the one
	// community posts cite for H5 (签名错误), and the fake uses it for
	// wx.addCard too. The plugin's own code is SIGN_ERROR (plugin page),
	// busifavor.MiniProgramErrCodeSignError.
	ClaimSignError = "272758293"
	// ClaimMissingFragment is what an H5 URL without its fragment gets (H5
	// page: 否则会报错,返回268435461错误码).
	ClaimMissingFragment = string(busifavor.H5ErrCodeMissingFragment)
	// ClaimParamError is a missing, malformed or unknown parameter (the
	// plugin page's PARAM_ERROR, used by the fake for H5 and wx.addCard,
	// whose pages name no code for it).
	ClaimParamError = "PARAM_ERROR"
	// ClaimDuplicate is a coupon_code given again in its stock: FAQ Q3
	// names DUPREQUEST for it (不能重复使用coupon_code).
	ClaimDuplicate = "DUPREQUEST"
)

// ClaimError is an H5 or wx.addCard claim WeChat Pay refuses: Code is one of
// the Claim… constants or the APIv3 code the stock's rules answer with
// (INVALID_REQUEST, RULELIMIT, …), Message says why in WeChat Pay's words.
type ClaimError struct {
	Code    string
	Message string
}

// Error returns "busifavortest: claim refused: code: message".
func (e *ClaimError) Error() string {
	return "busifavortest: claim refused: " + e.Code + ": " + e.Message
}

func claimErr(code, format string, args ...any) *ClaimError {
	return &ClaimError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithAPIv2Key fixes the calling merchant's APIv2 key, which the send
// channels' signatures verify with, instead of generating one.
func WithAPIv2Key(key string) Option { return func(c *config) { c.apiV2Key = key } }

// APIv2Key returns the calling merchant's APIv2 key, for
// busifavor.NewCouponSigner.
func (s *Server) APIv2Key() string { return s.cfg.apiV2Key }

// channelState is what the send channels remember.
type channelState struct {
	claims map[claimKey]string // a claim -> the code it gave
	images map[string][]byte   // media URL -> the uploaded image
}

// claimKey is what a claim is unique by: the mini-program page says
// out_request_no is unique per stock and user (单个批次单个用户下确保唯一性);
// the H5 page says only 商户侧需保证发放凭据号唯一性, without a scope, and is
// read the same way. The same number may serve another user, or the same
// user on another stock.
type claimKey struct{ sendMerchant, stockID, openid, outRequestNo string }

// claimItem is one coupon of a claim, as the front end passed it.
type claimItem struct {
	stockID, outRequestNo, code, sendTime, creator string
}

// ClaimMiniProgram plays a user (openid) pressing the mini-program plugin's
// button bound to c, as WeChat Pay handles it, and returns what the plugin
// hands the mini program (the detail of bind:sendcoupon, which
// busifavor.ParseMiniProgramSendResult reads from a post-back).
//
// The sign must verify, under the V2 rules, over exactly the parameters
// passed (stock_id{n}, out_request_no{n}, coupon_code{n},
// customize_send_time{n}, create_coupon_merchant{n}, send_coupon_merchant)
// with the APIv2 key of send_coupon_merchant, else errcode SIGN_ERROR (the
// plugin page's code). A missing or malformed parameter, more than ten
// coupons (the page: 一次最多10张), a stock that does not exist or that
// send_coupon_merchant did not create (FAQ Q8), or a MERCHANT_API stock
// without coupon_code (H5 page: 则必填) is errcode PARAM_ERROR, and an empty
// openid USER_GET_FAILED; nothing is given then. The plugin's page sets no
// per-stock limit, so neither does the fake.
//
// Otherwise errcode is OK and each coupon gets its own result, under its
// stock's rules: SUCCESS with its code, and COUPON.SEND (send_channel
// BUSICOUPON_SEND_CHANNEL_MINIAPP) delivered to the creator's notify URL,
// routed by Route; DUPREQUEST when this user already had a coupon of the
// stock for this out_request_no (no second coupon, no second event) or the
// coupon_code was given already (FAQ Q3); NOTRUNNING when the stock is not
// sending; MAXQUOTA when the user holds max_coupons_per_user of it;
// NOTENOUGH when it has no coupon left. Which code the fake picks for a
// stock rule is its reading of the code names: the page's rows say no more.
// A coupon_code given for a stock not in MERCHANT_API mode is ignored (H5
// page: 其他模式无需填写), and so is customize_send_time (the pages: 仅针对有
// 设置相对领取时间的批次生效; the fake keeps each coupon in its stock's
// window either way). The error is non-nil only when an event cannot be
// delivered (no Route for the notify URL, or the server closed).
func (s *Server) ClaimMiniProgram(openid string, c *busifavor.MiniProgramCoupons) (*busifavor.MiniProgramSendResult, error) {
	refuse := func(code busifavor.MiniProgramErrCode, format string, args ...any) (*busifavor.MiniProgramSendResult, error) {
		return &busifavor.MiniProgramSendResult{ErrCode: code, Msg: fmt.Sprintf(format, args...)}, nil
	}
	switch {
	case c == nil || len(c.SendCouponParams) == 0:
		return refuse(busifavor.MiniProgramErrCodeParamError, "send_coupon_params 必填")
	case len(c.SendCouponParams) > busifavor.MaxCouponsPerCall:
		return refuse(busifavor.MiniProgramErrCodeParamError, "发券参数一次最多 %d 张, 实际 %d 张", busifavor.MaxCouponsPerCall, len(c.SendCouponParams))
	case c.Sign == "":
		return refuse(busifavor.MiniProgramErrCodeParamError, "sign 必填")
	case c.SendCouponMerchant == "":
		return refuse(busifavor.MiniProgramErrCodeParamError, "send_coupon_merchant 必填")
	}
	params := map[string]string{"send_coupon_merchant": c.SendCouponMerchant}
	items := make([]claimItem, len(c.SendCouponParams))
	for i, p := range c.SendCouponParams {
		n := strconv.Itoa(i)
		params["stock_id"+n], params["out_request_no"+n], params["coupon_code"+n] = p.StockID, p.OutRequestNo, p.CouponCode
		params["customize_send_time"+n], params["create_coupon_merchant"+n] = p.CustomizeSendTime, p.CreateCouponMerchant
		items[i] = claimItem{p.StockID, p.OutRequestNo, p.CouponCode, p.CustomizeSendTime, p.CreateCouponMerchant}
	}
	if why := s.signMismatch(c.SendCouponMerchant, params, c.Sign); why != "" {
		return refuse(busifavor.MiniProgramErrCodeSignError, "签名错误: %s", why)
	}
	if openid == "" {
		return refuse(busifavor.MiniProgramErrCodeUserGetFailed, "无法获取用户信息")
	}
	if msg := checkClaimItems(items); msg != "" {
		return refuse(busifavor.MiniProgramErrCodeParamError, "%s", msg)
	}
	out := &busifavor.MiniProgramSendResult{ErrCode: busifavor.MiniProgramErrCodeOK, Msg: "OK",
		SendCouponResult: make([]busifavor.MiniProgramCouponResult, len(items))}
	var events []busifavor.CouponSend
	now := s.now()
	s.mu.Lock()
	if ce := s.checkClaimStocks(c.SendCouponMerchant, items); ce != nil {
		s.mu.Unlock()
		return refuse(busifavor.MiniProgramErrCodeParamError, "%s", ce.Message)
	}
	for i, it := range items {
		o, ev := s.claimOne(busifavor.SendChannelMiniApp, c.SendCouponMerchant, openid, it, now)
		r := busifavor.MiniProgramCouponResult{StockID: it.stockID, OutRequestNo: it.outRequestNo, Code: o.result, Message: o.message}
		if o.result == busifavor.SendCouponResultCodeSuccess {
			r.CouponCode = o.code
		}
		out.SendCouponResult[i] = r
		if ev != nil {
			events = append(events, *ev)
		}
	}
	s.mu.Unlock()
	return out, s.deliverClaims(c.SendCouponMerchant, events)
}

// h5Params are the parameters an H5 claim URL may carry (H5 page).
var h5Params = map[string]bool{"stock_id": true, "out_request_no": true, "sign": true, "send_coupon_merchant": true,
	"open_id": true, "coupon_code": true, "customize_send_time": true}

// OpenH5URL plays the user opening an H5 claim URL and pressing 领取, as
// WeChat Pay handles it: the URL must be busifavor.H5CouponURL and end in
// #wechat_pay&wechat_redirect (the H5 page) or #wechat_redirect (the old
// wiki page), else ClaimMissingFragment; every parameter must be one the page
// lists, given once, and the sign must verify over all of them, decoded.
// The coupon is issued for open_id and its code returned. No COUPON.SEND is
// delivered: both H5 pages say this channel does not call the merchant back
// (该H5发券不回调信息给商家,依赖商家主动去查询); read the coupon instead.
func (s *Server) OpenH5URL(rawURL string) (string, error) {
	base, fragment, _ := strings.Cut(rawURL, "#")
	u, err := url.Parse(base)
	if err != nil || u.Scheme+"://"+u.Host+u.Path != busifavor.H5CouponURL {
		return "", claimErr(ClaimParamError, "不是 H5 发券地址 %s", busifavor.H5CouponURL)
	}
	if fragment != "wechat_pay&wechat_redirect" && fragment != "wechat_redirect" {
		return "", claimErr(ClaimMissingFragment, "H5 领券地址后须添加 #wechat_pay&wechat_redirect")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", claimErr(ClaimParamError, "URL 参数无法解析")
	}
	params := map[string]string{}
	for k, vs := range q {
		switch {
		case !h5Params[k]:
			return "", claimErr(ClaimParamError, "参数 %s 不是 H5 发券的参数", k)
		case len(vs) != 1:
			return "", claimErr(ClaimParamError, "参数 %s 出现了 %d 次", k, len(vs))
		}
		params[k] = vs[0]
	}
	for _, k := range []string{"stock_id", "out_request_no", "send_coupon_merchant", "open_id"} {
		if params[k] == "" {
			return "", claimErr(ClaimParamError, "%s 必填", k)
		}
	}
	if strings.IndexFunc(params["out_request_no"], func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) >= 0 {
		return "", claimErr(ClaimParamError, "out_request_no 只可包含英文字母、数字")
	}
	sign := params["sign"]
	delete(params, "sign")
	if err := s.checkSign(params["send_coupon_merchant"], params, sign); err != nil {
		return "", err
	}
	codes, err := s.playClaim(busifavor.SendChannelH5, false, params["send_coupon_merchant"], params["open_id"],
		[]claimItem{{params["stock_id"], params["out_request_no"], params["coupon_code"], params["customize_send_time"], ""}})
	if err != nil {
		return "", err
	}
	return codes[0], nil
}

// addCardExt is a cardExt as WeChat Pay reads it; anything else is refused.
type addCardExt struct {
	OutRequestNo       string `json:"out_request_no"`
	CouponCode         string `json:"coupon_code"`
	CustomizeSendTime  string `json:"customize_send_time"`
	SendCouponMerchant string `json:"send_coupon_merchant"`
	Sign               string `json:"sign"`
}

// AddCard plays a user (openid) accepting wx.addCard({cardList: items}) for
// 商家券, as WeChat Pay handles it: each cardExt is a JSON object of the
// documented names only; the first carries send_coupon_merchant and sign
// (the FAQ: 列表首项需添加签名、发券商户号等参数), which verify over the same
// indexed names as the mini program's with cardId as stock_id{n}; at most
// 10 coupons, 3 of a stock (FAQ Q7, said of JSAPI). Coupons are issued and
// each COUPON.SEND (BUSICOUPON_SEND_CHANNEL_JSAPI) delivered as
// ClaimMiniProgram does; the first coupon refused ends the claim with a
// *ClaimError, after the events of those given before it. It returns the
// codes given; a claim made before (same stock, user and out_request_no)
// gives its first code again, with no second event.
func (s *Server) AddCard(openid string, items []busifavor.AddCardItem) ([]string, error) {
	if len(items) == 0 {
		return nil, claimErr(ClaimParamError, "cardList 必填")
	}
	params := map[string]string{}
	claims := make([]claimItem, len(items))
	var first addCardExt
	for i, it := range items {
		var ext addCardExt
		dec := json.NewDecoder(strings.NewReader(it.CardExt))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ext); err != nil || dec.More() {
			return nil, claimErr(ClaimParamError, "cardList[%d].cardExt 不是商家券的 cardExt JSON 对象", i)
		}
		if i == 0 {
			first = ext
		} else if (ext.Sign != "" || ext.SendCouponMerchant != "") && (ext.Sign != first.Sign || ext.SendCouponMerchant != first.SendCouponMerchant) {
			return nil, claimErr(ClaimParamError, "cardList[%d].cardExt: 签名和发券商户号只在列表首项填写", i)
		}
		if it.CardID == "" || ext.OutRequestNo == "" {
			return nil, claimErr(ClaimParamError, "cardList[%d]: cardId 和 out_request_no 必填", i)
		}
		n := strconv.Itoa(i)
		params["stock_id"+n], params["out_request_no"+n] = it.CardID, ext.OutRequestNo
		params["coupon_code"+n], params["customize_send_time"+n] = ext.CouponCode, ext.CustomizeSendTime
		claims[i] = claimItem{it.CardID, ext.OutRequestNo, ext.CouponCode, ext.CustomizeSendTime, ""}
	}
	if first.SendCouponMerchant == "" || first.Sign == "" {
		return nil, claimErr(ClaimParamError, "cardList[0].cardExt: send_coupon_merchant 和 sign 必填")
	}
	params["send_coupon_merchant"] = first.SendCouponMerchant
	if err := s.checkSign(first.SendCouponMerchant, params, first.Sign); err != nil {
		return nil, err
	}
	if len(claims) > busifavor.MaxCouponsPerCall {
		return nil, claimErr(ClaimParamError, "不同批次一次性最多领取 %d 张, 实际 %d 张", busifavor.MaxCouponsPerCall, len(claims))
	}
	perStock := map[string]int{}
	for _, it := range claims {
		if perStock[it.stockID]++; perStock[it.stockID] > busifavor.MaxCouponsPerStockPerCall {
			return nil, claimErr(ClaimParamError, "同一批次一次性最多领取 %d 张", busifavor.MaxCouponsPerStockPerCall)
		}
	}
	return s.playClaim(busifavor.SendChannelJSAPI, true, first.SendCouponMerchant, openid, claims)
}

// v2Sign is WeChat Pay's V2 signature, written here independently of the
// client's: the non-empty parameters sorted by name, k=v joined by &, then
// &key=KEY, HMAC-SHA256 under KEY (or MD5 of the whole string), upper hex.
func v2Sign(params map[string]string, key string, useMD5 bool) string {
	names := make([]string, 0, len(params))
	for k, v := range params {
		if v != "" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		b.WriteString(k + "=" + params[k] + "&")
	}
	b.WriteString("key=" + key)
	if useMD5 {
		sum := md5.Sum([]byte(b.String()))
		return strings.ToUpper(hex.EncodeToString(sum[:]))
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(b.String()))
	return strings.ToUpper(hex.EncodeToString(m.Sum(nil)))
}

// checkSign verifies an H5 or wx.addCard claim's sign (see signMismatch):
// a missing one is ClaimParamError, a mismatch ClaimSignError.
func (s *Server) checkSign(sendMerchant string, params map[string]string, sign string) error {
	if sign == "" {
		return claimErr(ClaimParamError, "sign 必填")
	}
	if sendMerchant == "" {
		return claimErr(ClaimParamError, "send_coupon_merchant 必填")
	}
	if why := s.signMismatch(sendMerchant, params, sign); why != "" {
		return claimErr(ClaimSignError, "签名错误: %s", why)
	}
	return nil
}

// signMismatch verifies sign over params with the APIv2 key of sendMerchant
// and says why it does not verify, or "" when it does. The fake knows its
// merchant's APIv2 key and those given by WithMerchantAPIv2Key: any other
// sending merchant (a sub-merchant's number in partner mode, say) fails as
// WeChat Pay's check with that merchant's key would. The reason names the usual cause when it can tell.
func (s *Server) signMismatch(sendMerchant string, params map[string]string, sign string) string {
	key, ok := s.apiV2KeyOf(sendMerchant)
	if !ok {
		return "须使用发券商户号 send_coupon_merchant 的 APIv2 密钥签名; 服务商模式下发券商户号是服务商商户号"
	}
	if hmac.Equal([]byte(sign), []byte(v2Sign(params, key, false))) {
		return ""
	}
	encoded := map[string]string{}
	for k, v := range params {
		encoded[k] = url.QueryEscape(v)
	}
	switch sign = strings.ToUpper(sign); {
	case sign == v2Sign(params, key, true):
		return "签名方式须为 HMAC-SHA256, 不是 MD5"
	case sign == v2Sign(params, s.cfg.apiV3Key, false):
		return "须使用 APIv2 密钥, 不是 APIv3 密钥"
	case sign == v2Sign(encoded, key, false):
		return "签名原串的参数值使用原始值, 不需要 encode"
	}
	return "请求参数须与签名原串的参数一致, 不能增加或缺少参数"
}

// checkClaimItems checks what every channel requires of each coupon: a
// stock_id and an out_request_no, and customize_send_time in RFC 3339. It
// returns why a coupon fails, or "".
func checkClaimItems(items []claimItem) string {
	for _, it := range items {
		if it.stockID == "" || it.outRequestNo == "" {
			return "stock_id 和 out_request_no 必填"
		}
		if it.sendTime != "" {
			if _, err := time.Parse(time.RFC3339, it.sendTime); err != nil {
				return "customize_send_time 须为 RFC 3339 时间"
			}
		}
	}
	return ""
}

// checkClaimStocks refuses a claim naming a stock that does not exist, one
// sendMerchant did not create (FAQ Q8: 发券商户号…即创建券商户号) and is not
// an ESTABLISHED MERCHANT partner of (委托营销, BuildPartnership), or a
// MERCHANT_API stock without coupon_code (H5 page: 则必填): nothing is given
// then. The caller holds s.mu.
func (s *Server) checkClaimStocks(sendMerchant string, items []claimItem) *ClaimError {
	for _, it := range items {
		st := s.stocks[it.stockID]
		switch {
		case st == nil:
			return claimErr(string(busifavor.ErrorCodeResourceNotExists), "批次不存在")
		case !s.maySend(st, sendMerchant):
			return claimErr(string(busifavor.ErrorCodeNoAuth), "发券商户号须为制券商户号或其委托营销合作方")
		case st.CouponCodeMode == busifavor.CouponCodeModeMerchantAPI && it.code == "":
			return claimErr(string(busifavor.ErrorCodeParamError), "MERCHANT_API 模式的批次发券必须指定 coupon_code")
		}
	}
	return nil
}

// claimOutcome is how one coupon of a claim went.
type claimOutcome struct {
	result  busifavor.SendCouponResultCode // the plugin's code for it
	message string
	code    string // the coupon's code: given now, or (again) by the same claim before
	again   bool   // the same claim (claimKey) was made before
	apiCode string // the code H5 and wx.addCard refuse with
}

// claimOne gives one coupon of a verified claim under its stock's rules (the
// stock checked by checkClaimStocks) and returns how it went, with the
// COUPON.SEND to deliver when a coupon was given. The caller holds s.mu.
func (s *Server) claimOne(sendChannel busifavor.SendChannel, sendMerchant, openid string, it claimItem, now time.Time) (claimOutcome, *busifavor.CouponSend) {
	if s.ch.claims == nil {
		s.ch.claims = map[claimKey]string{}
	}
	key := claimKey{sendMerchant, it.stockID, openid, it.outRequestNo}
	if code, ok := s.ch.claims[key]; ok {
		return claimOutcome{result: busifavor.SendCouponResultCodeDupRequest, message: "已通过该发券凭证给用户发券", code: code, again: true}, nil
	}
	st := s.stocks[it.stockID]
	code := it.code
	if st.CouponCodeMode != busifavor.CouponCodeModeMerchantAPI {
		code = "" // 其他模式无需填写: ignored, as customize_send_time is
	}
	if code != "" && s.coupons[couponKey(st.StockID, code)] != nil {
		return claimOutcome{result: busifavor.SendCouponResultCodeDupRequest, message: "coupon_code 已发放, 不能重复使用", apiCode: ClaimDuplicate}, nil
	}
	uc, ref := s.issueCoupon(st, sendMerchant, openid, code, it.outRequestNo, now)
	if ref != nil {
		return claimOutcome{result: pluginResult(ref), message: ref.message, apiCode: string(ref.code)}, nil
	}
	s.ch.claims[key] = uc.CouponCode
	ev := &busifavor.CouponSend{CouponCode: uc.CouponCode, StockID: st.StockID, SendTime: now,
		SendChannel: sendChannel, SendMerchant: sendMerchant}
	if st.NotifyConfig != nil && st.NotifyConfig.NotifyAppID != "" {
		ev.OpenID = openid // events carry the openid only for stocks with notify_appid
	}
	return claimOutcome{result: busifavor.SendCouponResultCodeSuccess, code: uc.CouponCode}, ev
}

// pluginResult is the plugin's per-coupon code for a stock rule that
// refused a coupon (issueCoupon), as the fake reads the codes' names.
func pluginResult(ref *refusal) busifavor.SendCouponResultCode {
	switch {
	case ref.code == busifavor.ErrorCodeRuleLimit: // not sending, or not in its window
		return busifavor.SendCouponResultCodeNotRunning
	case strings.Contains(ref.message, "max_coupons_per_user"):
		return busifavor.SendCouponResultCodeMaxQuota
	case ref.code == busifavor.ErrorCodeInvalidRequest: // max_coupons reached, or no uploaded code left
		return busifavor.SendCouponResultCodeNotEnough
	case ref.code == busifavor.ErrorCodeResourceAlreadyExists:
		return busifavor.SendCouponResultCodeDupRequest
	}
	return busifavor.SendCouponResultCode(ref.code) // not reached: checkClaimStocks refused the rest
}

// playClaim gives the coupons of a verified H5 or wx.addCard claim, in
// order, and delivers their events when the channel calls back. The first
// coupon refused ends it: the codes given so far come back with a
// *ClaimError (and their events are delivered).
func (s *Server) playClaim(sendChannel busifavor.SendChannel, callsBack bool, sendMerchant, openid string, items []claimItem) ([]string, error) {
	if openid == "" {
		return nil, claimErr(ClaimParamError, "用户 openid 必填")
	}
	if msg := checkClaimItems(items); msg != "" {
		return nil, claimErr(ClaimParamError, "%s", msg)
	}
	var events []busifavor.CouponSend
	var refused error
	codes := make([]string, 0, len(items))
	now := s.now()
	s.mu.Lock()
	if ce := s.checkClaimStocks(sendMerchant, items); ce != nil {
		s.mu.Unlock()
		return nil, ce
	}
	for _, it := range items {
		o, ev := s.claimOne(sendChannel, sendMerchant, openid, it, now)
		if o.code == "" {
			refused = &ClaimError{Code: o.apiCode, Message: o.message}
			break
		}
		codes = append(codes, o.code)
		if ev != nil {
			events = append(events, *ev)
		}
	}
	s.mu.Unlock()
	if callsBack {
		if err := s.deliverClaims(sendMerchant, events); err != nil {
			return codes, err
		}
	}
	return codes, refused
}

// deliverClaims delivers the events of a claim (see deliverClaim).
func (s *Server) deliverClaims(sendMerchant string, events []busifavor.CouponSend) error {
	for _, ev := range events {
		if err := s.deliverClaim(sendMerchant, ev); err != nil {
			return err
		}
	}
	return nil
}

// deliverClaim starts delivering ev to mchID's notify URL, as ClaimCoupon
// does; a merchant without a notify URL gets no event, as in WeChat Pay.
func (s *Server) deliverClaim(mchID string, ev busifavor.CouponSend) error {
	return s.deliverEvent(mchID, ev, true)
}

// deliverEvent starts delivering ev to mchID's notify URL; a merchant
// without a notify URL gets no event, as in WeChat Pay. The fake reaches
// only the notify URLs given a Route: for another, needRoute makes it an
// error, else the event is not sent.
func (s *Server) deliverEvent(mchID string, ev busifavor.CouponSend, needRoute bool) error {
	notifyURL, ok := s.NotifyURL(mchID)
	if !ok {
		return nil
	}
	s.dl.mu.Lock()
	defer s.dl.mu.Unlock()
	targets, ok := s.dl.routes[notifyURL]
	if !ok && !needRoute {
		return nil
	}
	if !ok {
		return fmt.Errorf("busifavortest: no Route for notify URL %s: the claim was made but its event cannot be delivered", notifyURL)
	}
	if s.dl.ctx.Err() != nil {
		return errors.New("busifavortest: the server is closed")
	}
	id, body := s.couponBody(ev)
	d := &delivery{done: make(chan struct{}), outcome: Outcome{EventID: id}}
	s.dl.track(id, d, s.cfg.maxRecorded)
	s.dl.wg.Add(1)
	go s.deliver(d, notifyURL, targets, body)
	return nil
}
