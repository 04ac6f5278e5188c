package busifavor_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/services/merchantexclusivecoupon"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

var cst = time.FixedZone("CST", 8*3600)

// sampleBegin starts sampleStock's window: the start of the hour the tests
// run in, so that the stock is running on the fake's clock (time.Now unless
// a test sets another) whatever the date.
var sampleBegin = time.Now().In(cst).Truncate(time.Hour)

// sampleStock is a valid NORMAL stock with every optional part set.
func sampleStock(outRequestNo string) busifavor.CreateStockRequest {
	begin := sampleBegin
	return busifavor.CreateStockRequest{
		StockName:      "满100减10元券",
		BelongMerchant: busifavortest.DefaultMchID,
		Comment:        "双十二活动",
		GoodsName:      "全场可用",
		StockType:      busifavor.StockTypeNormal,
		CouponUseRule: busifavor.CouponUseRule{
			CouponAvailableTime: busifavor.AvailableTime{
				AvailableBeginTime:       begin,
				AvailableEndTime:         begin.AddDate(0, 3, 0),
				AvailableDayAfterReceive: 7,
				WaitDaysAfterReceive:     1,
				AvailableWeek: &busifavor.AvailableWeek{
					WeekDay:          []time.Weekday{time.Saturday, time.Sunday},
					AvailableDayTime: []busifavor.DayTimeRange{{BeginTime: 3600, EndTime: 7200}, {BeginTime: 36000, EndTime: 86399}},
				},
			},
			FixedNormalCoupon: &busifavor.FixedNormalCoupon{DiscountAmount: 1000, TransactionMinimum: 10000},
			UseMethod:         busifavor.CouponUseMethodMiniPrograms,
			MiniProgramsAppID: "wx1234567890123456",
			MiniProgramsPath:  "/pages/index/index",
		},
		StockSendRule: busifavor.StockSendRule{MaxCoupons: 100, MaxCouponsPerUser: 5, NaturalPersonLimit: true, PreventAPIAbuse: true},
		OutRequestNo:  outRequestNo,
		CustomEntrance: &busifavor.CustomEntrance{
			MiniProgramsInfo: &busifavor.MiniProgramsInfo{MiniProgramsAppID: "wx1234567890123456", MiniProgramsPath: "/pages/a", EntranceWords: "去逛逛", GuidingWords: "更多好券"},
			AppID:            "wx1234567890123456", HallID: "233455656", StoreID: "233554655", CodeDisplayMode: busifavor.CodeDisplayModeQRCode,
		},
		DisplayPatternInfo: &busifavor.DisplayPatternInfo{
			Description: "每人限领5张", MerchantLogoURL: "https://qpic.cn/logo", BackgroundColor: "Color020",
			CouponImageURL: "https://qpic.cn/image", FinderInfo: &busifavor.FinderInfo{FinderID: "sph6Rngt2T4RlUf", FinderVideoID: "export/abc", FinderVideoCoverImageURL: "https://qpic.cn/cover"},
		},
		CouponCodeMode: busifavor.CouponCodeModeMerchantUpload,
		NotifyConfig:   &busifavor.NotifyConfig{NotifyAppID: "wx23abcdef1234567"},
	}
}

// TestStockLifecycleOnTheFake drives every stock and code endpoint through
// busifavor and checks that each change shows in later reads.
func TestStockLifecycleOnTheFake(t *testing.T) {
	// The fake checks request timestamps against its clock, so the clock
	// stays within minutes of now: the stock's time ends two minutes from
	// now, and the clock later moves three minutes on.
	var skew atomic.Int64
	start := time.Now().Truncate(time.Second)
	clock := func() time.Time { return start.Add(time.Duration(skew.Load())) }
	life := func(outRequestNo string) busifavor.CreateStockRequest {
		r := sampleStock(outRequestNo)
		r.CouponUseRule.CouponAvailableTime.AvailableBeginTime = start.Add(-time.Hour)
		r.CouponUseRule.CouponAvailableTime.AvailableEndTime = start.Add(2 * time.Minute)
		return r
	}
	s, c := newFake(t, []busifavortest.Option{busifavortest.WithClock(clock)})

	created, err := c.CreateStock(ctx, life("life-1"))
	require.NoError(t, err)
	assert.True(t, created.CreateTime.Equal(start))
	again, err := c.CreateStock(ctx, life("life-1"))
	require.NoError(t, err)
	assert.Equal(t, created.StockID, again.StockID, "a retried creation returns the first stock")
	other := life("life-1")
	other.StockName = "另一个批次"
	_, err = c.CreateStock(ctx, other)
	assert.ErrorIs(t, err, busifavor.ErrResourceAlreadyExists, "out_request_no reused for another stock")

	id := created.StockID
	got, err := c.GetStock(ctx, busifavor.GetStockRequest{StockID: id})
	require.NoError(t, err)
	want := life("")
	assert.Equal(t, want.StockName, got.StockName)
	assert.Equal(t, busifavor.StockStateRunning, got.StockState)
	assert.Equal(t, want.CouponUseRule.FixedNormalCoupon, got.CouponUseRule.FixedNormalCoupon)
	assert.True(t, want.CouponUseRule.CouponAvailableTime.AvailableEndTime.Equal(got.CouponUseRule.CouponAvailableTime.AvailableEndTime))
	assert.Equal(t, &busifavor.CouponCodeCount{}, got.CouponCodeCount)
	assert.NotEmpty(t, got.RequestID)

	_, err = c.UpdateStock(ctx, busifavor.UpdateStockRequest{StockID: id, OutRequestNo: "u1", GoodsName: "仅限饮品",
		StockSendRule: &busifavor.UpdateStockSendRule{PreventAPIAbuse: core.Bool(false)}})
	require.NoError(t, err)
	budget, err := c.UpdateStockBudget(ctx, busifavor.UpdateStockBudgetRequest{StockID: id, TargetMaxCoupons: 500, CurrentMaxCoupons: 100, ModifyBudgetRequestNo: "b1"})
	require.NoError(t, err)
	assert.Equal(t, int64(500), budget.MaxCoupons)
	_, err = c.UpdateStockBudget(ctx, busifavor.UpdateStockBudgetRequest{StockID: id, TargetMaxCoupons: 900, CurrentMaxCoupons: 100, ModifyBudgetRequestNo: "b2"})
	assert.ErrorIs(t, err, busifavor.ErrParamError, "a stale current_max_coupons is refused")
	got, err = c.GetStock(ctx, busifavor.GetStockRequest{StockID: id})
	require.NoError(t, err)
	assert.Equal(t, "仅限饮品", got.GoodsName)
	assert.False(t, got.StockSendRule.PreventAPIAbuse)
	assert.Equal(t, int64(500), got.StockSendRule.MaxCoupons)

	up, err := c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: id, CouponCodeList: []string{"C1", "C2", "C3"}, UploadRequestNo: "up1"})
	require.NoError(t, err)
	assert.Equal(t, []string{"C1", "C2", "C3"}, up.SuccessCodes)
	assert.True(t, up.SuccessTime.Equal(start))
	up, err = c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: id, CouponCodeList: []string{"C3", "C4"}, UploadRequestNo: "up2"})
	require.NoError(t, err)
	assert.Equal(t, []string{"C4"}, up.SuccessCodes)
	assert.Equal(t, []string{"C3"}, up.ExistCodes)

	page, err := c.ListCouponCodes(ctx, busifavor.ListCouponCodesRequest{StockID: id, Limit: 3, Offset: 2})
	require.NoError(t, err)
	assert.Equal(t, int64(4), page.TotalCount)
	require.Len(t, page.Data, 2)
	assert.Equal(t, "C3", page.Data[0].Code)
	assert.True(t, page.Data[0].UploadTime.Equal(start))
	var all []string
	for code, err := range c.AllCouponCodes(ctx, busifavor.ListCouponCodesRequest{StockID: id, Limit: 3}) {
		require.NoError(t, err)
		all = append(all, code.Code)
	}
	assert.Equal(t, []string{"C1", "C2", "C3", "C4"}, all)

	info, err := c.GetCouponCode(ctx, busifavor.GetCouponCodeRequest{StockID: id, CouponCode: "C2"})
	require.NoError(t, err)
	assert.Equal(t, busifavor.CouponCodeStatusAvailable, info.CodeInformation.CodeStatus)
	assert.Nil(t, info.CouponInformation)

	del, err := c.DeleteCouponCode(ctx, busifavor.DeleteCouponCodeRequest{StockID: id, CouponCode: "C2", DeleteRequestNo: "d1"})
	require.NoError(t, err)
	assert.Equal(t, id, del.StockID)
	_, err = c.GetCouponCode(ctx, busifavor.GetCouponCodeRequest{StockID: id, CouponCode: "C2"})
	assert.ErrorIs(t, err, busifavor.ErrResourceNotExists)
	_, err = c.DeleteCouponCode(ctx, busifavor.DeleteCouponCodeRequest{StockID: id, CouponCode: "C2", DeleteRequestNo: "d1"})
	assert.NoError(t, err, "a retried deletion answers as the first")
	got, err = c.GetStock(ctx, busifavor.GetStockRequest{StockID: id})
	require.NoError(t, err)
	assert.Equal(t, &busifavor.CouponCodeCount{TotalCount: 3, AvailableCount: 3}, got.CouponCodeCount)

	skew.Store(int64(3 * time.Minute))
	got, err = c.GetStock(ctx, busifavor.GetStockRequest{StockID: id})
	require.NoError(t, err)
	assert.Equal(t, busifavor.StockStateStopped, got.StockState, "the stock stops when its time ends")

	_, err = c.GetStock(ctx, busifavor.GetStockRequest{StockID: "404"})
	assert.ErrorIs(t, err, busifavor.ErrResourceNotExists)

	wechat := life("life-2")
	wechat.CouponCodeMode = busifavor.CouponCodeModeWechatPay
	w2, err := c.CreateStock(ctx, wechat)
	require.NoError(t, err)
	_, err = c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: w2.StockID, CouponCodeList: []string{"X"}, UploadRequestNo: "up3"})
	assert.ErrorIs(t, err, busifavor.ErrInvalidRequest, "only MERCHANT_UPLOAD stocks take codes")
	st, ok := s.Stock(w2.StockID)
	require.True(t, ok)
	assert.Nil(t, st.CouponCodeCount)
}

// TestFakeReportsDuplicatesLikeWechatPay sends a list with a repeat, which
// busifavor's validator would refuse, straight from wechatpay-go.
func TestFakeReportsDuplicatesLikeWechatPay(t *testing.T) {
	s, c := newFake(t, nil)
	created, err := c.CreateStock(ctx, sampleStock("dup-1"))
	require.NoError(t, err)
	cc, err := core.NewClient(ctx, s.ClientOptions()...)
	require.NoError(t, err)
	ref := merchantexclusivecoupon.BusiFavorApiService{Client: cc}
	r, _, err := ref.UploadCouponCode(ctx, merchantexclusivecoupon.UploadCouponCodeRequest{StockId: &created.StockID,
		CouponCodeList: []string{"A", "B", "A"}, UploadRequestNo: core.String("u")})
	require.NoError(t, err)
	assert.Equal(t, []string{"A"}, r.DuplicateCodes)
	assert.Equal(t, int64(2), *r.TotalCount)
	_, err = c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: created.StockID, CouponCodeList: []string{"A", "B", "A"}, UploadRequestNo: "u"})
	var ve *busifavor.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "coupon_code_list[2]", ve.Fields[0].Field)
}

// stockCalls calls each stock and code endpoint once with a valid request.
func stockCalls(c *busifavor.Client, id string) map[string]func() (any, error) {
	return map[string]func() (any, error){
		"CreateStock": func() (any, error) { return c.CreateStock(ctx, sampleStock("calls-1")) },
		"GetStock":    func() (any, error) { return c.GetStock(ctx, busifavor.GetStockRequest{StockID: id}) },
		"UpdateStock": func() (any, error) {
			return c.UpdateStock(ctx, busifavor.UpdateStockRequest{StockID: id, OutRequestNo: "u", Comment: "c"})
		},
		"UpdateStockBudget": func() (any, error) {
			return c.UpdateStockBudget(ctx, busifavor.UpdateStockBudgetRequest{StockID: id, TargetMaxCouponsByDay: 5, CurrentMaxCouponsByDay: 1, ModifyBudgetRequestNo: "b"})
		},
		"UploadCouponCodes": func() (any, error) {
			return c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: id, CouponCodeList: []string{"A"}, UploadRequestNo: "u"})
		},
		"ListCouponCodes": func() (any, error) {
			return c.ListCouponCodes(ctx, busifavor.ListCouponCodesRequest{StockID: id})
		},
		"GetCouponCode": func() (any, error) {
			return c.GetCouponCode(ctx, busifavor.GetCouponCodeRequest{StockID: id, CouponCode: "A"})
		},
		"DeleteCouponCode": func() (any, error) {
			return c.DeleteCouponCode(ctx, busifavor.DeleteCouponCodeRequest{StockID: id, CouponCode: "A", DeleteRequestNo: "d"})
		},
	}
}

// TestStockEndpointsMapEveryCode answers each code of the error table to
// each endpoint and checks the sentinel and the retry verdict.
func TestStockEndpointsMapEveryCode(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	for name, call := range stockCalls(c, "98065001") {
		for _, code := range busifavor.ErrorCodes() {
			s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: code})
			resp, err := call()
			assert.Nil(t, resp, "%s %s", name, code)
			assert.ErrorIs(t, err, codeSentinel[code], "%s %s", name, code)
			assert.Equal(t, expectedRetryable[code], busifavor.IsRetryable(err), "%s %s", name, code)
			var apiErr *busifavor.APIError
			if assert.ErrorAs(t, err, &apiErr) {
				assert.NotEmpty(t, apiErr.Description(), "%s %s", name, code)
			}
		}
	}
}

// TestStockEndpointsRefuseMalformedAnswers answers 2xx bodies that break the
// documented shape to each endpoint that reads a body.
func TestStockEndpointsRefuseMalformedAnswers(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	calls := stockCalls(c, "98065001")
	bodies := map[string][]string{
		"CreateStock":       {`{}`, `{"stock_id":"1"}`, `{"stock_id":"1","create_time":"soon"}`, `{"stock_id":1,"create_time":"2026-01-01T00:00:00+08:00"}`},
		"GetStock":          {`{}`, `{"stock_id":"1","stock_name":"n","stock_type":"NORMAL","stock_state":"RUNNING"}`, `{"stock_id":"1","coupon_use_rule":{"coupon_available_time":{"available_begin_time":"x"}}}`},
		"UpdateStockBudget": {`{}`, `{"max_coupons":"5"}`},
		"UploadCouponCodes": {`{}`, `{"stock_id":"1"}`, `{"stock_id":"1","success_time":"2026-13-01T00:00:00+08:00"}`},
		"ListCouponCodes":   {`{}`, `{"stock_id":"1","data":{}}`},
		"GetCouponCode":     {`{}`, `{"code_information":{"code":"A"}}`},
		"DeleteCouponCode":  {`{}`, `{"stock_id":"1"}`},
	}
	for name, list := range bodies {
		for _, body := range append(list, `<html>`, `null`, `[]`) {
			s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: body})
			resp, err := calls[name]()
			assert.ErrorIs(t, err, busifavor.ErrMalformedResponse, "%s %s", name, body)
			assert.Nil(t, resp, "%s %s", name, body)
			assert.False(t, busifavor.IsRetryable(err))
		}
	}
	// UpdateStock's answer has no body; a 2xx is all it needs.
	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: http.StatusNoContent})
	_, err := calls["UpdateStock"]()
	assert.NoError(t, err)
}

// TestStockTimesInEveryShape reads the time fields of the answers in every
// shape ParseTime accepts.
func TestStockTimesInEveryShape(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	want := time.Date(2019, 5, 20, 13, 29, 35, 120e6, cst)
	for _, shape := range []string{"2019-05-20T13:29:35.120+08:00", "2019-05-20T13:29:35:120+08:00", "2019-05-20T05:29:35.12Z"} {
		s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: `{"stock_id":"1","create_time":"` + shape + `"}`})
		r, err := c.CreateStock(ctx, sampleStock("t"))
		require.NoError(t, err, shape)
		assert.True(t, want.Equal(r.CreateTime), shape)
		body, _ := json.Marshal(map[string]any{"stock_id": "1", "stock_name": "n", "stock_type": "NORMAL", "stock_state": "NEW_STATE", "coupon_code_mode": "MERCHANT_API",
			"coupon_use_rule": map[string]any{"use_method": "OFF_LINE", "coupon_available_time": map[string]any{"available_begin_time": shape, "available_end_time": shape,
				"irregulary_avaliable_time": []map[string]string{{"begin_time": shape, "end_time": shape}}}}})
		s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: string(body)})
		g, err := c.GetStock(ctx, busifavor.GetStockRequest{StockID: "1"})
		require.NoError(t, err, shape)
		at := g.CouponUseRule.CouponAvailableTime
		assert.True(t, want.Equal(at.AvailableBeginTime) && want.Equal(at.AvailableEndTime) && want.Equal(at.IrregularAvailableTime[0].EndTime), shape)
		assert.Equal(t, busifavor.StockState("NEW_STATE"), g.StockState, "unknown states are kept")
	}
}

// fieldsOf returns the JSON paths a validation error names.
func fieldsOf(err error) []string {
	var ve *busifavor.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	out := make([]string, len(ve.Fields))
	for i, f := range ve.Fields {
		out[i] = f.Field
	}
	return out
}

// TestCreateStockValidation checks each rule on both sides of its limit: the
// "ok" change passes, the "bad" change is refused naming exactly field.
func TestCreateStockValidation(t *testing.T) {
	type change func(*busifavor.CreateStockRequest)
	begin := sampleStock("").CouponUseRule.CouponAvailableTime.AvailableBeginTime
	at := func(r *busifavor.CreateStockRequest) *busifavor.AvailableTime {
		return &r.CouponUseRule.CouponAvailableTime
	}
	tests := []struct {
		field   string
		ok, bad change
	}{
		{"stock_name", func(r *busifavor.CreateStockRequest) { r.StockName = strings.Repeat("券", 21) },
			func(r *busifavor.CreateStockRequest) { r.StockName = strings.Repeat("券", 22) }},
		{"stock_name", func(r *busifavor.CreateStockRequest) { r.StockName = "x" }, func(r *busifavor.CreateStockRequest) { r.StockName = "" }},
		{"belong_merchant", func(r *busifavor.CreateStockRequest) { r.BelongMerchant = "12345678" },
			func(r *busifavor.CreateStockRequest) { r.BelongMerchant = "1234567" }},
		{"belong_merchant", func(r *busifavor.CreateStockRequest) { r.BelongMerchant = strings.Repeat("1", 15) },
			func(r *busifavor.CreateStockRequest) { r.BelongMerchant = strings.Repeat("1", 16) }},
		{"comment", func(r *busifavor.CreateStockRequest) { r.Comment = strings.Repeat("备", 20) },
			func(r *busifavor.CreateStockRequest) { r.Comment = strings.Repeat("备", 21) }},
		{"goods_name", func(r *busifavor.CreateStockRequest) { r.GoodsName = strings.Repeat("g", 15) },
			func(r *busifavor.CreateStockRequest) { r.GoodsName = strings.Repeat("g", 16) }},
		{"stock_type", func(r *busifavor.CreateStockRequest) {}, func(r *busifavor.CreateStockRequest) { r.StockType = "CASH" }},
		{"out_request_no", func(r *busifavor.CreateStockRequest) { r.OutRequestNo = strings.Repeat("n", 128) },
			func(r *busifavor.CreateStockRequest) { r.OutRequestNo = strings.Repeat("n", 129) }},
		{"out_request_no", func(r *busifavor.CreateStockRequest) {}, func(r *busifavor.CreateStockRequest) { r.OutRequestNo = "" }},
		{"coupon_code_mode", func(r *busifavor.CreateStockRequest) { r.CouponCodeMode = busifavor.CouponCodeModeMerchantAPI },
			func(r *busifavor.CreateStockRequest) { r.CouponCodeMode = "" }},
		{"coupon_use_rule.fixed_normal_coupon.discount_amount",
			func(r *busifavor.CreateStockRequest) {
				r.CouponUseRule.FixedNormalCoupon.DiscountAmount = 10_000_000
			},
			func(r *busifavor.CreateStockRequest) {
				r.CouponUseRule.FixedNormalCoupon.DiscountAmount = 10_000_000 + 1
			}},
		{"coupon_use_rule.fixed_normal_coupon.discount_amount",
			func(r *busifavor.CreateStockRequest) { r.CouponUseRule.FixedNormalCoupon.DiscountAmount = 1 },
			func(r *busifavor.CreateStockRequest) { r.CouponUseRule.FixedNormalCoupon.DiscountAmount = 0 }},
		{"coupon_use_rule.fixed_normal_coupon.transaction_minimum",
			func(r *busifavor.CreateStockRequest) { r.CouponUseRule.FixedNormalCoupon.TransactionMinimum = 1 },
			func(r *busifavor.CreateStockRequest) { r.CouponUseRule.FixedNormalCoupon.TransactionMinimum = 0 }},
		{"coupon_use_rule.fixed_normal_coupon", func(r *busifavor.CreateStockRequest) {},
			func(r *busifavor.CreateStockRequest) { r.CouponUseRule.FixedNormalCoupon = nil }},
		{"coupon_use_rule.discount_coupon", func(r *busifavor.CreateStockRequest) {},
			func(r *busifavor.CreateStockRequest) {
				r.CouponUseRule.DiscountCoupon = &busifavor.DiscountCoupon{DiscountPercent: 88, TransactionMinimum: 1}
			}},
		{"coupon_use_rule.exchange_coupon.exchange_price", func(r *busifavor.CreateStockRequest) {
			r.StockType, r.CouponUseRule.FixedNormalCoupon = busifavor.StockTypeExchange, nil
			r.CouponUseRule.ExchangeCoupon = &busifavor.ExchangeCoupon{ExchangePrice: 0, TransactionMinimum: 1}
		}, func(r *busifavor.CreateStockRequest) {
			r.StockType, r.CouponUseRule.FixedNormalCoupon = busifavor.StockTypeExchange, nil
			r.CouponUseRule.ExchangeCoupon = &busifavor.ExchangeCoupon{ExchangePrice: -1, TransactionMinimum: 1}
		}},
		{"coupon_use_rule.discount_coupon.discount_percent", func(r *busifavor.CreateStockRequest) {
			r.StockType, r.CouponUseRule.FixedNormalCoupon = busifavor.StockTypeDiscount, nil
			r.CouponUseRule.DiscountCoupon = &busifavor.DiscountCoupon{DiscountPercent: 1, TransactionMinimum: 10_000_000}
		}, func(r *busifavor.CreateStockRequest) {
			r.StockType, r.CouponUseRule.FixedNormalCoupon = busifavor.StockTypeDiscount, nil
			r.CouponUseRule.DiscountCoupon = &busifavor.DiscountCoupon{DiscountPercent: 0, TransactionMinimum: 10_000_000}
		}},
		{"coupon_use_rule.use_method", func(r *busifavor.CreateStockRequest) {}, func(r *busifavor.CreateStockRequest) { r.CouponUseRule.UseMethod = "" }},
		{"coupon_use_rule.mini_programs_appid", func(r *busifavor.CreateStockRequest) {
			r.CouponUseRule.UseMethod, r.CouponUseRule.MiniProgramsAppID, r.CouponUseRule.MiniProgramsPath = busifavor.CouponUseMethodOffline, "", ""
		}, func(r *busifavor.CreateStockRequest) {
			r.CouponUseRule.UseMethod, r.CouponUseRule.MiniProgramsPath = busifavor.CouponUseMethodOffline, ""
		}},
		{"coupon_use_rule.coupon_available_time.available_end_time",
			func(r *busifavor.CreateStockRequest) { at(r).AvailableEndTime = begin.AddDate(1, 0, 0) },
			func(r *busifavor.CreateStockRequest) {
				at(r).AvailableEndTime = begin.AddDate(1, 0, 0).Add(time.Second)
			}},
		{"coupon_use_rule.coupon_available_time.available_end_time",
			func(r *busifavor.CreateStockRequest) { at(r).AvailableEndTime = begin.Add(time.Second) },
			func(r *busifavor.CreateStockRequest) { at(r).AvailableEndTime = begin }},
		{"coupon_use_rule.coupon_available_time.available_begin_time", func(r *busifavor.CreateStockRequest) {},
			func(r *busifavor.CreateStockRequest) { at(r).AvailableBeginTime = time.Time{} }},
		{"coupon_use_rule.coupon_available_time.wait_days_after_receive",
			func(r *busifavor.CreateStockRequest) { at(r).WaitDaysAfterReceive = 30 },
			func(r *busifavor.CreateStockRequest) { at(r).WaitDaysAfterReceive = 31 }},
		{"coupon_use_rule.coupon_available_time.wait_days_after_receive",
			func(r *busifavor.CreateStockRequest) {
				at(r).WaitDaysAfterReceive, at(r).AvailableDayAfterReceive = 0, 0
			},
			func(r *busifavor.CreateStockRequest) { at(r).AvailableDayAfterReceive = 0 }},
		{"coupon_use_rule.coupon_available_time.available_week.available_day_time",
			func(r *busifavor.CreateStockRequest) {},
			func(r *busifavor.CreateStockRequest) {
				at(r).AvailableWeek.AvailableDayTime = append(at(r).AvailableWeek.AvailableDayTime, busifavor.DayTimeRange{BeginTime: 10000, EndTime: 20000})
			}},
		{"coupon_use_rule.coupon_available_time.available_week.available_day_time",
			func(r *busifavor.CreateStockRequest) { at(r).AvailableWeek.AvailableDayTime[1].BeginTime = 7201 },
			func(r *busifavor.CreateStockRequest) { at(r).AvailableWeek.AvailableDayTime[1].BeginTime = 7200 }},
		{"coupon_use_rule.coupon_available_time.available_week.available_day_time[1]",
			func(r *busifavor.CreateStockRequest) { at(r).AvailableWeek.AvailableDayTime[1].EndTime = 86399 },
			func(r *busifavor.CreateStockRequest) { at(r).AvailableWeek.AvailableDayTime[1].EndTime = 86400 }},
		{"coupon_use_rule.coupon_available_time.available_week.week_day[1]",
			func(r *busifavor.CreateStockRequest) { at(r).AvailableWeek.WeekDay[1] = 0 },
			func(r *busifavor.CreateStockRequest) { at(r).AvailableWeek.WeekDay[1] = 7 }},
		{"coupon_use_rule.coupon_available_time.available_week.week_day",
			func(r *busifavor.CreateStockRequest) {},
			func(r *busifavor.CreateStockRequest) { at(r).AvailableWeek.WeekDay = nil }},
		{"coupon_use_rule.coupon_available_time.irregulary_avaliable_time",
			func(r *busifavor.CreateStockRequest) {
				at(r).IrregularAvailableTime = []busifavor.TimeRange{{BeginTime: begin, EndTime: begin.Add(time.Hour)}, {BeginTime: begin.Add(time.Hour + 1), EndTime: begin.Add(2 * time.Hour)}}
			}, func(r *busifavor.CreateStockRequest) {
				at(r).IrregularAvailableTime = []busifavor.TimeRange{{BeginTime: begin, EndTime: begin.Add(time.Hour)}, {BeginTime: begin.Add(time.Hour), EndTime: begin.Add(2 * time.Hour)}}
			}},
		{"coupon_use_rule.coupon_available_time.irregulary_avaliable_time",
			func(r *busifavor.CreateStockRequest) {},
			func(r *busifavor.CreateStockRequest) {
				for i := range 3 {
					at(r).IrregularAvailableTime = append(at(r).IrregularAvailableTime, busifavor.TimeRange{BeginTime: begin.Add(time.Duration(2*i) * time.Hour), EndTime: begin.Add(time.Duration(2*i+1) * time.Hour)})
				}
			}},
		{"stock_send_rule.max_coupons", func(r *busifavor.CreateStockRequest) { r.StockSendRule.MaxCoupons = 1_000_000_000 },
			func(r *busifavor.CreateStockRequest) { r.StockSendRule.MaxCoupons = 1_000_000_000 + 1 }},
		{"stock_send_rule.max_coupons", func(r *busifavor.CreateStockRequest) { r.StockSendRule.MaxCoupons = 0 },
			func(r *busifavor.CreateStockRequest) { r.StockSendRule.MaxCoupons = -1 }},
		{"stock_send_rule.max_coupons_per_user", func(r *busifavor.CreateStockRequest) { r.StockSendRule.MaxCouponsPerUser = 100 },
			func(r *busifavor.CreateStockRequest) { r.StockSendRule.MaxCouponsPerUser = 101 }},
		{"stock_send_rule.max_coupons_per_user", func(r *busifavor.CreateStockRequest) { r.StockSendRule.MaxCouponsPerUser = 1 },
			func(r *busifavor.CreateStockRequest) { r.StockSendRule.MaxCouponsPerUser = 0 }},
		{"stock_send_rule.max_coupons_by_day", func(r *busifavor.CreateStockRequest) {
			r.StockType, r.CouponUseRule.FixedNormalCoupon = busifavor.StockTypeDiscount, nil
			r.CouponUseRule.DiscountCoupon = &busifavor.DiscountCoupon{DiscountPercent: 88, TransactionMinimum: 1}
			r.StockSendRule.MaxCouponsByDay = 10
		}, func(r *busifavor.CreateStockRequest) { r.StockSendRule.MaxCouponsByDay = 10 }},
		{"custom_entrance.mini_programs_info.entrance_words",
			func(r *busifavor.CreateStockRequest) {
				r.CustomEntrance.MiniProgramsInfo.EntranceWords = "一二三四五"
			},
			func(r *busifavor.CreateStockRequest) {
				r.CustomEntrance.MiniProgramsInfo.EntranceWords = "一二三四五六"
			}},
		{"custom_entrance.mini_programs_info.guiding_words",
			func(r *busifavor.CreateStockRequest) {
				r.CustomEntrance.MiniProgramsInfo.GuidingWords = "一二三四五六"
			},
			func(r *busifavor.CreateStockRequest) {
				r.CustomEntrance.MiniProgramsInfo.GuidingWords = "一二三四五六七"
			}},
		{"custom_entrance.mini_programs_info.mini_programs_path", func(r *busifavor.CreateStockRequest) {},
			func(r *busifavor.CreateStockRequest) { r.CustomEntrance.MiniProgramsInfo.MiniProgramsPath = "" }},
		{"custom_entrance.code_display_mode", func(r *busifavor.CreateStockRequest) { r.CustomEntrance.CodeDisplayMode = "" },
			func(r *busifavor.CreateStockRequest) { r.CustomEntrance.CodeDisplayMode = "TEXT" }},
		{"display_pattern_info.description", func(r *busifavor.CreateStockRequest) { r.DisplayPatternInfo.Description = strings.Repeat("d", 1000) },
			func(r *busifavor.CreateStockRequest) { r.DisplayPatternInfo.Description = strings.Repeat("d", 1001) }},
		{"display_pattern_info.merchant_name", func(r *busifavor.CreateStockRequest) { r.DisplayPatternInfo.MerchantName = strings.Repeat("m", 16) },
			func(r *busifavor.CreateStockRequest) { r.DisplayPatternInfo.MerchantName = strings.Repeat("m", 17) }},
	}
	for _, tt := range tests {
		ok, bad := sampleStock("n"), sampleStock("n")
		tt.ok(&ok)
		tt.bad(&bad)
		assert.NoError(t, ok.Validate(), "ok side of %s", tt.field)
		assert.Equal(t, []string{tt.field}, fieldsOf(bad.Validate()), "bad side of %s", tt.field)
	}
}

// TestValidationListsEveryProblemAndSendsNothing breaks many rules at once.
func TestValidationListsEveryProblemAndSendsNothing(t *testing.T) {
	s, c := newFake(t, nil)
	_, err := c.CreateStock(ctx, busifavor.CreateStockRequest{StockType: busifavor.StockTypeDiscount})
	assert.ElementsMatch(t, []string{"stock_name", "belong_merchant", "goods_name",
		"coupon_use_rule.coupon_available_time.available_begin_time", "coupon_use_rule.coupon_available_time.available_end_time",
		"coupon_use_rule.discount_coupon", "coupon_use_rule.use_method", "stock_send_rule.max_coupons_per_user",
		"out_request_no", "coupon_code_mode"}, fieldsOf(err))
	assert.False(t, busifavor.IsRetryable(err))
	calls := []error{
		func() error {
			_, err := c.GetStock(ctx, busifavor.GetStockRequest{StockID: strings.Repeat("1", 21)})
			return err
		}(),
		func() error {
			_, err := c.UpdateStock(ctx, busifavor.UpdateStockRequest{StockID: "1", OutRequestNo: "u", DisplayPatternInfo: &busifavor.DisplayPatternInfo{MerchantName: "x"}})
			return err
		}(),
		func() error {
			_, err := c.UpdateStockBudget(ctx, busifavor.UpdateStockBudgetRequest{StockID: "1", ModifyBudgetRequestNo: "b", TargetMaxCoupons: 2, TargetMaxCouponsByDay: 2})
			return err
		}(),
		func() error {
			_, err := c.ListCouponCodes(ctx, busifavor.ListCouponCodesRequest{StockID: "1", Offset: -1})
			return err
		}(),
		func() error {
			_, err := c.GetCouponCode(ctx, busifavor.GetCouponCodeRequest{StockID: "1", CouponCode: "中文"})
			return err
		}(),
		func() error {
			_, err := c.DeleteCouponCode(ctx, busifavor.DeleteCouponCodeRequest{StockID: "1", CouponCode: "A"})
			return err
		}(),
	}
	for i, err := range calls {
		assert.ErrorIs(t, err, busifavor.ErrValidation, "call %d", i)
	}
	assert.Empty(t, s.Requests())
}

// TestCodeAndBudgetValidationBoundaries checks the code, upload and budget
// limits on both sides.
func TestCodeAndBudgetValidationBoundaries(t *testing.T) {
	codes := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint("C", i)
		}
		return out
	}
	up := func(list ...string) busifavor.UploadCouponCodesRequest {
		return busifavor.UploadCouponCodesRequest{StockID: "1", CouponCodeList: list, UploadRequestNo: "u"}
	}
	assert.NoError(t, up(codes(200)...).Validate())
	assert.Equal(t, []string{"coupon_code_list"}, fieldsOf(up(codes(201)...).Validate()))
	assert.Equal(t, []string{"coupon_code_list"}, fieldsOf(up().Validate()))
	assert.NoError(t, up(strings.Repeat("z", 32), `0-9 a_Z\/=|`).Validate())
	assert.Equal(t, []string{"coupon_code_list[0]"}, fieldsOf(up(strings.Repeat("z", 33)).Validate()))
	assert.Equal(t, []string{"coupon_code_list[1]"}, fieldsOf(up("ok", "tab\t").Validate()))
	assert.Equal(t, []string{"coupon_code_list[2]"}, fieldsOf(up("A", "B", "A").Validate()))
	assert.Equal(t, []string{"coupon_code_list[0]"}, fieldsOf(up("").Validate()))

	assert.NoError(t, busifavor.GetStockRequest{StockID: strings.Repeat("9", 20)}.Validate())
	assert.Equal(t, []string{"stock_id"}, fieldsOf(busifavor.GetStockRequest{}.Validate()))
	assert.Equal(t, []string{"stock_id"}, fieldsOf(busifavor.GetStockRequest{StockID: "1 2"}.Validate()))

	budget := func(f func(*busifavor.UpdateStockBudgetRequest)) error {
		r := busifavor.UpdateStockBudgetRequest{StockID: "1", ModifyBudgetRequestNo: "b"}
		f(&r)
		return r.Validate()
	}
	assert.NoError(t, budget(func(r *busifavor.UpdateStockBudgetRequest) {
		r.TargetMaxCoupons, r.CurrentMaxCoupons = 1_000_000_000, 1
	}))
	assert.Equal(t, []string{"target_max_coupons"}, fieldsOf(budget(func(r *busifavor.UpdateStockBudgetRequest) {
		r.TargetMaxCoupons, r.CurrentMaxCoupons = 1_000_000_000+1, 1
	})))
	assert.Equal(t, []string{"current_max_coupons"}, fieldsOf(budget(func(r *busifavor.UpdateStockBudgetRequest) { r.TargetMaxCoupons = 5 })))
	assert.Equal(t, []string{"current_max_coupons_by_day"}, fieldsOf(budget(func(r *busifavor.UpdateStockBudgetRequest) { r.TargetMaxCouponsByDay = 5 })))
	assert.Equal(t, []string{"target_max_coupons"}, fieldsOf(budget(func(r *busifavor.UpdateStockBudgetRequest) {})))
	assert.Equal(t, []string{"modify_budget_request_no"}, fieldsOf(budget(func(r *busifavor.UpdateStockBudgetRequest) {
		r.TargetMaxCoupons, r.CurrentMaxCoupons, r.ModifyBudgetRequestNo = 5, 1, strings.Repeat("b", 129)
	})))

	assert.Equal(t, []string{"coupon_use_rule.mini_programs_path"}, fieldsOf(busifavor.UpdateStockRequest{StockID: "1", OutRequestNo: "u",
		CouponUseRule: &busifavor.UpdateCouponUseRule{UseMethod: busifavor.CouponUseMethodOffline, MiniProgramsPath: "/p"}}.Validate()))
	assert.NoError(t, busifavor.UpdateStockRequest{StockID: "1", OutRequestNo: "u",
		CouponUseRule: &busifavor.UpdateCouponUseRule{MiniProgramsPath: "/p"}}.Validate(), "the stock may already redeem in a mini program")
	assert.Equal(t, []string{"limit"}, fieldsOf(busifavor.ListCouponCodesRequest{StockID: "1", Limit: -1}.Validate()))
	assert.Equal(t, []string{"status"}, fieldsOf(busifavor.ListCouponCodesRequest{StockID: "1", Status: "USED"}.Validate()))
}

// TestAllCouponCodesStopsAtTheFirstError fails the second page: the
// iterator yields the codes of the first, then the error, then stops.
func TestAllCouponCodesStopsAtTheFirstError(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	id := createUploadStock(ctx, c, s.MchID())
	_, err := c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: id, CouponCodeList: []string{"A", "B", "C"}, UploadRequestNo: "u"})
	require.NoError(t, err)
	var got []string
	var errs []error
	for code, err := range c.AllCouponCodes(ctx, busifavor.ListCouponCodesRequest{StockID: id, Limit: 2}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, code.Code)
		if len(got) == 2 {
			s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 500})
		}
	}
	assert.Equal(t, []string{"A", "B"}, got)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], busifavor.ErrSystemError)

	// A caller that stops early sends no further request.
	before := len(s.Requests())
	for range c.AllCouponCodes(ctx, busifavor.ListCouponCodesRequest{StockID: id, Limit: 1}) {
		break
	}
	assert.Len(t, s.Requests(), before+1, "an early stop reads no further page")
}

// TestFakeGuardsStockOwnershipAndPaging checks the fake's refusals: a stock
// for a merchant the caller may not act for, and extreme paging values.
func TestFakeGuardsStockOwnershipAndPaging(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	other := sampleStock("own-1")
	other.BelongMerchant = "19999999"
	_, err := c.CreateStock(ctx, other)
	var apiErr *busifavor.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, busifavor.ErrorCodeParamError, apiErr.Code)
	assert.Contains(t, string(apiErr.Detail), `"field":"belong_merchant"`)

	id := createUploadStock(ctx, c, s.MchID())
	_, err = c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: id, CouponCodeList: []string{"A"}, UploadRequestNo: "u"})
	require.NoError(t, err)
	for _, req := range []busifavor.ListCouponCodesRequest{
		{StockID: id, Limit: math.MaxInt64},
		{StockID: id, Offset: math.MaxInt64, Limit: math.MaxInt64},
		{StockID: id, Offset: 5},
	} {
		page, err := c.ListCouponCodes(ctx, req)
		require.NoError(t, err)
		assert.Equal(t, int64(1), page.TotalCount)
		assert.LessOrEqual(t, len(page.Data), 1)
	}
}

// TestNotOpenSendRuleFieldsAreRefusedInRequests checks that the send rule's
// 暂未开放 fields, read from answers, are refused when a request sets them.
func TestNotOpenSendRuleFieldsAreRefusedInRequests(t *testing.T) {
	r := sampleStock("n")
	require.NoError(t, r.Validate())
	r.StockSendRule.MaxAmount, r.StockSendRule.MaxAmountByDay = 1, 1
	r.StockSendRule.Transferable, r.StockSendRule.Shareable = true, true
	assert.Equal(t, []string{"stock_send_rule.max_amount", "stock_send_rule.max_amount_by_day", "stock_send_rule.transferable", "stock_send_rule.shareable"},
		fieldsOf(r.Validate()))
}
