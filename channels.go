package busifavor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The front-end send channels (发券渠道) hand coupons to users without the
// merchant calling SendCoupon: the merchant's backend signs the parameters
// with its APIv2 key under WeChat Pay's V2 rules (HMAC-SHA256), and the
// front end passes them on. Pages:
//
//   - 小程序发券插件: https://pay.weixin.qq.com/doc/v3/merchant/4012285674
//     (partner: https://pay.weixin.qq.com/doc/v3/partner/4012285878)
//   - H5发券: https://pay.weixin.qq.com/docs/merchant/apis/offer-coupons-by-h5/h5-coupon.html
//     (old wiki: https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter9_4_1.shtml)
//   - JSAPI发券 (wx.addCard) and the limits of all three: the official FAQ
//     【H5/小程序插件/JSAPI 发券API】常见问题,
//     https://developers.weixin.qq.com/community/pay/doc/00020e01fb874858baebc84ca55408
//
// Every value that goes into a signature is checked against its documented
// character set before anything is signed (see CouponSigner for why).

// Limits of the send channels.
const (
	// APIv2KeyLen is the length of an APIv2 key (API密钥), 32 letters and
	// digits, set in the merchant platform under API安全.
	apiV2KeyLen = 32
	// MaxCouponsPerCall is how many coupons one mini-program or wx.addCard
	// call may carry (mini-program page: 发券参数,一次最多10张; FAQ Q7: 不同批次
	// 一次性最多领取10张).
	MaxCouponsPerCall = 10
	// MaxCouponsPerStockPerCall is how many coupons of one stock a
	// wx.addCard call may carry (FAQ Q7, 通过jsApi 发商家券: 同一批次一次性最多
	// 领取3张). It is said of JSAPI only, so AddCardList applies it and
	// MiniProgram does not: the plugin's page gives no per-stock number.
	MaxCouponsPerStockPerCall = 3
	// ChannelCouponCodeMaxLen is coupon_code's limit on the H5 page
	// (string(128)).
	channelCouponCodeMaxLen = 128
	// ChannelSendMerchantMaxLen is send_coupon_merchant's limit (H5 page:
	// string(15); the old wiki page string[8,15]).
	channelSendMerchantMaxLen = 15
)

// The H5 page's errors, shown to the user by WeChat's page: the merchant
// sees them only when a user reports them.
const (
	// H5ErrCodeMissingFragment is what a claim URL without its fragment gets
	// (H5 page: 每一个H5领券域名后,都需添加#wechat_pay&wechat_redirect,否则会
	// 报错,返回268435461错误码).
	H5ErrCodeMissingFragment = "268435461"
	// H5ErrCodeOpenIDNotBound is what an open_id gets whose AppID is bound
	// neither to the sending merchant nor to the stock's owner (FAQ Q5:
	// 用户openid对应的appid必须与发券商户号有绑定关系).
	H5ErrCodeOpenIDNotBound = "272756757"
)

// H5CouponURL is the WeChat Pay page an H5 claim redirects the user to (H5
// page).
const H5CouponURL = "https://action.weixin.qq.com/busifavor/getcouponinfo"

// H5Fragment ends every H5 claim URL. The H5 page (2025) requires
// #wechat_pay&wechat_redirect, the old wiki page #wechat_redirect; both say
// that without it WeChat answers error 268435461 (H5ErrCodeMissingFragment).
// H5URL writes the newer.
const H5Fragment = "#wechat_pay&wechat_redirect"

// CouponSigner signs the parameters of the send channels with a merchant's
// APIv2 key. It is safe for concurrent use; make one with NewCouponSigner.
//
// The V2 rules join the signed values raw, as k=v&k=v, so a value holding &
// or = would sign parameters the merchant never chose: an open_id of
// "o…&out_request_no=X&stock_id=S&zz=" given to H5URL would yield a sign
// that also verifies for stock S. A backend that takes the openid (or any
// value) from its front end would then hand out signatures for any stock.
// So every value is checked against its documented character set before
// anything is signed, and & and = are refused everywhere with a
// *ValidationError naming the field: stock_id, send_coupon_merchant and
// create_coupon_merchant are digits; open_id letters, digits, - and _;
// out_request_no letters and digits on H5 (H5 page), also | _ * - on the
// mini program and wx.addCard (as SendCoupon's page allows, and the FAQ's
// wx.addCard example "mch_send_199945614" uses); coupon_code the upload
// page's code alphabet without its space and = (0-9 a-z A-Z - _ \ / |).
//
// The key never leaves it. It is held by a func value: fmt prints a func
// as its address under every verb, so even fmt's reflection over a struct
// holding a CouponSigner by value in an unexported field (where Format
// cannot be called) shows at most an address. (A pointer would not do: fmt
// prints a pointer's target for %s and %q.) fmt (any verb), slog and
// encoding/json print the signer masked, and errors never name the key.
type CouponSigner struct {
	key func() []byte
}

const maskedSigner = "busifavor.CouponSigner{key: [hidden]}"

// NewCouponSigner returns a signer for the merchant whose APIv2 key this is:
// the sending merchant's (send_coupon_merchant), which in partner mode is the
// service provider's (FAQ Q8). A key that is not 32 letters and digits is
// refused; the error says why without repeating it. An APIv3 key has the
// same shape and cannot be told apart: signing with it is the most common
// mistake (签名错误), so keep the two apart in configuration.
func NewCouponSigner(apiV2Key string) (*CouponSigner, error) {
	if n := len(apiV2Key); n != apiV2KeyLen {
		return nil, fmt.Errorf("busifavor: NewCouponSigner: the APIv2 key must be %d letters and digits, got %d bytes", apiV2KeyLen, n)
	}
	for _, r := range apiV2Key {
		if !isAlnum(r) {
			return nil, errors.New("busifavor: NewCouponSigner: the APIv2 key must be letters and digits only")
		}
	}
	key := []byte(apiV2Key)
	return &CouponSigner{key: func() []byte { return key }}, nil
}

// errNoKey is what a CouponSigner not made by NewCouponSigner answers.
var errNoKey = errors.New("busifavor: CouponSigner has no key: make it with NewCouponSigner")

// ready reports whether s holds a key.
func (s *CouponSigner) ready() error {
	if s == nil || s.key == nil {
		return errNoKey
	}
	return nil
}

// String names the signer without its key.
func (s CouponSigner) String() string { return maskedSigner }

// Format prints String for every verb, on a value as on a pointer.
func (s CouponSigner) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue logs String, never the key.
func (s CouponSigner) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON writes String, never the key.
func (s CouponSigner) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// SendCouponItem is one coupon to offer through a send channel.
type SendCouponItem struct {
	// StockID is the stock, 1 to 20 digits.
	StockID string
	// OutRequestNo is the merchant's number for this send (发券凭证), 1 to
	// 128 bytes, unique per stock and user (mini-program page: 单个批次单个
	// 用户下确保唯一性): the same number may go to another user, or to the
	// same user on another stock. H5 allows letters and digits only (H5
	// page); the mini program and wx.addCard also | _ * - as SendCoupon does
	// (the FAQ's wx.addCard example uses "mch_send_199945614").
	OutRequestNo string
	// CouponCode is the code to give, for stocks whose codes the merchant
	// names (MERCHANT_API; the H5 page: 则必填,其他模式无需填写); leave it
	// empty otherwise. Up to 128 bytes of 0-9 a-z A-Z - _ \ / |: a code
	// holding a space or = (which the upload page allows) cannot be sent
	// through a channel, since = would split the signed string; send it with
	// SendCoupon.
	CouponCode string `log:"code"`
	// CustomizeSendTime, when set, is when the merchant's own system gave
	// the coupon, for stocks with a relative validity (生效后N天内有效); it
	// is sent and signed as RFC 3339 in China Standard Time.
	CustomizeSendTime time.Time
	// CreateCouponMerchant is the merchant that created the stock (制券商户号),
	// a parameter of the mini-program plugin only, added in 2021-06 and
	// signed with the others (mini-program changelog). Leave it empty for
	// 商家券 sent by their creator; H5URL and AddCardList refuse it.
	CreateCouponMerchant string
}

// MiniProgramCoupons is what the mini-program plugin's <send-coupon>
// component binds; encoding/json writes exactly
// {"send_coupon_params":[…],"sign":"…","send_coupon_merchant":"…"}.
type MiniProgramCoupons struct {
	// SendCouponParams are the coupons, as the component takes them.
	SendCouponParams []MiniProgramCouponParam `json:"send_coupon_params"`
	// Sign is the V2 HMAC-SHA256 signature over every parameter.
	Sign string `json:"sign"`
	// SendCouponMerchant is the sending merchant.
	SendCouponMerchant string `json:"send_coupon_merchant"`
}

// MiniProgramCouponParam is one entry of send_coupon_params.
type MiniProgramCouponParam struct {
	// StockID, OutRequestNo, CouponCode, CustomizeSendTime and
	// CreateCouponMerchant are SendCouponItem's, as signed.
	StockID              string `json:"stock_id"`
	OutRequestNo         string `json:"out_request_no"`
	CouponCode           string `json:"coupon_code,omitempty" log:"code"`
	CustomizeSendTime    string `json:"customize_send_time,omitempty"`
	CreateCouponMerchant string `json:"create_coupon_merchant,omitempty"`
}

// AddCardItem is one entry of wx.addCard's cardList: the stock id as cardId
// and a JSON string as cardExt.
type AddCardItem struct {
	// CardID is the stock id.
	CardID string `json:"cardId"`
	// CardExt is the signed cardExt object as a JSON string; it holds the
	// coupon code, so logs leave it out.
	CardExt string `json:"cardExt" log:"omit"`
}

// cardExt is a wx.addCard cardExt object; only the first carries the
// merchant and the signature (FAQ example).
type cardExt struct {
	OutRequestNo       string `json:"out_request_no"`
	CouponCode         string `json:"coupon_code,omitempty"`
	CustomizeSendTime  string `json:"customize_send_time,omitempty"`
	SendCouponMerchant string `json:"send_coupon_merchant,omitempty"`
	Sign               string `json:"sign,omitempty"`
}

// MiniProgram signs coupons for the mini-program plugin (小程序发券插件). The
// signed names are indexed from 0 per coupon (stock_id0, out_request_no0,
// coupon_code0, customize_send_time0, create_coupon_merchant0, stock_id1, …)
// plus send_coupon_merchant. Every rule is checked first; a
// *ValidationError lists every violation, and nothing is signed. The plugin
// takes at most MaxCouponsPerCall coupons, of one stock or many; one
// out_request_no may serve two different stocks of one call.
//
// What the plugin hands the mini program after the user's tap can be read
// with ParseMiniProgramSendResult; the COUPON.SEND event is the proof of a
// send.
func (s *CouponSigner) MiniProgram(sendMerchant string, items ...SendCouponItem) (*MiniProgramCoupons, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	var v validator
	v.sendMerchant(sendMerchant)
	v.channelItems("send_coupon_params", items, channelMiniProgram)
	if err := v.err(); err != nil {
		return nil, err
	}
	out := &MiniProgramCoupons{SendCouponParams: make([]MiniProgramCouponParam, len(items)), SendCouponMerchant: sendMerchant}
	for i, it := range items {
		out.SendCouponParams[i] = MiniProgramCouponParam{StockID: it.StockID, OutRequestNo: it.OutRequestNo,
			CouponCode: it.CouponCode, CustomizeSendTime: formatSendTime(it.CustomizeSendTime), CreateCouponMerchant: it.CreateCouponMerchant}
	}
	out.Sign = s.sign(indexedParams(sendMerchant, items, true))
	return out, nil
}

// H5URL signs one coupon for H5发券 and returns the whole URL to redirect the
// user to: H5CouponURL with the parameters in the H5 page's example order
// (stock_id, out_request_no, sign, send_coupon_merchant, open_id), then
// coupon_code and customize_send_time when set, unindexed, and H5Fragment.
// openid is the user's, 1 to 128 letters, digits, - and _, from an AppID
// bound to the sending merchant or to the stock's owner (H5 page); another
// gets WeChat's error 272756757 (H5ErrCodeOpenIDNotBound, FAQ Q5), a URL
// without its fragment 268435461 (H5ErrCodeMissingFragment). The H5 page says
// this channel does not call the merchant back (不回调信息给商家): query the
// coupon (ListUserCoupons) to learn the outcome.
func (s *CouponSigner) H5URL(sendMerchant, openid string, item SendCouponItem) (string, error) {
	if err := s.ready(); err != nil {
		return "", err
	}
	var v validator
	v.sendMerchant(sendMerchant)
	v.signed("open_id", openid, 1, openIDMaxLen, isOpenIDChar, "letters, digits, - and _")
	v.channelItem("", item, channelH5)
	if err := v.err(); err != nil {
		return "", err
	}
	p := []param{{"stock_id", item.StockID}, {"out_request_no", item.OutRequestNo}, {"sign", ""},
		{"send_coupon_merchant", sendMerchant}, {"open_id", openid},
		{"coupon_code", item.CouponCode}, {"customize_send_time", formatSendTime(item.CustomizeSendTime)}}
	p[2].value = s.sign(slices.Clone(p)) // sign sorts its copy and skips the empty sign
	var b strings.Builder
	b.WriteString(H5CouponURL)
	sep := byte('?')
	for _, x := range p {
		if x.value == "" {
			continue
		}
		b.WriteByte(sep)
		sep = '&'
		b.WriteString(x.name + "=" + url.QueryEscape(x.value))
	}
	b.WriteString(H5Fragment)
	return b.String(), nil
}

// AddCardList signs coupons for JSAPI发券, wx.addCard({cardList}): the first
// item's cardExt carries send_coupon_merchant and the sign, every item its
// own out_request_no (and coupon_code, customize_send_time). The signature
// covers the same indexed names as MiniProgram's, with cardId as stock_id{n}.
// At most MaxCouponsPerCall coupons, MaxCouponsPerStockPerCall of a stock
// (FAQ Q7).
//
// wx.addCard sends 商家券 from an H5 page in WeChat (JS-SDK), not from a mini
// program: the official FAQ (Q6) says 商家券H5的Jsapi已经支持拉起插卡,但是小程序
// 的jsapi目前还不支持,小程序内目前只能通过小程序插件来领取商家券. Inside a mini
// program use MiniProgram (the plugin).
func (s *CouponSigner) AddCardList(sendMerchant string, items ...SendCouponItem) ([]AddCardItem, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	var v validator
	v.sendMerchant(sendMerchant)
	v.channelItems("cardList", items, channelJSAPI)
	if err := v.err(); err != nil {
		return nil, err
	}
	sign := s.sign(indexedParams(sendMerchant, items, false))
	out := make([]AddCardItem, len(items))
	for i, it := range items {
		ext := cardExt{OutRequestNo: it.OutRequestNo, CouponCode: it.CouponCode, CustomizeSendTime: formatSendTime(it.CustomizeSendTime)}
		if i == 0 {
			ext.SendCouponMerchant, ext.Sign = sendMerchant, sign
		}
		b, err := json.Marshal(ext)
		if err != nil {
			return nil, err
		}
		out[i] = AddCardItem{CardID: it.StockID, CardExt: string(b)}
	}
	return out, nil
}

// What the plugin hands the mini program. After the user's tap, the
// plugin's bind:sendcoupon event gives the mini program a detail of errcode,
// msg and send_coupon_result, one result per coupon (mini-program page:
// 发券结果,包含需要发放的每张券的结果信息,是否成功或失败原因). Mini programs
// often post it back to the merchant's backend. That post-back is the
// user's device speaking, and anyone can post anything: it may tell the
// backend what to show the user, never that a coupon was sent. The proof of
// a send is the COUPON.SEND event WeChat Pay signs and delivers to the
// notify URL (NewEventHandler).

// MiniProgramErrCode is the plugin's overall result (errcode of the
// detail). Codes the SDK does not know are kept as they came. The list is
// the page's; beyond OK, the descriptions below read the codes' names.
type MiniProgramErrCode string

// The overall results the mini-program page lists (Detail中errcode返回错误码).
const (
	// MiniProgramErrCodeOK: the call went through; each coupon's own result is in
	// send_coupon_result (page: 接口调用成功,具体发券结果(是否发券成功)需查看
	// 发券结果(send_coupon_result)中的参数).
	MiniProgramErrCodeOK MiniProgramErrCode = "OK"
	// MiniProgramErrCodeParamError: a parameter is missing or malformed.
	MiniProgramErrCodeParamError MiniProgramErrCode = "PARAM_ERROR"
	// MiniProgramErrCodeSignError: the sign does not verify under the sending
	// merchant's APIv2 key over exactly the parameters sent (FAQ Q1 lists
	// the usual causes). This is the plugin page's code; community posts
	// cite 272758293 for a bad signature, an error number no official page
	// names.
	MiniProgramErrCodeSignError MiniProgramErrCode = "SIGN_ERROR"
	// MiniProgramErrCodeUserNotExists: the plugin found no such user.
	MiniProgramErrCodeUserNotExists MiniProgramErrCode = "USER_NOT_EXISTS"
	// MiniProgramErrCodeUserGetFailed: the plugin could not learn who the user is.
	MiniProgramErrCodeUserGetFailed MiniProgramErrCode = "USER_GET_FAILED"
	// MiniProgramErrCodeSystemError: a WeChat Pay failure; the user may try again.
	MiniProgramErrCodeSystemError MiniProgramErrCode = "SYSTEMERROR"
)

// SendCouponResultCode is one coupon's result in send_coupon_result (券状态
// 码). Only SendCouponResultCodeSuccess means the coupon was given by this tap;
// the mini-program page says that without a SUCCESS the user is told the
// claim failed (如果参数send_coupon_result中没有券发送成功(券状态码不为
// SUCCESS),用户会被告知领券失败). Codes the SDK does not know are kept as
// they came. The descriptions below read the code's name where the page's
// row could not be quoted; the list is the page's, NOTMONEY, USERLIMIT and
// FREQUENCYLIMIT since its 2021-06 change (小程序发券插件更新日志: 错误码新增
// (NOTMONEY、USERLIMIT、FREQUENCYLIMIT)).
type SendCouponResultCode string

// The per-coupon results the mini-program page lists.
const (
	// SendCouponResultCodeSuccess: the coupon was given to the user.
	SendCouponResultCodeSuccess SendCouponResultCode = "SUCCESS"
	// SendCouponResultCodeDupRequest: this 发券凭证 (out_request_no, or a
	// coupon_code: FAQ Q3) was already used to give the user a coupon
	// (已通过该发券凭证给用户发券); the page's advice is to tell the user the
	// claim succeeded (提示用户领取成功). No second coupon was given.
	SendCouponResultCodeDupRequest SendCouponResultCode = "DUPREQUEST"
	// SendCouponResultCodeNotEnough: the stock has no coupon left to give.
	SendCouponResultCodeNotEnough SendCouponResultCode = "NOTENOUGH"
	// SendCouponResultCodeDayLimit: the stock's daily limit is reached.
	SendCouponResultCodeDayLimit SendCouponResultCode = "DAYLIMIT"
	// SendCouponResultCodeNatureLimit: the natural person's limit is reached
	// (a person's accounts count together).
	SendCouponResultCodeNatureLimit SendCouponResultCode = "NATURELIMIT"
	// SendCouponResultCodeMaxQuota: the user's limit for the stock is reached.
	SendCouponResultCodeMaxQuota SendCouponResultCode = "MAXQUOTA"
	// SendCouponResultCodeNotRunning: the stock is not sending (not started,
	// paused, stopped or ended).
	SendCouponResultCodeNotRunning SendCouponResultCode = "NOTRUNNING"
	// SendCouponResultCodeNotMoney: the merchant's funds do not cover the
	// coupon (added 2021-06).
	SendCouponResultCodeNotMoney SendCouponResultCode = "NOTMONEY"
	// SendCouponResultCodeUserLimit: the user may not receive coupons now
	// (added 2021-06).
	SendCouponResultCodeUserLimit SendCouponResultCode = "USERLIMIT"
	// SendCouponResultCodeFrequencyLimit: too many claims too fast (added
	// 2021-06; FAQ Q2 gives the plugin's rate as 1000/s).
	SendCouponResultCodeFrequencyLimit SendCouponResultCode = "FREQUENCYLIMIT"
)

// MiniProgramSendResult is the detail of the plugin's bind:sendcoupon
// event, as ParseMiniProgramSendResult reads it from a post-back. It is
// what the user's device says: see the notes above.
type MiniProgramSendResult struct {
	// ErrCode is the overall result (外层错误码, required by the page).
	ErrCode MiniProgramErrCode `json:"errcode" required:"page"`
	// Msg is the overall message (错误信息).
	Msg string `json:"msg"`
	// SendCouponResult holds one result per coupon of the call. The page
	// marks it required; the SDK also accepts a post-back without it, which
	// a refused call (errcode other than OK) may bring.
	SendCouponResult []MiniProgramCouponResult `json:"send_coupon_result"`
}

// MiniProgramCouponResult is one coupon's result.
type MiniProgramCouponResult struct {
	// StockID and OutRequestNo name the coupon of the call.
	StockID      string `json:"stock_id"`
	OutRequestNo string `json:"out_request_no"`
	// CouponCode is the code given, when the result carries one.
	CouponCode string `json:"coupon_code,omitempty" log:"code"`
	// Code is the coupon's result; Message says why in WeChat Pay's words.
	Code    SendCouponResultCode `json:"code"`
	Message string               `json:"message"`
}

// maxSendResultBytes bounds a post-back: ten coupons' results take a few
// KiB.
const maxSendResultBytes = 64 << 10

// ParseMiniProgramSendResult reads the detail of the plugin's
// bind:sendcoupon event (errcode, msg, send_coupon_result) as a mini
// program posts it back, in JSON. A body that is not that object, lacks
// errcode or is over 64 KiB is a *ValidationError naming the field. The
// result is what the user's device says, not proof of a send: wait for the
// COUPON.SEND event before giving anything for a coupon.
func ParseMiniProgramSendResult(data []byte) (*MiniProgramSendResult, error) {
	if len(data) > maxSendResultBytes {
		return nil, &ValidationError{Fields: []FieldError{{Field: "detail", Reason: fmt.Sprintf("must be at most %d bytes, got %d", maxSendResultBytes, len(data))}}}
	}
	var r MiniProgramSendResult
	if err := decodeJSON(data, &r); err != nil {
		var me *missingError
		if errors.As(err, &me) {
			var v validator
			for _, f := range me.fields {
				if me.path != "" {
					f = me.path + "." + f
				}
				v.add(f, "is required")
			}
			return nil, v.err()
		}
		field := "detail"
		if pe := (*pathError)(nil); errors.As(err, &pe) {
			field = pe.path
		}
		return nil, &ValidationError{Fields: []FieldError{{Field: field, Reason: "is not the plugin's detail object: " + err.Error()}}}
	}
	return &r, nil
}

// param is one signed parameter.
type param struct{ name, value string }

// indexedNames are the signed names of coupon n of a multi-coupon call:
// stock_id{n}, out_request_no{n}, coupon_code{n}, customize_send_time{n},
// create_coupon_merchant{n}.
var indexedNames = func() (names [MaxCouponsPerCall][5]string) {
	for i := range names {
		n := strconv.Itoa(i)
		names[i] = [5]string{"stock_id" + n, "out_request_no" + n, "coupon_code" + n, "customize_send_time" + n, "create_coupon_merchant" + n}
	}
	return names
}()

// indexedParams are the signed parameters of a multi-coupon call (at most
// MaxCouponsPerCall items, checked before).
func indexedParams(sendMerchant string, items []SendCouponItem, withCreator bool) []param {
	p := make([]param, 0, 5*len(items)+1)
	p = append(p, param{"send_coupon_merchant", sendMerchant})
	for i, it := range items {
		n := &indexedNames[i]
		p = append(p, param{n[0], it.StockID}, param{n[1], it.OutRequestNo},
			param{n[2], it.CouponCode}, param{n[3], formatSendTime(it.CustomizeSendTime)})
		if withCreator {
			p = append(p, param{n[4], it.CreateCouponMerchant})
		}
	}
	return p
}

// sign applies the V2 rules: the parameters with a value, sorted by name
// (ASCII), joined as k=v with &, then &key=<APIv2 key>; HMAC-SHA256 under
// the key, in upper-case hex. Values are signed raw, as sent, never
// URL-encoded. It sorts p in place.
func (s *CouponSigner) sign(p []param) string {
	slices.SortFunc(p, func(a, b param) int { return strings.Compare(a.name, b.name) })
	buf := make([]byte, 0, 1024)
	for _, x := range p {
		if x.value != "" {
			buf = append(append(append(append(buf, x.name...), '='), x.value...), '&')
		}
	}
	key := s.key()
	buf = append(append(buf, "key="...), key...)
	m := hmac.New(sha256.New, key)
	_, _ = m.Write(buf)
	var sum [sha256.Size]byte
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], m.Sum(sum[:0]))
	return strings.ToUpper(string(out[:]))
}

// formatSendTime is customize_send_time as sent: RFC 3339 in China Standard
// Time, to the second (the pages' example shape, 2015-05-20T13:29:35+08:00).
func formatSendTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(chinaTime).Format(time.RFC3339)
}

// channel names a send channel for the rules that differ.
type channel int

const (
	channelMiniProgram channel = iota
	channelH5
	channelJSAPI
)

// sendMerchant checks send_coupon_merchant: a merchant id, 8 to 15 digits
// (H5 page: string(15); the old wiki page string[8,15]).
func (v *validator) sendMerchant(s string) {
	v.signed("send_coupon_merchant", s, mchIDMinLen, channelSendMerchantMaxLen, isDigit, "digits")
}

// signed checks a value that goes into a V2 signature: lo to hi bytes of
// the alphabet ok accepts (named by alphabet), and never & or =, which the
// signed string uses as separators (see CouponSigner).
func (v *validator) signed(f, s string, lo, hi int, ok func(rune) bool, alphabet string) {
	if !v.required(f, s) {
		return
	}
	if n := len(s); n < lo || n > hi {
		v.add(f, "must be %d to %d bytes long, got %d", lo, hi, n)
	}
	if strings.ContainsAny(s, "&=") {
		v.add(f, "must not hold & or =: the signature joins values as k=v&k=v, so such a value would sign parameters you did not choose")
		return
	}
	for i, r := range s {
		if !ok(r) {
			v.add(f, "has %q at byte %d; use only %s", r, i, alphabet)
			return
		}
	}
}

// channelItems checks a multi-coupon call: 1 to MaxCouponsPerCall coupons,
// on wx.addCard at most MaxCouponsPerStockPerCall of a stock, and no
// out_request_no twice for one stock (the number is unique per stock and
// user, and one call has one user).
func (v *validator) channelItems(f string, items []SendCouponItem, ch channel) {
	if len(items) == 0 {
		v.add(f, "is required: at least one coupon")
	}
	if len(items) > MaxCouponsPerCall {
		v.add(f, "must hold at most %d coupons per call, got %d", MaxCouponsPerCall, len(items))
	}
	perStock := map[string]int{}
	seen := map[[2]string]int{}
	for i, it := range items {
		p := f + index(i) + "."
		v.channelItem(p, it, ch)
		if perStock[it.StockID]++; ch == channelJSAPI && it.StockID != "" && perStock[it.StockID] == MaxCouponsPerStockPerCall+1 {
			v.add(p+"stock_id", "is the %d. coupon of its stock in this call; wx.addCard takes at most %d of one stock", MaxCouponsPerStockPerCall+1, MaxCouponsPerStockPerCall)
		}
		key := [2]string{it.StockID, it.OutRequestNo}
		if j, dup := seen[key]; dup && it.OutRequestNo != "" {
			v.add(p+"out_request_no", "repeats %s%s.out_request_no for the same stock; each coupon of a stock needs its own", f, index(j))
		} else {
			seen[key] = i
		}
	}
}

// channelItem checks one coupon's parameters; p prefixes the field names.
func (v *validator) channelItem(p string, it SendCouponItem, ch channel) {
	v.signed(p+"stock_id", it.StockID, 1, stockIDMaxLen, isDigit, "digits")
	if ch == channelH5 {
		// H5 page: 可包含英文字母、数字,不允许出现其他不合法符号
		v.signed(p+"out_request_no", it.OutRequestNo, 1, requestNoMaxLen, isAlnum, "letters and digits on the H5 channel")
	} else {
		v.signed(p+"out_request_no", it.OutRequestNo, 1, requestNoMaxLen, isMerchantNoChar, "letters, digits and | _ * -")
	}
	if it.CouponCode != "" {
		v.signed(p+"coupon_code", it.CouponCode, 1, channelCouponCodeMaxLen, isChannelCodeChar, `0-9 a-z A-Z and - _ \ / |`)
	}
	if !it.CustomizeSendTime.IsZero() && (it.CustomizeSendTime.Year() < 2000 || it.CustomizeSendTime.Year() > 9999) {
		v.add(p+"customize_send_time", "is not a plausible time (year %d)", it.CustomizeSendTime.Year())
	}
	if it.CreateCouponMerchant != "" {
		if ch != channelMiniProgram {
			v.add(p+"create_coupon_merchant", "is a parameter of the mini-program plugin only")
		} else {
			v.signed(p+"create_coupon_merchant", it.CreateCouponMerchant, mchIDMinLen, mchIDMaxLen, isDigit, "digits")
		}
	}
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// isOpenIDChar is an openid's alphabet as the channels take it: letters,
// digits, - and _ (WeChat's openids, such as oUpF8uMuAJO_M2pxb1Q9zNjWeS6o).
func isOpenIDChar(r rune) bool { return isAlnum(r) || r == '-' || r == '_' }

// isMerchantNoChar is merchantNo's alphabet (letters, digits, | _ * -, and
// the full-width ｜ of wechatpay-go's models).
func isMerchantNoChar(r rune) bool { return isAlnum(r) || strings.ContainsRune("|｜_*-", r) }

// isChannelCodeChar is a coupon code's alphabet (isCodeChar) without the
// space and =, which a signed value cannot hold.
func isChannelCodeChar(r rune) bool { return r != ' ' && r != '=' && isCodeChar(r) }

func isAlnum(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

// Format prints r as fmt does, coupon codes masked (see privacy.go).
func (r SendCouponItem) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r SendCouponItem) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, coupon codes masked (see privacy.go).
func (r MiniProgramCoupons) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r MiniProgramCoupons) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, coupon codes masked (see privacy.go).
func (r MiniProgramCouponParam) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r MiniProgramCouponParam) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, coupon codes masked (see privacy.go).
func (r AddCardItem) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r AddCardItem) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, coupon codes masked (see privacy.go).
func (r MiniProgramSendResult) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r MiniProgramSendResult) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, coupon codes masked (see privacy.go).
func (r MiniProgramCouponResult) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r MiniProgramCouponResult) LogValue() slog.Value { return logValue(masked(r)) }
