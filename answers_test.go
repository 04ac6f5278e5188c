package busifavor_test

import (
	"context"
	"fmt"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	mec "github.com/wechatpay-apiv3/wechatpay-go/services/merchantexclusivecoupon"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// Every endpoint in one table, for the benchmarks (bench_test.go), the
// decode tests and the required-field tests (decode_test.go). Each answer is
// one of wechatpay-go's own generated models with every field set, marshalled
// by its own MarshalJSON, so that both clients decode the same bytes and
// every field wechatpay-go knows is fed to ours.

// endpoint is one busifavor endpoint: our call, wechatpay-go's generated
// call for the same request, and the answer both decode.
type endpoint struct {
	name string
	// answer is wechatpay-go's model of the answer, every field set; a list
	// has n items. nil for UpdateStock, whose answer has no body.
	answer func(n int) any
	// list marks the paged lists, benchmarked at 20 and 100 items.
	list bool
	// ours is our call; it returns the typed response.
	ours func(context.Context, *busifavor.Client) (any, error)
	// ref is wechatpay-go's generated call with the same request.
	ref func(context.Context, *core.Client) error
	// view puts our response's JSON object into the answer's shape where
	// the two differ (SendCoupon's send_coupon_result); nil when they do not.
	view func(map[string]any) map[string]any
	// fit, where the client checks the answer against the request, returns
	// our call with a request that an edited answer fits
	// (UploadCouponCodes: the answer names every code sent, and only those).
	fit func(answer map[string]any) func(context.Context, *busifavor.Client) (any, error)
}

// Fixture values shared by the requests and the answers.
const (
	fxMchID     = busifavortest.DefaultMchID
	fxStockID   = "1200000001"
	fxCode      = "1000000000000000000001"
	fxUnionid   = "oUpF8uN95-Ptaags6E_roPHg7AG0"
	fxTxID      = "4200000913202101152566792388"
	fxRefundID  = "50100506732021010105138718375"
	fxCardID    = "pIJMr5MMiIkO_93VtPyIiEk2DZ4w"
	fxPayeeMch  = "1900000109"
	fxNotifyURL = "https://pay.weixin.qq.com"
)

// fxAt is a fixed instant with milliseconds, minutes after the fixtures'
// epoch, in WeChat Pay's zone: answers carry fractions, so each of the time
// shapes the decode tests feed keeps or drops them visibly.
func fxAt(minutes int) time.Time {
	return time.Date(2026, 11, 27, 10, 0, 0, 120e6, cst).Add(time.Duration(minutes) * time.Minute)
}

func fxAtStr(minutes int) *string { return core.String(fxAt(minutes).Format(time.RFC3339Nano)) }

func fxAtPtr(minutes int) *time.Time { return core.Time(fxAt(minutes)) }

func refUseRule() *mec.CouponUseRule {
	return &mec.CouponUseRule{
		CouponAvailableTime: &mec.FavorAvailableTime{
			AvailableBeginTime:       fxAtPtr(60),
			AvailableEndTime:         fxAtPtr(90 * 24 * 60),
			AvailableDayAfterReceive: core.Int64(7),
			AvailableWeek: &mec.AvailableWeek{
				WeekDay: []int64{6, 0},
				AvailableDayTime: []mec.AvailableCurrentDayTime{
					{BeginTime: core.Int64(3600), EndTime: core.Int64(7200)}, {BeginTime: core.Int64(36000), EndTime: core.Int64(86399)}},
			},
			IrregularyAvaliableTime: []mec.IrregularAvailableTime{
				{BeginTime: fxAtPtr(2 * 24 * 60), EndTime: fxAtPtr(3 * 24 * 60)}, {BeginTime: fxAtPtr(10 * 24 * 60), EndTime: fxAtPtr(11 * 24 * 60)}},
			WaitDaysAfterReceive: core.Int64(1),
		},
		FixedNormalCoupon: &mec.FixedValueStockMsg{DiscountAmount: core.Int64(1000), TransactionMinimum: core.Int64(10000)},
		DiscountCoupon:    &mec.DiscountMsg{DiscountPercent: core.Int64(88), TransactionMinimum: core.Int64(10000)},
		ExchangeCoupon:    &mec.ExchangeMsg{ExchangePrice: core.Int64(990), TransactionMinimum: core.Int64(10000)},
		UseMethod:         mec.COUPONUSEMETHOD_MINI_PROGRAMS.Ptr(),
		MiniProgramsAppid: core.String("wx1234567890123456"),
		MiniProgramsPath:  core.String("/pages/index/index"),
	}
}

func refCustomEntrance() *mec.CustomEntrance {
	return &mec.CustomEntrance{
		MiniProgramsInfo: &mec.MiniAppInfo{MiniProgramsAppid: core.String("wx1234567890123456"), MiniProgramsPath: core.String("/pages/a"),
			EntranceWords: core.String("去逛逛"), GuidingWords: core.String("更多好券")},
		Appid: core.String("wx1234567890123456"), HallId: core.String("233455656"), StoreId: core.String("233554655"),
		CodeDisplayMode: mec.CODEDISPLAYMODE_QRCODE.Ptr(),
	}
}

func refDisplayPattern() *mec.DisplayPatternInfo {
	return &mec.DisplayPatternInfo{
		Description: core.String("每人限领5张，不与其他优惠同享"), MerchantLogoUrl: core.String("https://wxpaylogo.qpic.cn/wxpaylogo/PiajxSqBRaEIPAeia7Imvtsmqrwfu5Ibcf7Hq4kRZZJLe0nYpNZ1R6Ag/0"),
		MerchantName: core.String("微信支付"), BackgroundColor: core.String("Color020"),
		CouponImageUrl: core.String("https://wxpaylogo.qpic.cn/wxpaylogo/xie0BI8dA5d6HeTQAFicMcmbic3J5KA8qPcGd4PDRhgvmIdcbaaniaKQA/0"),
		FinderInfo: &mec.FinderInfo{FinderId: core.String("sph6Rngt2T4RlUf"), FinderVideoId: core.String("export/UzFfAgtgekIEAQAAAAAAb4MgnPInmAAAAAstQy6ubaLX4KHWvLEZgBPEwIEgVnk9HIP-zNPgMJofG6tpdGPJNg_ojtEjoT94"),
			FinderVideoCoverImageUrl: core.String("https://wxpaylogo.qpic.cn/wxpaylogo/xie0BI8dA5d6HeTQAFicMcmbic3J5KA8qPcGd4PDRhgvmIdcbaaniaKQB/0")},
	}
}

// refStockAnswer is a GetStock answer with every field of StockGetResponse,
// the 暂未开放 send rules included.
func refStockAnswer() mec.StockGetResponse {
	return mec.StockGetResponse{
		StockName: core.String("满100减10元券"), BelongMerchant: core.String(fxMchID), Comment: core.String("双十二活动"),
		GoodsName: core.String("全场可用"), StockType: mec.BUSIFAVORSTOCKTYPE_NORMAL.Ptr(), CouponUseRule: refUseRule(),
		StockSendRule: &mec.StockSendRule{MaxAmount: core.Int64(100000), MaxCoupons: core.Int64(100), MaxCouponsPerUser: core.Int64(5),
			MaxAmountByDay: core.Int64(10000), MaxCouponsByDay: core.Int64(10), NaturalPersonLimit: core.Bool(true),
			PreventApiAbuse: core.Bool(true), Transferable: core.Bool(true), Shareable: core.Bool(true)},
		CustomEntrance: refCustomEntrance(), DisplayPatternInfo: refDisplayPattern(), StockState: mec.STOCKSTATUS_RUNNING.Ptr(),
		CouponCodeMode: mec.COUPONCODEMODE_MERCHANT_UPLOAD.Ptr(), StockId: core.String(fxStockID),
		CouponCodeCount: &mec.CouponCodeCount{TotalCount: core.Int64(100), AvailableCount: core.Int64(40)},
		NotifyConfig:    &mec.NotifyConfig{NotifyAppid: core.String("wx23abcdef1234567")},
		SendCountInformation: &mec.SendCount{TotalSendNum: core.Int64(60), TotalSendAmount: core.Int64(60000),
			TodaySendNum: core.Int64(6), TodaySendAmount: core.Int64(6000)},
		Subsidy: core.Bool(true),
	}
}

// refCoupon is the i-th user coupon with every field of CouponEntity.
func refCoupon(i int) mec.CouponEntity {
	return mec.CouponEntity{
		BelongMerchant: core.String(fxMchID), StockName: core.String("满100减10元券"), Comment: core.String("双十二活动"),
		GoodsName: core.String("全场可用"), StockType: mec.BUSIFAVORSTOCKTYPE_NORMAL.Ptr(), Transferable: core.Bool(true),
		Shareable: core.Bool(true), CouponState: mec.COUPONSTATUS_USED.Ptr(), DisplayPatternInfo: refDisplayPattern(),
		CouponUseRule: refUseRule(), CustomEntrance: refCustomEntrance(), CouponCode: core.String(fmt.Sprintf("10000000000000%08d", i+1)),
		StockId: core.String(fxStockID), AvailableStartTime: fxAtPtr(60), ExpireTime: fxAtPtr(90 * 24 * 60), ReceiveTime: fxAtPtr(i),
		SendRequestNo: core.String(fmt.Sprintf("send-%d", i)), UseRequestNo: core.String(fmt.Sprintf("use-%d", i)), UseTime: fxAtPtr(24*60 + i),
		AssociateOutTradeNo: core.String(fmt.Sprintf("order-%d", i)), ReturnRequestNo: core.String(fmt.Sprintf("ret-%d", i)),
		ReturnTime: fxAtPtr(2*24*60 + i), DeactivateRequestNo: core.String(fmt.Sprintf("de-%d", i)), DeactivateTime: fxAtPtr(3*24*60 + i),
		DeactivateReason: core.String("订单取消"),
	}
}

// refCodeEntity is the i-th uploaded code with every field of
// CouponCodeEntity.
func refCodeEntity(i int) mec.CouponCodeEntity {
	return mec.CouponCodeEntity{
		Code: core.String(fmt.Sprintf("ABC-%06d", i)), CodeStatus: mec.COUPONCODESTATUS_DISPATCHED.Ptr(), UploadTime: fxAtPtr(-60),
		DispatchedTime: fxAtPtr(i), Openid: core.String(testOpenid), Unionid: core.String(fxUnionid),
		CouponCode: core.String(fmt.Sprintf("ABC-%06d", i)),
	}
}

func refPayReceipt(i int) mec.SubsidyPayReceipt {
	return mec.SubsidyPayReceipt{
		SubsidyReceiptId: core.String(fmt.Sprintf("1120200119165100000000%06d", i)), StockId: core.String(fxStockID),
		CouponCode: core.String(fxCode), TransactionId: core.String(fxTxID), PayerMerchant: core.String(fxMchID),
		PayeeMerchant: core.String(fxPayeeMch), Amount: core.Int64(100 + int64(i)), Description: core.String("满减补差"),
		Status: mec.SUBSIDYPAYRECEIPTSTATUS_PAY_RECEIPT_SUCCESS.Ptr(), FailReason: mec.SUBSIDYPAYRECEIPTFAILREASON_PAY_RECEIPT_OTHER.Ptr(),
		SuccessTime: fxAtPtr(i + 1), OutSubsidyNo: core.String(fmt.Sprintf("pay-%d", i)), CreateTime: fxAtPtr(i),
	}
}

func refReturnReceipt() mec.SubsidyReturnReceipt {
	return mec.SubsidyReturnReceipt{
		SubsidyReturnReceiptId: core.String("1120200119165100000000000001"), StockId: core.String(fxStockID), CouponCode: core.String(fxCode),
		TransactionId: core.String(fxTxID), RefundId: core.String(fxRefundID), PayerMerchant: core.String(fxMchID),
		PayeeMerchant: core.String(fxPayeeMch), Amount: core.Int64(300), Description: core.String("退款回退"),
		Status: mec.SUBSIDYRETURNRECEIPTSTATUS_RETURN_RECEIPT_SUCCESS.Ptr(), FailReason: mec.SUBSIDYRETURNRECEIPTFAILREASON_RETURN_RECEIPT_OTHER.Ptr(),
		ReturnDoneTime: fxAtPtr(5), SubsidyReceiptId: core.String("1120200119165100000000000000"),
		OutSubsidyReturnNo: core.String("ret-1"), ReturnCreateTime: fxAtPtr(4),
	}
}

// The codes of the upload: the answer names each of them once, as
// UploadCouponCodes requires.
var (
	fxUploadSuccess   = []string{"ABC-000001", "ABC-000002", "ABC-000003", "ABC-000004", "ABC-000005", "ABC-000006", "ABC-000007", "ABC-000008"}
	fxUploadExist     = []string{"ABC-000009"}
	fxUploadDuplicate = []string{"ABC-000010"}
	fxUploadFail      = "ABC-000011"
)

func fxUploadCodes() []string {
	out := append(append(append([]string{}, fxUploadSuccess...), fxUploadExist...), fxUploadDuplicate...)
	return append(out, fxUploadFail)
}

// endpoints lists every endpoint of the SDK, in the order of
// /work/shared/spec/busifavor-family.md.
func endpoints() []endpoint {
	cb := func(cc *core.Client) *mec.CallBackApiService { return &mec.CallBackApiService{Client: cc} }
	bf := func(cc *core.Client) *mec.BusiFavorApiService { return &mec.BusiFavorApiService{Client: cc} }
	cp := func(cc *core.Client) *mec.CouponApiService { return &mec.CouponApiService{Client: cc} }
	sb := func(cc *core.Client) *mec.SubsidyApiService { return &mec.SubsidyApiService{Client: cc} }
	one := func(v any) func(int) any { return func(int) any { return v } }
	useTime := time.Date(2026, 11, 27, 13, 29, 35, 0, cst)
	pay, ret := payRequest(fxStockID, fxCode, "pay-1", 800), returnRequest(fxStockID, fxCode, "ret-1", 300)
	return []endpoint{
		{name: "SetCallbacks",
			answer: one(mec.SetCouponNotifyResponse{UpdateTime: fxAtStr(0), NotifyUrl: core.String(fxNotifyURL), Mchid: core.String(fxMchID)}),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{MchID: fxMchID, NotifyURL: fxNotifyURL})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := cb(cc).SetCouponNotify(ctx, mec.SetCouponNotifyRequest{Mchid: core.String(fxMchID), NotifyUrl: core.String(fxNotifyURL)})
				return err
			}},
		{name: "GetCallbacks",
			answer: one(mec.GetCouponNotifyResponse{Mchid: core.String(fxMchID), NotifyUrl: core.String(fxNotifyURL)}),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{MchID: fxMchID})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := cb(cc).GetCouponNotify(ctx, mec.GetCouponNotifyRequest{Mchid: core.String(fxMchID)})
				return err
			}},
		{name: "CreateStock",
			answer: one(mec.CreateBusiFavorStockResponse{StockId: core.String(fxStockID), CreateTime: fxAtStr(0)}),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.CreateStock(ctx, sampleStock("1000009820261127001"))
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := bf(cc).CreateBusifavorStock(ctx, refStock("1000009820261127001"))
				return err
			}},
		{name: "GetStock",
			answer: one(refStockAnswer()),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.GetStock(ctx, busifavor.GetStockRequest{StockID: fxStockID})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := bf(cc).QueryStock(ctx, mec.QueryStockRequest{StockId: core.String(fxStockID)})
				return err
			}},
		{name: "UpdateStock", // no answer body: benchmarked, not decoded
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.UpdateStock(ctx, busifavor.UpdateStockRequest{StockID: fxStockID, OutRequestNo: "upd-1", Comment: "改", GoodsName: "部分商品",
					StockSendRule: &busifavor.UpdateStockSendRule{PreventAPIAbuse: core.Bool(false)}})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, err := bf(cc).ModifyStockInfo(ctx, mec.ModifyStockInfoRequest{StockId: core.String(fxStockID), OutRequestNo: core.String("upd-1"),
					Comment: core.String("改"), GoodsName: core.String("部分商品"), StockSendRule: &mec.ModifyStockSendRule{PreventApiAbuse: core.Bool(false)}})
				return err
			}},
		{name: "UpdateStockBudget",
			answer: one(mec.ModifyBudgetResponse{MaxCoupons: core.Int64(300), MaxCouponsByDay: core.Int64(30)}),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.UpdateStockBudget(ctx, busifavor.UpdateStockBudgetRequest{StockID: fxStockID, TargetMaxCoupons: 300, CurrentMaxCoupons: 100, ModifyBudgetRequestNo: "bud-1"})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := bf(cc).ModifyBudget(ctx, mec.ModifyBudgetRequest{StockId: core.String(fxStockID), TargetMaxCoupons: core.Int64(300),
					CurrentMaxCoupons: core.Int64(100), ModifyBudgetRequestNo: core.String("bud-1")})
				return err
			}},
		{name: "UploadCouponCodes",
			answer: one(mec.UploadCouponCodeResponse{StockId: core.String(fxStockID), TotalCount: core.Int64(11), SuccessCount: core.Int64(8),
				SuccessCodes: fxUploadSuccess, SuccessTime: fxAtStr(0), FailCount: core.Int64(1),
				FailCodes:  []mec.UploadCouponCodeFailReason{{CouponCode: core.String(fxUploadFail), Code: core.String("LENGTH_LIMIT"), Message: core.String("商户上传的code长度超过限制")}},
				ExistCodes: fxUploadExist, DuplicateCodes: fxUploadDuplicate}),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: fxStockID, CouponCodeList: fxUploadCodes(), UploadRequestNo: "up-1"})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := bf(cc).UploadCouponCode(ctx, mec.UploadCouponCodeRequest{StockId: core.String(fxStockID), CouponCodeList: fxUploadCodes(), UploadRequestNo: core.String("up-1")})
				return err
			},
			fit: func(answer map[string]any) func(context.Context, *busifavor.Client) (any, error) {
				var codes []string
				for _, list := range []string{"success_codes", "exist_codes", "duplicate_codes"} {
					l, _ := answer[list].([]any)
					for _, c := range l {
						codes = append(codes, c.(string))
					}
				}
				l, _ := answer["fail_codes"].([]any)
				for _, f := range l {
					if c, ok := f.(map[string]any)["coupon_code"].(string); ok {
						codes = append(codes, c)
					}
				}
				return func(ctx context.Context, c *busifavor.Client) (any, error) {
					return c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: fxStockID, CouponCodeList: codes, UploadRequestNo: "up-1"})
				}
			}},
		{name: "ListCouponCodes", list: true,
			answer: func(n int) any {
				r := mec.CouponCodeListResponse{StockId: core.String(fxStockID), TotalCount: core.Int64(1000), Offset: core.Int64(20), Limit: core.Int64(int64(n))}
				for i := range n {
					r.Data = append(r.Data, refCodeEntity(i))
				}
				return r
			},
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.ListCouponCodes(ctx, busifavor.ListCouponCodesRequest{StockID: fxStockID, Limit: 100, Offset: 20, AppID: testAppid, Status: busifavor.CouponCodeStatusDispatched})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := bf(cc).QueryCouponCodeList(ctx, mec.QueryCouponCodeListRequest{StockId: core.String(fxStockID), Limit: core.Int64(100), Offset: core.Int64(20),
					Appid: core.String(testAppid), Status: mec.COUPONCODESTATUS_DISPATCHED.Ptr()})
				return err
			}},
		{name: "GetCouponCode",
			answer: func(int) any {
				code, coupon := refCodeEntity(1), refCoupon(1)
				return mec.CouponCodeInfoResponse{CodeInformation: &code, CouponInformation: &coupon}
			},
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.GetCouponCode(ctx, busifavor.GetCouponCodeRequest{StockID: fxStockID, CouponCode: "ABC-000001", AppID: testAppid})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := bf(cc).CouponCodeInfo(ctx, mec.CouponCodeInfoRequest{StockId: core.String(fxStockID), CouponCode: core.String("ABC-000001"), Appid: core.String(testAppid)})
				return err
			}},
		{name: "DeleteCouponCode",
			answer: one(mec.DeleteCouponCodeResponse{StockId: core.String(fxStockID), DeleteTime: fxAtStr(0)}),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.DeleteCouponCode(ctx, busifavor.DeleteCouponCodeRequest{StockID: fxStockID, CouponCode: "ABC-000001", DeleteRequestNo: "del-1"})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := bf(cc).DeleteCouponCode(ctx, mec.DeleteCouponCodeRequest{StockId: core.String(fxStockID), CouponCode: core.String("ABC-000001"), DeleteRequestNo: core.String("del-1")})
				return err
			}},
		{name: "SendCoupon",
			answer: one(mec.SendCouponResponse{SendCouponResult: &mec.SendCouponResult{StockId: core.String(fxStockID),
				OutRequestNo: core.String("send-1"), CouponCode: core.String(fxCode)}}),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.SendCoupon(ctx, busifavor.SendCouponRequest{OpenID: testOpenid, AppID: testAppid, StockID: fxStockID, OutRequestNo: "send-1"})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := cp(cc).SendCoupon(ctx, mec.SendCouponRequest{Openid: core.String(testOpenid), Appid: core.String(testAppid),
					StockId: core.String(fxStockID), OutRequestNo: core.String("send-1")})
				return err
			},
			view: func(m map[string]any) map[string]any { return map[string]any{"send_coupon_result": m} }},
		{name: "UseCoupon",
			answer: one(mec.UseCouponResponse{StockId: core.String(fxStockID), Openid: core.String(testOpenid), WechatpayUseTime: fxAtStr(0)}),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.UseCoupon(ctx, busifavor.UseCouponRequest{CouponCode: fxCode, StockID: fxStockID, AppID: testAppid, UseTime: useTime, UseRequestNo: "till-7-0001"})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := cp(cc).UseCoupon(ctx, mec.UseCouponRequest{CouponCode: core.String(fxCode), StockId: core.String(fxStockID),
					Appid: core.String(testAppid), UseTime: core.String(useTime.Format(time.RFC3339)), UseRequestNo: core.String("till-7-0001")})
				return err
			}},
		{name: "GetUserCoupon",
			answer: one(refCoupon(0)),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{OpenID: testOpenid, CouponCode: fxCode, AppID: testAppid})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := cp(cc).QueryCoupon(ctx, mec.QueryCouponRequest{Openid: core.String(testOpenid), CouponCode: core.String(fxCode), Appid: core.String(testAppid)})
				return err
			}},
		{name: "ListUserCoupons", list: true,
			answer: func(n int) any {
				r := mec.CouponListResponse{TotalCount: core.Int64(1000), Limit: core.Int64(int64(n)), Offset: core.Int64(1)}
				for i := range n {
					r.Data = append(r.Data, refCoupon(i))
				}
				return r
			},
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.ListUserCoupons(ctx, busifavor.ListUserCouponsRequest{OpenID: testOpenid, AppID: testAppid, StockID: fxStockID,
					BelongMerchant: fxMchID, Page: 1, Limit: 100, CouponState: busifavor.CouponStateUsed})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := cp(cc).ListCouponsByFilter(ctx, mec.ListCouponsByFilterRequest{Openid: core.String(testOpenid), Appid: core.String(testAppid),
					StockId: core.String(fxStockID), BelongMerchant: core.String(fxMchID), Offset: core.Int64(1), Limit: core.Int64(100),
					CouponState: mec.COUPONSTATUS_USED.Ptr()})
				return err
			}},
		{name: "AssociateTradeInfo",
			answer: one(mec.AssociateTradeInfoResponse{WechatpayAssociateTime: fxAtPtr(0)}),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.AssociateTradeInfo(ctx, busifavor.AssociateTradeInfoRequest{StockID: fxStockID, CouponCode: fxCode, OutTradeNo: "order-1", OutRequestNo: "as-1"})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := cp(cc).AssociateTradeInfo(ctx, mec.AssociateTradeInfoRequest{StockId: core.String(fxStockID), CouponCode: core.String(fxCode),
					OutTradeNo: core.String("order-1"), OutRequestNo: core.String("as-1")})
				return err
			}},
		{name: "DisassociateTradeInfo",
			answer: one(mec.DisassociateTradeInfoResponse{WechatpayDisassociateTime: fxAtPtr(0)}),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.DisassociateTradeInfo(ctx, busifavor.DisassociateTradeInfoRequest{StockID: fxStockID, CouponCode: fxCode, OutTradeNo: "order-1", OutRequestNo: "dis-1"})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := cp(cc).DisassociateTradeInfo(ctx, mec.DisassociateTradeInfoRequest{StockId: core.String(fxStockID), CouponCode: core.String(fxCode),
					OutTradeNo: core.String("order-1"), OutRequestNo: core.String("dis-1")})
				return err
			}},
		{name: "ReturnCoupon",
			answer: one(mec.ReturnCouponResponse{WechatpayReturnTime: fxAtPtr(0)}),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.ReturnCoupon(ctx, busifavor.ReturnCouponRequest{CouponCode: fxCode, StockID: fxStockID, ReturnRequestNo: "ret-1"})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := cp(cc).ReturnCoupon(ctx, mec.ReturnCouponRequest{CouponCode: core.String(fxCode), StockId: core.String(fxStockID), ReturnRequestNo: core.String("ret-1")})
				return err
			}},
		{name: "DeactivateCoupon",
			answer: one(mec.DeactivateCouponResponse{WechatpayDeactivateTime: fxAtPtr(0)}),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.DeactivateCoupon(ctx, busifavor.DeactivateCouponRequest{CouponCode: fxCode, StockID: fxStockID, DeactivateRequestNo: "de-1", DeactivateReason: "订单取消"})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := cp(cc).DeactivateCoupon(ctx, mec.DeactivateCouponRequest{CouponCode: core.String(fxCode), StockId: core.String(fxStockID),
					DeactivateRequestNo: core.String("de-1"), DeactivateReason: core.String("订单取消")})
				return err
			}},
		{name: "SendGovCard",
			answer: one(mec.CouponSendGovCardResponse{CardCode: core.String("vv7uxYFRHEjMqtcTqL7gEV8bYNhm")}),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.SendGovCard(ctx, busifavor.SendGovCardRequest{CardID: fxCardID, AppID: testAppid, OpenID: testOpenid, OutRequestNo: "gov-1", SendTime: useTime})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := cp(cc).SendGovCard(ctx, mec.SendGovCardRequest{CardId: core.String(fxCardID), Appid: core.String(testAppid),
					Openid: core.String(testOpenid), OutRequestNo: core.String("gov-1"), SendTime: core.String(useTime.Format(time.RFC3339))})
				return err
			}},
		{name: "CreateSubsidyPayReceipt",
			answer: one(refPayReceipt(1)),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.CreateSubsidyPayReceipt(ctx, pay)
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := sb(cc).SubsidyPay(ctx, mec.SubsidyPayRequest{StockId: &pay.StockID, CouponCode: &pay.CouponCode,
					TransactionId: &pay.TransactionID, PayerMerchant: &pay.PayerMerchant, PayeeMerchant: &pay.PayeeMerchant,
					Amount: core.Int64(pay.Amount), Description: &pay.Description, OutSubsidyNo: &pay.OutSubsidyNo})
				return err
			}},
		{name: "GetSubsidyPayReceipt",
			answer: one(refPayReceipt(1)),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.GetSubsidyPayReceipt(ctx, busifavor.GetSubsidyPayReceiptRequest{SubsidyReceiptID: "1120200119165100000000000001"})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := sb(cc).PayReceiptInfo(ctx, mec.PayReceiptInfoRequest{SubsidyReceiptId: core.String("1120200119165100000000000001")})
				return err
			}},
		{name: "ListSubsidyPayReceipts", list: true,
			answer: func(n int) any {
				var r mec.SubsidyPayReceiptListResponse
				for i := range n {
					r.PayReceiptList = append(r.PayReceiptList, refPayReceipt(i))
				}
				return r
			},
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.ListSubsidyPayReceipts(ctx, busifavor.ListSubsidyPayReceiptsRequest{StockID: fxStockID, CouponCode: fxCode})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := sb(cc).PayReceiptList(ctx, mec.PayReceiptListRequest{StockId: core.String(fxStockID), CouponCode: core.String(fxCode)})
				return err
			}},
		{name: "CreateSubsidyReturnReceipt",
			answer: one(refReturnReceipt()),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.CreateSubsidyReturnReceipt(ctx, ret)
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := sb(cc).SubsidyReturn(ctx, mec.SubsidyReturnRequest{StockId: &ret.StockID, CouponCode: &ret.CouponCode,
					TransactionId: &ret.TransactionID, RefundId: &ret.RefundID, PayerMerchant: &ret.PayerMerchant, PayeeMerchant: &ret.PayeeMerchant,
					Amount: core.Int64(ret.Amount), Description: &ret.Description, OutSubsidyReturnNo: &ret.OutSubsidyReturnNo})
				return err
			}},
		{name: "GetSubsidyReturnReceipt",
			answer: one(refReturnReceipt()),
			ours: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.GetSubsidyReturnReceipt(ctx, busifavor.GetSubsidyReturnReceiptRequest{SubsidyReturnReceiptID: "1120200119165100000000000001"})
			},
			ref: func(ctx context.Context, cc *core.Client) error {
				_, _, err := sb(cc).ReturnReceiptInfo(ctx, mec.ReturnReceiptInfoRequest{SubsidyReturnReceiptId: core.String("1120200119165100000000000001")})
				return err
			}},
	}
}

// endpointNamed returns the endpoint called name.
func endpointNamed(name string) endpoint {
	for _, e := range endpoints() {
		if e.name == name {
			return e
		}
	}
	panic("no endpoint " + name)
}
