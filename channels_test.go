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
		StockID: "1234567890000000", OutRequestNo: "201911280000", CouponCode: "A-1/2=3", CustomizeSendTime: time.Now()})
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
	// The page's example URL puts the parameters in this order.
	assert.True(t, strings.HasPrefix(base, busifavor.H5CouponURL+"?stock_id=1234567890000000&out_request_no=201911280000&send_coupon_merchant=123456789&open_id=oiSFDIOoijdsf"), base)
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
		"send_coupon_params[1].out_request_no", "send_coupon_params[1].out_request_no"}, violations(t, err))

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
	_, err = s.MiniProgram("10016226", busifavor.SendCouponItem{StockID: "7", OutRequestNo: "a"}, busifavor.SendCouponItem{StockID: "8", OutRequestNo: "a"})
	assert.Equal(t, []string{"send_coupon_params[1].out_request_no"}, violations(t, err))

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
	codes, err := f.ClaimMiniProgram("oUser1", c)
	require.NoError(t, err)
	require.Len(t, codes, 1)
	ev := f.waitEvent(t)
	assert.Equal(t, busifavor.SendChannelMiniApp, ev.Coupon.SendChannel)
	assert.Equal(t, codes[0], ev.Coupon.CouponCode)
	assert.Equal(t, mch, ev.Coupon.SendMerchant)

	// The same claim again (a double tap): the first coupon, no new event.
	again, err := f.ClaimMiniProgram("oUser1", c)
	require.NoError(t, err)
	assert.Equal(t, codes, again)

	list, err := f.signer.AddCardList(mch, busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "js1"},
		busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "js2"})
	require.NoError(t, err)
	codes, err = f.AddCard("oUser2", list)
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
	select { // the H5 channel does not call back (H5 page)
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
			_, err := f.ClaimMiniProgram("o1", sign(f, f.APIv3Key(), item(f)))
			return err
		}, busifavortest.ClaimSignError, "APIv3"},
		{"signed with MD5", func(t *testing.T, f *channelFake) error {
			c := sign(f, f.APIv2Key(), item(f))
			c.Sign = refSign(miniProgramParams(c), f.APIv2Key(), true)
			_, err := f.ClaimMiniProgram("o1", c)
			return err
		}, busifavortest.ClaimSignError, "MD5"},
		{"values URL-encoded before signing", func(t *testing.T, f *channelFake) error {
			c := sign(f, f.APIv2Key(), item(f))
			p := miniProgramParams(c)
			for k := range p {
				p.Set(k, url.QueryEscape(p.Get(k)))
			}
			c.Sign = refSign(p, f.APIv2Key(), false)
			_, err := f.ClaimMiniProgram("o1", c)
			return err
		}, busifavortest.ClaimSignError, "encode"},
		{"a parameter sent but not signed", func(t *testing.T, f *channelFake) error {
			c := sign(f, f.APIv2Key(), item(f))
			c.SendCouponParams[0].CouponCode = "ABC123"
			_, err := f.ClaimMiniProgram("o1", c)
			return err
		}, busifavortest.ClaimSignError, "参数"},
		{"a parameter signed but not sent", func(t *testing.T, f *channelFake) error {
			c := sign(f, f.APIv2Key(), item(f))
			c.SendCouponParams[0].CustomizeSendTime = ""
			_, err := f.ClaimMiniProgram("o1", c)
			return err
		}, busifavortest.ClaimSignError, "参数"},
		{"a sub-merchant as send_coupon_merchant", func(t *testing.T, f *channelFake) error {
			c, err := newSigner(t, f.APIv2Key()).MiniProgram("1900000109", item(f))
			require.NoError(t, err)
			_, err = f.ClaimMiniProgram("o1", c)
			return err
		}, busifavortest.ClaimSignError, "服务商"},
		{"an out_request_no reused for another user", func(t *testing.T, f *channelFake) error {
			c := sign(f, f.APIv2Key(), item(f))
			_, err := f.ClaimMiniProgram("o1", c)
			require.NoError(t, err)
			_, err = f.ClaimMiniProgram("o2", c)
			return err
		}, busifavortest.ClaimDuplicate, "另一用户"},
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
		{"an out_request_no reused for another user", func(t *testing.T, f *channelFake) error {
			_, err := f.OpenH5URL(link(t, f, f.APIv2Key(), f.MchID()))
			require.NoError(t, err)
			raw, err := f.signer.H5URL(f.MchID(), "o2", busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "h51", CustomizeSendTime: f.Now()})
			require.NoError(t, err)
			_, err = f.OpenH5URL(raw)
			return err
		}, busifavortest.ClaimDuplicate, "另一用户"},
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
		{"an out_request_no reused for another user", func(t *testing.T, f *channelFake) error {
			l := list(t, f, f.APIv2Key(), f.MchID())
			_, err := f.AddCard("o1", l)
			require.NoError(t, err)
			_, err = f.AddCard("o2", l)
			return err
		}, busifavortest.ClaimDuplicate, "另一用户"},
	} {
		t.Run(m.name, func(t *testing.T) {
			f := newChannelFake(t, busifavor.CouponCodeModeWechatPay)
			err := m.claim(t, f)
			assert.Equal(t, m.code, claimCode(t, err))
			assert.Contains(t, err.Error(), m.in)
		})
	}
}

// The stock's rules apply to claims: a merchant-named code only for
// MERCHANT_API stocks (and then required), the per-user limit, and
// customize_send_time only for relative validity.
func TestClaimsFollowTheStocksRules(t *testing.T) {
	f := newChannelFake(t, busifavor.CouponCodeModeWechatPay)
	c, err := f.signer.MiniProgram(f.MchID(), busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "c1", CouponCode: "ABC"})
	require.NoError(t, err)
	_, err = f.ClaimMiniProgram("o1", c)
	assert.Equal(t, busifavortest.ClaimParamError, claimCode(t, err))

	var items []busifavor.SendCouponItem
	for i := range 3 {
		items = append(items, busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "u" + strconv.Itoa(i)})
	}
	c, err = f.signer.MiniProgram(f.MchID(), items...)
	require.NoError(t, err)
	_, err = f.ClaimMiniProgram("o9", c)
	require.NoError(t, err)
	for range 3 {
		f.waitEvent(t)
	}
	c, err = f.signer.MiniProgram(f.MchID(), busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "u3"},
		busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "u4"}, busifavor.SendCouponItem{StockID: f.stockID, OutRequestNo: "u5"})
	require.NoError(t, err)
	codes, err := f.ClaimMiniProgram("o9", c)
	assert.Len(t, codes, 2, "sampleStock allows 5 per user")
	assert.Equal(t, string(busifavor.CodeInvalidRequest), claimCode(t, err))

	api := newChannelFake(t, busifavor.CouponCodeModeMerchantAPI)
	c, err = api.signer.MiniProgram(api.MchID(), busifavor.SendCouponItem{StockID: api.stockID, OutRequestNo: "a1"})
	require.NoError(t, err)
	_, err = api.ClaimMiniProgram("o1", c)
	assert.Equal(t, string(busifavor.CodeParamError), claimCode(t, err))
	c, err = api.signer.MiniProgram(api.MchID(), busifavor.SendCouponItem{StockID: api.stockID, OutRequestNo: "a2", CouponCode: "MINE-0001"})
	require.NoError(t, err)
	codes, err = api.ClaimMiniProgram("o1", c)
	require.NoError(t, err)
	assert.Equal(t, []string{"MINE-0001"}, codes)
	c, err = api.signer.MiniProgram(api.MchID(), busifavor.SendCouponItem{StockID: api.stockID, OutRequestNo: "a3", CouponCode: "MINE-0001"})
	require.NoError(t, err)
	_, err = api.ClaimMiniProgram("o2", c)
	assert.Equal(t, busifavortest.ClaimDuplicate, claimCode(t, err), "FAQ Q3: a coupon_code given again")
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
