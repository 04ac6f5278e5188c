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

// Create a stock of coupons worth 10 yuan off 100 (amounts are in 分) that
// users can claim for three months, then read it back. The request is
// checked before it is sent; OutRequestNo makes the creation safe to retry.
func ExampleClient_CreateStock() {
	fake := busifavortest.NewServer() // stands in for WeChat Pay
	defer fake.Close()
	client, err := fake.Client()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	begin := fake.Now() // the fake's clock: a window that is open today, whatever the date
	created, err := client.CreateStock(ctx, busifavor.CreateStockRequest{
		StockName:      "满100减10元",
		BelongMerchant: fake.MchID(),
		GoodsName:      "全场可用",
		StockType:      busifavor.StockTypeNormal,
		CouponUseRule: busifavor.CouponUseRule{
			CouponAvailableTime: busifavor.AvailableTime{
				AvailableBeginTime: begin,
				AvailableEndTime:   begin.AddDate(0, 3, 0),
			},
			FixedNormalCoupon: &busifavor.FixedNormalCoupon{DiscountAmount: 1000, TransactionMinimum: 10000},
			UseMethod:         busifavor.CouponUseMethodOffline,
		},
		StockSendRule:  busifavor.StockSendRule{MaxCoupons: 1000, MaxCouponsPerUser: 1},
		OutRequestNo:   fake.MchID() + "20261127001",
		CouponCodeMode: busifavor.CouponCodeModeWechatPay,
	})
	var invalid *busifavor.ValidationError
	switch {
	case errors.As(err, &invalid):
		log.Fatalf("fix the request: %v", invalid) // nothing was sent
	case err != nil:
		log.Fatal(err)
	}

	stock, err := client.GetStock(ctx, busifavor.GetStockRequest{StockID: created.StockID})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(stock.StockName, stock.StockState, stock.CouponUseRule.FixedNormalCoupon.DiscountAmount, "分 off")
	// Output: 满100减10元 RUNNING 1000 分 off
}

// Upload any number of codes to a MERCHANT_UPLOAD stock: they go in batches
// of 200, each with its own upload_request_no, so a retried batch stores
// nothing twice and running the same list again finishes an interrupted
// upload. Every code gets an outcome.
func ExampleClient_BatchUploadCouponCodes() {
	fake := busifavortest.NewServer() // stands in for WeChat Pay
	defer fake.Close()
	client, err := fake.Client()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	stockID := createUploadStock(ctx, client, fake.MchID())

	codes := make([]string, 450)
	for i := range codes {
		codes[i] = fmt.Sprintf("SUMMER-%04d", i)
	}
	codes = append(codes, "SUMMER-0007") // a repeat is uploaded once
	report, err := client.BatchUploadCouponCodes(ctx, busifavor.BatchUploadCouponCodesRequest{
		StockID:               stockID,
		Codes:                 codes,
		UploadRequestNoPrefix: "summer-upload-1",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("batches:", len(report.RequestIDs))
	fmt.Println("uploaded:", report.Counts[busifavor.UploadOutcomeUploaded], "repeats:", report.Counts[busifavor.UploadOutcomeDuplicate])
	fmt.Println(report.Results[450].Code, report.Results[450].Outcome)
	// Output:
	// batches: 3
	// uploaded: 450 repeats: 1
	// SUMMER-0007 DUPLICATE
}

// createUploadStock creates a MERCHANT_UPLOAD stock for the examples.
func createUploadStock(ctx context.Context, client *busifavor.Client, mchID string) string {
	begin := time.Now()
	created, err := client.CreateStock(ctx, busifavor.CreateStockRequest{
		StockName: "夏日券", BelongMerchant: mchID, GoodsName: "饮品", StockType: busifavor.StockTypeNormal,
		CouponUseRule: busifavor.CouponUseRule{
			CouponAvailableTime: busifavor.AvailableTime{AvailableBeginTime: begin, AvailableEndTime: begin.AddDate(0, 1, 0)},
			FixedNormalCoupon:   &busifavor.FixedNormalCoupon{DiscountAmount: 500, TransactionMinimum: 2000},
			UseMethod:           busifavor.CouponUseMethodOffline,
		},
		StockSendRule:  busifavor.StockSendRule{MaxCoupons: 1000, MaxCouponsPerUser: 1},
		OutRequestNo:   "summer-stock-1",
		CouponCodeMode: busifavor.CouponCodeModeMerchantUpload,
	})
	if err != nil {
		log.Fatal(err)
	}
	return created.StockID
}
