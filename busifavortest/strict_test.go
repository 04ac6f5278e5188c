package busifavortest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

const (
	testOpenID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
	testAppID  = "wx233544546545989"
)

// capture records every answer body a client receives.
type capture struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []answer
}

type answer struct {
	method, path string
	body         []byte
}

func (c *capture) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	c.mu.Lock()
	c.seen = append(c.seen, answer{r.Method, r.URL.Path, b})
	c.mu.Unlock()
	return resp, nil
}

// capturedClient is a client of s whose answers cp records.
func capturedClient(t *testing.T, s *busifavortest.Server) (*busifavor.Client, *capture) {
	t.Helper()
	cp := &capture{next: s.HTTPClient().Transport}
	cc, err := core.NewClient(ctx, append(s.ClientOptions(), option.WithHTTPClient(&http.Client{Transport: cp}))...)
	require.NoError(t, err)
	c, err := busifavor.NewClient(cc, busifavor.WithBaseURL(s.URL))
	require.NoError(t, err)
	return c, cp
}

// newStock creates a stock of the fake's merchant, available from an hour
// before the fake's clock for a month.
func newStock(t *testing.T, c *busifavor.Client, s *busifavortest.Server, no string, mode busifavor.CouponCodeMode, typ busifavor.StockType, perUser int64) string {
	t.Helper()
	begin := s.Now().Add(-time.Hour)
	rule := busifavor.CouponUseRule{
		CouponAvailableTime: busifavor.AvailableTime{AvailableBeginTime: begin, AvailableEndTime: begin.AddDate(0, 1, 0)},
		UseMethod:           busifavor.CouponUseMethodOffline,
	}
	switch typ {
	case busifavor.StockTypeDiscount:
		rule.DiscountCoupon = &busifavor.DiscountCoupon{DiscountPercent: 88, TransactionMinimum: 100}
	case busifavor.StockTypeExchange:
		rule.ExchangeCoupon = &busifavor.ExchangeCoupon{ExchangePrice: 100, TransactionMinimum: 100}
	default:
		rule.FixedNormalCoupon = &busifavor.FixedNormalCoupon{DiscountAmount: 1000, TransactionMinimum: 10000}
	}
	st, err := c.CreateStock(ctx, busifavor.CreateStockRequest{
		StockName: "满100减10元", BelongMerchant: s.MchID(), GoodsName: "全场可用", StockType: typ,
		CouponUseRule: rule, StockSendRule: busifavor.StockSendRule{MaxCoupons: 100, MaxCouponsPerUser: perUser},
		OutRequestNo: no, CouponCodeMode: mode,
	})
	require.NoError(t, err)
	return st.StockID
}

// useCoupon redeems a coupon at the fake's time.
func useCoupon(t *testing.T, c *busifavor.Client, s *busifavortest.Server, stockID, code, no string) {
	t.Helper()
	_, err := c.UseCoupon(ctx, busifavor.UseCouponRequest{CouponCode: code, StockID: stockID, AppID: testAppID, UseTime: s.Now(), UseRequestNo: no})
	require.NoError(t, err)
}

var (
	documentedTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?\+08:00$`)
	// The ids the fake invents, in the shapes of their pages.
	idShapes = map[string]*regexp.Regexp{
		"stock_id":                  regexp.MustCompile(`^\d{1,20}$`),             // string[1,20], 由微信支付生成
		"subsidy_receipt_id":        regexp.MustCompile(`^\d{28,32}$`),            // string[28,32], 1120200119165100000000000001
		"subsidy_return_receipt_id": regexp.MustCompile(`^\d{28,32}$`),            // string[28,32]
		"card_code":                 regexp.MustCompile(`^[0-9A-Za-z]{1,32}$`),    // 消费卡 code
		"media_url":                 regexp.MustCompile(`^https://\S+$`),          // 图片上传(营销专用)
		"coupon_code":               regexp.MustCompile(`^[0-9A-Za-z_-]{1,128}$`), // string[1,128]
	}
)

// walk calls f with every member of the JSON value v, however deep.
func walk(v any, f func(name string, value any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			f(k, e)
			walk(e, f)
		}
	case []any:
		for _, e := range x {
			walk(e, f)
		}
	}
}

// TestEveryAnswerInTheDocumentedShape drives every endpoint and checks every
// time in every answer (yyyy-MM-DDTHH:mm:ss+08:00, WeChat Pay's milliseconds
// allowed) and every id the fake invents against its page.
func TestEveryAnswerInTheDocumentedShape(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	c, cp := capturedClient(t, s)

	_, err := c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://shop.example.com/busifavor/notify"})
	require.NoError(t, err)
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	require.NoError(t, err)
	normal := newStock(t, c, s, "shape-1", busifavor.CouponCodeModeWechatPay, busifavor.StockTypeNormal, 5)
	upload := newStock(t, c, s, "shape-2", busifavor.CouponCodeModeMerchantUpload, busifavor.StockTypeNormal, 5)
	_, err = c.GetStock(ctx, busifavor.GetStockRequest{StockID: normal})
	require.NoError(t, err)
	_, err = c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: upload, CouponCodeList: []string{"CODE0001", "CODE0002"}, UploadRequestNo: "up-1"})
	require.NoError(t, err)
	_, err = c.ListCouponCodes(ctx, busifavor.ListCouponCodesRequest{StockID: upload})
	require.NoError(t, err)
	_, err = c.DeleteCouponCode(ctx, busifavor.DeleteCouponCodeRequest{StockID: upload, CouponCode: "CODE0002", DeleteRequestNo: "del-1"})
	require.NoError(t, err)
	sent, err := c.SendCoupon(ctx, busifavor.SendCouponRequest{StockID: upload, OpenID: testOpenID, OutRequestNo: "send-1", AppID: testAppID})
	require.NoError(t, err)
	_, err = c.GetCouponCode(ctx, busifavor.GetCouponCodeRequest{StockID: upload, CouponCode: "CODE0001"})
	require.NoError(t, err)
	n, err := c.SendCoupon(ctx, busifavor.SendCouponRequest{StockID: normal, OpenID: testOpenID, OutRequestNo: "send-2", AppID: testAppID})
	require.NoError(t, err)
	code := n.CouponCode
	useCoupon(t, c, s, normal, code, "use-1")
	_, err = c.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{OpenID: testOpenID, CouponCode: code, AppID: testAppID})
	require.NoError(t, err)
	_, err = c.ListUserCoupons(ctx, busifavor.ListUserCouponsRequest{OpenID: testOpenID, AppID: testAppID})
	require.NoError(t, err)
	_, err = c.AssociateTradeInfo(ctx, busifavor.AssociateTradeInfoRequest{StockID: normal, CouponCode: code, OutTradeNo: "order-1", OutRequestNo: "as-1"})
	require.NoError(t, err)
	_, err = c.DisassociateTradeInfo(ctx, busifavor.DisassociateTradeInfoRequest{StockID: normal, CouponCode: code, OutTradeNo: "order-1", OutRequestNo: "dis-1"})
	require.NoError(t, err)
	pay, err := c.CreateSubsidyPayReceipt(ctx, busifavor.CreateSubsidyPayReceiptRequest{StockID: normal, CouponCode: code,
		TransactionID: "4200000913202101152566792388", PayerMerchant: s.MchID(), PayeeMerchant: s.MchID(), Amount: 100,
		Description: "补差", OutSubsidyNo: "sub-1"})
	require.NoError(t, err)
	_, err = c.GetSubsidyPayReceipt(ctx, busifavor.GetSubsidyPayReceiptRequest{SubsidyReceiptID: pay.SubsidyReceiptID})
	require.NoError(t, err)
	_, err = c.ListSubsidyPayReceipts(ctx, busifavor.ListSubsidyPayReceiptsRequest{StockID: normal, CouponCode: code})
	require.NoError(t, err)
	ret, err := c.CreateSubsidyReturnReceipt(ctx, busifavor.CreateSubsidyReturnReceiptRequest{StockID: normal, CouponCode: code,
		TransactionID: "4200000913202101152566792388", RefundID: "50000000382019052709732678859", PayerMerchant: s.MchID(), PayeeMerchant: s.MchID(),
		Amount: 50, Description: "回退", OutSubsidyReturnNo: "subr-1"})
	require.NoError(t, err)
	_, err = c.GetSubsidyReturnReceipt(ctx, busifavor.GetSubsidyReturnReceiptRequest{SubsidyReturnReceiptID: ret.SubsidyReturnReceiptID})
	require.NoError(t, err)
	_, err = c.ReturnCoupon(ctx, busifavor.ReturnCouponRequest{CouponCode: code, StockID: normal, ReturnRequestNo: "ret-1"})
	require.NoError(t, err)
	_, err = c.DeactivateCoupon(ctx, busifavor.DeactivateCouponRequest{CouponCode: code, StockID: normal, DeactivateRequestNo: "off-1"})
	require.NoError(t, err)
	_, err = c.SendGovCard(ctx, busifavor.SendGovCardRequest{CardID: "pFS7Fjg91pGgJxIkpq9VLxYZ8MQg", AppID: testAppID, OpenID: testOpenID, OutRequestNo: "gov-1", SendTime: s.Now()})
	require.NoError(t, err)
	_ = sent

	times, ids := 0, map[string]int{}
	for _, a := range cp.seen {
		var v any
		if len(a.body) == 0 {
			continue
		}
		require.NoError(t, json.Unmarshal(a.body, &v), "%s %s", a.method, a.path)
		walk(v, func(name string, value any) {
			str, isString := value.(string)
			if strings.HasSuffix(name, "_time") && isString {
				times++
				assert.Regexp(t, documentedTime, str, "%s in the answer to %s %s", name, a.method, a.path)
			}
			if re := idShapes[name]; re != nil && isString {
				ids[name]++
				assert.Regexp(t, re, str, "%s in the answer to %s %s", name, a.method, a.path)
			}
		})
	}
	assert.Greater(t, times, 30, "times checked")
	for name := range idShapes {
		if name != "media_url" {
			assert.NotZero(t, ids[name], "no %s checked", name)
		}
	}
}

// TestMerchantCodesAreUniquePerStock: two stocks hold the same uploaded
// code (上传的 code 在批次下保证唯一); each can send it, and use, read and
// the subsidy find each by its stock.
func TestMerchantCodesAreUniquePerStock(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	c, err := s.Client()
	require.NoError(t, err)
	var stocks []string
	for i := range 2 {
		id := newStock(t, c, s, fmt.Sprint("uniq-", i), busifavor.CouponCodeModeMerchantUpload, busifavor.StockTypeNormal, 1)
		_, err := c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: id, CouponCodeList: []string{"SAME0001"}, UploadRequestNo: "up-1"})
		require.NoError(t, err)
		sent, err := c.SendCoupon(ctx, busifavor.SendCouponRequest{StockID: id, OpenID: testOpenID, OutRequestNo: "send-1", AppID: testAppID})
		require.NoError(t, err, "stock %d", i)
		assert.Equal(t, "SAME0001", sent.CouponCode)
		stocks = append(stocks, id)
	}
	useCoupon(t, c, s, stocks[1], "SAME0001", "use-1")
	for i, want := range []busifavor.CouponState{busifavor.CouponStateSent, busifavor.CouponStateUsed} {
		list, err := c.ListUserCoupons(ctx, busifavor.ListUserCouponsRequest{OpenID: testOpenID, AppID: testAppID, StockID: stocks[i]})
		require.NoError(t, err)
		require.Len(t, list.Data, 1)
		assert.Equal(t, want, list.Data[0].CouponState, "stock %d", i)
	}
	_, err = c.CreateSubsidyPayReceipt(ctx, busifavor.CreateSubsidyPayReceiptRequest{StockID: stocks[0], CouponCode: "SAME0001",
		TransactionID: "4200000913202101152566792388", PayerMerchant: s.MchID(), PayeeMerchant: s.MchID(), Amount: 100,
		Description: "补差", OutSubsidyNo: "sub-1"})
	require.ErrorIs(t, err, busifavor.ErrInvalidRequest, "the first stock's coupon is not redeemed")
}

// TestSubsidyPaymentsStayWithinTheDiscountInTotal: three payments under three
// numbers may not pay more than the coupon's discount together; what a
// return gives back may be paid again.
func TestSubsidyPaymentsStayWithinTheDiscountInTotal(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	c, err := s.Client()
	require.NoError(t, err)
	stock := newStock(t, c, s, "cap-1", busifavor.CouponCodeModeWechatPay, busifavor.StockTypeNormal, 1)
	sent, err := c.SendCoupon(ctx, busifavor.SendCouponRequest{StockID: stock, OpenID: testOpenID, OutRequestNo: "send-1", AppID: testAppID})
	require.NoError(t, err)
	useCoupon(t, c, s, stock, sent.CouponCode, "use-1")
	pay := func(no string, amount int64) error {
		_, err := c.CreateSubsidyPayReceipt(ctx, busifavor.CreateSubsidyPayReceiptRequest{StockID: stock, CouponCode: sent.CouponCode,
			TransactionID: "4200000913202101152566792388", PayerMerchant: s.MchID(), PayeeMerchant: s.MchID(), Amount: amount,
			Description: "补差", OutSubsidyNo: no})
		return err
	}
	require.NoError(t, pay("sub-1", 400))
	require.NoError(t, pay("sub-2", 600)) // 1000 in all: the discount
	err = pay("sub-3", 1)
	var apiErr *busifavor.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, busifavor.ErrorCodeInvalidRequest, apiErr.Code)
	assert.Contains(t, apiErr.Message, "1000")
	assert.Len(t, s.SubsidyPayReceipts(), 2)

	first := s.SubsidyPayReceipts()[0]
	_, err = c.CreateSubsidyReturnReceipt(ctx, busifavor.CreateSubsidyReturnReceiptRequest{StockID: stock, CouponCode: sent.CouponCode,
		TransactionID: first.TransactionID, RefundID: "50000000382019052709732678859", PayerMerchant: s.MchID(), PayeeMerchant: s.MchID(),
		Amount: 100, Description: "回退", OutSubsidyReturnNo: "subr-1"})
	require.NoError(t, err)
	require.NoError(t, pay("sub-3", 100), "the returned 100 may be paid again")
	require.Error(t, pay("sub-4", 1))
}

// TestSubsidyPaymentsOnlyForNormalStocks follows the pay page: 仅支持满减券,
// 换购券批次不支持 (the list page also defines the amount of a 折扣券).
func TestSubsidyPaymentsOnlyForNormalStocks(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	c, err := s.Client()
	require.NoError(t, err)
	for i, typ := range []busifavor.StockType{busifavor.StockTypeDiscount, busifavor.StockTypeExchange} {
		stock := newStock(t, c, s, fmt.Sprint("type-", i), busifavor.CouponCodeModeWechatPay, typ, 1)
		sent, err := c.SendCoupon(ctx, busifavor.SendCouponRequest{StockID: stock, OpenID: testOpenID, OutRequestNo: "send-1", AppID: testAppID})
		require.NoError(t, err)
		useCoupon(t, c, s, stock, sent.CouponCode, "use-1")
		_, err = c.CreateSubsidyPayReceipt(ctx, busifavor.CreateSubsidyPayReceiptRequest{StockID: stock, CouponCode: sent.CouponCode,
			TransactionID: "4200000913202101152566792388", PayerMerchant: s.MchID(), PayeeMerchant: s.MchID(), Amount: 1,
			Description: "补差", OutSubsidyNo: "sub-1"})
		require.ErrorIs(t, err, busifavor.ErrParamError, typ)
	}
	assert.Empty(t, s.SubsidyPayReceipts())
}

// TestStatusSpelling: the default is wechatpay-go's spelling; SpellingPages
// writes the pay pages' bare values. Canonical reads both the same.
func TestStatusSpelling(t *testing.T) {
	for _, tc := range []struct {
		opts               []busifavortest.Option
		status, failReason string
	}{
		{nil, "PAY_RECEIPT_FAIL", "PAY_RECEIPT_INSUFFICIENT_BALANCE"},
		{[]busifavortest.Option{busifavortest.WithStatusSpelling(busifavortest.SpellingWechatpayGo)}, "PAY_RECEIPT_FAIL", "PAY_RECEIPT_INSUFFICIENT_BALANCE"},
		{[]busifavortest.Option{busifavortest.WithStatusSpelling(busifavortest.SpellingPages)}, "FAIL", "INSUFFICIENT_BALANCE"},
	} {
		s := busifavortest.NewServer(append(tc.opts, busifavortest.WithSubsidySettlement(busifavortest.SubsidySettlement{FailReason: "PAY_RECEIPT_INSUFFICIENT_BALANCE"}))...)
		c, cp := capturedClient(t, s)
		stock := newStock(t, c, s, "sp-1", busifavor.CouponCodeModeWechatPay, busifavor.StockTypeNormal, 1)
		sent, err := c.SendCoupon(ctx, busifavor.SendCouponRequest{StockID: stock, OpenID: testOpenID, OutRequestNo: "send-1", AppID: testAppID})
		require.NoError(t, err)
		useCoupon(t, c, s, stock, sent.CouponCode, "use-1")
		got, err := c.CreateSubsidyPayReceipt(ctx, busifavor.CreateSubsidyPayReceiptRequest{StockID: stock, CouponCode: sent.CouponCode,
			TransactionID: "4200000913202101152566792388", PayerMerchant: s.MchID(), PayeeMerchant: s.MchID(), Amount: 1,
			Description: "补差", OutSubsidyNo: "sub-1"})
		require.NoError(t, err)
		var wire struct{ Status, FailReason string }
		last := cp.seen[len(cp.seen)-1]
		require.NoError(t, json.Unmarshal(bytes.ReplaceAll(last.body, []byte("fail_reason"), []byte("failreason")), &wire))
		assert.Equal(t, tc.status, wire.Status)
		assert.Equal(t, tc.failReason, wire.FailReason)
		assert.Equal(t, busifavor.SubsidyPayReceiptStatusFail, got.Status.Canonical())
		assert.Equal(t, busifavor.SubsidyPayReceiptFailReasonInsufficientBalance, got.FailReason.Canonical())
		s.Close()
	}
}

// TestDotSegmentsAreResolvedAsAGatewayWould: a path with dot segments, plain
// or percent-encoded, reaches what it resolves to, as behind a front end that
// normalises paths; the signature covers the path as sent.
func TestDotSegmentsAreResolvedAsAGatewayWould(t *testing.T) {
	s := busifavortest.NewServer(busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://shop.example.com/busifavor/notify"))
	defer s.Close()
	cc, err := core.NewClient(ctx, s.ClientOptions()...)
	require.NoError(t, err)
	for _, p := range []string{
		busifavortest.StocksPath + "/../callbacks",
		busifavortest.StocksPath + "/%2e%2E/callbacks",
		busifavortest.StocksPath + "/1/./../../callbacks",
		"/v3/marketing/busifavor//callbacks",
	} {
		res, err := cc.Get(ctx, s.URL+p)
		require.NoError(t, err, p)
		b, err := io.ReadAll(res.Response.Body)
		require.NoError(t, err)
		assert.Contains(t, string(b), `"notify_url":"https://shop.example.com/busifavor/notify"`, p)
	}
	reqs := s.Requests()
	assert.Equal(t, busifavortest.StocksPath+"/../callbacks", reqs[0].Path, "recorded as sent")
}
