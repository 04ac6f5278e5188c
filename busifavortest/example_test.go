package busifavortest_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// The package documentation's integration test, run: a merchant's setup and
// notification code against the fake.
func Example() {
	ctx := context.Background()
	fake := busifavortest.NewServer()
	defer fake.Close()

	client, err := fake.Client()
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://shop.example.com/busifavor/notify"}); err != nil {
		log.Fatal(err)
	}

	fake.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.CodeSystemError, Status: 500})
	got, err := client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.NotifyURL, "after", len(fake.Requests())-1, "attempts")

	parser, err := busifavor.NewEventParser(fake.APIv3Key(), fake.Verifier())
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(busifavor.NewEventHandler(parser, func(ctx context.Context, ev *busifavor.CouponEvent) error {
		fmt.Println("handled", ev.Coupon.CouponCode)
		return nil
	}))
	defer srv.Close()
	resp, err := fake.SendCouponEvent(ctx, srv.URL, busifavor.CouponSend{CouponCode: "C1", StockID: "S1"})
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode == http.StatusNoContent)
	// Output:
	// https://shop.example.com/busifavor/notify after 2 attempts
	// handled C1
	// true
}
