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

// Limits of the send channels.
const (
	// APIv2KeyLen is the length of an APIv2 key (API密钥), 32 letters and
	// digits, set in the merchant platform under API安全.
	APIv2KeyLen = 32
	// MaxCouponsPerCall is how many coupons one mini-program or wx.addCard
	// call may carry (mini-program page: 发券参数,一次最多10张; FAQ Q7: 不同批次
	// 一次性最多领取10张).
	MaxCouponsPerCall = 10
	// MaxCouponsPerStockPerCall is how many of those may be of one stock
	// (FAQ Q7: 同一批次一次性最多领取3张, said of JSAPI; applied to the mini
	// program too, whose page gives no per-stock number).
	MaxCouponsPerStockPerCall = 3
	// ChannelCouponCodeMaxLen is coupon_code's limit on the H5 page
	// (string(128)).
	ChannelCouponCodeMaxLen = 128
	// ChannelSendMerchantMaxLen is send_coupon_merchant's limit (H5 page:
	// string(15)).
	ChannelSendMerchantMaxLen = 15
)

// H5CouponURL is the WeChat Pay page an H5 claim redirects the user to (H5
// page).
const H5CouponURL = "https://action.weixin.qq.com/busifavor/getcouponinfo"

// H5Fragment ends every H5 claim URL. The H5 page (2024) requires
// #wechat_pay&wechat_redirect, the old wiki page #wechat_redirect; both say
// that without it WeChat answers error 268435461. H5URL writes the newer.
const H5Fragment = "#wechat_pay&wechat_redirect"

// CouponSigner signs the parameters of the send channels with a merchant's
// APIv2 key. It is safe for concurrent use. The key never leaves it: it is
// not printed by fmt (any verb), slog or encoding/json, nor named in errors.
type CouponSigner struct {
	key []byte
}

// NewCouponSigner returns a signer for the merchant whose APIv2 key this is:
// the sending merchant's (send_coupon_merchant), which in partner mode is the
// service provider's (FAQ Q8). A key that is not 32 letters and digits is
// refused; the error says why without repeating it. An APIv3 key has the
// same shape and cannot be told apart: signing with it is the most common
// mistake (签名错误 272758293), so keep the two apart in configuration.
func NewCouponSigner(apiV2Key string) (*CouponSigner, error) {
	if n := len(apiV2Key); n != APIv2KeyLen {
		return nil, fmt.Errorf("busifavor: NewCouponSigner: the APIv2 key must be %d letters and digits, got %d bytes", APIv2KeyLen, n)
	}
	for _, r := range apiV2Key {
		if !isAlnum(r) {
			return nil, errors.New("busifavor: NewCouponSigner: the APIv2 key must be letters and digits only")
		}
	}
	return &CouponSigner{key: []byte(apiV2Key)}, nil
}

// String names the signer without its key.
func (s CouponSigner) String() string { return "busifavor.CouponSigner{key: [hidden]}" }

// Format prints String for every verb, on a value as on a pointer.
func (s CouponSigner) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue logs String, never the key.
func (s CouponSigner) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON writes String, never the key.
func (s CouponSigner) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// SendCouponItem is one coupon to offer through a send channel.
type SendCouponItem struct {
	// StockID is the stock, 1 to 20 bytes.
	StockID string
	// OutRequestNo is the merchant's unique number for this send (发券凭证),
	// 1 to 128 bytes. H5 allows letters and digits only (H5 page); the
	// mini program and wx.addCard also | _ * - as SendCoupon does (the FAQ's
	// wx.addCard example uses "mch_send_199945614").
	OutRequestNo string
	// CouponCode is the code to give, for stocks whose codes the merchant
	// names (MERCHANT_API); leave it empty otherwise. Up to 128 bytes.
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
// *ValidationError lists every violation, and nothing is signed.
func (s *CouponSigner) MiniProgram(sendMerchant string, items ...SendCouponItem) (*MiniProgramCoupons, error) {
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
// user to: H5CouponURL with stock_id, out_request_no, send_coupon_merchant,
// open_id (and coupon_code, customize_send_time when set) unindexed, sign,
// and H5Fragment. openid is the user's, 1 to 128 bytes, from an appid bound
// to the stock's or the sending merchant (H5 page). The H5 page says this
// channel does not call the merchant back (不回调信息给商家): query the
// coupon (ListUserCoupons) to learn the outcome.
func (s *CouponSigner) H5URL(sendMerchant, openid string, item SendCouponItem) (string, error) {
	var v validator
	v.sendMerchant(sendMerchant)
	v.identifier("open_id", openid, OpenidMaxLen)
	v.channelItem("", item, channelH5)
	if err := v.err(); err != nil {
		return "", err
	}
	p := []param{{"stock_id", item.StockID}, {"out_request_no", item.OutRequestNo},
		{"send_coupon_merchant", sendMerchant}, {"open_id", openid},
		{"coupon_code", item.CouponCode}, {"customize_send_time", formatSendTime(item.CustomizeSendTime)}}
	sign := s.sign(slices.Clone(p)) // sign sorts; the URL keeps the page's order
	var b strings.Builder
	b.WriteString(H5CouponURL)
	sep := byte('?')
	for _, x := range append(p, param{"sign", sign}) {
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
func (s *CouponSigner) AddCardList(sendMerchant string, items ...SendCouponItem) ([]AddCardItem, error) {
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
	buf = append(append(buf, "key="...), s.key...)
	m := hmac.New(sha256.New, s.key)
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

// sendMerchant checks send_coupon_merchant: a merchant id (H5 page:
// string(15)).
func (v *validator) sendMerchant(s string) {
	if v.required("send_coupon_merchant", s) {
		v.merchantID("send_coupon_merchant", s)
	}
}

// channelItems checks a multi-coupon call: 1 to MaxCouponsPerCall coupons,
// at most MaxCouponsPerStockPerCall of a stock, out_request_no unique.
func (v *validator) channelItems(f string, items []SendCouponItem, ch channel) {
	if len(items) == 0 {
		v.add(f, "is required: at least one coupon")
	}
	if len(items) > MaxCouponsPerCall {
		v.add(f, "must hold at most %d coupons per call, got %d", MaxCouponsPerCall, len(items))
	}
	perStock := map[string]int{}
	seen := map[string]int{}
	for i, it := range items {
		p := f + index(i) + "."
		v.channelItem(p, it, ch)
		if perStock[it.StockID]++; it.StockID != "" && perStock[it.StockID] == MaxCouponsPerStockPerCall+1 {
			v.add(p+"stock_id", "is the %d. coupon of its stock in this call; at most %d of one stock", MaxCouponsPerStockPerCall+1, MaxCouponsPerStockPerCall)
		}
		if j, dup := seen[it.OutRequestNo]; dup && it.OutRequestNo != "" {
			v.add(p+"out_request_no", "repeats %s%s.out_request_no; each coupon needs its own", f, index(j))
		} else {
			seen[it.OutRequestNo] = i
		}
	}
}

// channelItem checks one coupon's parameters; p prefixes the field names.
func (v *validator) channelItem(p string, it SendCouponItem, ch channel) {
	v.identifier(p+"stock_id", it.StockID, StockIDMaxLen)
	if ch == channelH5 {
		// H5 page: 可包含英文字母、数字,不允许出现其他不合法符号
		if v.required(p+"out_request_no", it.OutRequestNo) {
			if len(it.OutRequestNo) > RequestNoMaxLen {
				v.add(p+"out_request_no", "must be 1 to %d bytes long, got %d", RequestNoMaxLen, len(it.OutRequestNo))
			}
			if strings.IndexFunc(it.OutRequestNo, func(r rune) bool { return !isAlnum(r) }) >= 0 {
				v.add(p+"out_request_no", "may hold letters and digits only on the H5 channel")
			}
		}
	} else {
		v.merchantNo(p+"out_request_no", it.OutRequestNo)
	}
	if it.CouponCode != "" {
		if len(it.CouponCode) > ChannelCouponCodeMaxLen {
			v.add(p+"coupon_code", "must be at most %d bytes, got %d", ChannelCouponCodeMaxLen, len(it.CouponCode))
		}
		if strings.IndexFunc(it.CouponCode, func(r rune) bool { return !isCodeChar(r) || r == ' ' }) >= 0 {
			v.add(p+"coupon_code", "may hold only 0-9 a-z A-Z and - _ \\ / = |")
		}
	}
	if !it.CustomizeSendTime.IsZero() && (it.CustomizeSendTime.Year() < 2000 || it.CustomizeSendTime.Year() > 9999) {
		v.add(p+"customize_send_time", "is not a plausible time (year %d)", it.CustomizeSendTime.Year())
	}
	if it.CreateCouponMerchant != "" {
		if ch != channelMiniProgram {
			v.add(p+"create_coupon_merchant", "is a parameter of the mini-program plugin only")
		} else {
			v.merchantID(p+"create_coupon_merchant", it.CreateCouponMerchant)
		}
	}
}

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
