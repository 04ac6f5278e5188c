package busifavor_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// refSign is an independent implementation of WeChat Pay's V2 signing rules,
// written from the page and not from the code under test: drop empty
// values, sort the names by byte, join name=value with &, append &key=KEY,
// and take HMAC-SHA256 under KEY (or MD5), in upper-case hex.
func refSign(params url.Values, key string, useMD5 bool) string {
	var names []string
	for k := range params {
		if params.Get(k) != "" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	s := ""
	for _, k := range names {
		s += k + "=" + params.Get(k) + "&"
	}
	s += "key=" + key
	if useMD5 {
		sum := md5.Sum([]byte(s))
		return strings.ToUpper(hex.EncodeToString(sum[:]))
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(s))
	return strings.ToUpper(hex.EncodeToString(m.Sum(nil)))
}

// refString is the string the V2 rules sign, for comparing with the pages'
// examples.
func refString(params url.Values, key string) string {
	var names []string
	for k := range params {
		if params.Get(k) != "" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		parts = append(parts, k+"="+params.Get(k))
	}
	return strings.Join(append(parts, "key="+key), "&")
}

const testV2Key = "Abcdefghij0123456789KLMNOPqrstuv"

func newSigner(t testing.TB, key string) *busifavor.CouponSigner {
	t.Helper()
	s, err := busifavor.NewCouponSigner(key)
	require.NoError(t, err)
	return s
}

// miniProgramParams are the signed names of a mini-program call, as the
// reference builds them from what the front end receives.
func miniProgramParams(c *busifavor.MiniProgramCoupons) url.Values {
	v := url.Values{"send_coupon_merchant": {c.SendCouponMerchant}}
	for i, p := range c.SendCouponParams {
		n := strconv.Itoa(i)
		v.Set("stock_id"+n, p.StockID)
		v.Set("out_request_no"+n, p.OutRequestNo)
		v.Set("coupon_code"+n, p.CouponCode)
		v.Set("customize_send_time"+n, p.CustomizeSendTime)
		v.Set("create_coupon_merchant"+n, p.CreateCouponMerchant)
	}
	return v
}

func TestMiniProgramSignatureMatchesTheReference(t *testing.T) {
	s := newSigner(t, testV2Key)
	sendTime := time.Now().Truncate(time.Second)
	c, err := s.MiniProgram("10016226",
		busifavor.SendCouponItem{StockID: "1234567", OutRequestNo: "abc123"},
		busifavor.SendCouponItem{StockID: "2345678", OutRequestNo: "123abc", CouponCode: "asdsada", CustomizeSendTime: sendTime},
		busifavor.SendCouponItem{StockID: "2345678", OutRequestNo: "x-1_2|3*4", CreateCouponMerchant: "10016226"})
	require.NoError(t, err)
	assert.Equal(t, refSign(miniProgramParams(c), testV2Key, false), c.Sign)
	assert.Equal(t, sendTime.In(time.FixedZone("", 8*3600)).Format(time.RFC3339), c.SendCouponParams[1].CustomizeSendTime)

	// What the component binds, exactly.
	b, err := json.Marshal(c)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), `{"send_coupon_params":[{"stock_id":"1234567","out_request_no":"abc123"},`), string(b))
	assert.True(t, strings.HasSuffix(string(b), `],"sign":"`+c.Sign+`","send_coupon_merchant":"10016226"}`), string(b))
}

// The FAQ's examples of the signed string (发放一张券 / 发放多张券 / with
// coupon_code): the SDK's parameters, run through the reference, give
// exactly those strings, so the SDK signs what the pages sign.
func TestMiniProgramSignsThePagesExampleStrings(t *testing.T) {
	s := newSigner(t, testV2Key)
	for _, tc := range []struct {
		items []busifavor.SendCouponItem
		want  string
	}{
		{[]busifavor.SendCouponItem{{StockID: "1234567", OutRequestNo: "abc123"}},
			"out_request_no0=abc123&send_coupon_merchant=10016226&stock_id0=1234567&key=" + testV2Key},
		{[]busifavor.SendCouponItem{{StockID: "1234567", OutRequestNo: "abc123"}, {StockID: "2345678", OutRequestNo: "123abc"}},
			"out_request_no0=abc123&out_request_no1=123abc&send_coupon_merchant=10016226&stock_id0=1234567&stock_id1=2345678&key=" + testV2Key},
		{[]busifavor.SendCouponItem{{StockID: "1234567", OutRequestNo: "abc123", CouponCode: "asdsada"}},
			"coupon_code0=asdsada&out_request_no0=abc123&send_coupon_merchant=10016226&stock_id0=1234567&key=" + testV2Key},
	} {
		c, err := s.MiniProgram("10016226", tc.items...)
		require.NoError(t, err)
		assert.Equal(t, tc.want, refString(miniProgramParams(c), testV2Key))
		assert.Equal(t, refSign(miniProgramParams(c), testV2Key, false), c.Sign)
	}
}

func TestH5URLMatchesTheReference(t *testing.T) {
	s := newSigner(t, testV2Key)
	raw, err := s.H5URL("123456789", "oiSFDIOoijdsf", busifavor.SendCouponItem{
		StockID: "1234567890000000", OutRequestNo: "201911280000", CouponCode: `A-1/2\3|4_5`, CustomizeSendTime: time.Now()})
	require.NoError(t, err)
	base, fragment, ok := strings.Cut(raw, "#")
	require.True(t, ok)
	assert.Equal(t, "wechat_pay&wechat_redirect", fragment)
	u, err := url.Parse(base)
	require.NoError(t, err)
	assert.Equal(t, busifavor.H5CouponURL, u.Scheme+"://"+u.Host+u.Path)
	q := u.Query()
	sign := q.Get("sign")
	q.Del("sign")
	assert.Equal(t, refSign(q, testV2Key, false), sign, "the sign covers the decoded values")
	assert.Equal(t, "oiSFDIOoijdsf", q.Get("open_id"))
	// The page's example URL puts the parameters in this order (stock_id,
	// out_request_no, sign, send_coupon_merchant, open_id); the optional
	// ones follow.
	assert.Regexp(t, `^`+regexp.QuoteMeta(busifavor.H5CouponURL+"?stock_id=1234567890000000&out_request_no=201911280000&sign=")+
		`[0-9A-F]{64}&send_coupon_merchant=123456789&open_id=oiSFDIOoijdsf&coupon_code=[^&]+&customize_send_time=[^&]+$`, base)
}

func TestAddCardListMatchesTheReference(t *testing.T) {
	s := newSigner(t, testV2Key)
	list, err := s.AddCardList("10195878",
		busifavor.SendCouponItem{StockID: "1069587740", OutRequestNo: "mch_send_199945614"},
		busifavor.SendCouponItem{StockID: "1069587740", OutRequestNo: "mch_send_1678945612"},
		busifavor.SendCouponItem{StockID: "1069587740", OutRequestNo: "mch_send_1678945614", CouponCode: "HDFS1069773985"},
		busifavor.SendCouponItem{StockID: "1069587555", OutRequestNo: "mch_send_1678945618", CustomizeSendTime: time.Now()})
	require.NoError(t, err)
	require.Len(t, list, 4)
	params := url.Values{}
	var first map[string]string
	for i, it := range list {
		var ext map[string]string
		require.NoError(t, json.Unmarshal([]byte(it.CardExt), &ext))
		if i == 0 {
			first = ext
			assert.Equal(t, "10195878", ext["send_coupon_merchant"])
		} else {
			assert.NotContains(t, ext, "sign", "only the first item carries the sign (FAQ example)")
			assert.NotContains(t, ext, "send_coupon_merchant")
		}
		n := strconv.Itoa(i)
		params.Set("stock_id"+n, it.CardID)
		for k, v := range ext {
			if k != "sign" && k != "send_coupon_merchant" {
				params.Set(k+n, v)
			}
		}
	}
	params.Set("send_coupon_merchant", first["send_coupon_merchant"])
	assert.Equal(t, refSign(params, testV2Key, false), first["sign"])
	b, err := json.Marshal(list[1])
	require.NoError(t, err)
	assert.Equal(t, `{"cardId":"1069587740","cardExt":"{\"out_request_no\":\"mch_send_1678945612\"}"}`, string(b))
}

// The H5 page's example URL carries a placeholder sign (not hex): it can
// only be refused, which the fake does with the signature error.
func TestTheH5PageExampleURLIsRefused(t *testing.T) {
	fake := busifavortest.NewServer(busifavortest.WithMchID("123456789"))
	t.Cleanup(fake.Close)
	_, err := fake.OpenH5URL("https://action.weixin.qq.com/busifavor/getcouponinfo?stock_id=1234567890000000&out_request_no=201911280000&sign=D0D028212D200DC9DASDFSDFFD3676BEAD03046DC3A2E82A64C784EFFAF&send_coupon_merchant=123456789&open_id=oiSFDIOoijdsf#wechat_pay&wechat_redirect")
	var ce *busifavortest.ClaimError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, busifavortest.ClaimSignError, ce.Code)
}

func TestCouponSignerRefusesBadKeysWithoutShowingThem(t *testing.T) {
	for _, key := range []string{"", "short", testV2Key + "x", "Abcdefghij0123456789KLMNOPqrst-v", "Abcdefghij0123456789KLMNOPqrst v"} {
		_, err := busifavor.NewCouponSigner(key)
		require.Error(t, err, key)
		if len(key) > 3 {
			assert.NotContains(t, err.Error(), key)
		}
	}
}

func TestCouponSignerNeverPrintsItsKey(t *testing.T) {
	s := newSigner(t, testV2Key)
	var outs []string
	for _, verb := range formatVerbs {
		outs = append(outs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, *s))
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "signer", s, "value", *s)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "signer", s, "value", *s)
	j, err := json.Marshal(s)
	require.NoError(t, err)
	outs = append(outs, logs.String(), string(j))
	// A bad call's error does not name it either.
	_, verr := s.MiniProgram("", busifavor.SendCouponItem{})
	outs = append(outs, verr.Error())
	for _, out := range outs {
		assert.NotContains(t, out, testV2Key)
		assert.NotContains(t, out, testV2Key[:12])
		assert.NotContains(t, strings.ToLower(out), hex.EncodeToString([]byte(testV2Key[:12])))
	}
}

// keyForms are the ways fmt and slog could show an APIv2 key's bytes: the
// key, its bytes as %v and %#v print them, and in hex.
func keyForms(key string) []string {
	b := []byte(key)
	return []string{key[:12], strings.Trim(fmt.Sprint(b[:6]), "[]"), strings.TrimPrefix(fmt.Sprintf("%#v", b[:6]), "[]byte{"),
		hex.EncodeToString(b[:6]), strings.ToUpper(hex.EncodeToString(b[:6]))}
}

// Item 3: a struct holding a CouponSigner by value, in an exported or an
// unexported field, prints at most an address of the key: fmt prints an
// unexported field by reflection, without calling Format.
func TestCouponSignerHeldByValueNeverPrintsItsKey(t *testing.T) {
	s := newSigner(t, testV2Key)
	type hidden struct {
		name   string
		signer busifavor.CouponSigner
	}
	type shown struct {
		Name   string
		Signer busifavor.CouponSigner
	}
	values := []any{hidden{"shop", *s}, shown{"shop", *s}, &hidden{"shop", *s}, []busifavor.CouponSigner{*s}, map[string]busifavor.CouponSigner{"k": *s}}
	var outs []string
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
			outs = append(outs, fmt.Sprintf(verb, v))
		}
		var text, js bytes.Buffer
		slog.New(slog.NewTextHandler(&text, nil)).Info("config", "cfg", v)
		slog.New(slog.NewJSONHandler(&js, nil)).Info("config", "cfg", v)
		outs = append(outs, text.String(), js.String())
	}
	for _, out := range outs {
		for _, form := range keyForms(testV2Key) {
			require.NotContains(t, out, form)
		}
	}
	assert.Contains(t, fmt.Sprintf("%+v", shown{"shop", *s}), "[hidden]")

	// A signer not made by NewCouponSigner has no key and signs nothing.
	var zero busifavor.CouponSigner
	_, err := zero.MiniProgram("10016226", busifavor.SendCouponItem{StockID: "1", OutRequestNo: "a"})
	assert.ErrorContains(t, err, "NewCouponSigner")
	_, err = zero.H5URL("10016226", "o1", busifavor.SendCouponItem{StockID: "1", OutRequestNo: "a"})
	assert.Error(t, err)
	_, err = zero.AddCardList("10016226", busifavor.SendCouponItem{StockID: "1", OutRequestNo: "a"})
	assert.Error(t, err)
}

// Item 1 (security): the V2 signature joins raw values as k=v&k=v, so an
// open_id of "o…&out_request_no=X999&stock_id=S&zz=" would make H5URL sign
// a stock and a number the merchant never chose. Every signed value of
// every channel is checked against its character set, and & and = are
// refused with a *ValidationError naming the field.
func TestSignedValuesCannotCarryAnotherParameter(t *testing.T) {
	s := newSigner(t, testV2Key)
	const mch = "10016226"
	attack := "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o&out_request_no=X999&stock_id=1212000000000999&zz="
	raw, err := s.H5URL(mch, attack, busifavor.SendCouponItem{StockID: "1212000000000001", OutRequestNo: "order1"})
	assert.Empty(t, raw, "nothing signed")
	require.Equal(t, []string{"open_id"}, violations(t, err))
	assert.Contains(t, err.Error(), "&")
	assert.NotContains(t, err.Error(), "X999", "the error does not repeat the value")

	item := func() busifavor.SendCouponItem {
		return busifavor.SendCouponItem{StockID: "1212000000000001", OutRequestNo: "order1"}
	}
	type call func(sendMerchant, openid string, it busifavor.SendCouponItem) error
	mini := func(m, _ string, it busifavor.SendCouponItem) error { _, err := s.MiniProgram(m, it); return err }
	h5 := func(m, o string, it busifavor.SendCouponItem) error { _, err := s.H5URL(m, o, it); return err }
	jsapi := func(m, _ string, it busifavor.SendCouponItem) error { _, err := s.AddCardList(m, it); return err }
	for _, ch := range []struct {
		name   string
		call   call
		prefix string // how the channel names an item's field
	}{{"MiniProgram", mini, "send_coupon_params[0]."}, {"H5URL", h5, ""}, {"AddCardList", jsapi, "cardList[0]."}} {
		for _, sep := range []string{"&", "="} {
			cases := []struct {
				field string
				call  func() error
			}{
				{"send_coupon_merchant", func() error { return ch.call(mch+sep+"1", "o1", item()) }},
				{ch.prefix + "stock_id", func() error { it := item(); it.StockID += sep + "1"; return ch.call(mch, "o1", it) }},
				{ch.prefix + "out_request_no", func() error { it := item(); it.OutRequestNo += sep + "a"; return ch.call(mch, "o1", it) }},
				{ch.prefix + "coupon_code", func() error { it := item(); it.CouponCode = "CODE" + sep + "1"; return ch.call(mch, "o1", it) }},
			}
			switch ch.name {
			case "H5URL":
				cases = append(cases, struct {
					field string
					call  func() error
				}{"open_id", func() error { return ch.call(mch, "o1"+sep+"x", item()) }})
			case "MiniProgram":
				cases = append(cases, struct {
					field string
					call  func() error
				}{ch.prefix + "create_coupon_merchant", func() error {
					it := item()
					it.CreateCouponMerchant = mch + sep + "1"
					return ch.call(mch, "o1", it)
				}})
			}
			for _, tc := range cases {
				err := tc.call()
				require.Equal(t, []string{tc.field}, violations(t, err), "%s %s %q", ch.name, tc.field, sep)
				assert.Contains(t, err.Error(), "& or =", "%s %s", ch.name, tc.field)
			}
		}
	}

	// Each alphabet, both sides.
	for _, tc := range []struct {
		openid string
		it     busifavor.SendCouponItem
		bad    string // the field refused, "" when none
	}{
		{"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", busifavor.SendCouponItem{StockID: "12345678901234567890", OutRequestNo: "Order1", CouponCode: `A-b_1\/|`}, ""},
		{"o-1_A", busifavor.SendCouponItem{StockID: "1", OutRequestNo: "a"}, ""},
		{"o.1", busifavor.SendCouponItem{StockID: "1", OutRequestNo: "a"}, "open_id"},
		{"o%261", busifavor.SendCouponItem{StockID: "1", OutRequestNo: "a"}, "open_id"},
		{"o1", busifavor.SendCouponItem{StockID: "12a", OutRequestNo: "a"}, "stock_id"},
		{"o1", busifavor.SendCouponItem{StockID: "1", OutRequestNo: "a-1"}, "out_request_no"},
		{"o1", busifavor.SendCouponItem{StockID: "1", OutRequestNo: "a", CouponCode: "A B"}, "coupon_code"},
	} {
		_, err := s.H5URL(mch, tc.openid, tc.it)
		if tc.bad == "" {
			assert.NoError(t, err, tc.openid)
		} else {
			assert.Equal(t, []string{tc.bad}, violations(t, err), tc.openid)
		}
	}
	_, err = s.MiniProgram("1001622a", busifavor.SendCouponItem{StockID: "1", OutRequestNo: "a-1|2*3_4", CreateCouponMerchant: "1001622b"})
	assert.Equal(t, []string{"send_coupon_merchant", "send_coupon_params[0].create_coupon_merchant"}, violations(t, err))
	_, err = s.MiniProgram(mch, busifavor.SendCouponItem{StockID: "1", OutRequestNo: "a-1|2*3_4", CreateCouponMerchant: mch})
	assert.NoError(t, err)
}

// violations lists a *ValidationError's fields, failing unless err is one.
func violations(t *testing.T, err error) []string {
	t.Helper()
	require.ErrorIs(t, err, busifavor.ErrValidation)
	return fieldsOf(err)
}

func TestChannelsReportEveryViolationAtOnce(t *testing.T) {
	s := newSigner(t, testV2Key)
	long := strings.Repeat("1", 129)
	bad := busifavor.SendCouponItem{StockID: strings.Repeat("9", 21), OutRequestNo: "no spaces", CouponCode: "code with space",
		CustomizeSendTime: time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)}

	c, err := s.MiniProgram("1001", bad, busifavor.SendCouponItem{StockID: "1", OutRequestNo: "no spaces"})
	assert.Nil(t, c, "nothing is signed")
	assert.Equal(t, []string{"send_coupon_merchant", "send_coupon_params[0].stock_id", "send_coupon_params[0].out_request_no",
		"send_coupon_params[0].coupon_code", "send_coupon_params[0].customize_send_time",
		"send_coupon_params[1].out_request_no"}, violations(t, err))

	_, err = s.H5URL("10016226", long, busifavor.SendCouponItem{StockID: "1", OutRequestNo: "a_b", CouponCode: long, CreateCouponMerchant: "10016226"})
	assert.Equal(t, []string{"open_id", "out_request_no", "coupon_code", "create_coupon_merchant"}, violations(t, err))

	var eleven []busifavor.SendCouponItem
	for i := range 11 {
		eleven = append(eleven, busifavor.SendCouponItem{StockID: strconv.Itoa(i % 5), OutRequestNo: "n" + strconv.Itoa(i)})
	}
	_, err = s.AddCardList("10016226", eleven...)
	assert.Equal(t, []string{"cardList"}, violations(t, err))
	four := []busifavor.SendCouponItem{{StockID: "7", OutRequestNo: "a"}, {StockID: "7", OutRequestNo: "b"}, {StockID: "7", OutRequestNo: "c"}, {StockID: "7", OutRequestNo: "d"}}
	_, err = s.AddCardList("10016226", four...)
	assert.Equal(t, []string{"cardList[3].stock_id"}, violations(t, err))
	_, err = s.MiniProgram("10016226")
	assert.Equal(t, []string{"send_coupon_params"}, violations(t, err))
	_, err = s.MiniProgram("10016226", busifavor.SendCouponItem{StockID: "7", OutRequestNo: "a"}, busifavor.SendCouponItem{StockID: "7", OutRequestNo: "a"})
	assert.Equal(t, []string{"send_coupon_params[1].out_request_no"}, violations(t, err), "one number twice for one stock")

	// The limits themselves are allowed.
	_, err = s.MiniProgram("10016226", eleven[:10]...)
	assert.NoError(t, err)
	_, err = s.AddCardList("10016226", four[:3]...)
	assert.NoError(t, err)
	_, err = s.H5URL("10016226", strings.Repeat("o", 128), busifavor.SendCouponItem{StockID: strings.Repeat("9", 20), OutRequestNo: long[:128], CouponCode: long[:128]})
	assert.NoError(t, err)
}

// channelFake is a fake with a running stock that gives coupons through
// the channels, its notify URL set and routed to a recording handler.
type channelFake struct {
	*busifavortest.Server
	signer  *busifavor.CouponSigner
	stockID string
	events  chan busifavor.CouponEvent
}

func newChannelFake(t *testing.T, mode busifavor.CouponCodeMode) *channelFake {
	t.Helper()
	fake := busifavortest.NewServer(busifavortest.WithDeliveryPolicy(busifavortest.DeliveryPolicy{Interval: time.Millisecond}))
	t.Cleanup(fake.Close)
	client, err := fake.Client()
	require.NoError(t, err)
	req := sampleStock("channels-1")
	req.CouponCodeMode = mode
	st, err := client.CreateStock(ctx, req)
	require.NoError(t, err)
	_, err = client.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://shop.example.com/busifavor/notify"})
	require.NoError(t, err)
	events := make(chan busifavor.CouponEvent, 32)
	h := busifavor.NewEventHandler(newParser(t, fake), func(_ context.Context, ev *busifavor.CouponEvent) error {
		events <- *ev
		return nil
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	require.NoError(t, fake.Route("https://shop.example.com/busifavor/notify", srv.URL))
	return &channelFake{Server: fake, signer: newSigner(t, fake.APIv2Key()), stockID: st.StockID, events: events}
}

// waitEvent returns the next event the handler recorded. Deliveries run on
// loopback; the bound only keeps a broken fake from hanging the test.
func (f *channelFake) waitEvent(t *testing.T) busifavor.CouponEvent {
	t.Helper()
	select {
	case ev := <-f.events:
		return ev
	case <-time.After(time.Minute):
		t.Fatal("no event delivered")
		return busifavor.CouponEvent{}
	}
}

func claimCode(t *testing.T, err error) string {
	t.Helper()
	var ce *busifavortest.ClaimError
	require.ErrorAs(t, err, &ce)
	return ce.Code
}

func TestEachChannelClaimsAndCallsBackWithItsChannel(t *testing.T) {
	f := newChannelFake(t, busifavor.CouponCodeModeWechatPay)
	mch := f.MchID()

	c, err := f.signer.MiniProgram(mch, busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "mp1", CustomizeSendTime: f.Now()})
	require.NoError(t, err)
	res := f.claimMP(t, "oUser1", c)
	require.Len(t, res.SendCouponResult, 1)
	assert.Equal(t, busifavor.SendCouponResultCodeSuccess, res.SendCouponResult[0].Code)
	ev := f.waitEvent(t)
	assert.Equal(t, busifavor.SendChannelMiniApp, ev.Coupon.SendChannel)
	assert.Equal(t, res.SendCouponResult[0].CouponCode, ev.Coupon.CouponCode)
	assert.Equal(t, mch, ev.Coupon.SendMerchant)

	// The same claim again (a double tap): DUPREQUEST, no second coupon.
	again := f.claimMP(t, "oUser1", c)
	assert.Equal(t, busifavor.SendCouponResultCodeDupRequest, again.SendCouponResult[0].Code)

	list, err := f.signer.AddCardList(mch, busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "js1"},
		busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "js2"})
	require.NoError(t, err)
	codes, err := f.AddCard("oUser2", list)
	require.NoError(t, err)
	require.Len(t, codes, 2)
	for range codes {
		assert.Equal(t, busifavor.SendChannelJSAPI, f.waitEvent(t).Coupon.SendChannel)
	}

	raw, err := f.signer.H5URL(mch, "oUser3", busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "h51"})
	require.NoError(t, err)
	code, err := f.OpenH5URL(raw)
	require.NoError(t, err)
	uc, ok := f.UserCoupon(code)
	require.True(t, ok)
	assert.Equal(t, f.stockID, uc.StockID)
	select { // neither the double tap nor the H5 channel calls back (H5 page)
	case ev := <-f.events:
		t.Fatalf("unexpected event %v", ev)
	default:
	}
	_, err = f.OpenH5URL(raw[:strings.Index(raw, "#")] + "#wechat_redirect") // the old page's fragment
	require.NoError(t, err)
}

// mistake is one thing merchants get wrong (spec, last section): how the
// SDK prevents it, and how the fake refuses it.
type mistake struct {
	name string
	// claim makes the mistake by hand and plays it; it returns the fake's
	// answer.
	claim func(t *testing.T, f *channelFake) error
	code  string
	// in is a part of the fake's message that names the cause.
	in string
}

func TestMiniProgramMistakes(t *testing.T) {
	sign := func(f *channelFake, key string, items ...busifavor.SendCouponItem) *busifavor.MiniProgramCoupons {
		c, err := newSigner(t, key).MiniProgram(f.MchID(), items...)
		require.NoError(t, err)
		return c
	}
	item := func(f *channelFake) busifavor.SendCouponItem {
		return busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "mp1", CustomizeSendTime: f.Now()}
	}
	for _, m := range []mistake{
		{"signed with the APIv3 key", func(t *testing.T, f *channelFake) error {
			return f.mpRefusal(t, "o1", sign(f, f.APIv3Key(), item(f)))
		}, mpSignError, "APIv3"},
		{"signed with MD5", func(t *testing.T, f *channelFake) error {
			c := sign(f, f.APIv2Key(), item(f))
			c.Sign = refSign(miniProgramParams(c), f.APIv2Key(), true)
			return f.mpRefusal(t, "o1", c)
		}, mpSignError, "MD5"},
		{"values URL-encoded before signing", func(t *testing.T, f *channelFake) error {
			c := sign(f, f.APIv2Key(), item(f))
			p := miniProgramParams(c)
			for k := range p {
				p.Set(k, url.QueryEscape(p.Get(k)))
			}
			c.Sign = refSign(p, f.APIv2Key(), false)
			return f.mpRefusal(t, "o1", c)
		}, mpSignError, "encode"},
		{"a parameter sent but not signed", func(t *testing.T, f *channelFake) error {
			c := sign(f, f.APIv2Key(), item(f))
			c.SendCouponParams[0].CouponCode = "ABC123"
			return f.mpRefusal(t, "o1", c)
		}, mpSignError, "参数"},
		{"a parameter signed but not sent", func(t *testing.T, f *channelFake) error {
			c := sign(f, f.APIv2Key(), item(f))
			c.SendCouponParams[0].CustomizeSendTime = ""
			return f.mpRefusal(t, "o1", c)
		}, mpSignError, "参数"},
		{"a sub-merchant as send_coupon_merchant", func(t *testing.T, f *channelFake) error {
			c, err := newSigner(t, f.APIv2Key()).MiniProgram("1900000109", item(f))
			require.NoError(t, err)
			return f.mpRefusal(t, "o1", c)
		}, mpSignError, "服务商"},
	} {
		t.Run(m.name, func(t *testing.T) {
			f := newChannelFake(t, busifavor.CouponCodeModeWechatPay)
			err := m.claim(t, f)
			assert.Equal(t, m.code, claimCode(t, err))
			assert.Contains(t, err.Error(), m.in)
		})
	}
}

func TestH5Mistakes(t *testing.T) {
	link := func(t *testing.T, f *channelFake, key, merchant string) string {
		raw, err := newSigner(t, key).H5URL(merchant, "o1", busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "h51", CustomizeSendTime: f.Now()})
		require.NoError(t, err)
		return raw
	}
	resign := func(f *channelFake, raw string, change func(q url.Values) string) string {
		base, _, _ := strings.Cut(raw, "#")
		u, _ := url.Parse(base)
		q := u.Query()
		q.Del("sign")
		q.Set("sign", change(q))
		u.RawQuery = q.Encode()
		return u.String() + busifavor.H5Fragment
	}
	for _, m := range []mistake{
		{"signed with the APIv3 key", func(t *testing.T, f *channelFake) error {
			_, err := f.OpenH5URL(link(t, f, f.APIv3Key(), f.MchID()))
			return err
		}, busifavortest.ClaimSignError, "APIv3"},
		{"signed with MD5", func(t *testing.T, f *channelFake) error {
			_, err := f.OpenH5URL(resign(f, link(t, f, f.APIv2Key(), f.MchID()), func(q url.Values) string { return refSign(q, f.APIv2Key(), true) }))
			return err
		}, busifavortest.ClaimSignError, "MD5"},
		{"values URL-encoded before signing", func(t *testing.T, f *channelFake) error {
			_, err := f.OpenH5URL(resign(f, link(t, f, f.APIv2Key(), f.MchID()), func(q url.Values) string {
				e := url.Values{}
				for k := range q {
					e.Set(k, url.QueryEscape(q.Get(k)))
				}
				return refSign(e, f.APIv2Key(), false)
			}))
			return err
		}, busifavortest.ClaimSignError, "encode"},
		{"a parameter sent but not signed", func(t *testing.T, f *channelFake) error {
			raw := link(t, f, f.APIv2Key(), f.MchID())
			_, err := f.OpenH5URL(strings.Replace(raw, "#", "&coupon_code=ABC#", 1))
			return err
		}, busifavortest.ClaimSignError, "参数"},
		{"an unknown parameter", func(t *testing.T, f *channelFake) error {
			raw := link(t, f, f.APIv2Key(), f.MchID())
			_, err := f.OpenH5URL(strings.Replace(raw, "#", "&utm=x#", 1))
			return err
		}, busifavortest.ClaimParamError, "utm"},
		{"a parameter signed but not sent", func(t *testing.T, f *channelFake) error {
			raw := link(t, f, f.APIv2Key(), f.MchID())
			u, _ := url.Parse(raw)
			q := u.Query()
			q.Del("customize_send_time")
			u.RawQuery = q.Encode()
			_, err := f.OpenH5URL(u.String())
			return err
		}, busifavortest.ClaimSignError, "参数"},
		{"a sub-merchant as send_coupon_merchant", func(t *testing.T, f *channelFake) error {
			_, err := f.OpenH5URL(link(t, f, f.APIv2Key(), "1900000109"))
			return err
		}, busifavortest.ClaimSignError, "服务商"},
		{"the fragment forgotten", func(t *testing.T, f *channelFake) error {
			raw := link(t, f, f.APIv2Key(), f.MchID())
			_, err := f.OpenH5URL(strings.TrimSuffix(raw, busifavor.H5Fragment))
			return err
		}, busifavortest.ClaimMissingFragment, "#wechat_pay&wechat_redirect"},
	} {
		t.Run(m.name, func(t *testing.T) {
			f := newChannelFake(t, busifavor.CouponCodeModeWechatPay)
			err := m.claim(t, f)
			assert.Equal(t, m.code, claimCode(t, err))
			assert.Contains(t, err.Error(), m.in)
		})
	}
}

func TestAddCardMistakes(t *testing.T) {
	list := func(t *testing.T, f *channelFake, key, merchant string) []busifavor.AddCardItem {
		l, err := newSigner(t, key).AddCardList(merchant, busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "js1"},
			busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "js2", CustomizeSendTime: f.Now()})
		require.NoError(t, err)
		return l
	}
	// resign replaces the first item's sign with one computed over the
	// list's parameters, changed by change.
	resign := func(f *channelFake, l []busifavor.AddCardItem, md5 bool, change func(string) string) []busifavor.AddCardItem {
		p := url.Values{}
		exts := make([]map[string]string, len(l))
		for i, it := range l {
			require.NoError(t, json.Unmarshal([]byte(it.CardExt), &exts[i]))
			n := strconv.Itoa(i)
			p.Set("stock_id"+n, change(it.CardID))
			for k, v := range exts[i] {
				if k != "sign" && k != "send_coupon_merchant" {
					p.Set(k+n, change(v))
				}
			}
		}
		p.Set("send_coupon_merchant", exts[0]["send_coupon_merchant"])
		exts[0]["sign"] = refSign(p, f.APIv2Key(), md5)
		b, _ := json.Marshal(exts[0])
		l[0].CardExt = string(b)
		return l
	}
	same := func(s string) string { return s }
	for _, m := range []mistake{
		{"signed with the APIv3 key", func(t *testing.T, f *channelFake) error {
			_, err := f.AddCard("o1", list(t, f, f.APIv3Key(), f.MchID()))
			return err
		}, busifavortest.ClaimSignError, "APIv3"},
		{"signed with MD5", func(t *testing.T, f *channelFake) error {
			_, err := f.AddCard("o1", resign(f, list(t, f, f.APIv2Key(), f.MchID()), true, same))
			return err
		}, busifavortest.ClaimSignError, "MD5"},
		{"values URL-encoded before signing", func(t *testing.T, f *channelFake) error {
			_, err := f.AddCard("o1", resign(f, list(t, f, f.APIv2Key(), f.MchID()), false, url.QueryEscape))
			return err
		}, busifavortest.ClaimSignError, "encode"},
		{"a parameter sent but not signed", func(t *testing.T, f *channelFake) error {
			l := list(t, f, f.APIv2Key(), f.MchID())
			l[1].CardExt = strings.Replace(l[1].CardExt, "{", `{"coupon_code":"ABC",`, 1)
			_, err := f.AddCard("o1", l)
			return err
		}, busifavortest.ClaimSignError, "参数"},
		{"an unknown cardExt field", func(t *testing.T, f *channelFake) error {
			l := list(t, f, f.APIv2Key(), f.MchID())
			l[1].CardExt = strings.Replace(l[1].CardExt, "{", `{"openid":"o1",`, 1)
			_, err := f.AddCard("o1", l)
			return err
		}, busifavortest.ClaimParamError, "cardExt"},
		{"a parameter signed but not sent", func(t *testing.T, f *channelFake) error {
			l := list(t, f, f.APIv2Key(), f.MchID())
			_, err := f.AddCard("o1", l[:1])
			return err
		}, busifavortest.ClaimSignError, "参数"},
		{"a sub-merchant as send_coupon_merchant", func(t *testing.T, f *channelFake) error {
			_, err := f.AddCard("o1", list(t, f, f.APIv2Key(), "1900000109"))
			return err
		}, busifavortest.ClaimSignError, "服务商"},
	} {
		t.Run(m.name, func(t *testing.T) {
			f := newChannelFake(t, busifavor.CouponCodeModeWechatPay)
			err := m.claim(t, f)
			assert.Equal(t, m.code, claimCode(t, err))
			assert.Contains(t, err.Error(), m.in)
		})
	}
}

// claimMP plays a mini-program claim, which the fake only fails to play
// when an event cannot be delivered.
func (f *channelFake) claimMP(t *testing.T, openid string, c *busifavor.MiniProgramCoupons) *busifavor.MiniProgramSendResult {
	t.Helper()
	res, err := f.ClaimMiniProgram(openid, c)
	require.NoError(t, err)
	return res
}

// mpSignError is the plugin page's code for a bad signature.
var mpSignError = string(busifavor.MiniProgramErrCodeSignError)

// mpRefusal plays a mini-program claim the plugin must refuse as a whole
// and returns its errcode and msg as a *busifavortest.ClaimError, nil when
// errcode is OK.
func (f *channelFake) mpRefusal(t *testing.T, openid string, c *busifavor.MiniProgramCoupons) error {
	t.Helper()
	res := f.claimMP(t, openid, c)
	if res.ErrCode == busifavor.MiniProgramErrCodeOK {
		return nil
	}
	assert.Empty(t, res.SendCouponResult, "a refused call gives nothing")
	return &busifavortest.ClaimError{Code: string(res.ErrCode), Message: res.Msg}
}

// resultCodes are the per-coupon codes of a plugin result.
func resultCodes(res *busifavor.MiniProgramSendResult) []busifavor.SendCouponResultCode {
	var out []busifavor.SendCouponResultCode
	for _, r := range res.SendCouponResult {
		out = append(out, r.Code)
	}
	return out
}

// The stock's rules apply to claims: a merchant-named code required for
// MERCHANT_API stocks and never given twice, and the per-user limit. The
// plugin answers each coupon with its own code.
func TestClaimsFollowTheStocksRules(t *testing.T) {
	f := newChannelFake(t, busifavor.CouponCodeModeWechatPay)
	var items []busifavor.SendCouponItem
	for i := range 3 {
		items = append(items, busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "u" + strconv.Itoa(i)})
	}
	c, err := f.signer.MiniProgram(f.MchID(), items...)
	require.NoError(t, err)
	res := f.claimMP(t, "o9", c)
	assert.Equal(t, busifavor.MiniProgramErrCodeOK, res.ErrCode)
	assert.Equal(t, []busifavor.SendCouponResultCode{"SUCCESS", "SUCCESS", "SUCCESS"}, resultCodes(res))
	for range 3 {
		f.waitEvent(t)
	}
	c, err = f.signer.MiniProgram(f.MchID(), busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "u3"},
		busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "u4"}, busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "u5"})
	require.NoError(t, err)
	res = f.claimMP(t, "o9", c)
	assert.Equal(t, []busifavor.SendCouponResultCode{"SUCCESS", "SUCCESS", "MAXQUOTA"}, resultCodes(res), "sampleStock allows 5 per user")
	assert.Empty(t, res.SendCouponResult[2].CouponCode)

	api := newChannelFake(t, busifavor.CouponCodeModeMerchantAPI)
	c, err = api.signer.MiniProgram(api.MchID(), busifavor.SendCouponItem{StockID: api.stockID, OutRequestNo: "a1"})
	require.NoError(t, err)
	err = api.mpRefusal(t, "o1", c)
	assert.Equal(t, string(busifavor.MiniProgramErrCodeParamError), claimCode(t, err), "H5 page: coupon_code 则必填 for MERCHANT_API")
	c, err = api.signer.MiniProgram(api.MchID(), busifavor.SendCouponItem{StockID: api.stockID, OutRequestNo: "a2", CouponCode: "MINE-0001"})
	require.NoError(t, err)
	res = api.claimMP(t, "o1", c)
	assert.Equal(t, []busifavor.SendCouponResultCode{"SUCCESS"}, resultCodes(res))
	assert.Equal(t, "MINE-0001", res.SendCouponResult[0].CouponCode)
	c, err = api.signer.MiniProgram(api.MchID(), busifavor.SendCouponItem{StockID: api.stockID, OutRequestNo: "a3", CouponCode: "MINE-0001"})
	require.NoError(t, err)
	res = api.claimMP(t, "o2", c)
	assert.Equal(t, []busifavor.SendCouponResultCode{"DUPREQUEST"}, resultCodes(res), "FAQ Q3: a coupon_code given again")
}

// Item 11: the plugin answers with its own codes, per coupon (SUCCESS,
// DUPREQUEST, NOTRUNNING, MAXQUOTA, NOTENOUGH) and for the whole call
// (SIGN_ERROR, PARAM_ERROR, USER_GET_FAILED), not with APIv3 codes; what it
// hands the mini program reads back through ParseMiniProgramSendResult.
func TestMiniProgramClaimsAnswerWithThePluginsCodes(t *testing.T) {
	f := newChannelFake(t, busifavor.CouponCodeModeWechatPay)
	client, err := f.Client()
	require.NoError(t, err)
	small := sampleStock("channels-small")
	small.StockSendRule.MaxCoupons, small.StockSendRule.MaxCouponsPerUser = 2, 1
	small.CouponCodeMode = busifavor.CouponCodeModeWechatPay
	one, err := client.CreateStock(ctx, small)
	require.NoError(t, err)
	later := sampleStock("channels-later")
	window := &later.CouponUseRule.CouponAvailableTime
	window.AvailableBeginTime = f.Now().Truncate(time.Hour).Add(48 * time.Hour)
	window.AvailableEndTime = window.AvailableBeginTime.AddDate(0, 1, 0)
	later.CouponCodeMode = busifavor.CouponCodeModeWechatPay
	paused, err := client.CreateStock(ctx, later)
	require.NoError(t, err)

	c, err := f.signer.MiniProgram(f.MchID(),
		busifavor.SendCouponItem{StockID: one.StockID, OutRequestNo: "n1"},    // one of the stock's two
		busifavor.SendCouponItem{StockID: paused.StockID, OutRequestNo: "n1"}, // not sending yet
		busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "n1"},      // fine
		busifavor.SendCouponItem{StockID: one.StockID, OutRequestNo: "n2"})    // the user's limit (1) is reached
	require.NoError(t, err)
	res := f.claimMP(t, "oUser1", c)
	assert.Equal(t, busifavor.MiniProgramErrCodeOK, res.ErrCode)
	assert.Equal(t, []busifavor.SendCouponResultCode{"SUCCESS", "NOTRUNNING", "SUCCESS", "MAXQUOTA"}, resultCodes(res))
	for i, r := range res.SendCouponResult {
		assert.Equal(t, c.SendCouponParams[i].StockID, r.StockID)
		assert.Equal(t, c.SendCouponParams[i].OutRequestNo, r.OutRequestNo)
		assert.Equal(t, r.Code == busifavor.SendCouponResultCodeSuccess, r.CouponCode != "", "a code only for a coupon given")
	}
	f.waitEvent(t)
	f.waitEvent(t) // one event per SUCCESS

	c, err = f.signer.MiniProgram(f.MchID(), busifavor.SendCouponItem{StockID: one.StockID, OutRequestNo: "n3"})
	require.NoError(t, err)
	assert.Equal(t, []busifavor.SendCouponResultCode{"SUCCESS"}, resultCodes(f.claimMP(t, "oUser2", c)), "the stock's last coupon")
	f.waitEvent(t)
	assert.Equal(t, []busifavor.SendCouponResultCode{"NOTENOUGH"}, resultCodes(f.claimMP(t, "oUser3", c)), "max_coupons given out")

	// The whole call refused: the plugin page's codes.
	bad, err := newSigner(t, f.APIv3Key()).MiniProgram(f.MchID(), busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "n9"})
	require.NoError(t, err)
	assert.Equal(t, "SIGN_ERROR", claimCode(t, f.mpRefusal(t, "oUser1", bad)))
	c, err = f.signer.MiniProgram(f.MchID(), busifavor.SendCouponItem{StockID: "9999999", OutRequestNo: "n9"})
	require.NoError(t, err)
	assert.Equal(t, "PARAM_ERROR", claimCode(t, f.mpRefusal(t, "oUser1", c)), "no such stock")
	c, err = f.signer.MiniProgram(f.MchID(), busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "n9"})
	require.NoError(t, err)
	assert.Equal(t, "USER_GET_FAILED", claimCode(t, f.mpRefusal(t, "", c)))
	assert.Equal(t, "PARAM_ERROR", claimCode(t, f.mpRefusal(t, "oUser1", nil)))

	// What the plugin hands the mini program, posted back, reads as it was.
	b, err := json.Marshal(res)
	require.NoError(t, err)
	back, err := busifavor.ParseMiniProgramSendResult(b)
	require.NoError(t, err)
	assert.Equal(t, res, back)
}

// Item 10: a claim is unique by stock, user and out_request_no (mini-program
// page: 单个批次单个用户下确保唯一性). The same number gives the same user a
// coupon of another stock, and another user a coupon of the same stock.
func TestClaimsAreKeyedByStockUserAndNumber(t *testing.T) {
	f := newChannelFake(t, busifavor.CouponCodeModeWechatPay)
	client, err := f.Client()
	require.NoError(t, err)
	req := sampleStock("channels-2")
	req.CouponCodeMode = busifavor.CouponCodeModeWechatPay
	other, err := client.CreateStock(ctx, req)
	require.NoError(t, err)
	claim := func(openid, stockID string) busifavor.MiniProgramCouponResult {
		c, err := f.signer.MiniProgram(f.MchID(), busifavor.SendCouponItem{StockID: stockID, OutRequestNo: "n1"})
		require.NoError(t, err)
		res := f.claimMP(t, openid, c)
		require.Len(t, res.SendCouponResult, 1)
		return res.SendCouponResult[0]
	}
	first := claim("o1", f.stockID)
	second := claim("o1", other.StockID)
	third := claim("o2", f.stockID)
	for _, r := range []busifavor.MiniProgramCouponResult{first, second, third} {
		require.Equal(t, busifavor.SendCouponResultCodeSuccess, r.Code)
	}
	assert.NotEqual(t, first.CouponCode, second.CouponCode)
	uc, ok := f.UserCoupon(second.CouponCode)
	require.True(t, ok)
	assert.Equal(t, other.StockID, uc.StockID, "the second stock's coupon")
	assert.NotEqual(t, first.CouponCode, third.CouponCode)
	assert.Equal(t, busifavor.SendCouponResultCodeDupRequest, claim("o1", other.StockID).Code, "the same claim again")

	// The other channels key claims the same way.
	raw, err := f.signer.H5URL(f.MchID(), "o3", busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "n1"})
	require.NoError(t, err)
	h5, err := f.OpenH5URL(raw)
	require.NoError(t, err)
	list, err := f.signer.AddCardList(f.MchID(), busifavor.SendCouponItem{StockID: other.StockID, OutRequestNo: "n1"})
	require.NoError(t, err)
	js, err := f.AddCard("o3", list)
	require.NoError(t, err)
	assert.NotEqual(t, h5, js[0])
	again, err := f.OpenH5URL(raw)
	require.NoError(t, err)
	assert.Equal(t, h5, again, "the same H5 claim again gives its coupon again")
}

// Item 12: ten coupons a call on both channels; three of a stock on
// wx.addCard only (FAQ Q7 says it of JSAPI); one out_request_no for two
// stocks of one call. Both sides of each limit, in the SDK and the fake.
func TestChannelLimitsAsThePagesStateThem(t *testing.T) {
	f := newChannelFake(t, busifavor.CouponCodeModeWechatPay)
	client, err := f.Client()
	require.NoError(t, err)
	big := sampleStock("channels-big")
	big.StockSendRule.MaxCouponsPerUser = 20
	big.CouponCodeMode = busifavor.CouponCodeModeWechatPay
	st, err := client.CreateStock(ctx, big)
	require.NoError(t, err)
	items := func(n int, stockID string) []busifavor.SendCouponItem {
		var out []busifavor.SendCouponItem
		for i := range n {
			out = append(out, busifavor.SendCouponItem{StockID: stockID, OutRequestNo: "n" + strconv.Itoa(i)})
		}
		return out
	}

	// The mini program: ten of one stock pass in the SDK and the fake, eleven not.
	c, err := f.signer.MiniProgram(f.MchID(), items(10, st.StockID)...)
	require.NoError(t, err)
	res := f.claimMP(t, "o1", c)
	assert.Len(t, res.SendCouponResult, 10)
	for _, r := range res.SendCouponResult {
		assert.Equal(t, busifavor.SendCouponResultCodeSuccess, r.Code)
	}
	_, err = f.signer.MiniProgram(f.MchID(), items(11, st.StockID)...)
	assert.Equal(t, []string{"send_coupon_params"}, violations(t, err))
	c.SendCouponParams = append(c.SendCouponParams, busifavor.MiniProgramCouponParam{StockID: st.StockID, OutRequestNo: "n10"})
	assert.Equal(t, "PARAM_ERROR", claimCode(t, f.mpRefusal(t, "o2", c)), "eleven by hand")

	// wx.addCard: three of a stock pass, four not.
	list, err := f.signer.AddCardList(f.MchID(), items(3, st.StockID)...)
	require.NoError(t, err)
	codes, err := f.AddCard("o3", list)
	require.NoError(t, err)
	assert.Len(t, codes, 3)
	_, err = f.signer.AddCardList(f.MchID(), items(4, st.StockID)...)
	assert.Equal(t, []string{"cardList[3].stock_id"}, violations(t, err))
	four, err := f.signer.AddCardList(f.MchID(), items(4, "1")...)
	assert.Error(t, err)
	assert.Nil(t, four)
	four, err = f.signer.AddCardList(f.MchID(), append(items(3, st.StockID), busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "x"})...)
	require.NoError(t, err)
	four[3].CardID = st.StockID // by hand: four of one stock, re-signed
	four = resignAddCard(t, f, four)
	_, err = f.AddCard("o4", four)
	assert.Equal(t, busifavortest.ClaimParamError, claimCode(t, err))

	// One number for two stocks in one call.
	two := []busifavor.SendCouponItem{{StockID: st.StockID, OutRequestNo: "same"}, {StockID: f.stockID, OutRequestNo: "same"}}
	c, err = f.signer.MiniProgram(f.MchID(), two...)
	require.NoError(t, err)
	assert.Equal(t, []busifavor.SendCouponResultCode{"SUCCESS", "SUCCESS"}, resultCodes(f.claimMP(t, "o5", c)))
	list, err = f.signer.AddCardList(f.MchID(), two...)
	require.NoError(t, err)
	codes, err = f.AddCard("o6", list)
	require.NoError(t, err)
	assert.Len(t, codes, 2)
}

// resignAddCard signs a cardList again over what it holds, as a merchant
// signing by hand would.
func resignAddCard(t *testing.T, f *channelFake, l []busifavor.AddCardItem) []busifavor.AddCardItem {
	t.Helper()
	p := url.Values{}
	exts := make([]map[string]string, len(l))
	for i, it := range l {
		require.NoError(t, json.Unmarshal([]byte(it.CardExt), &exts[i]))
		n := strconv.Itoa(i)
		p.Set("stock_id"+n, it.CardID)
		for k, v := range exts[i] {
			if k != "sign" && k != "send_coupon_merchant" {
				p.Set(k+n, v)
			}
		}
	}
	p.Set("send_coupon_merchant", exts[0]["send_coupon_merchant"])
	exts[0]["sign"] = refSign(p, f.APIv2Key(), false)
	b, err := json.Marshal(exts[0])
	require.NoError(t, err)
	l[0].CardExt = string(b)
	return l
}

// Item 13: what no page states is not enforced. coupon_code on a stock not
// in MERCHANT_API mode (H5 page: 其他模式无需填写) and customize_send_time on
// a stock without a relative window (仅针对有设置相对领取时间的批次生效) are
// accepted and ignored, on every channel.
func TestClaimsAcceptWhatThePagesSayIsIgnored(t *testing.T) {
	f := newChannelFake(t, busifavor.CouponCodeModeWechatPay)
	client, err := f.Client()
	require.NoError(t, err)
	abs := sampleStock("channels-abs")
	abs.CouponUseRule.CouponAvailableTime.AvailableDayAfterReceive = 0
	abs.CouponUseRule.CouponAvailableTime.WaitDaysAfterReceive = 0
	abs.CouponCodeMode = busifavor.CouponCodeModeWechatPay
	st, err := client.CreateStock(ctx, abs)
	require.NoError(t, err)

	item := busifavor.SendCouponItem{StockID: st.StockID, OutRequestNo: "m1", CouponCode: "MINE-0001", CustomizeSendTime: f.Now().Add(-time.Hour)}
	c, err := f.signer.MiniProgram(f.MchID(), item)
	require.NoError(t, err)
	res := f.claimMP(t, "o1", c)
	require.Equal(t, []busifavor.SendCouponResultCode{"SUCCESS"}, resultCodes(res))
	assert.NotEqual(t, "MINE-0001", res.SendCouponResult[0].CouponCode, "WeChat Pay names the code: the one given is ignored")
	uc, ok := f.UserCoupon(res.SendCouponResult[0].CouponCode)
	require.True(t, ok)
	assert.Equal(t, st.StockID, uc.StockID)

	item.OutRequestNo = "h1"
	raw, err := f.signer.H5URL(f.MchID(), "o2", item)
	require.NoError(t, err)
	_, err = f.OpenH5URL(raw)
	assert.NoError(t, err)
	item.OutRequestNo = "j1"
	list, err := f.signer.AddCardList(f.MchID(), item)
	require.NoError(t, err)
	_, err = f.AddCard("o3", list)
	assert.NoError(t, err)
}

// BenchmarkMiniProgram10 signs a 10-coupon mini-program call (target: under
// 20 µs).
func BenchmarkMiniProgram10(b *testing.B) {
	s := newSigner(b, testV2Key)
	items := make([]busifavor.SendCouponItem, 10)
	for i := range items {
		items[i] = busifavor.SendCouponItem{StockID: "12000000" + strconv.Itoa(i/3), OutRequestNo: "order20240101" + strconv.Itoa(i),
			CustomizeSendTime: time.Unix(1_700_000_000, 0)}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.MiniProgram("10016226", items...); err != nil {
			b.Fatal(err)
		}
	}
}

// A post-back is the user's device speaking: what is not the plugin's
// detail is a *ValidationError naming the field, and codes the SDK does not
// know are kept as they came.
func TestParseMiniProgramSendResultRefusesWhatIsNotTheDetail(t *testing.T) {
	res, err := busifavor.ParseMiniProgramSendResult([]byte(`{"errcode":"OK","msg":"ok","send_coupon_result":[{"stock_id":"1","out_request_no":"a","code":"NEWCODE","message":"m"}],"extra":1}`))
	require.NoError(t, err)
	assert.Equal(t, busifavor.SendCouponResultCode("NEWCODE"), res.SendCouponResult[0].Code)
	res, err = busifavor.ParseMiniProgramSendResult([]byte(`{"errcode":"SIGN_ERROR","msg":"签名错误"}`))
	require.NoError(t, err, "a refused call may come without send_coupon_result")
	assert.Equal(t, busifavor.MiniProgramErrCodeSignError, res.ErrCode)
	for _, tc := range []struct{ body, field string }{
		{`not json`, "detail"},
		{`[]`, "detail"},
		{`{"msg":"ok"}`, "errcode"},
		{`{"errcode":""}`, "errcode"},
		{`{"errcode":0}`, "errcode"},
		{`{"errcode":"OK","send_coupon_result":{}}`, "send_coupon_result"},
		{`{"errcode":"OK","send_coupon_result":[{"code":1}]}`, "send_coupon_result[0].code"},
		{`{"errcode":"OK"} {}`, "detail"},
		{`{"errcode":"OK","msg":"` + strings.Repeat("x", 64<<10) + `"}`, "detail"},
	} {
		_, err := busifavor.ParseMiniProgramSendResult([]byte(tc.body))
		assert.Equal(t, []string{tc.field}, violations(t, err), "%.40s", tc.body)
	}
}
