package busifavortest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
)

// snapshot is everything the fake remembers about stocks, codes, coupons,
// sends and subsidies, as JSON, for comparing before and after a refusal.
func (s *Server) snapshot(t *testing.T) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	type stockState struct {
		View                            busifavor.Stock
		Sent                            int64
		Codes                           []busifavor.UploadedCode
		Updates, Budgets, Uploads, Dels int
	}
	stocks := map[string]stockState{}
	for id, st := range s.stocks {
		ss := stockState{View: st.view(now), Sent: st.sent, Updates: len(st.updates), Budgets: len(st.budgets), Uploads: len(st.uploads), Dels: len(st.deletes)}
		for _, c := range st.codeOrder {
			ss.Codes = append(ss.Codes, st.codes[c].UploadedCode)
		}
		stocks[id] = ss
	}
	type couponState struct {
		View        busifavor.UserCoupon
		Uses, Dones int
	}
	var coupons []couponState
	for _, c := range s.couponOrder {
		coupons = append(coupons, couponState{c.view(now), len(c.uses), len(c.done)})
	}
	var pays []busifavor.SubsidyPayReceipt
	for _, p := range s.payOrder {
		pays = append(pays, p.view(now))
	}
	b, err := Marshal(map[string]any{
		"stocks": stocks, "coupons": coupons, "sends": s.sends, "byRequest": s.stockByRequest, "pays": pays,
		"returns": len(s.returnReceipts), "claims": len(s.ch.claims), "seq": []int{s.stockSeq, s.couponSeq, s.receiptSeq},
		"callbacks": len(s.state),
	})
	require.NoError(t, err)
	return string(b)
}

// TestEveryRefusalChangesNothing makes each refusal the fake can give on
// state (not on a malformed request, which the client would not send) and
// checks the state is as it was. Each case gets a fresh fake with a stock of
// each kind, a redeemed and an unredeemed coupon and a subsidy payment.
func TestEveryRefusalChangesNothing(t *testing.T) {
	const openid, other, appid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "oUpF8uN95-Ptaags6E_roPHg7AG0", "wx233544546545989"
	const txn, refund = "4200000913202101152566792388", "50000000382019052709732678859"
	type fixture struct {
		s                                   *Server
		c                                   *busifavor.Client
		normal, upload, api, exchange, gone string
		used, fresh, uploaded               string
	}
	setup := func(t *testing.T) *fixture {
		s := NewServer()
		t.Cleanup(s.Close)
		c, err := s.Client()
		require.NoError(t, err)
		f := &fixture{s: s, c: c}
		stock := func(no string, mode busifavor.CouponCodeMode, typ busifavor.StockType, begin time.Time, perUser int64) string {
			rule := busifavor.CouponUseRule{
				CouponAvailableTime: busifavor.AvailableTime{AvailableBeginTime: begin, AvailableEndTime: begin.AddDate(0, 1, 0)},
				UseMethod:           busifavor.CouponUseMethodOffline,
			}
			if typ == busifavor.StockTypeExchange {
				rule.ExchangeCoupon = &busifavor.ExchangeCoupon{ExchangePrice: 100, TransactionMinimum: 100}
			} else {
				rule.FixedNormalCoupon = &busifavor.FixedNormalCoupon{DiscountAmount: 1000, TransactionMinimum: 10000}
			}
			st, err := c.CreateStock(ctx(), busifavor.CreateStockRequest{StockName: "满100减10元", BelongMerchant: s.MchID(), GoodsName: "全场可用",
				StockType: typ, CouponUseRule: rule, StockSendRule: busifavor.StockSendRule{MaxCoupons: 3, MaxCouponsPerUser: perUser},
				OutRequestNo: no, CouponCodeMode: mode})
			require.NoError(t, err)
			return st.StockID
		}
		now := s.Now()
		f.normal = stock("n", busifavor.CouponCodeModeWechatPay, busifavor.StockTypeNormal, now.Add(-time.Hour), 2)
		f.upload = stock("u", busifavor.CouponCodeModeMerchantUpload, busifavor.StockTypeNormal, now.Add(-time.Hour), 1)
		f.api = stock("a", busifavor.CouponCodeModeMerchantAPI, busifavor.StockTypeNormal, now.Add(-time.Hour), 3)
		f.exchange = stock("x", busifavor.CouponCodeModeWechatPay, busifavor.StockTypeExchange, now.Add(-time.Hour), 1)
		f.gone = stock("g", busifavor.CouponCodeModeWechatPay, busifavor.StockTypeNormal, now.Add(time.Hour), 1) // not begun
		_, err = c.UploadCouponCodes(ctx(), busifavor.UploadCouponCodesRequest{StockID: f.upload, CouponCodeList: []string{"UP000001", "UP000002"}, UploadRequestNo: "up-1"})
		require.NoError(t, err)
		send := func(stock, user, no, code string) string {
			r, err := c.SendCoupon(ctx(), busifavor.SendCouponRequest{StockID: stock, OpenID: user, OutRequestNo: no, AppID: appid, CouponCode: code})
			require.NoError(t, err)
			return r.CouponCode
		}
		f.used = send(f.normal, openid, "s1", "")
		f.fresh = send(f.normal, openid, "s2", "")
		f.uploaded = send(f.upload, openid, "s3", "")
		send(f.api, openid, "s4", "API00001")
		x := send(f.exchange, openid, "s5", "")
		for _, u := range []struct{ stock, code string }{{f.normal, f.used}, {f.exchange, x}} {
			_, err = c.UseCoupon(ctx(), busifavor.UseCouponRequest{CouponCode: u.code, StockID: u.stock, AppID: appid, UseTime: now, UseRequestNo: "use-" + u.code})
			require.NoError(t, err)
		}
		_, err = c.AssociateTradeInfo(ctx(), busifavor.AssociateTradeInfoRequest{StockID: f.normal, CouponCode: f.used, OutTradeNo: "order-1", OutRequestNo: "as-1"})
		require.NoError(t, err)
		_, err = c.CreateSubsidyPayReceipt(ctx(), busifavor.CreateSubsidyPayReceiptRequest{StockID: f.normal, CouponCode: f.used, TransactionID: txn,
			PayerMerchant: s.MchID(), PayeeMerchant: s.MchID(), Amount: 800, Description: "补差", OutSubsidyNo: "sub-1"})
		require.NoError(t, err)
		return f
	}
	pay := func(f *fixture, stock, code, no string, amount int64) error {
		_, err := f.c.CreateSubsidyPayReceipt(ctx(), busifavor.CreateSubsidyPayReceiptRequest{StockID: stock, CouponCode: code, TransactionID: txn,
			PayerMerchant: f.s.MchID(), PayeeMerchant: f.s.MchID(), Amount: amount, Description: "补差", OutSubsidyNo: no})
		return err
	}
	giveBack := func(f *fixture, no string, amount int64, txnID string) error {
		_, err := f.c.CreateSubsidyReturnReceipt(ctx(), busifavor.CreateSubsidyReturnReceiptRequest{StockID: f.normal, CouponCode: f.used, TransactionID: txnID,
			RefundID: refund, PayerMerchant: f.s.MchID(), PayeeMerchant: f.s.MchID(), Amount: amount, Description: "回退", OutSubsidyReturnNo: no})
		return err
	}
	sendTo := func(f *fixture, stock, user, no, code string) error {
		_, err := f.c.SendCoupon(ctx(), busifavor.SendCouponRequest{StockID: stock, OpenID: user, OutRequestNo: no, AppID: appid, CouponCode: code})
		return err
	}
	use := func(f *fixture, stock, code, user, no string) error {
		_, err := f.c.UseCoupon(ctx(), busifavor.UseCouponRequest{CouponCode: code, StockID: stock, AppID: appid, UseTime: f.s.Now(), UseRequestNo: no, OpenID: user})
		return err
	}
	for _, tc := range []struct {
		name string
		want error
		do   func(f *fixture) error
	}{
		{"create stock: out_request_no reused for another stock", busifavor.ErrResourceAlreadyExists, func(f *fixture) error {
			_, err := f.c.CreateStock(ctx(), busifavor.CreateStockRequest{StockName: "另一个", BelongMerchant: f.s.MchID(), GoodsName: "全场可用",
				StockType: busifavor.StockTypeNormal, OutRequestNo: "n", CouponCodeMode: busifavor.CouponCodeModeWechatPay,
				CouponUseRule: busifavor.CouponUseRule{CouponAvailableTime: busifavor.AvailableTime{AvailableBeginTime: f.s.Now(), AvailableEndTime: f.s.Now().Add(time.Hour)},
					FixedNormalCoupon: &busifavor.FixedNormalCoupon{DiscountAmount: 1, TransactionMinimum: 2}, UseMethod: busifavor.CouponUseMethodOffline},
				StockSendRule: busifavor.StockSendRule{MaxCoupons: 1, MaxCouponsPerUser: 1}})
			return err
		}},
		{"update stock: no such stock", busifavor.ErrResourceNotExists, func(f *fixture) error {
			_, err := f.c.UpdateStock(ctx(), busifavor.UpdateStockRequest{StockID: "1299999999", OutRequestNo: "upd-1", Comment: "x"})
			return err
		}},
		{"budget: current_max_coupons stale", busifavor.ErrParamError, func(f *fixture) error {
			_, err := f.c.UpdateStockBudget(ctx(), busifavor.UpdateStockBudgetRequest{StockID: f.normal, TargetMaxCoupons: 10, CurrentMaxCoupons: 2, ModifyBudgetRequestNo: "b-1"})
			return err
		}},
		{"upload: stock not MERCHANT_UPLOAD", busifavor.ErrInvalidRequest, func(f *fixture) error {
			_, err := f.c.UploadCouponCodes(ctx(), busifavor.UploadCouponCodesRequest{StockID: f.normal, CouponCodeList: []string{"ZZ000001"}, UploadRequestNo: "up-2"})
			return err
		}},
		{"delete: code dispatched", busifavor.ErrInvalidRequest, func(f *fixture) error {
			_, err := f.c.DeleteCouponCode(ctx(), busifavor.DeleteCouponCodeRequest{StockID: f.upload, CouponCode: f.uploaded, DeleteRequestNo: "d-1"})
			return err
		}},
		{"delete: no such code", busifavor.ErrResourceNotExists, func(f *fixture) error {
			_, err := f.c.DeleteCouponCode(ctx(), busifavor.DeleteCouponCodeRequest{StockID: f.upload, CouponCode: "NOPE0001", DeleteRequestNo: "d-2"})
			return err
		}},
		{"send: per-user cap reached (an uploaded code was free)", busifavor.ErrInvalidRequest, func(f *fixture) error {
			return sendTo(f, f.upload, openid, "s9", "")
		}},
		{"send: stock not begun", busifavor.ErrRuleLimit, func(f *fixture) error { return sendTo(f, f.gone, openid, "s9", "") }},
		{"send: MERCHANT_API code already given", busifavor.ErrResourceAlreadyExists, func(f *fixture) error {
			return sendTo(f, f.api, other, "s9", "API00001")
		}},
		{"send: MERCHANT_API without a code", busifavor.ErrParamError, func(f *fixture) error { return sendTo(f, f.api, other, "s9", "") }},
		{"send: no such stock", busifavor.ErrResourceNotExists, func(f *fixture) error { return sendTo(f, "1299999999", openid, "s9", "") }},
		{"use: used already", busifavor.ErrResourceAlreadyExists, func(f *fixture) error { return use(f, f.normal, f.used, "", "use-9") }},
		{"use: another user's", busifavor.ErrUserNotExists, func(f *fixture) error { return use(f, f.normal, f.fresh, other, "use-9") }},
		{"use: merchant code without stock_id", busifavor.ErrParamError, func(f *fixture) error { return use(f, "", f.uploaded, "", "use-9") }},
		{"associate: tied to another order", busifavor.ErrResourceAlreadyExists, func(f *fixture) error {
			_, err := f.c.AssociateTradeInfo(ctx(), busifavor.AssociateTradeInfoRequest{StockID: f.normal, CouponCode: f.used, OutTradeNo: "order-2", OutRequestNo: "as-2"})
			return err
		}},
		{"disassociate: not tied to that order", busifavor.ErrInvalidRequest, func(f *fixture) error {
			_, err := f.c.DisassociateTradeInfo(ctx(), busifavor.DisassociateTradeInfoRequest{StockID: f.normal, CouponCode: f.used, OutTradeNo: "order-2", OutRequestNo: "dis-2"})
			return err
		}},
		{"return: not redeemed", busifavor.ErrInvalidRequest, func(f *fixture) error {
			_, err := f.c.ReturnCoupon(ctx(), busifavor.ReturnCouponRequest{CouponCode: f.fresh, StockID: f.normal, ReturnRequestNo: "r-9"})
			return err
		}},
		{"deactivate: redeemed", busifavor.ErrInvalidRequest, func(f *fixture) error {
			_, err := f.c.DeactivateCoupon(ctx(), busifavor.DeactivateCouponRequest{CouponCode: f.used, StockID: f.normal, DeactivateRequestNo: "off-9"})
			return err
		}},
		{"gov card: send_time over 24 h old", busifavor.ErrParamError, func(f *fixture) error {
			_, err := f.c.SendGovCard(ctx(), busifavor.SendGovCardRequest{CardID: "pFS7Fjg91pGgJxIkpq9VLxYZ8MQg", AppID: appid, OpenID: openid,
				OutRequestNo: "gov-9", SendTime: f.s.Now().Add(-25 * time.Hour)})
			return err
		}},
		{"subsidy: out_subsidy_no reused for another payment", busifavor.ErrResourceAlreadyExists, func(f *fixture) error {
			return pay(f, f.normal, f.used, "sub-1", 100)
		}},
		{"subsidy: over the discount in total", busifavor.ErrInvalidRequest, func(f *fixture) error { return pay(f, f.normal, f.used, "sub-9", 201) }},
		{"subsidy: coupon not redeemed", busifavor.ErrInvalidRequest, func(f *fixture) error { return pay(f, f.normal, f.fresh, "sub-9", 1) }},
		{"subsidy: EXCHANGE stock", busifavor.ErrParamError, func(f *fixture) error {
			return pay(f, f.exchange, f.s.couponsOf(f.exchange)[0], "sub-9", 1)
		}},
		{"subsidy: no such coupon in that stock", busifavor.ErrResourceNotExists, func(f *fixture) error { return pay(f, f.upload, f.used, "sub-9", 1) }},
		{"subsidy return: over the payment", busifavor.ErrInvalidRequest, func(f *fixture) error { return giveBack(f, "subr-9", 801, txn) }},
		{"subsidy return: no such payment", busifavor.ErrInvalidRequest, func(f *fixture) error {
			return giveBack(f, "subr-9", 1, "4200000913202101152566799999")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			before := f.s.snapshot(t)
			err := tc.do(f)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			assert.Equal(t, before, f.s.snapshot(t))
		})
	}

	t.Run("claims", func(t *testing.T) {
		f := setup(t)
		before := f.s.snapshot(t)
		signer, err := busifavor.NewCouponSigner(f.s.APIv2Key())
		require.NoError(t, err)
		wrongKey, err := busifavor.NewCouponSigner(f.s.APIv3Key())
		require.NoError(t, err)
		ok, err := signer.MiniProgram(f.s.MchID(), busifavor.SendCouponItem{StockID: f.normal, OutRequestNo: "c1"})
		require.NoError(t, err)
		bad, err := wrongKey.MiniProgram(f.s.MchID(), busifavor.SendCouponItem{StockID: f.normal, OutRequestNo: "c1"})
		require.NoError(t, err)
		notBegun, err := signer.MiniProgram(f.s.MchID(), busifavor.SendCouponItem{StockID: f.gone, OutRequestNo: "c2"})
		require.NoError(t, err)
		res, err := f.s.ClaimMiniProgram(openid, bad)
		require.NoError(t, err)
		assert.Equal(t, busifavor.MiniProgramErrCodeSignError, res.ErrCode)
		res, err = f.s.ClaimMiniProgram(openid, notBegun)
		require.NoError(t, err)
		assert.Equal(t, busifavor.SendCouponResultCodeNotRunning, res.SendCouponResult[0].Code)
		res, err = f.s.ClaimMiniProgram(openid, ok) // the per-user cap: 2 of the normal stock held already
		require.NoError(t, err)
		assert.Equal(t, busifavor.SendCouponResultCodeMaxQuota, res.SendCouponResult[0].Code)
		assert.Equal(t, before, f.s.snapshot(t))
	})
}

// couponsOf returns the codes of a stock's coupons, in issue order.
func (s *Server) couponsOf(stockID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.couponOrder {
		if c.StockID == stockID {
			out = append(out, c.CouponCode)
		}
	}
	return out
}

func ctx() context.Context { return context.Background() }

// TestEventOutcomesAreBounded delivers many more events than WithMaxRecorded
// keeps: the outcomes held stay bounded, the newest are there, the oldest
// are gone.
func TestEventOutcomesAreBounded(t *testing.T) {
	const keep, events = 8, 500
	s := NewServer(WithMaxRecorded(keep), WithNotifyURL(DefaultMchID, "https://shop.example.com/busifavor/notify"))
	defer s.Close()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer backend.Close()
	require.NoError(t, s.Route("https://shop.example.com/busifavor/notify", backend.URL))
	var first, last string
	for i := range events {
		id, err := s.ClaimCoupon("", busifavor.CouponSend{CouponCode: fmt.Sprint("C", i), StockID: "S1"})
		require.NoError(t, err)
		out, err := s.WaitEvent(ctx(), id)
		require.NoError(t, err)
		require.True(t, out.Acknowledged)
		if i == 0 {
			first = id
		}
		last = id
		s.dl.mu.Lock()
		held, order := len(s.dl.events), len(s.dl.order)
		s.dl.mu.Unlock()
		require.LessOrEqual(t, held, keep+1, "event %d", i)
		require.LessOrEqual(t, order, keep+1, "event %d", i)
	}
	_, err := s.WaitEvent(ctx(), last)
	assert.NoError(t, err)
	_, err = s.WaitEvent(ctx(), first)
	assert.Error(t, err, "the oldest outcome was dropped")
	assert.Len(t, s.Deliveries(), keep)
	assert.False(t, errors.Is(err, context.Canceled))
}
