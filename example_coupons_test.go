package busifavor_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// Redeem a coupon at the till. UseRequestNo makes the call safe to retry (it
// is, on transport errors and 5xx, with the same body): a repeat returns the
// first result. The errors a till branches on are sentinels.
func ExampleClient_UseCoupon() {
	fake := busifavortest.NewServer() // stands in for WeChat Pay
	defer fake.Close()
	client, err := fake.Client()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	stockID := createUploadStock(ctx, client, fake.MchID())
	if _, err := client.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{
		StockID: stockID, CouponCodeList: []string{"SUMMER-0001"}, UploadRequestNo: "upload-1"}); err != nil {
		log.Fatal(err)
	}
	sent, err := client.SendCoupon(ctx, busifavor.SendCouponRequest{
		OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", AppID: "wx233544546545989", StockID: stockID, OutRequestNo: "send-1"})
	if err != nil {
		log.Fatal(err)
	}

	redeem := func(useRequestNo string) {
		resp, err := client.UseCoupon(ctx, busifavor.UseCouponRequest{
			CouponCode:   sent.CouponCode,
			StockID:      stockID,
			AppID:        "wx233544546545989",
			UseTime:      time.Now(),
			UseRequestNo: useRequestNo,
		})
		switch {
		case errors.Is(err, busifavor.ErrCouponUsed):
			fmt.Println(useRequestNo, "refused: already used")
		case errors.Is(err, busifavor.ErrCouponNotUsable):
			fmt.Println(useRequestNo, "refused: expired, not yet valid or deactivated")
		case errors.Is(err, busifavor.ErrCouponNotFound):
			fmt.Println(useRequestNo, "refused: no such coupon")
		case err != nil:
			fmt.Println(useRequestNo, "failed, try again with the same number:", busifavor.IsRetryable(err))
		default:
			fmt.Println(useRequestNo, "redeemed from stock", resp.StockID == stockID)
		}
	}
	redeem("till-7-0001")
	redeem("till-7-0001") // the same redemption again: the first result
	redeem("till-7-0002") // another redemption of the used coupon
	// Output:
	// till-7-0001 redeemed from stock true
	// till-7-0001 redeemed from stock true
	// till-7-0002 refused: already used
}
