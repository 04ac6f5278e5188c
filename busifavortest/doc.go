// Package busifavortest is a faithful fake WeChat Pay for testing code that
// uses the merchant-coupon (商家券) API — the notify URL, stocks, coupon codes,
// users' coupons, subsidies, the send channels and image upload — and
// receives coupon events, on loopback, with no network and no credentials.
//
// A Server verifies every request the way WeChat Pay does (the
// WECHATPAY2-SHA256-RSA2048 Authorization header and its five fields, a known
// mchid and certificate serial, a timestamp within 5 minutes, an unused
// nonce, and the RSA signature over method, URI and body), answering 401
// SIGN_ERROR with the failed check. It signs every answer (Wechatpay-*
// headers, a PUB_KEY_ID_… serial or, with WithPlatformCertificate, a
// platform certificate's), enforces the API's rules with 400 PARAM_ERROR, keeps
// the notify URL per merchant, answers unknown routes with JSON 404 and 405,
// resolves dot segments in a path as a normalising gateway would,
// records every request (Requests), fails on demand (Fail, FailOn), and signs
// and sends COUPON.SEND notifications (SendCouponEvent, CouponNotification).
//
// It also delivers events the way WeChat Pay does: ClaimCoupon makes a user
// claim a coupon, and the fake delivers the COUPON.SEND event to the notify
// URL the merchant set through the API (Route maps that public URL to local
// servers), waits for the answer and redelivers the same event, freshly
// signed, on anything but a 2xx, per the DeliveryPolicy (WeChat Pay's 5 s
// wait and 11 deliveries 60 s apart, compressible with WithDeliveryPolicy).
// WaitEvent waits for an event's outcome and Deliveries lists every
// delivery. A coupon sent through the API (SendCoupon) makes a COUPON.SEND
// on the channel BUSICOUPON_SEND_CHANNEL_API for its stock creator's notify
// URL too, delivered when that URL has a Route (the fake reaches no other).
//
// It keeps the merchant-coupon state the way WeChat Pay does: stocks
// (CreateStock and the rest, with their state on the server's clock, caps
// and uploaded codes) and users' coupons through their lifecycle. SendCoupon,
// SendGovCard and ClaimCoupon create a coupon, taking the stock's budget and,
// in MERCHANT_UPLOAD mode, an uploaded code; UseCoupon makes it USED once per
// use_request_no (a repeat answers the first result, another number
// RESOURCE_ALREADY_EXISTS); ReturnCoupon makes a used coupon SENDED again;
// DeactivateCoupon makes it DEACTIVATED; it is EXPIRED once its stock's time
// has ended. Merchant codes are unique within their stock, not across stocks
// (在批次下保证唯一). Every merchant request number is idempotent, and a
// refused request changes nothing. Where no page names the code for a
// refusal (a stock's budget used up, for one), the fake answers
// INVALID_REQUEST and says why in the message.
//
// Answers have the pages' shapes: every time is written by FormatTime
// (through Marshal), ids have their pages' lengths (subsidy receipt ids 28
// digits).
//
// Subsidy receipts settle on the server's clock as WithSubsidySettlement
// says (at once, after a delay, or failed with a reason): a payment needs a
// redeemed coupon of a NORMAL stock (the pay page: 换购券不支持; it defines
// no amount for 折扣券) and the coupon's payments stay within its discount in
// total, whatever their out_subsidy_no, net of returns; returns refer to a
// successful payment and stay within it. Payment statuses are spelt as
// wechatpay-go spells them (PAY_RECEIPT_SUCCESS) unless
// WithStatusSpelling(SpellingPages) picks the pages' SUCCESS.
//
// It plays partnerships (委托营销): build, terminate and list, the
// Idempotency-Key kept per merchant (the same key and request answer the
// first answer; the same key with another request is INVALID_REQUEST, the
// fake's choice). An ESTABLISHED partnership lets a MERCHANT partner send the
// stock's coupons (SendCoupon, and the send channels as send_coupon_merchant,
// signed with its APIv2 key from WithMerchantAPIv2Key) and an APPID partner's
// mini program offer them (ClaimMiniProgramIn); before one and after its
// end, each is refused as before.
//
// WithMaxRecorded bounds what the server remembers of traffic (requests,
// deliveries, event outcomes), and WithMaxRecordedBytes the bytes of the
// requests, so a long test holds flat memory.
//
// The fake may run as a server others reach (busifavor sandbox serves one
// with WithListener), so it serves like one: headers must arrive whole
// within 10 seconds and 64 KiB, a request within a minute, an answer be
// written within a minute, and Close waits at most 5 seconds for the
// requests under way before it closes their connections.
//
// Keys are generated per server. ClientOptions gives core.NewClient all it
// needs, and HTTPClient sends WeChat Pay's own domains to the fake, so code
// written against wechatpay-go's generated services, or a platform
// certificate downloader, works against it unchanged.
//
// A complete integration test of a merchant's setup and notification code,
// a file that compiles as pasted into a package of its own (it is
// couponflow_test.go in this package, which a test keeps equal to this text):
//
//	package busifavortest_test
//
//	import (
//		"context"
//		"net/http"
//		"net/http/httptest"
//		"testing"
//
//		"github.com/busifavor-go/busifavor"
//		"github.com/busifavor-go/busifavor/busifavortest"
//	)
//
//	func TestCouponFlow(t *testing.T) {
//		ctx := context.Background()
//		fake := busifavortest.NewServer()
//		defer fake.Close()
//
//		// The code under test, given a client for the fake instead of WeChat Pay.
//		client, err := fake.Client()
//		if err != nil {
//			t.Fatal(err)
//		}
//		if _, err := client.SetCallbacks(ctx, busifavor.SetCallbacksRequest{
//			NotifyURL: "https://shop.example.com/busifavor/notify",
//		}); err != nil {
//			t.Fatal(err)
//		}
//
//		// The client retries a 5xx answer, as WeChat Pay advises.
//		fake.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 500})
//		if _, err := client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{}); err != nil {
//			t.Fatal(err)
//		}
//
//		// The merchant's real notification handler, served locally.
//		parser, err := busifavor.NewEventParser(fake.APIv3Key(), fake.Verifier())
//		if err != nil {
//			t.Fatal(err)
//		}
//		got := make(chan string, 1)
//		srv := httptest.NewServer(busifavor.NewEventHandler(parser,
//			func(ctx context.Context, ev *busifavor.CouponEvent) error {
//				got <- ev.Coupon.CouponCode
//				return nil
//			}))
//		defer srv.Close()
//		resp, err := fake.SendCouponEvent(ctx, srv.URL, busifavor.CouponSend{CouponCode: "C1", StockID: "S1"})
//		if err != nil {
//			t.Fatal(err)
//		}
//		resp.Body.Close()
//		if resp.StatusCode != http.StatusNoContent {
//			t.Fatalf("event answered %s", resp.Status)
//		}
//		if code := <-got; code != "C1" {
//			t.Fatalf("handled %q", code)
//		}
//	}
package busifavortest
