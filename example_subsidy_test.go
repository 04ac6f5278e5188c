package busifavor_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync/atomic"
	"time"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// Pay a subsidy for a redeemed coupon, wait for it to settle, and return it
// after the order is refunded. The creates are never simply repeated: after
// a lost answer the SDK reads whether the receipt exists before it sends the
// identical request again, and the waits only read. Keep the merchant
// numbers (OutSubsidyNo, OutSubsidyReturnNo) with the order before sending.
func ExampleClient_WaitSubsidyPayReceipt() {
	// The fake settles receipts a minute after they are created, on its clock.
	var later atomic.Int64 // how far the fake's clock runs ahead
	fake := busifavortest.NewServer(
		busifavortest.WithClock(func() time.Time { return time.Now().Add(time.Duration(later.Load())) }),
		busifavortest.WithSubsidySettlement(busifavortest.SubsidySettlement{Delay: time.Minute}))
	defer fake.Close()
	client, err := fake.Client()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	stockID, couponCode := redeemedCoupon(ctx, client, fake.MchID())

	pay := busifavor.CreateSubsidyPayReceiptRequest{
		StockID: stockID, CouponCode: couponCode, TransactionID: "4200000913202101152566792388",
		PayerMerchant: fake.MchID(), PayeeMerchant: "1900000109",
		Amount: 500, Description: "满减券补差", OutSubsidyNo: "subsidy-0001",
	}
	created, err := client.CreateSubsidyPayReceipt(ctx, pay)
	if errors.Is(err, busifavor.ErrOutcomeUnknown) {
		log.Fatal(err) // the text says how to reconcile; never pay again under a new number
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created:", created.Status)

	paid, err := client.WaitSubsidyPayReceipt(ctx,
		busifavor.ListSubsidyPayReceiptsRequest{StockID: stockID, CouponCode: couponCode, OutSubsidyNo: pay.OutSubsidyNo},
		busifavor.PollPolicy{Initial: 10 * time.Millisecond, Max: time.Second,
			Pending: func(status string) { later.Add(int64(time.Minute)) }}) // in real life, time passes by itself
	switch {
	case errors.Is(err, busifavor.ErrInsufficientBalance):
		log.Fatal("top up the payer's balance, then pay with a new OutSubsidyNo")
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println("paid:", paid.Status, paid.Amount, "分")

	fake.SetSubsidySettlement(busifavortest.SubsidySettlement{}) // returns settle at once
	created2, err := client.CreateSubsidyReturnReceipt(ctx, busifavor.CreateSubsidyReturnReceiptRequest{
		StockID: stockID, CouponCode: couponCode, TransactionID: pay.TransactionID, RefundID: "50100506732021010105138718375",
		PayerMerchant: pay.PayerMerchant, PayeeMerchant: pay.PayeeMerchant,
		Amount: 500, Description: "订单退款", OutSubsidyReturnNo: "subsidy-return-0001",
	})
	if errors.Is(err, busifavor.ErrOutcomeUnknown) {
		log.Fatal(err) // the text says how to reconcile; never return again under a new number
	} else if err != nil {
		log.Fatal(err)
	}
	returned, err := client.WaitSubsidyReturnReceipt(ctx, &created2.SubsidyReturnReceipt, busifavor.DefaultPollPolicy)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("returned:", returned.Status, returned.Amount, "分")
	// Output:
	// created: PAY_RECEIPT_ACCEPTED
	// paid: PAY_RECEIPT_SUCCESS 500 分
	// returned: RETURN_RECEIPT_SUCCESS 500 分
}

// redeemedCoupon creates a stock, sends a coupon of it and redeems it, for
// the subsidy example.
func redeemedCoupon(ctx context.Context, client *busifavor.Client, mchID string) (stockID, couponCode string) {
	begin := time.Now().Add(-time.Hour)
	stock, err := client.CreateStock(ctx, busifavor.CreateStockRequest{
		StockName: "满100减10元", BelongMerchant: mchID, GoodsName: "全场可用", StockType: busifavor.StockTypeNormal,
		CouponUseRule: busifavor.CouponUseRule{
			CouponAvailableTime: busifavor.AvailableTime{AvailableBeginTime: begin, AvailableEndTime: begin.AddDate(0, 1, 0)},
			FixedNormalCoupon:   &busifavor.FixedNormalCoupon{DiscountAmount: 1000, TransactionMinimum: 10000},
			UseMethod:           busifavor.CouponUseMethodOffline,
		},
		StockSendRule: busifavor.StockSendRule{MaxCoupons: 100, MaxCouponsPerUser: 1},
		OutRequestNo:  "subsidy-stock", CouponCodeMode: busifavor.CouponCodeModeWechatPay,
	})
	if err != nil {
		log.Fatal(err)
	}
	sent, err := client.SendCoupon(ctx, busifavor.SendCouponRequest{
		OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", AppID: "wx233544546545989", StockID: stock.StockID, OutRequestNo: "send-1"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.UseCoupon(ctx, busifavor.UseCouponRequest{
		CouponCode: sent.CouponCode, AppID: "wx233544546545989", UseTime: time.Now(), UseRequestNo: "use-1"}); err != nil {
		log.Fatal(err)
	}
	return stock.StockID, sent.CouponCode
}
