package busifavor_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// A partner merchant sends a stock's coupons (委托营销): the creator builds
// a partnership, the partner signs the mini-program plugin's parameters with
// its own APIv2 key as send_coupon_merchant, the user claims; once the
// partnership is terminated the partner's claims are refused.
func ExampleClient_BuildPartnership() {
	const partnerMchID, partnerAPIv2Key = "1900000109", "PARTNERv2KEY0123456789abcdefABCD"
	fake := busifavortest.NewServer(busifavortest.WithMerchantAPIv2Key(partnerMchID, partnerAPIv2Key)) // stands in for WeChat Pay
	defer fake.Close()
	client, err := fake.Client() // the creator's client
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	begin := fake.Now().Truncate(time.Hour)
	stock, err := client.CreateStock(ctx, busifavor.CreateStockRequest{
		StockName: "联名券", BelongMerchant: fake.MchID(), GoodsName: "全场可用", StockType: busifavor.StockTypeNormal,
		CouponUseRule: busifavor.CouponUseRule{
			CouponAvailableTime: busifavor.AvailableTime{AvailableBeginTime: begin, AvailableEndTime: begin.AddDate(0, 1, 0)},
			FixedNormalCoupon:   &busifavor.FixedNormalCoupon{DiscountAmount: 500, TransactionMinimum: 5000},
			UseMethod:           busifavor.CouponUseMethodOffline,
		},
		StockSendRule:  busifavor.StockSendRule{MaxCoupons: 100, MaxCouponsPerUser: 5},
		CouponCodeMode: busifavor.CouponCodeModeWechatPay,
		OutRequestNo:   "stock-joint-1",
	})
	if err != nil {
		log.Fatal(err)
	}

	// The creator authorizes the partner merchant. Keep the key: a retry
	// sends the same one.
	partner := busifavor.Partner{Type: busifavor.PartnerTypeMerchant, MerchantID: partnerMchID}
	stockData := busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeBusifavorStock, StockID: stock.StockID}
	p, err := client.BuildPartnership(ctx, busifavor.BuildPartnershipRequest{IdempotencyKey: "build-joint-1", Partner: partner, AuthorizedData: stockData})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("partnership", p.State)

	// The partner's backend signs with its own APIv2 key, as the sender.
	signer, err := busifavor.NewCouponSigner(partnerMchID, partnerAPIv2Key)
	if err != nil {
		log.Fatal(err)
	}
	params, err := signer.SignMiniProgram(busifavor.SendCouponItem{StockID: stock.StockID, OutRequestNo: "joint20240001"})
	if err != nil {
		log.Fatal(err)
	}
	res, err := fake.ClaimMiniProgram("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", params) // the user taps 领取
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("claimed:", res.SendCouponResult[0].Code)

	// Terminated, the partnership no longer lets the partner send.
	if _, err := client.TerminatePartnership(ctx, busifavor.TerminatePartnershipRequest{IdempotencyKey: "end-joint-1", Partner: partner, AuthorizedData: stockData}); err != nil {
		log.Fatal(err)
	}
	params, err = signer.SignMiniProgram(busifavor.SendCouponItem{StockID: stock.StockID, OutRequestNo: "joint20240002"})
	if err != nil {
		log.Fatal(err)
	}
	res, err = fake.ClaimMiniProgram("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", params)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("after terminating:", res.ErrCode, "(the plugin gives nothing)")
	// Output:
	// partnership ESTABLISHED
	// claimed: SUCCESS
	// after terminating: PARAM_ERROR (the plugin gives nothing)
}
