package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

func TestCouponCommands(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)
	client, err := s.Client()
	require.NoError(t, err)
	ctx := context.Background()
	begin := s.Now().Add(-time.Hour)
	stock, err := client.CreateStock(ctx, busifavor.CreateStockRequest{StockName: "券", BelongMerchant: s.MchID(), GoodsName: "全场",
		StockType: busifavor.StockTypeNormal, CouponUseRule: busifavor.CouponUseRule{
			CouponAvailableTime: busifavor.AvailableTime{AvailableBeginTime: begin, AvailableEndTime: begin.AddDate(0, 1, 0)},
			FixedNormalCoupon:   &busifavor.FixedNormalCoupon{DiscountAmount: 100, TransactionMinimum: 1000}, UseMethod: busifavor.CouponUseMethodOffline},
		StockSendRule: busifavor.StockSendRule{MaxCouponsPerUser: 1}, OutRequestNo: "cmd-c", CouponCodeMode: busifavor.CouponCodeModeWechatPay})
	require.NoError(t, err)
	const openid, appid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "wx233544546545989"
	sent, err := client.SendCoupon(ctx, busifavor.SendCouponRequest{OpenID: openid, AppID: appid, StockID: stock.StockID, OutRequestNo: "s1"})
	require.NoError(t, err)
	code := sent.CouponCode
	base := []string{"--base-url", s.URL}
	run := func(args ...string) (int, string, string) { return runCmd(t, env, append(args, base...)...) }

	status, out, errOut := run("coupon", "use", code, "--appid", appid, "--use-request-no", "till-1", "--json")
	require.Equal(t, exitOK, status, errOut)
	var used busifavor.UseCouponResponse
	require.NoError(t, json.Unmarshal([]byte(out), &used))
	assert.Equal(t, busifavor.MaskID(openid), used.OpenID, "the openid is masked unless --show-openid")
	status, _, errOut = run("coupon", "use", code, "--appid", appid, "--use-request-no", "till-1")
	assert.Equal(t, exitOK, status, "the same number again: the first result; %s", errOut)
	status, _, errOut = run("coupon", "use", code, "--appid", appid, "--use-request-no", "till-2")
	assert.Equal(t, exitAPI, status)
	assert.Contains(t, errOut, "RESOURCE_ALREADY_EXISTS")
	assert.Contains(t, errOut, "解决方案")

	status, out, errOut = run("coupon", "get", code, "--openid", openid, "--appid", appid)
	require.Equal(t, exitOK, status, errOut)
	assert.Contains(t, out, "state:       USED")
	assert.Contains(t, out, "(till-1)")

	status, out, errOut = run("coupon", "return", code, "--stock-id", stock.StockID, "--return-request-no", "r1")
	require.Equal(t, exitOK, status, errOut)
	assert.Contains(t, out, "returned:")
	status, _, errOut = run("coupon", "deactivate", code, "--stock-id", stock.StockID, "--deactivate-request-no", "d1", "--deactivate-reason", "取消")
	require.Equal(t, exitOK, status, errOut)
	status, _, errOut = run("coupon", "use", code, "--appid", appid, "--use-request-no", "till-3")
	assert.Equal(t, exitAPI, status)
	assert.Contains(t, errOut, "RULELIMIT")
	assert.NotContains(t, errOut, openid)

	before := len(s.Requests())
	for _, args := range [][]string{
		{"coupon", "use", code, "--appid", appid},
		{"coupon", "use", code, "--use-request-no", "n", "--appid", appid, "--use-time", "yesterday"},
		{"coupon", "use", "--appid", appid, "--use-request-no", "n"},
		{"coupon", "get", code, "--appid", appid},
		{"coupon", "return", code, "--stock-id", stock.StockID},
		{"coupon", "deactivate", code, "--return-request-no", "x"},
	} {
		status, _, errOut := run(args...)
		assert.Equal(t, exitUsage, status, "%v: %s", args, errOut)
	}
	assert.Len(t, s.Requests(), before, "nothing was sent")
}
