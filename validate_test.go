package busifavor_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
)

// urlOfLen returns an https URL exactly n bytes long.
func urlOfLen(n int) string {
	const prefix = "https://a.cn/"
	if n <= len(prefix) {
		return prefix[:n]
	}
	return prefix + strings.Repeat("p", n-len(prefix))
}

func TestValidateSetCallbacksRequest(t *testing.T) {
	tests := []struct {
		name   string
		req    busifavor.SetCallbacksRequest
		fields []string // fields expected in the error, in order; nil means valid
	}{
		{"minimal", busifavor.SetCallbacksRequest{NotifyURL: "https://pay.weixin.qq.com"}, nil},
		{"api page example", busifavor.SetCallbacksRequest{MchID: "10000098", NotifyURL: "https://pay.weixin.qq.com"}, nil},
		{"mchid 7 bytes", busifavor.SetCallbacksRequest{MchID: "1234567", NotifyURL: "https://a.cn/notify"}, []string{"mchid"}},
		{"mchid 8 bytes", busifavor.SetCallbacksRequest{MchID: "12345678", NotifyURL: "https://a.cn/notify"}, nil},
		{"mchid 15 bytes", busifavor.SetCallbacksRequest{MchID: "123456789012345", NotifyURL: "https://a.cn/notify"}, nil},
		{"mchid 16 bytes", busifavor.SetCallbacksRequest{MchID: "1234567890123456", NotifyURL: "https://a.cn/notify"}, []string{"mchid"}},
		{"mchid letters allowed", busifavor.SetCallbacksRequest{MchID: "sp1900000109", NotifyURL: "https://a.cn/notify"}, nil},
		{"mchid inner space", busifavor.SetCallbacksRequest{MchID: "1000 0098", NotifyURL: "https://a.cn/notify"}, []string{"mchid"}},
		{"mchid control char", busifavor.SetCallbacksRequest{MchID: "10000098\x00", NotifyURL: "https://a.cn/notify"}, []string{"mchid"}},
		{"notify_url 9 bytes", busifavor.SetCallbacksRequest{NotifyURL: "https://a"}, []string{"notify_url"}},
		{"notify_url 10 bytes", busifavor.SetCallbacksRequest{NotifyURL: "https://ab"}, nil},
		{"notify_url 256 bytes", busifavor.SetCallbacksRequest{NotifyURL: urlOfLen(256)}, nil},
		{"notify_url 257 bytes", busifavor.SetCallbacksRequest{NotifyURL: urlOfLen(257)}, []string{"notify_url"}},
		{"notify_url missing", busifavor.SetCallbacksRequest{MchID: "10000098"}, []string{"notify_url"}},
		{"http scheme", busifavor.SetCallbacksRequest{NotifyURL: "http://a.cn/notify"}, []string{"notify_url"}},
		{"HTTPS upper case", busifavor.SetCallbacksRequest{NotifyURL: "HTTPS://a.cn/notify"}, nil},
		{"no scheme", busifavor.SetCallbacksRequest{NotifyURL: "a.cn/busifavor/notify"}, []string{"notify_url", "notify_url"}},
		{"no host", busifavor.SetCallbacksRequest{NotifyURL: "https:///notify/x"}, []string{"notify_url"}},
		{"user info", busifavor.SetCallbacksRequest{NotifyURL: "https://u:p@a.cn/notify"}, []string{"notify_url"}},
		{"query", busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn/notify?x=1"}, []string{"notify_url"}},
		{"empty query", busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn/notify?"}, []string{"notify_url"}},
		{"fragment", busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn/notify#x"}, []string{"notify_url"}},
		{"leading space", busifavor.SetCallbacksRequest{NotifyURL: " https://a.cn/notify"}, []string{"notify_url"}},
		{"trailing newline", busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn/notify\n"}, []string{"notify_url"}},
		{"inner space", busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn/no tify"}, []string{"notify_url"}},
		{"localhost", busifavor.SetCallbacksRequest{NotifyURL: "https://localhost/notify"}, []string{"notify_url"}},
		{"LOCALHOST.", busifavor.SetCallbacksRequest{NotifyURL: "https://LOCALHOST./notify"}, []string{"notify_url"}},
		{"loopback v4", busifavor.SetCallbacksRequest{NotifyURL: "https://127.0.0.1/notify"}, []string{"notify_url"}},
		{"loopback v6", busifavor.SetCallbacksRequest{NotifyURL: "https://[::1]/notify"}, []string{"notify_url"}},
		{"mapped loopback", busifavor.SetCallbacksRequest{NotifyURL: "https://[::ffff:127.0.0.1]/notify"}, []string{"notify_url"}},
		{"private 10/8", busifavor.SetCallbacksRequest{NotifyURL: "https://10.1.2.3/notify"}, []string{"notify_url"}},
		{"private 192.168", busifavor.SetCallbacksRequest{NotifyURL: "https://192.168.1.1:8443/notify"}, []string{"notify_url"}},
		{"private fc00::/7", busifavor.SetCallbacksRequest{NotifyURL: "https://[fd00::1]/notify"}, []string{"notify_url"}},
		{"link-local", busifavor.SetCallbacksRequest{NotifyURL: "https://169.254.169.254/notify"}, []string{"notify_url"}},
		{"unspecified", busifavor.SetCallbacksRequest{NotifyURL: "https://0.0.0.0/notify"}, []string{"notify_url"}},
		{"public IP", busifavor.SetCallbacksRequest{NotifyURL: "https://203.0.113.7/notify"}, nil},
		{"public host with port", busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn:8443/notify"}, nil},
		{"host named like localhost", busifavor.SetCallbacksRequest{NotifyURL: "https://localhost.example.com/n"}, nil},
		{"both fields bad", busifavor.SetCallbacksRequest{MchID: "123", NotifyURL: "http://a.cn/n?x=1"}, []string{"mchid", "notify_url", "notify_url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.req.Validate()
			if tt.fields == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, busifavor.ErrValidation)
			var ve *busifavor.ValidationError
			require.True(t, errors.As(err, &ve))
			var got []string
			for _, f := range ve.Fields {
				got = append(got, f.Field)
				assert.NotEmpty(t, f.Reason)
				assert.Contains(t, err.Error(), f.Field+": "+f.Reason)
			}
			assert.Equal(t, tt.fields, got)
		})
	}
}

func TestValidateReasonsSayWhatToFix(t *testing.T) {
	err := busifavor.SetCallbacksRequest{MchID: "1234567", NotifyURL: "http://10.0.0.1/n?a=b"}.Validate()
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{"mchid: must be 8 to 15 bytes long, got 7", "must use https", "private address", "query parameters"} {
		assert.Contains(t, msg, want)
	}
}

func TestValidateGetCallbacksRequest(t *testing.T) {
	assert.NoError(t, busifavor.GetCallbacksRequest{}.Validate())
	assert.NoError(t, busifavor.GetCallbacksRequest{MchID: "12345678"}.Validate())
	assert.NoError(t, busifavor.GetCallbacksRequest{MchID: "123456789012345"}.Validate())
	for _, bad := range []string{"1234567", "1234567890123456", "1234 5678", "12345678\t"} {
		err := busifavor.GetCallbacksRequest{MchID: bad}.Validate()
		var ve *busifavor.ValidationError
		require.True(t, errors.As(err, &ve), "mchid %q", bad)
		assert.Equal(t, "mchid", ve.Fields[0].Field)
	}
}

// TestPathIDsRefuseDotSegments sends "." and ".." as every path parameter of
// every endpoint: url.PathEscape leaves them alone and a URL resolver removes
// them, so GetStock{".."} would read /v3/marketing/busifavor and
// UpdateStockBudget{"."} the stock "budget". Each is refused naming the
// field, and nothing is sent.
func TestPathIDsRefuseDotSegments(t *testing.T) {
	s, c := newFake(t, nil)
	calls := map[string]func(id string) error{
		"GetStock.stock_id": func(id string) error {
			_, err := c.GetStock(ctx, busifavor.GetStockRequest{StockID: id})
			return err
		},
		"UpdateStock.stock_id": func(id string) error {
			_, err := c.UpdateStock(ctx, busifavor.UpdateStockRequest{StockID: id, OutRequestNo: "u", Comment: "c"})
			return err
		},
		"UpdateStockBudget.stock_id": func(id string) error {
			_, err := c.UpdateStockBudget(ctx, busifavor.UpdateStockBudgetRequest{StockID: id, ModifyBudgetRequestNo: "b", TargetMaxCoupons: 2, CurrentMaxCoupons: 1})
			return err
		},
		"UploadCouponCodes.stock_id": func(id string) error {
			_, err := c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: id, CouponCodeList: []string{"C1"}, UploadRequestNo: "u"})
			return err
		},
		"BatchUploadCouponCodes.stock_id": func(id string) error {
			_, err := c.BatchUploadCouponCodes(ctx, busifavor.BatchUploadCouponCodesRequest{StockID: id, Codes: []string{"C1"}, UploadRequestNoPrefix: "u"})
			return err
		},
		"ListCouponCodes.stock_id": func(id string) error {
			_, err := c.ListCouponCodes(ctx, busifavor.ListCouponCodesRequest{StockID: id})
			return err
		},
		"GetCouponCode.stock_id": func(id string) error {
			_, err := c.GetCouponCode(ctx, busifavor.GetCouponCodeRequest{StockID: id, CouponCode: "C1"})
			return err
		},
		"GetCouponCode.coupon_code": func(id string) error {
			_, err := c.GetCouponCode(ctx, busifavor.GetCouponCodeRequest{StockID: "1", CouponCode: id})
			return err
		},
		"DeleteCouponCode.stock_id": func(id string) error {
			_, err := c.DeleteCouponCode(ctx, busifavor.DeleteCouponCodeRequest{StockID: id, CouponCode: "C1", DeleteRequestNo: "d"})
			return err
		},
		"DeleteCouponCode.coupon_code": func(id string) error {
			_, err := c.DeleteCouponCode(ctx, busifavor.DeleteCouponCodeRequest{StockID: "1", CouponCode: id, DeleteRequestNo: "d"})
			return err
		},
		"GetUserCoupon.openid": func(id string) error {
			_, err := c.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{OpenID: id, CouponCode: "C1", AppID: testAppid})
			return err
		},
		"GetUserCoupon.coupon_code": func(id string) error {
			_, err := c.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{OpenID: testOpenid, CouponCode: id, AppID: testAppid})
			return err
		},
		"GetUserCoupon.appid": func(id string) error {
			_, err := c.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{OpenID: testOpenid, CouponCode: "C1", AppID: id})
			return err
		},
		"ListUserCoupons.openid": func(id string) error {
			_, err := c.ListUserCoupons(ctx, busifavor.ListUserCouponsRequest{OpenID: id, AppID: testAppid})
			return err
		},
		"AllUserCoupons.openid": func(id string) error {
			for _, err := range c.AllUserCoupons(ctx, busifavor.ListUserCouponsRequest{OpenID: id, AppID: testAppid}) {
				return err
			}
			return nil
		},
		"AllCouponCodes.stock_id": func(id string) error {
			for _, err := range c.AllCouponCodes(ctx, busifavor.ListCouponCodesRequest{StockID: id}) {
				return err
			}
			return nil
		},
		"SendGovCard.card_id": func(id string) error {
			_, err := c.SendGovCard(ctx, busifavor.SendGovCardRequest{CardID: id, AppID: testAppid, OpenID: testOpenid, OutRequestNo: "g", SendTime: time.Now()})
			return err
		},
	}
	for name, call := range calls {
		field := name[strings.IndexByte(name, '.')+1:]
		for _, id := range []string{".", ".."} {
			err := call(id)
			require.ErrorIs(t, err, busifavor.ErrValidation, "%s %q", name, id)
			assert.Equal(t, []string{field}, fieldsOf(err), "%s %q", name, id)
		}
	}
	assert.Empty(t, s.Requests(), "nothing was sent")
	// Dots inside an id are not segments: they still pass the path rule.
	assert.NoError(t, busifavor.GetUserCouponRequest{OpenID: "o.b", CouponCode: "C1", AppID: "wx.1"}.Validate())
}
