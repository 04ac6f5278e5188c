package busifavor_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

const (
	testOpenid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
	testAppid  = "wx233544546545989"
)

// newCouponStock creates a running stock of mode on c, usable from an hour
// ago for a month, and returns its id.
func newCouponStock(t *testing.T, c *busifavor.Client, mode busifavor.CouponCodeMode, outRequestNo string) string {
	t.Helper()
	r := sampleStock(outRequestNo)
	r.CouponCodeMode = mode
	r.StockSendRule.MaxCouponsPerUser = 100
	begin := time.Now().Add(-time.Hour)
	r.CouponUseRule.CouponAvailableTime = busifavor.AvailableTime{AvailableBeginTime: begin, AvailableEndTime: begin.AddDate(0, 1, 0)}
	created, err := c.CreateStock(ctx, r)
	require.NoError(t, err)
	return created.StockID
}

// TestCouponLifecycleOnTheFake runs a coupon through every state change
// and checks each shows in later reads.
func TestCouponLifecycleOnTheFake(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	id := newCouponStock(t, c, busifavor.CouponCodeModeMerchantUpload, "life-c")
	_, err := c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: id, CouponCodeList: []string{"CODE-1", "CODE-2"}, UploadRequestNo: "u"})
	require.NoError(t, err)

	sent, err := c.SendCoupon(ctx, busifavor.SendCouponRequest{OpenID: testOpenid, AppID: testAppid, StockID: id, OutRequestNo: "s1"})
	require.NoError(t, err)
	assert.Equal(t, "CODE-1", sent.CouponCode, "a MERCHANT_UPLOAD send takes an uploaded code")
	info, err := c.GetCouponCode(ctx, busifavor.GetCouponCodeRequest{StockID: id, CouponCode: "CODE-1"})
	require.NoError(t, err)
	assert.Equal(t, busifavor.CouponCodeStatusDispatched, info.CodeInformation.CodeStatus)

	use := busifavor.UseCouponRequest{CouponCode: sent.CouponCode, StockID: id, AppID: testAppid, UseTime: time.Now(), UseRequestNo: "use-1"}
	used, err := c.UseCoupon(ctx, use)
	require.NoError(t, err)
	assert.Equal(t, testOpenid, used.OpenID)
	again, err := c.UseCoupon(ctx, use)
	require.NoError(t, err, "a retried redemption returns the first result")
	assert.Equal(t, used.WechatPayUseTime, again.WechatPayUseTime)
	use.UseRequestNo = "use-2"
	_, err = c.UseCoupon(ctx, use)
	assert.ErrorIs(t, err, busifavor.ErrCouponUsed)
	assert.ErrorIs(t, err, busifavor.ErrResourceAlreadyExists)

	got, err := c.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{OpenID: testOpenid, CouponCode: sent.CouponCode, AppID: testAppid})
	require.NoError(t, err)
	assert.Equal(t, busifavor.CouponStateUsed, got.CouponState)
	assert.Equal(t, "use-1", got.UseRequestNo)

	_, err = c.AssociateTradeInfo(ctx, busifavor.AssociateTradeInfoRequest{StockID: id, CouponCode: sent.CouponCode, OutTradeNo: "order-1", OutRequestNo: "a1"})
	require.NoError(t, err)
	_, err = c.AssociateTradeInfo(ctx, busifavor.AssociateTradeInfoRequest{StockID: id, CouponCode: sent.CouponCode, OutTradeNo: "order-2", OutRequestNo: "a2"})
	assert.ErrorIs(t, err, busifavor.ErrResourceAlreadyExists, "tied to another order")
	_, err = c.DisassociateTradeInfo(ctx, busifavor.DisassociateTradeInfoRequest{StockID: id, CouponCode: sent.CouponCode, OutTradeNo: "order-2", OutRequestNo: "d1"})
	assert.ErrorIs(t, err, busifavor.ErrInvalidRequest, "not tied to that order")

	_, err = c.ReturnCoupon(ctx, busifavor.ReturnCouponRequest{CouponCode: sent.CouponCode, StockID: id, ReturnRequestNo: "r1"})
	require.NoError(t, err)
	got, err = c.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{OpenID: testOpenid, CouponCode: sent.CouponCode, AppID: testAppid})
	require.NoError(t, err)
	assert.Equal(t, busifavor.CouponStateSent, got.CouponState)
	assert.Equal(t, "r1", got.ReturnRequestNo)
	_, err = c.ReturnCoupon(ctx, busifavor.ReturnCouponRequest{CouponCode: sent.CouponCode, StockID: id, ReturnRequestNo: "r2"})
	assert.ErrorIs(t, err, busifavor.ErrInvalidRequest, "only a used coupon can be returned")

	use.UseRequestNo = "use-3"
	_, err = c.UseCoupon(ctx, use)
	require.NoError(t, err, "a returned coupon can be redeemed again")
	_, err = c.ReturnCoupon(ctx, busifavor.ReturnCouponRequest{CouponCode: sent.CouponCode, StockID: id, ReturnRequestNo: "r3"})
	require.NoError(t, err)

	_, err = c.DeactivateCoupon(ctx, busifavor.DeactivateCouponRequest{CouponCode: sent.CouponCode, StockID: id, DeactivateRequestNo: "x1", DeactivateReason: "退货"})
	require.NoError(t, err)
	use.UseRequestNo = "use-4"
	_, err = c.UseCoupon(ctx, use)
	assert.ErrorIs(t, err, busifavor.ErrCouponNotUsable)
	got, err = c.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{OpenID: testOpenid, CouponCode: sent.CouponCode, AppID: testAppid})
	require.NoError(t, err)
	assert.Equal(t, busifavor.CouponStateDeactivated, got.CouponState)
	assert.Equal(t, "退货", got.DeactivateReason)

	use.CouponCode, use.UseRequestNo = "NO-SUCH", "use-5"
	_, err = c.UseCoupon(ctx, use)
	assert.ErrorIs(t, err, busifavor.ErrCouponNotFound)
	_, err = c.GetStock(ctx, busifavor.GetStockRequest{StockID: "404"})
	assert.NotErrorIs(t, err, busifavor.ErrCouponNotFound, "a stock endpoint's RESOURCE_NOT_EXISTS is not about a coupon")

	second, err := c.SendCoupon(ctx, busifavor.SendCouponRequest{OpenID: testOpenid, AppID: testAppid, StockID: id, OutRequestNo: "s2"})
	require.NoError(t, err)
	assert.Equal(t, "CODE-2", second.CouponCode)
	_, err = c.SendCoupon(ctx, busifavor.SendCouponRequest{OpenID: testOpenid, AppID: testAppid, StockID: id, OutRequestNo: "s3"})
	assert.ErrorIs(t, err, busifavor.ErrInvalidRequest, "no uploaded code left")

	var states []busifavor.CouponState
	for uc, err := range c.AllUserCoupons(ctx, busifavor.ListUserCouponsRequest{OpenID: testOpenid, AppID: testAppid, StockID: id, Limit: 1}) {
		require.NoError(t, err)
		states = append(states, uc.CouponState)
	}
	assert.Equal(t, []busifavor.CouponState{busifavor.CouponStateDeactivated, busifavor.CouponStateSent}, states)
	page, err := c.ListUserCoupons(ctx, busifavor.ListUserCouponsRequest{OpenID: testOpenid, AppID: testAppid, CouponState: busifavor.CouponStateSent})
	require.NoError(t, err)
	assert.Equal(t, int64(1), page.TotalCount)
	stock, ok := s.Stock(id)
	require.True(t, ok)
	assert.Equal(t, int64(2), stock.SendCountInformation.TotalSendNum)
}

// TestCouponsExpireOnTheFakesClock sends a coupon of a stock whose time ends
// in two minutes, then moves the fake's clock past it.
func TestCouponsExpireOnTheFakesClock(t *testing.T) {
	var skew atomic.Int64
	start := time.Now().Truncate(time.Second)
	s, c := newFake(t, []busifavortest.Option{busifavortest.WithClock(func() time.Time { return start.Add(time.Duration(skew.Load())) })},
		busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	r := sampleStock("exp")
	r.CouponCodeMode = busifavor.CouponCodeModeWechatPay
	r.CouponUseRule.CouponAvailableTime = busifavor.AvailableTime{AvailableBeginTime: start.Add(-time.Hour), AvailableEndTime: start.Add(2 * time.Minute)}
	created, err := c.CreateStock(ctx, r)
	require.NoError(t, err)
	sent, err := c.SendCoupon(ctx, busifavor.SendCouponRequest{OpenID: testOpenid, AppID: testAppid, StockID: created.StockID, OutRequestNo: "s"})
	require.NoError(t, err)
	skew.Store(int64(3 * time.Minute))
	got, err := c.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{OpenID: testOpenid, CouponCode: sent.CouponCode, AppID: testAppid})
	require.NoError(t, err)
	assert.Equal(t, busifavor.CouponStateExpired, got.CouponState)
	_, err = c.UseCoupon(ctx, busifavor.UseCouponRequest{CouponCode: sent.CouponCode, AppID: testAppid, UseTime: start, UseRequestNo: "u"})
	assert.ErrorIs(t, err, busifavor.ErrCouponNotUsable)
	var apiErr *busifavor.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "券不在有效期", apiErr.Description())
	_, ok := s.UserCoupon(sent.CouponCode)
	assert.True(t, ok)
}

// couponCalls calls each coupon endpoint once with a valid request.
func couponCalls(c *busifavor.Client) map[string]func() (any, error) {
	return map[string]func() (any, error){
		"SendCoupon": func() (any, error) {
			return c.SendCoupon(ctx, busifavor.SendCouponRequest{OpenID: testOpenid, AppID: testAppid, StockID: "1", OutRequestNo: "s"})
		},
		"UseCoupon": func() (any, error) {
			return c.UseCoupon(ctx, busifavor.UseCouponRequest{CouponCode: "C", AppID: testAppid, UseTime: time.Now(), UseRequestNo: "u"})
		},
		"GetUserCoupon": func() (any, error) {
			return c.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{OpenID: testOpenid, CouponCode: "C", AppID: testAppid})
		},
		"ListUserCoupons": func() (any, error) {
			return c.ListUserCoupons(ctx, busifavor.ListUserCouponsRequest{OpenID: testOpenid, AppID: testAppid})
		},
		"AssociateTradeInfo": func() (any, error) {
			return c.AssociateTradeInfo(ctx, busifavor.AssociateTradeInfoRequest{StockID: "1", CouponCode: "C", OutTradeNo: "o", OutRequestNo: "a"})
		},
		"DisassociateTradeInfo": func() (any, error) {
			return c.DisassociateTradeInfo(ctx, busifavor.DisassociateTradeInfoRequest{StockID: "1", CouponCode: "C", OutTradeNo: "o", OutRequestNo: "a"})
		},
		"ReturnCoupon": func() (any, error) {
			return c.ReturnCoupon(ctx, busifavor.ReturnCouponRequest{CouponCode: "C", StockID: "1", ReturnRequestNo: "r"})
		},
		"DeactivateCoupon": func() (any, error) {
			return c.DeactivateCoupon(ctx, busifavor.DeactivateCouponRequest{CouponCode: "C", StockID: "1", DeactivateRequestNo: "d"})
		},
		"SendGovCard": func() (any, error) {
			return c.SendGovCard(ctx, busifavor.SendGovCardRequest{CardID: "card", AppID: testAppid, OpenID: testOpenid, OutRequestNo: "g", SendTime: time.Now()})
		},
	}
}

// TestCouponEndpointsMapEveryCode answers each code of the error table to
// each coupon endpoint: the code's sentinel, the state sentinel where that
// endpoint gives the code one, and the retry verdict.
func TestCouponEndpointsMapEveryCode(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	state := map[string]map[busifavor.ErrorCode]error{
		"UseCoupon": {busifavor.ErrorCodeResourceAlreadyExists: busifavor.ErrCouponUsed, busifavor.ErrorCodeRuleLimit: busifavor.ErrCouponNotUsable,
			busifavor.ErrorCodeResourceNotExists: busifavor.ErrCouponNotFound},
	}
	for _, op := range []string{"GetUserCoupon", "ReturnCoupon", "DeactivateCoupon", "AssociateTradeInfo", "DisassociateTradeInfo"} {
		state[op] = map[busifavor.ErrorCode]error{busifavor.ErrorCodeResourceNotExists: busifavor.ErrCouponNotFound}
	}
	all := []error{busifavor.ErrCouponUsed, busifavor.ErrCouponNotUsable, busifavor.ErrCouponNotFound}
	for name, call := range couponCalls(c) {
		for _, code := range busifavor.ErrorCodes() {
			s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: code})
			resp, err := call()
			assert.Nil(t, resp, "%s %s", name, code)
			assert.ErrorIs(t, err, codeSentinel[code], "%s %s", name, code)
			assert.Equal(t, expectedRetryable[code], busifavor.IsRetryable(err), "%s %s", name, code)
			for _, sentinel := range all {
				assert.Equal(t, state[name][code] == sentinel, errors.Is(err, sentinel), "%s %s %v", name, code, sentinel)
			}
		}
	}
}

// TestCouponEndpointsRefuseMalformedAnswers answers 2xx bodies that break
// the documented shape.
func TestCouponEndpointsRefuseMalformedAnswers(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	calls := couponCalls(c)
	bodies := map[string][]string{
		"SendCoupon":            {`{"send_coupon_result":[]}`, `{"send_coupon_result":{"coupon_code":1}}`}, // every field optional (models; no page)
		"UseCoupon":             {`{}`, `{"stock_id":"1"}`, `{"stock_id":"1","wechatpay_use_time":"later"}`},
		"GetUserCoupon":         {`{}`, `{"coupon_code":"C","stock_id":"1"}`, `{"coupon_code":"C","stock_id":"1","coupon_state":"USED","use_time":"x"}`},
		"ListUserCoupons":       {`{"data":{}}`, `{"data":[{"expire_time":"x"}]}`},
		"AssociateTradeInfo":    {`{}`, `{"wechatpay_associate_time":1}`},
		"DisassociateTradeInfo": {`{}`},
		"ReturnCoupon":          {`{}`, `{"wechatpay_return_time":"2026-02-30T00:00:00+08:00"}`},
		"DeactivateCoupon":      {`{}`},
		"SendGovCard":           {`{}`, `{"card_code":""}`},
	}
	for name, list := range bodies {
		for _, body := range append(list, `<html>`, `[]`) {
			s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: body})
			resp, err := calls[name]()
			assert.ErrorIs(t, err, busifavor.ErrMalformedResponse, "%s %s", name, body)
			assert.Nil(t, resp, "%s %s", name, body)
		}
	}
}

// TestOpenidNeverReachesLogsOrErrors calls the endpoints with the openid in
// the path against a closed port and a failing fake, with logging on.
func TestOpenidNeverReachesLogsOrErrors(t *testing.T) {
	var logs bytes.Buffer
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}),
		busifavor.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	var texts []string
	for _, name := range []string{"GetUserCoupon", "ListUserCoupons"} {
		s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultGarbled})
		_, err := couponCalls(c)[name]()
		require.ErrorIs(t, err, busifavor.ErrTransport)
		texts = append(texts, err.Error())
		s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeUserNotExists})
		_, err = couponCalls(c)[name]()
		require.ErrorIs(t, err, busifavor.ErrUserNotExists)
		texts = append(texts, err.Error())
	}
	texts = append(texts, logs.String())
	for _, text := range texts {
		assert.NotContains(t, text, testOpenid)
	}
	assert.Contains(t, logs.String(), busifavor.MaskID(testOpenid))
}

// TestCouponValidationBoundaries checks each coupon rule on both sides.
func TestCouponValidationBoundaries(t *testing.T) {
	use := func(f func(*busifavor.UseCouponRequest)) error {
		r := busifavor.UseCouponRequest{CouponCode: "C", AppID: testAppid, UseTime: time.Now(), UseRequestNo: "u"}
		f(&r)
		return r.Validate()
	}
	assert.NoError(t, use(func(r *busifavor.UseCouponRequest) { r.CouponCode = strings.Repeat("c", 32) }))
	assert.Equal(t, []string{"coupon_code"}, fieldsOf(use(func(r *busifavor.UseCouponRequest) { r.CouponCode = strings.Repeat("c", 33) })))
	assert.NoError(t, use(func(r *busifavor.UseCouponRequest) { r.AppID = strings.Repeat("a", 32) }))
	assert.Equal(t, []string{"appid"}, fieldsOf(use(func(r *busifavor.UseCouponRequest) { r.AppID = strings.Repeat("a", 33) })))
	assert.NoError(t, use(func(r *busifavor.UseCouponRequest) { r.UseRequestNo = strings.Repeat("u", 128) }))
	assert.Equal(t, []string{"use_request_no"}, fieldsOf(use(func(r *busifavor.UseCouponRequest) { r.UseRequestNo = strings.Repeat("u", 129) })))
	assert.NoError(t, use(func(r *busifavor.UseCouponRequest) { r.OpenID = strings.Repeat("o", 128) }))
	assert.Equal(t, []string{"openid"}, fieldsOf(use(func(r *busifavor.UseCouponRequest) { r.OpenID = strings.Repeat("o", 129) })))
	assert.Equal(t, []string{"use_time"}, fieldsOf(use(func(r *busifavor.UseCouponRequest) { r.UseTime = time.Time{} })))
	assert.Equal(t, []string{"stock_id"}, fieldsOf(use(func(r *busifavor.UseCouponRequest) { r.StockID = strings.Repeat("1", 21) })))
	assert.ElementsMatch(t, []string{"coupon_code", "appid", "use_time", "use_request_no"}, fieldsOf(busifavor.UseCouponRequest{}.Validate()))

	send := busifavor.SendCouponRequest{OpenID: testOpenid, AppID: testAppid, StockID: "1", OutRequestNo: "aZ09|｜_*-"}
	assert.NoError(t, send.Validate())
	send.OutRequestNo = "no.dots"
	assert.Equal(t, []string{"out_request_no"}, fieldsOf(send.Validate()))
	assert.Equal(t, []string{"out_request_no"}, fieldsOf(busifavor.AssociateTradeInfoRequest{StockID: "1", CouponCode: "C", OutTradeNo: "o", OutRequestNo: "a b"}.Validate()))
	assert.ElementsMatch(t, []string{"stock_id", "coupon_code", "out_trade_no", "out_request_no"}, fieldsOf(busifavor.DisassociateTradeInfoRequest{}.Validate()))

	list := busifavor.ListUserCouponsRequest{OpenID: testOpenid, AppID: testAppid, CreatorMerchant: "12345678", Page: 0}
	assert.NoError(t, list.Validate())
	list.CreatorMerchant, list.Page, list.CouponState = "1234567", -1, "GONE"
	assert.ElementsMatch(t, []string{"creator_merchant", "offset", "coupon_state"}, fieldsOf(list.Validate()))
	assert.ElementsMatch(t, []string{"openid", "coupon_code", "appid"}, fieldsOf(busifavor.GetUserCouponRequest{}.Validate()))
	assert.ElementsMatch(t, []string{"coupon_code", "stock_id", "return_request_no"}, fieldsOf(busifavor.ReturnCouponRequest{}.Validate()))
	assert.ElementsMatch(t, []string{"coupon_code", "stock_id", "deactivate_request_no"}, fieldsOf(busifavor.DeactivateCouponRequest{}.Validate()))
	assert.ElementsMatch(t, []string{"card_id", "appid", "openid", "out_request_no", "send_time"}, fieldsOf(busifavor.SendGovCardRequest{}.Validate()))
}

// TestUseTimeIsSentInChinaTimeToTheSecond checks the use_time format the
// page documents, whatever the time's location.
func TestUseTimeIsSentInChinaTimeToTheSecond(t *testing.T) {
	r := busifavor.UseCouponRequest{CouponCode: "C", AppID: testAppid, UseRequestNo: "u",
		UseTime: time.Date(2015, 5, 20, 5, 29, 35, 999e6, time.UTC)}
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.JSONEq(t, `{"coupon_code":"C","appid":"wx233544546545989","use_time":"2015-05-20T13:29:35+08:00","use_request_no":"u"}`, string(b))
}

// TestUseCouponResponseMasksTheOpenid prints a redemption every way a log
// line might.
func TestUseCouponResponseMasksTheOpenid(t *testing.T) {
	r := &busifavor.UseCouponResponse{StockID: "1", OpenID: testOpenid, RequestID: "08X"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("used", "resp", *r)
	for _, out := range []string{fmt.Sprintf("%v %+v %#v %s", r, *r, *r, *r), logs.String()} {
		assert.NotContains(t, out, testOpenid)
		assert.Contains(t, out, busifavor.MaskID(testOpenid))
	}
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.Contains(t, string(b), testOpenid, "json.Marshal keeps the data for queues")
}

// TestUseCouponRetriesALostAnswerOnce loses the answer to a redemption after
// the fake redeemed: the client retries with the same body and gets the first
// result, and the coupon was redeemed once.
func TestUseCouponRetriesALostAnswerOnce(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 3}))
	id := newCouponStock(t, c, busifavor.CouponCodeModeWechatPay, "lost-use")
	sent, err := c.SendCoupon(ctx, busifavor.SendCouponRequest{OpenID: testOpenid, AppID: testAppid, StockID: id, OutRequestNo: "s"})
	require.NoError(t, err)
	s.FailOn("POST", busifavortest.CouponsPath+"/use", 1, busifavortest.Fault{Kind: busifavortest.FaultLostAnswer})
	before := len(s.Requests())
	resp, err := c.UseCoupon(ctx, busifavor.UseCouponRequest{CouponCode: sent.CouponCode, AppID: testAppid, UseTime: time.Now(), UseRequestNo: "till-1"})
	require.NoError(t, err)
	assert.Equal(t, id, resp.StockID)
	reqs := s.Requests()[before:]
	require.Len(t, reqs, 2, "the lost answer and the retry")
	assert.Equal(t, string(reqs[0].Body), string(reqs[1].Body), "the retry sends the same body")
	got, ok := s.UserCoupon(sent.CouponCode)
	require.True(t, ok)
	assert.Equal(t, busifavor.CouponStateUsed, got.CouponState)
	assert.Equal(t, "till-1", got.UseRequestNo)
}

// TestEveryUploadableCodeWorksEverywhere uploads codes that use every
// character the upload page allows (a space among them) and takes each
// through every call that names a code: one rule for a code wherever it goes.
func TestEveryUploadableCodeWorksEverywhere(t *testing.T) {
	_, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	id := newCouponStock(t, c, busifavor.CouponCodeModeMerchantUpload, "alphabet")
	codes := []string{"CODE 1", `a-b_c\d/e=f|g`, " x ", strings.Repeat("9", busifavor.CouponCodeMaxLen)}
	_, err := c.BatchUploadCouponCodes(ctx, busifavor.BatchUploadCouponCodesRequest{StockID: id, Codes: codes, UploadRequestNoPrefix: "abc"})
	require.NoError(t, err)
	for i, code := range codes {
		n := fmt.Sprint(i)
		_, err := c.GetCouponCode(ctx, busifavor.GetCouponCodeRequest{StockID: id, CouponCode: code})
		require.NoError(t, err, "GetCouponCode %q", code)
		sent, err := c.SendCoupon(ctx, busifavor.SendCouponRequest{OpenID: testOpenid, AppID: testAppid, StockID: id, OutRequestNo: "s" + n, CouponCode: code})
		require.NoError(t, err, "SendCoupon %q", code)
		require.Equal(t, code, sent.CouponCode)
		_, err = c.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{OpenID: testOpenid, CouponCode: code, AppID: testAppid})
		require.NoError(t, err, "GetUserCoupon %q", code)
		_, err = c.UseCoupon(ctx, busifavor.UseCouponRequest{CouponCode: code, StockID: id, AppID: testAppid, UseTime: time.Now(), UseRequestNo: "u" + n})
		require.NoError(t, err, "UseCoupon %q", code)
		_, err = c.AssociateTradeInfo(ctx, busifavor.AssociateTradeInfoRequest{StockID: id, CouponCode: code, OutTradeNo: "o" + n, OutRequestNo: "a" + n})
		require.NoError(t, err, "AssociateTradeInfo %q", code)
		_, err = c.DisassociateTradeInfo(ctx, busifavor.DisassociateTradeInfoRequest{StockID: id, CouponCode: code, OutTradeNo: "o" + n, OutRequestNo: "d" + n})
		require.NoError(t, err, "DisassociateTradeInfo %q", code)
		_, err = c.ReturnCoupon(ctx, busifavor.ReturnCouponRequest{CouponCode: code, StockID: id, ReturnRequestNo: "r" + n})
		require.NoError(t, err, "ReturnCoupon %q", code)
		_, err = c.DeactivateCoupon(ctx, busifavor.DeactivateCouponRequest{CouponCode: code, StockID: id, DeactivateRequestNo: "x" + n})
		require.NoError(t, err, "DeactivateCoupon %q", code)
	}
	// And one rule refuses the same codes everywhere.
	for _, bad := range []string{"a.b", "tab\tcode", "码", strings.Repeat("9", busifavor.CouponCodeMaxLen+1)} {
		for name, err := range map[string]error{
			"upload":     busifavor.UploadCouponCodesRequest{StockID: id, CouponCodeList: []string{bad}, UploadRequestNo: "u"}.Validate(),
			"send":       busifavor.SendCouponRequest{OpenID: testOpenid, AppID: testAppid, StockID: id, OutRequestNo: "s", CouponCode: bad}.Validate(),
			"use":        busifavor.UseCouponRequest{CouponCode: bad, AppID: testAppid, UseTime: time.Now(), UseRequestNo: "u"}.Validate(),
			"get":        busifavor.GetUserCouponRequest{OpenID: testOpenid, CouponCode: bad, AppID: testAppid}.Validate(),
			"associate":  busifavor.AssociateTradeInfoRequest{StockID: id, CouponCode: bad, OutTradeNo: "o", OutRequestNo: "a"}.Validate(),
			"return":     busifavor.ReturnCouponRequest{CouponCode: bad, StockID: id, ReturnRequestNo: "r"}.Validate(),
			"deactivate": busifavor.DeactivateCouponRequest{CouponCode: bad, StockID: id, DeactivateRequestNo: "d"}.Validate(),
			"get code":   busifavor.GetCouponCodeRequest{StockID: id, CouponCode: bad}.Validate(),
			"delete":     busifavor.DeleteCouponCodeRequest{StockID: id, CouponCode: bad, DeleteRequestNo: "d"}.Validate(),
		} {
			assert.ErrorIs(t, err, busifavor.ErrValidation, "%s %q", name, bad)
		}
	}
}

// TestBrokenListAndUploadAnswersAreErrors answers 2xx bodies that lack a
// field wechatpay-go's models require (a count, or a field of a list item):
// each is ErrMalformedResponse naming the field, never a zero-valued
// success.
func TestBrokenListAndUploadAnswersAreErrors(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	const (
		coupon = `{"belong_merchant":"10000098","stock_name":"n","goods_name":"g","stock_type":"NORMAL","coupon_code":"C1","stock_id":"1",` +
			`"coupon_use_rule":{"use_method":"OFF_LINE","coupon_available_time":{"available_begin_time":"2015-05-20T13:29:35+08:00","available_end_time":"2015-06-20T13:29:35+08:00"}}}`
		code = `{"code":"C1","code_status":"AVAILABLE"}`
	)
	calls := map[string]func() (any, error){
		"ListUserCoupons": func() (any, error) {
			return c.ListUserCoupons(ctx, busifavor.ListUserCouponsRequest{OpenID: testOpenid, AppID: testAppid})
		},
		"ListCouponCodes": func() (any, error) { return c.ListCouponCodes(ctx, busifavor.ListCouponCodesRequest{StockID: "1"}) },
		"GetCouponCode": func() (any, error) {
			return c.GetCouponCode(ctx, busifavor.GetCouponCodeRequest{StockID: "1", CouponCode: "C1"})
		},
		"UploadCouponCodes": func() (any, error) {
			return c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: "1", CouponCodeList: []string{"C1"}, UploadRequestNo: "u"})
		},
		"GetUserCoupon": func() (any, error) {
			return c.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{OpenID: testOpenid, CouponCode: "C1", AppID: testAppid})
		},
	}
	tests := []struct{ call, body, field string }{
		{"ListUserCoupons", `{}`, "total_count"},
		{"ListUserCoupons", `{"total_count":0,"offset":0}`, "limit"},
		{"ListUserCoupons", `{"total_count":1,"limit":10,"offset":null}`, "offset"},
		{"ListUserCoupons", `{"total_count":2,"limit":10,"offset":0,"data":[` + coupon + `,{}]}`, "data[1].belong_merchant"},
		{"ListUserCoupons", `{"total_count":1,"limit":10,"offset":0,"data":[` + strings.Replace(coupon, `"use_method":"OFF_LINE",`, "", 1) + `]}`, "data[0].coupon_use_rule.use_method"},
		{"ListUserCoupons", `{"total_count":1,"limit":10,"offset":0,"data":[` + strings.Replace(coupon, `"stock_name":"n",`, "", 1) + `]}`, "data[0].stock_name"},
		{"ListCouponCodes", `{"stock_id":"1"}`, "total_count"},
		{"ListCouponCodes", `{"stock_id":"1","total_count":2,"offset":0,"limit":10,"data":[` + code + `,{"code":"C2"}]}`, "data[1].code_status"},
		{"ListCouponCodes", `{"stock_id":"1","total_count":1,"offset":0,"limit":10,"data":[{}]}`, "data[0].code"},
		{"GetCouponCode", `{"code_information":` + code + `,"coupon_information":{}}`, "coupon_information.stock_type"},
		{"GetUserCoupon", `{"coupon_code":"C1","stock_id":"1","coupon_state":"SENDED"}`, "belong_merchant"},
		{"UploadCouponCodes", `{"stock_id":"1","success_time":"2015-05-20T13:29:35+08:00"}`, "total_count"},
		{"UploadCouponCodes", `{"stock_id":"1","success_time":"2015-05-20T13:29:35+08:00","total_count":1}`, "success_count"},
		{"UploadCouponCodes", `{"stock_id":"1","success_time":"2015-05-20T13:29:35+08:00","total_count":1,"success_count":0,"fail_count":1,"fail_codes":[{"coupon_code":"C1"}]}`, "fail_codes[0].code"},
	}
	for _, tt := range tests {
		s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: tt.body})
		resp, err := calls[tt.call]()
		assert.Nil(t, resp, "%s %s", tt.call, tt.body)
		if assert.ErrorIs(t, err, busifavor.ErrMalformedResponse, "%s %s", tt.call, tt.body) {
			assert.Contains(t, err.Error(), tt.field, "%s %s", tt.call, tt.body)
		}
	}
	// The complete shapes decode.
	for name, body := range map[string]string{
		"ListUserCoupons": `{"total_count":1,"limit":10,"offset":0,"data":[` + coupon + `]}`,
		"ListCouponCodes": `{"stock_id":"1","total_count":1,"offset":0,"limit":10,"data":[` + code + `]}`,
		"GetCouponCode":   `{"code_information":` + code + `,"coupon_information":` + coupon + `}`,
	} {
		s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: body})
		_, err := calls[name]()
		assert.NoError(t, err, name)
	}
}

// TestMerchantNumbersHaveTheirPagesBounds checks both sides of the upper
// bound each page gives a merchant number and the gov card's path id.
func TestMerchantNumbersHaveTheirPagesBounds(t *testing.T) {
	r := strings.Repeat
	sendTime := time.Now()
	for _, tc := range []struct {
		field string
		max   int
		req   func(string) interface{ Validate() error }
	}{
		{"return_request_no", 128, func(v string) interface{ Validate() error } {
			return busifavor.ReturnCouponRequest{CouponCode: "C", StockID: "1", ReturnRequestNo: v}
		}},
		{"deactivate_request_no", 128, func(v string) interface{ Validate() error } {
			return busifavor.DeactivateCouponRequest{CouponCode: "C", StockID: "1", DeactivateRequestNo: v}
		}},
		{"out_request_no", 128, func(v string) interface{ Validate() error } {
			return busifavor.SendCouponRequest{OpenID: testOpenid, AppID: testAppid, StockID: "1", OutRequestNo: v}
		}},
		{"out_request_no", 128, func(v string) interface{ Validate() error } {
			return busifavor.AssociateTradeInfoRequest{CouponCode: "C", StockID: "1", OutTradeNo: "T", OutRequestNo: v}
		}},
		{"out_request_no", 32, func(v string) interface{ Validate() error } {
			return busifavor.SendGovCardRequest{CardID: "card", AppID: testAppid, OpenID: testOpenid, OutRequestNo: v, SendTime: sendTime}
		}},
		{"card_id", 28, func(v string) interface{ Validate() error } {
			return busifavor.SendGovCardRequest{CardID: v, AppID: testAppid, OpenID: testOpenid, OutRequestNo: "n", SendTime: sendTime}
		}},
	} {
		assert.NoError(t, tc.req(r("n", tc.max)).Validate(), "%s of %d bytes", tc.field, tc.max)
		assert.Equal(t, []string{tc.field}, fieldsOf(tc.req(r("n", tc.max+1)).Validate()), "%s of %d bytes", tc.field, tc.max+1)
	}
}
