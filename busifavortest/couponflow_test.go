package busifavortest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

func TestCouponFlow(t *testing.T) {
	ctx := context.Background()
	fake := busifavortest.NewServer()
	defer fake.Close()

	// The code under test, given a client for the fake instead of WeChat Pay.
	client, err := fake.Client()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.SetCallbacks(ctx, busifavor.SetCallbacksRequest{
		NotifyURL: "https://shop.example.com/busifavor/notify",
	}); err != nil {
		t.Fatal(err)
	}

	// The client retries a 5xx answer, as WeChat Pay advises.
	fake.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 500})
	if _, err := client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{}); err != nil {
		t.Fatal(err)
	}

	// The merchant's real notification handler, served locally.
	parser, err := busifavor.NewEventParser(fake.APIv3Key(), fake.Verifier())
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	srv := httptest.NewServer(busifavor.NewEventHandler(parser,
		func(ctx context.Context, ev *busifavor.CouponEvent) error {
			got <- ev.Coupon.CouponCode
			return nil
		}))
	defer srv.Close()
	resp, err := fake.SendCouponEvent(ctx, srv.URL, busifavor.CouponSend{CouponCode: "C1", StockID: "S1"})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("event answered %s", resp.Status)
	}
	if code := <-got; code != "C1" {
		t.Fatalf("handled %q", code)
	}
}
