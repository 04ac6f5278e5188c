package busifavor

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/wechatpay-apiv3/wechatpay-go/services/merchantexclusivecoupon"
)

// userCouponsBody is a ListUserCoupons answer with n coupons, every field
// set.
func userCouponsBody(n int) []byte {
	one := `{"belong_merchant":"1900000001","stock_name":"商家券","comment":"xxx","goods_name":"xxx","stock_type":"NORMAL","transferable":false,"shareable":false,` +
		`"coupon_state":"SENDED","display_pattern_info":{"description":"xxx门店可用","merchant_logo_url":"https://xxx","merchant_name":"xxxx","background_color":"xxxxx","coupon_image_url":"https://qpic.cn/xxx"},` +
		`"coupon_use_rule":{"coupon_available_time":{"available_begin_time":"2015-05-20T13:29:35.120+08:00","available_end_time":"2015-05-20T13:29:35.120+08:00","available_day_after_receive":3,` +
		`"available_week":{"week_day":[1,2],"available_day_time":[{"begin_time":3600,"end_time":86399}]},"irregulary_avaliable_time":[{"begin_time":"2015-05-20T13:29:35.120+08:00","end_time":"2015-05-20T13:29:35.120+08:00"}],"wait_days_after_receive":7},` +
		`"fixed_normal_coupon":{"discount_amount":5,"transaction_minimum":100},"use_method":"OFF_LINE","mini_programs_appid":"wx23232232323","mini_programs_path":"/path/index/index"},` +
		`"custom_entrance":{"mini_programs_info":{"mini_programs_appid":"wx234545656765876","mini_programs_path":"/path/index/index","entrance_words":"欢迎选购","guiding_words":"获取更多优惠"},"appid":"wx324345hgfhfghfg","hall_id":"233455656","store_id":"233554655","code_display_mode":"NOT_SHOW"},` +
		`"coupon_code":"123446565767","stock_id":"1002323","available_start_time":"2015-05-20T13:29:35.120+08:00","expire_time":"2015-05-20T13:29:35.120+08:00","receive_time":"2015-05-20T13:29:35.120+08:00",` +
		`"send_request_no":"MCHSEND202003101234","use_request_no":"MCHUSE202003101234","use_time":"2015-05-20T13:29:35.120+08:00"}`
	items := make([]string, n)
	for i := range items {
		items[i] = one
	}
	return []byte(fmt.Sprintf(`{"data":[%s],"total_count":%d,"limit":20,"offset":1}`, strings.Join(items, ","), n))
}

func BenchmarkDecodeListUserCoupons(b *testing.B) {
	for _, n := range []int{20, 100} {
		body := userCouponsBody(n)
		b.Run(fmt.Sprintf("n=%d/impl=busifavor", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var r ListUserCouponsResponse
				if err := decodeAnswer(&answer{status: 200, body: body}, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("n=%d/impl=wechatpay-go", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var r merchantexclusivecoupon.CouponListResponse
				if err := json.Unmarshal(body, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
