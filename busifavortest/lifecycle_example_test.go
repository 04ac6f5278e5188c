package busifavortest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// A coupon's whole life, offline: the merchant creates a stock, a user
// claims a coupon (the event reaches the backend, which records the code),
// the till redeems it and ties it to the order, the order is refunded and
// the coupon returned, redeemed again, deactivated, and then refused.
func ExampleServer_couponLifecycle() {
	ctx := context.Background()
	fake := busifavortest.NewServer()
	defer fake.Close()
	client, err := fake.Client()
	if err != nil {
		log.Fatal(err)
	}

	// The merchant's stock and notify URL.
	begin := fake.Now().Add(-time.Hour) // the fake's clock: open whatever the date
	stock, err := client.CreateStock(ctx, busifavor.CreateStockRequest{
		StockName: "满100减10元", BelongMerchant: fake.MchID(), GoodsName: "全场可用", StockType: busifavor.StockTypeNormal,
		CouponUseRule: busifavor.CouponUseRule{
			CouponAvailableTime: busifavor.AvailableTime{AvailableBeginTime: begin, AvailableEndTime: begin.AddDate(0, 1, 0)},
			FixedNormalCoupon:   &busifavor.FixedNormalCoupon{DiscountAmount: 1000, TransactionMinimum: 10000},
			UseMethod:           busifavor.CouponUseMethodOffline,
		},
		StockSendRule:  busifavor.StockSendRule{MaxCoupons: 100, MaxCouponsPerUser: 1},
		OutRequestNo:   "stock-001",
		CouponCodeMode: busifavor.CouponCodeModeWechatPay,
	})
	if err != nil {
		log.Fatal(err)
	}
	const notifyURL = "https://shop.example.com/busifavor/notify"
	if _, err := client.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: notifyURL}); err != nil {
		log.Fatal(err)
	}

	// The backend records each claimed coupon once.
	parser, err := busifavor.NewEventParser(fake.APIv3Key(), fake.Verifier())
	if err != nil {
		log.Fatal(err)
	}
	seen, err := busifavor.NewMemoryDeduplicator(1000, time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	var mu sync.Mutex
	var claimed []string
	backend := httptest.NewServer(busifavor.NewEventHandler(parser, busifavor.Deduplicate(seen,
		func(ctx context.Context, ev *busifavor.CouponEvent) error {
			mu.Lock()
			defer mu.Unlock()
			claimed = append(claimed, ev.Coupon.CouponCode)
			return nil
		})))
	defer backend.Close()
	if err := fake.Route(notifyURL, backend.URL); err != nil {
		log.Fatal(err)
	}

	// A user claims a coupon of the stock.
	const openid, appid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "wx233544546545989"
	event, err := fake.ClaimCoupon("", busifavor.CouponSend{StockID: stock.StockID, OpenID: openid})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := fake.WaitEvent(ctx, event); err != nil {
		log.Fatal(err)
	}
	mu.Lock()
	code := claimed[0]
	mu.Unlock()

	// The till redeems it and ties it to the order.
	use := busifavor.UseCouponRequest{CouponCode: code, StockID: stock.StockID, AppID: appid, UseTime: fake.Now(), UseRequestNo: "use-001"}
	if _, err := client.UseCoupon(ctx, use); err != nil {
		log.Fatal(err)
	}
	if _, err := client.AssociateTradeInfo(ctx, busifavor.AssociateTradeInfoRequest{
		StockID: stock.StockID, CouponCode: code, OutTradeNo: "order-001", OutRequestNo: "assoc-001"}); err != nil {
		log.Fatal(err)
	}

	// The order is refunded: the coupon goes back to the user, who uses it again.
	if _, err := client.ReturnCoupon(ctx, busifavor.ReturnCouponRequest{CouponCode: code, StockID: stock.StockID, ReturnRequestNo: "return-001"}); err != nil {
		log.Fatal(err)
	}
	use.UseRequestNo = "use-002"
	if _, err := client.UseCoupon(ctx, use); err != nil {
		log.Fatal(err)
	}
	if _, err := client.ReturnCoupon(ctx, busifavor.ReturnCouponRequest{CouponCode: code, StockID: stock.StockID, ReturnRequestNo: "return-002"}); err != nil {
		log.Fatal(err)
	}

	// The merchant deactivates it; the till is refused.
	if _, err := client.DeactivateCoupon(ctx, busifavor.DeactivateCouponRequest{CouponCode: code, StockID: stock.StockID, DeactivateRequestNo: "off-001"}); err != nil {
		log.Fatal(err)
	}
	use.UseRequestNo = "use-003"
	_, err = client.UseCoupon(ctx, use)
	fmt.Println("redeem after deactivation refused:", errors.Is(err, busifavor.ErrCouponNotUsable))

	got, err := client.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{OpenID: openid, CouponCode: code, AppID: appid})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("state:", got.CouponState, "claimed events:", len(claimed))
	// Output:
	// redeem after deactivation refused: true
	// state: DEACTIVATED claimed events: 1
}
