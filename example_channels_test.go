package busifavor_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"log"
	"net/http/httptest"
	"time"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// The whole loop of a coupon given in a mini program: upload the logo,
// create a stock with it, sign the plugin's parameters for a user, let the
// user claim (the fake plays WeChat Pay), receive the COUPON.SEND event
// once however often it is delivered, and redeem the coupon.
func ExampleCouponSigner_MiniProgram() {
	fake := busifavortest.NewServer() // stands in for WeChat Pay
	defer fake.Close()
	client, err := fake.Client()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	logo, err := client.UploadImage(ctx, busifavor.UploadImageRequest{Filename: "logo.png", Data: examplePNG()})
	if err != nil {
		log.Fatal(err)
	}
	begin := fake.Now().Truncate(time.Hour)
	stock, err := client.CreateStock(ctx, busifavor.CreateStockRequest{
		StockName: "新人券", BelongMerchant: fake.MchID(), GoodsName: "全场可用", StockType: busifavor.StockTypeNormal,
		CouponUseRule: busifavor.CouponUseRule{
			CouponAvailableTime: busifavor.AvailableTime{AvailableBeginTime: begin, AvailableEndTime: begin.AddDate(0, 1, 0)},
			FixedNormalCoupon:   &busifavor.FixedNormalCoupon{DiscountAmount: 500, TransactionMinimum: 5000},
			UseMethod:           busifavor.CouponUseMethodOffline,
		},
		StockSendRule:      busifavor.StockSendRule{MaxCoupons: 100, MaxCouponsPerUser: 1},
		DisplayPatternInfo: &busifavor.DisplayPatternInfo{MerchantLogoURL: logo.MediaURL},
		CouponCodeMode:     busifavor.CouponCodeModeWechatPay,
		OutRequestNo:       "stock-newcomer-1",
	})
	if err != nil {
		log.Fatal(err)
	}

	// The merchant's notify handler: verified, decrypted, de-duplicated.
	dedup, err := busifavor.NewMemoryDeduplicator(10000, 24*time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	parser, err := busifavor.NewEventParser(fake.APIv3Key(), fake.Verifier())
	if err != nil {
		log.Fatal(err)
	}
	claimed := make(chan busifavor.CouponSend, 1)
	handler := busifavor.NewEventHandler(parser, busifavor.Deduplicate(dedup, func(_ context.Context, ev *busifavor.CouponEvent) error {
		claimed <- ev.Coupon // record the claim
		return nil
	}))
	notify := httptest.NewServer(handler)
	defer notify.Close()
	if _, err := client.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://shop.example.com/busifavor/notify"}); err != nil {
		log.Fatal(err)
	}
	if err := fake.Route("https://shop.example.com/busifavor/notify", notify.URL); err != nil {
		log.Fatal(err)
	}

	// The backend signs the plugin's parameters with the APIv2 key.
	signer, err := busifavor.NewCouponSigner(fake.APIv2Key())
	if err != nil {
		log.Fatal(err)
	}
	params, err := signer.MiniProgram(fake.MchID(), busifavor.SendCouponItem{StockID: stock.StockID, OutRequestNo: "newcomer20240001"})
	if err != nil {
		log.Fatal(err)
	}

	// The user taps 领取 in the mini program.
	if _, err := fake.ClaimMiniProgram("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", params); err != nil {
		log.Fatal(err)
	}
	ev := <-claimed
	fmt.Println("claimed through", ev.SendChannel)

	used, err := client.UseCoupon(ctx, busifavor.UseCouponRequest{
		CouponCode: ev.CouponCode, StockID: ev.StockID, AppID: "wx233544546545989",
		UseTime: fake.Now(), UseRequestNo: "till-1-0001",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("redeemed from the stock:", used.StockID == stock.StockID)
	// Output:
	// claimed through BUSICOUPON_SEND_CHANNEL_MINIAPP
	// redeemed from the stock: true
}

// examplePNG is a blank 120×120 PNG, the logo size the stock page asks for.
func examplePNG() []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 120, 120))); err != nil {
		log.Fatal(err)
	}
	return b.Bytes()
}
