// Package busifavortest is a faithful fake WeChat Pay for testing code that
// uses the busifavor callbacks API and receives coupon events, on loopback,
// with no network and no credentials.
//
// A Server verifies every request the way WeChat Pay does (the
// WECHATPAY2-SHA256-RSA2048 Authorization header and its five fields, a known
// mchid and certificate serial, a timestamp within 5 minutes, an unused
// nonce, and the RSA signature over method, URI and body), answering 401
// SIGN_ERROR with the failed check. It signs every answer (Wechatpay-*
// headers, a PUB_KEY_ID_… serial or, with WithPlatformCertificate, a
// platform certificate's), enforces the API's rules with 400 PARAM_ERROR, keeps
// the notify URL per merchant, answers unknown routes with JSON 404 and 405,
// records every request (Requests), fails on demand (Fail, FailOn), and signs
// and sends COUPON.SEND notifications (SendCouponEvent, CouponNotification).
//
// Keys are generated per server. ClientOptions gives core.NewClient all it
// needs, and HTTPClient sends WeChat Pay's own domains to the fake, so code
// written against wechatpay-go's generated services, or a platform
// certificate downloader, works against it unchanged.
//
// A complete integration test of a merchant's setup and notification code:
//
//	func TestCouponFlow(t *testing.T) {
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
//		// WeChat Pay retries 5xx answers: the code under test must too.
//		fake.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.CodeSystemError, Status: 500})
//		if _, err := client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{}); err != nil {
//			t.Fatal(err)
//		}
//
//		// The merchant's real notification handler, served locally.
//		parser, _ := busifavor.NewEventParser(fake.APIv3Key(), fake.Verifier())
//		var got []string
//		srv := httptest.NewServer(busifavor.NewEventHandler(parser,
//			func(ctx context.Context, ev *busifavor.CouponEvent) error {
//				got = append(got, ev.Coupon.CouponCode)
//				return nil
//			}))
//		defer srv.Close()
//		resp, err := fake.SendCouponEvent(ctx, srv.URL, busifavor.CouponSend{CouponCode: "C1", StockID: "S1"})
//		if err != nil || resp.StatusCode != http.StatusNoContent {
//			t.Fatalf("event refused: %v %v", resp, err)
//		}
//		resp.Body.Close()
//		if len(got) != 1 || got[0] != "C1" {
//			t.Fatalf("handled %v", got)
//		}
//	}
package busifavortest
