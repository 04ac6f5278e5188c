package busifavortest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// The partner merchant of the lifecycle, its APIv2 key, and a partner appid.
const (
	partnerMchID  = "1900000109"
	partnerV2Key  = "PARTNERv2KEY0123456789abcdefABCD"
	partnerAppID  = "wx4e1916a585d1f4e9"
	lifecycleUser = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
)

// partnerFake is a fake whose merchant owns a running stock, and a client
// of a second merchant, partnerMchID, that has its own API key and APIv2
// key.
func partnerFake(t *testing.T) (s *busifavortest.Server, owner, partner *busifavor.Client, stockID string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	s = busifavortest.NewServer(busifavortest.WithMerchant(partnerMchID, "PARTNERSERIAL", &key.PublicKey),
		busifavortest.WithMerchantAPIv2Key(partnerMchID, partnerV2Key))
	t.Cleanup(s.Close)
	owner, err = s.Client()
	require.NoError(t, err)
	pub, id := s.PublicKey()
	cc, err := core.NewClient(context.Background(),
		option.WithWechatPayPublicKeyAuthCipher(partnerMchID, "PARTNERSERIAL", key, id, pub), option.WithHTTPClient(s.HTTPClient()))
	require.NoError(t, err)
	partner, err = busifavor.NewClient(cc, busifavor.WithBaseURL(s.URL))
	require.NoError(t, err)
	begin := s.Now().Add(-time.Hour)
	st, err := owner.CreateStock(context.Background(), busifavor.CreateStockRequest{StockName: "委托营销券", BelongMerchant: s.MchID(),
		GoodsName: "全场可用", StockType: busifavor.StockTypeNormal, OutRequestNo: "partner-stock", CouponCodeMode: busifavor.CouponCodeModeWechatPay,
		CouponUseRule: busifavor.CouponUseRule{CouponAvailableTime: busifavor.AvailableTime{AvailableBeginTime: begin, AvailableEndTime: begin.AddDate(0, 1, 0)},
			FixedNormalCoupon: &busifavor.FixedNormalCoupon{DiscountAmount: 500, TransactionMinimum: 5000}, UseMethod: busifavor.CouponUseMethodOffline},
		StockSendRule: busifavor.StockSendRule{MaxCoupons: 100, MaxCouponsPerUser: 50}})
	require.NoError(t, err)
	return s, owner, partner, st.StockID
}

// TestPartnershipLifecycle: a merchant partner cannot send a stock's
// coupons until the creator builds a partnership; then it can, through
// SendCoupon and through the plugin and H5 signed with its own APIv2 key,
// and an APPID partner's mini program can claim them; once terminated,
// every one of those is refused again, and the list says when it ended.
func TestPartnershipLifecycle(t *testing.T) {
	ctx := context.Background()
	s, owner, partner, stockID := partnerFake(t)
	signer, err := busifavor.NewCouponSigner(partnerMchID, partnerV2Key)
	require.NoError(t, err)
	ownSigner, err := busifavor.NewCouponSigner(s.MchID(), s.APIv2Key())
	require.NoError(t, err)
	n := 0
	send := func() error {
		n++
		_, err := partner.SendCoupon(ctx, busifavor.SendCouponRequest{OpenID: lifecycleUser, AppID: partnerAppID, StockID: stockID,
			OutRequestNo: "partner-send-" + string(rune('a'+n))})
		return err
	}
	plugin := func() error {
		n++
		c, err := signer.SignMiniProgram(busifavor.SendCouponItem{StockID: stockID, OutRequestNo: "plugin" + string(rune('a'+n))})
		require.NoError(t, err)
		return pluginErr(s.ClaimMiniProgram(lifecycleUser, c))
	}
	h5 := func() error {
		n++
		u, err := signer.SignH5URL(lifecycleUser, busifavor.SendCouponItem{StockID: stockID, OutRequestNo: "h5" + string(rune('a'+n))})
		require.NoError(t, err)
		_, err = s.OpenH5URL(u)
		return err
	}
	inMiniProgram := func() error {
		n++
		c, err := ownSigner.SignMiniProgram(busifavor.SendCouponItem{StockID: stockID, OutRequestNo: "app" + string(rune('a'+n))})
		require.NoError(t, err)
		return pluginErr(s.ClaimMiniProgramIn(partnerAppID, lifecycleUser, c))
	}
	refusedAll := func(when string) {
		t.Helper()
		assert.Equal(t, busifavor.ErrorCodeResourceNotExists, busifavor.ErrorCodeOf(send()), "SendCoupon %s", when)
		assert.ErrorContains(t, plugin(), string(busifavor.MiniProgramErrCodeParamError), "plugin %s", when)
		assert.ErrorContains(t, h5(), string(busifavor.ErrorCodeNoAuth), "H5 %s", when)
		assert.ErrorContains(t, inMiniProgram(), string(busifavor.MiniProgramErrCodeParamError), "APPID partner's mini program %s", when)
	}
	data := busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeBusifavorStock, StockID: stockID}
	merchant := busifavor.Partner{Type: busifavor.PartnerTypeMerchant, MerchantID: partnerMchID}
	app := busifavor.Partner{Type: busifavor.PartnerTypeAppID, AppID: partnerAppID}

	sent := func() int64 {
		st, ok := s.Stock(stockID)
		require.True(t, ok)
		return st.SendCountInformation.TotalSendNum
	}
	refusedAll("before any partnership")
	coupons := sent()

	built, err := owner.BuildPartnership(ctx, busifavor.BuildPartnershipRequest{IdempotencyKey: "build-merchant", Partner: merchant, AuthorizedData: data})
	require.NoError(t, err)
	assert.Equal(t, busifavor.PartnershipStateEstablished, built.State)
	_, err = owner.BuildPartnership(ctx, busifavor.BuildPartnershipRequest{IdempotencyKey: "build-app", Partner: app, AuthorizedData: data})
	require.NoError(t, err)
	_, err = partner.BuildPartnership(ctx, busifavor.BuildPartnershipRequest{IdempotencyKey: "build-own", Partner: app, AuthorizedData: data})
	assert.Equal(t, busifavor.ErrorCodeResourceNotExists, busifavor.ErrorCodeOf(err), "a partner cannot pass the stock on")

	require.NoError(t, send())
	require.NoError(t, plugin())
	require.NoError(t, h5())
	require.NoError(t, inMiniProgram())
	assert.Equal(t, coupons+4, sent())
	c, err := signer.SignMiniProgram(busifavor.SendCouponItem{StockID: stockID, OutRequestNo: "notmine"})
	require.NoError(t, err)
	assert.ErrorContains(t, pluginErr(s.ClaimMiniProgramIn("wx0000000000000000", lifecycleUser, c)), string(busifavor.MiniProgramErrCodeParamError), "an appid without a partnership")

	done, err := owner.TerminatePartnership(ctx, busifavor.TerminatePartnershipRequest{IdempotencyKey: "end-merchant", Partner: merchant, AuthorizedData: data})
	require.NoError(t, err)
	_, err = owner.TerminatePartnership(ctx, busifavor.TerminatePartnershipRequest{IdempotencyKey: "end-app", Partner: app, AuthorizedData: data})
	require.NoError(t, err)
	coupons = sent()
	refusedAll("after it was terminated")
	assert.Equal(t, coupons, sent(), "refusals give nothing")

	list, err := owner.ListPartnerships(ctx, busifavor.ListPartnershipsRequest{Partner: busifavor.Partner{Type: busifavor.PartnerTypeMerchant}, AuthorizedData: data})
	require.NoError(t, err)
	require.Len(t, list.Data, 1)
	assert.Equal(t, int64(1), list.TotalCount)
	assert.Equal(t, partnerMchID, list.Data[0].Partner.MerchantID)
	assert.WithinDuration(t, done.TerminateTime, list.Data[0].TerminateTime, time.Millisecond)
	assert.Empty(t, list.Data[0].State, "the list pages give items no state")

	// Built again, the partner may send again.
	again, err := owner.BuildPartnership(ctx, busifavor.BuildPartnershipRequest{IdempotencyKey: "build-again", Partner: merchant, AuthorizedData: data})
	require.NoError(t, err)
	assert.Equal(t, busifavor.PartnershipStateEstablished, again.State)
	require.NoError(t, send())
}

// TestPartnerSendsAreTheirs: what a partner sent it can read and redeem,
// as its sender; the creator can too.
func TestPartnerSendsAreTheirs(t *testing.T) {
	ctx := context.Background()
	s, owner, partner, stockID := partnerFake(t)
	_, err := owner.BuildPartnership(ctx, busifavor.BuildPartnershipRequest{IdempotencyKey: "b",
		Partner:        busifavor.Partner{Type: busifavor.PartnerTypeMerchant, MerchantID: partnerMchID},
		AuthorizedData: busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeBusifavorStock, StockID: stockID}})
	require.NoError(t, err)
	sent, err := partner.SendCoupon(ctx, busifavor.SendCouponRequest{OpenID: lifecycleUser, AppID: partnerAppID, StockID: stockID, OutRequestNo: "p-1"})
	require.NoError(t, err)
	_, err = partner.UseCoupon(ctx, busifavor.UseCouponRequest{CouponCode: sent.CouponCode, StockID: stockID, AppID: partnerAppID,
		UseTime: s.Now(), UseRequestNo: "p-use-1"})
	require.NoError(t, err)
	got, err := owner.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{OpenID: lifecycleUser, CouponCode: sent.CouponCode, AppID: partnerAppID})
	require.NoError(t, err)
	assert.Equal(t, busifavor.CouponStateUsed, got.CouponState)
}

// pluginErr turns the plugin's answer into an error naming its errcode, or
// the result of the first coupon not given, or nil when all were given.
func pluginErr(res *busifavor.MiniProgramSendResult, err error) error {
	if err != nil {
		return err
	}
	if res.ErrCode != busifavor.MiniProgramErrCodeOK {
		return fmt.Errorf("%s: %s", res.ErrCode, res.Msg)
	}
	for _, r := range res.SendCouponResult {
		if r.Code != busifavor.SendCouponResultCodeSuccess {
			return fmt.Errorf("%s: %s", r.Code, r.Message)
		}
	}
	return nil
}
