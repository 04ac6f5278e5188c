package busifavortest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

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

	fake.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 500})
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

// A merchant backend's whole event loop, offline: the backend sets its
// notify URL on the fake, a user claims a coupon, and the fake delivers the
// event the way WeChat Pay does, again after a failure, until the backend
// acknowledges it; the deduplicated handler records it once.
func ExampleServer_ClaimCoupon() {
	ctx := context.Background()
	fake := busifavortest.NewServer(busifavortest.WithDeliveryPolicy(busifavortest.DeliveryPolicy{
		Timeout: 5 * time.Second, Interval: time.Millisecond, Attempts: 11, // WeChat Pay waits 60 s between deliveries
	}))
	defer fake.Close()

	// The backend: the notify URL set through the API, and its handler.
	client, err := fake.Client()
	if err != nil {
		log.Fatal(err)
	}
	const notifyURL = "https://shop.example.com/busifavor/notify"
	if _, err := client.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: notifyURL}); err != nil {
		log.Fatal(err)
	}
	parser, err := busifavor.NewEventParser(fake.APIv3Key(), fake.Verifier())
	if err != nil {
		log.Fatal(err)
	}
	seen, err := busifavor.NewMemoryDeduplicator(100_000, time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	var calls atomic.Int32
	backend := httptest.NewServer(busifavor.NewEventHandler(parser, busifavor.Deduplicate(seen,
		func(ctx context.Context, ev *busifavor.CouponEvent) error {
			if calls.Add(1) == 1 {
				return errors.New("database down") // the first delivery fails
			}
			fmt.Println("recorded", ev.Coupon.CouponCode)
			return nil
		})))
	defer backend.Close()
	if err := fake.Route(notifyURL, backend.URL); err != nil { // the public URL reaches the local server
		log.Fatal(err)
	}

	id, err := fake.ClaimCoupon("", busifavor.CouponSend{CouponCode: "C-1001", StockID: "1234567891"})
	if err != nil {
		log.Fatal(err)
	}
	out, err := fake.WaitEvent(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("acknowledged:", out.Acknowledged, "answers:", out.Statuses)
	// Output:
	// recorded C-1001
	// acknowledged: true answers: [500 204]
}
