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

// The codes a claim through a send channel is refused with. The pages and
// the official FAQ name them; where none does, the fake says so.
const (
	// ClaimSignError is 签名错误 (also 插件发券签名错误): the sign does not
	// verify under the sending merchant's APIv2 key (FAQ Q1; the error the
	// plugin and H5 page show, errcode 272758293).
	ClaimSignError = "272758293"
	// ClaimMissingFragment is what an H5 URL without its fragment gets (H5
	// page: 否则会报错,返回268435461错误码).
	ClaimMissingFragment = "268435461"
	// ClaimParamError is a missing, malformed or unknown parameter (plugin
	// error table: PARAM_ERROR).
	ClaimParamError = "PARAM_ERROR"
	// ClaimDuplicate is a send number already used: FAQ Q3 names DUPREQUEST
	// for a coupon_code given again; the fake also answers it for an
	// out_request_no reused for another user (its choice: no page names
	// that case).
	ClaimDuplicate = "DUPREQUEST"
)

// ClaimError is a claim WeChat Pay refuses: Code is one of the Claim…
// constants or the APIv3 code the stock's rules answer with
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
	claims map[string]claimed // send merchant + "\x00" + out_request_no -> the claim
	images map[string][]byte  // media URL -> the uploaded image
}

// claimed is one coupon given through a send channel.
type claimed struct{ openid, code string }

// claimItem is one coupon of a claim, as the front end passed it.
type claimItem struct {
	stockID, outRequestNo, code, sendTime, creator string
}

// ClaimMiniProgram plays a user (openid) pressing the mini-program plugin's
// button bound to c, as WeChat Pay handles it: the sign must verify, under
// the V2 rules, over exactly the parameters passed (stock_id{n},
// out_request_no{n}, coupon_code{n}, customize_send_time{n},
// create_coupon_merchant{n}, send_coupon_merchant) with the APIv2 key of
// send_coupon_merchant, which must be the stock's creator (FAQ Q8) or its
// MERCHANT partner (委托营销, BuildPartnership). The
// coupons are issued under the stock's rules and each claim's COUPON.SEND
// (send_channel BUSICOUPON_SEND_CHANNEL_MINIAPP) is delivered to the
// creator's notify URL, routed by Route. It returns the codes given, in
// order; a *ClaimError says why WeChat Pay would refuse. A repeated
// out_request_no for the same user returns its first code again, with no
// second event.
func (s *Server) ClaimMiniProgram(openid string, c *busifavor.MiniProgramCoupons) ([]string, error) {
	if c == nil {
		return nil, claimErr(ClaimParamError, "send_coupon_params 必填")
	}
	params := map[string]string{"send_coupon_merchant": c.SendCouponMerchant}
	items := make([]claimItem, len(c.SendCouponParams))
	for i, p := range c.SendCouponParams {
		n := strconv.Itoa(i)
		params["stock_id"+n], params["out_request_no"+n], params["coupon_code"+n] = p.StockID, p.OutRequestNo, p.CouponCode
		params["customize_send_time"+n], params["create_coupon_merchant"+n] = p.CustomizeSendTime, p.CreateCouponMerchant
		items[i] = claimItem{p.StockID, p.OutRequestNo, p.CouponCode, p.CustomizeSendTime, p.CreateCouponMerchant}
	}
	if err := s.checkSign(c.SendCouponMerchant, params, c.Sign); err != nil {
		return nil, err
	}
	return s.playClaim(busifavor.SendChannelMiniApp, true, c.SendCouponMerchant, openid, items)
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
// 10 coupons, 3 of a stock (FAQ Q7). Coupons are issued and each
// COUPON.SEND (BUSICOUPON_SEND_CHANNEL_JSAPI) delivered as ClaimMiniProgram
// does. It returns the codes given.
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

// checkSign verifies sign over params with the APIv2 key of sendMerchant.
// The fake knows one APIv2 key, its merchant's: any other sending merchant
// (a sub-merchant's number in partner mode, say) fails as WeChat Pay's check
// with that merchant's key would. A mismatch is always ClaimSignError; the
// message names the usual cause when it can tell.
func (s *Server) checkSign(sendMerchant string, params map[string]string, sign string) error {
	if sign == "" {
		return claimErr(ClaimParamError, "sign 必填")
	}
	if sendMerchant == "" {
		return claimErr(ClaimParamError, "send_coupon_merchant 必填")
	}
	key, ok := s.apiV2KeyOf(sendMerchant)
	if !ok {
		return claimErr(ClaimSignError, "签名错误: 须使用发券商户号 send_coupon_merchant 的 APIv2 密钥签名; 服务商模式下发券商户号是服务商商户号")
	}
	if hmac.Equal([]byte(sign), []byte(v2Sign(params, key, false))) {
		return nil
	}
	encoded := map[string]string{}
	for k, v := range params {
		encoded[k] = url.QueryEscape(v)
	}
	var why string
	switch sign = strings.ToUpper(sign); {
	case sign == v2Sign(params, key, true):
		why = "签名方式须为 HMAC-SHA256, 不是 MD5"
	case sign == v2Sign(params, s.cfg.apiV3Key, false):
		why = "须使用 APIv2 密钥, 不是 APIv3 密钥"
	case sign == v2Sign(encoded, key, false):
		why = "签名原串的参数值使用原始值, 不需要 encode"
	default:
		why = "请求参数须与签名原串的参数一致, 不能增加或缺少参数"
	}
	return claimErr(ClaimSignError, "签名错误: %s", why)
}

// playClaim issues items to openid as WeChat Pay does after a verified
// claim, and delivers their events when the channel calls back.
func (s *Server) playClaim(sendChannel string, callsBack bool, sendMerchant, openid string, items []claimItem) ([]string, error) {
	if openid == "" {
		return nil, claimErr(ClaimParamError, "用户 openid 必填")
	}
	if len(items) == 0 || len(items) > busifavor.MaxCouponsPerCall {
		return nil, claimErr(ClaimParamError, "一次发券 1 到 %d 张, 实际 %d 张", busifavor.MaxCouponsPerCall, len(items))
	}
	perStock := map[string]int{}
	for _, it := range items {
		if perStock[it.stockID]++; perStock[it.stockID] > busifavor.MaxCouponsPerStockPerCall {
			return nil, claimErr(ClaimParamError, "同一批次一次性最多领取 %d 张", busifavor.MaxCouponsPerStockPerCall)
		}
		if it.stockID == "" || it.outRequestNo == "" {
			return nil, claimErr(ClaimParamError, "stock_id 和 out_request_no 必填")
		}
		if it.sendTime != "" {
			if _, err := time.Parse(time.RFC3339, it.sendTime); err != nil {
				return nil, claimErr(ClaimParamError, "customize_send_time 须为 RFC 3339 时间")
			}
		}
	}
	var events []busifavor.CouponSend
	codes := make([]string, 0, len(items))
	now := s.now()
	s.mu.Lock()
	if s.ch.claims == nil {
		s.ch.claims = map[string]claimed{}
	}
	for _, it := range items {
		key := sendMerchant + "\x00" + it.outRequestNo
		if prev, ok := s.ch.claims[key]; ok {
			if prev.openid != openid {
				s.mu.Unlock()
				return codes, claimErr(ClaimDuplicate, "发券凭证 out_request_no 已用于另一用户")
			}
			codes = append(codes, prev.code)
			continue
		}
		st := s.stocks[it.stockID]
		switch {
		case st == nil:
			s.mu.Unlock()
			return codes, claimErr(string(busifavor.CodeResourceNotExists), "批次不存在")
		case !s.maySend(st, sendMerchant):
			s.mu.Unlock()
			return codes, claimErr(string(busifavor.CodeNoAuth), "发券商户号须为制券商户号或其委托营销合作方")
		case it.sendTime != "" && st.CouponUseRule.CouponAvailableTime.AvailableDayAfterReceive == 0:
			s.mu.Unlock()
			return codes, claimErr(ClaimParamError, "customize_send_time 仅适用于设置了相对领取时间的批次")
		case it.code != "" && st.CouponCodeMode != busifavor.CouponCodeModeMerchantAPI:
			s.mu.Unlock()
			return codes, claimErr(ClaimParamError, "只有 MERCHANT_API 模式的批次可指定 coupon_code")
		}
		if it.code != "" && s.coupons[couponKey(st.StockID, it.code)] != nil {
			s.mu.Unlock()
			return codes, claimErr(ClaimDuplicate, "coupon_code 已发放, 不能重复使用")
		}
		uc, ref := s.issueCoupon(st, sendMerchant, openid, it.code, it.outRequestNo, now)
		if ref != nil {
			s.mu.Unlock()
			return codes, &ClaimError{Code: string(ref.code), Message: ref.message}
		}
		s.ch.claims[key] = claimed{openid: openid, code: uc.CouponCode}
		codes = append(codes, uc.CouponCode)
		ev := busifavor.CouponSend{CouponCode: uc.CouponCode, StockID: st.StockID, SendTime: now,
			SendChannel: sendChannel, SendMerchant: sendMerchant}
		if st.NotifyConfig != nil && st.NotifyConfig.NotifyAppid != "" {
			ev.OpenID = openid // events carry the openid only for stocks with notify_appid
		}
		events = append(events, ev)
	}
	s.mu.Unlock()
	if !callsBack {
		return codes, nil
	}
	for _, ev := range events {
		if err := s.deliverClaim(sendMerchant, ev); err != nil {
			return codes, err
		}
	}
	return codes, nil
}

// deliverClaim starts delivering ev to mchID's notify URL, as ClaimCoupon
// does; a merchant without a notify URL gets no event, as in WeChat Pay.
func (s *Server) deliverClaim(mchID string, ev busifavor.CouponSend) error {
	notifyURL, ok := s.NotifyURL(mchID)
	if !ok {
		return nil
	}
	s.dl.mu.Lock()
	defer s.dl.mu.Unlock()
	targets, ok := s.dl.routes[notifyURL]
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
