package busifavor_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// Build a client from real credentials: the merchant's API key and
// certificate serial, and WeChat Pay's public key and its id. (Merchants
// still on platform certificates use option.WithWechatPayAutoAuthCipher with
// their APIv3 key instead.) This example is compiled, not run.
func ExampleNewClient() {
	ctx := context.Background()
	privateKey, err := utils.LoadPrivateKeyWithPath(os.Getenv("WECHATPAY_PRIVATE_KEY_FILE"))
	if err != nil {
		log.Fatal(err)
	}
	publicKey, err := utils.LoadPublicKeyWithPath(os.Getenv("WECHATPAY_PUBLIC_KEY_FILE"))
	if err != nil {
		log.Fatal(err)
	}
	cc, err := core.NewClient(ctx, option.WithWechatPayPublicKeyAuthCipher(
		os.Getenv("WECHATPAY_MCHID"), os.Getenv("WECHATPAY_CERT_SERIAL"), privateKey,
		os.Getenv("WECHATPAY_PUBLIC_KEY_ID"), publicKey))
	if err != nil {
		log.Fatal(err)
	}
	client, err := busifavor.NewClient(cc)
	if err != nil {
		log.Fatal(err)
	}
	_ = client
}

// Build the notification parser from real credentials: the APIv3 key and
// WeChat Pay's public key. This example is compiled, not run.
func ExampleNewEventParser() {
	apiV3Key, publicKeyID := os.Getenv("WECHATPAY_APIV3_KEY"), os.Getenv("WECHATPAY_PUBLIC_KEY_ID")
	publicKey, err := utils.LoadPublicKeyWithPath(os.Getenv("WECHATPAY_PUBLIC_KEY_FILE"))
	if err != nil {
		log.Fatal(err)
	}
	parser, err := busifavor.NewEventParser(apiV3Key,
		verifiers.NewSHA256WithRSAPubkeyVerifier(publicKeyID, *publicKey))
	if err != nil {
		log.Fatal(err)
	}
	_ = parser
}

// Tune retries and failover; a 5xx is retried here on the same domain.
func ExampleWithRetry() {
	fake := busifavortest.NewServer(busifavortest.WithNotifyURL("10000098", "https://example.com/busifavor/notify"))
	defer fake.Close()
	client, err := fake.Client(
		busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 4, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second}),
		busifavor.WithBackupBaseURL(""), // turn failover off
	)
	if err != nil {
		log.Fatal(err)
	}
	fake.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.CodeSystemError, Status: 500})
	got, err := client.GetCallbacks(context.Background(), busifavor.GetCallbacksRequest{}) // succeeds on the retry
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.NotifyURL, "after", len(fake.Requests()), "attempts")
	// Output: https://example.com/busifavor/notify after 2 attempts
}

func ExampleClient_SetCallbacks() {
	fake := busifavortest.NewServer() // stands in for WeChat Pay
	defer fake.Close()
	client, err := fake.Client()
	if err != nil {
		log.Fatal(err)
	}

	resp, err := client.SetCallbacks(context.Background(), busifavor.SetCallbacksRequest{
		NotifyURL: "https://example.com/busifavor/notify",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.NotifyURL, resp.Mchid, !resp.UpdateTime.IsZero(), resp.RequestID != "")
	// Output: https://example.com/busifavor/notify 10000098 true true
}

func ExampleClient_GetCallbacks() {
	fake := busifavortest.NewServer(busifavortest.WithNotifyURL("10000098", "https://example.com/busifavor/notify"))
	defer fake.Close()
	client, err := fake.Client()
	if err != nil {
		log.Fatal(err)
	}

	resp, err := client.GetCallbacks(context.Background(), busifavor.GetCallbacksRequest{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.NotifyURL, resp.Mchid)
	// Output: https://example.com/busifavor/notify 10000098
}

// Branch on what went wrong with errors.Is and read the details with
// errors.As.
func Example_errors() {
	fake := busifavortest.NewServer()
	defer fake.Close()
	client, err := fake.Client(busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		log.Fatal(err)
	}
	fake.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.CodeFrequencyLimited})

	_, err = client.GetCallbacks(context.Background(), busifavor.GetCallbacksRequest{})
	var apiErr *busifavor.APIError
	switch {
	case errors.Is(err, busifavor.ErrValidation):
		fmt.Println("fix the request:", err)
	case errors.Is(err, busifavor.ErrFrequencyLimited) && errors.As(err, &apiErr):
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.Solution())
		fmt.Println("retryable:", busifavor.IsRetryable(err))
	case err != nil:
		fmt.Println("failed:", err)
	}
	// Output:
	// 429 FREQUENCY_LIMITED 调用太频繁, 请降低调用接口频率
	// retryable: true
}

// Validate reports every broken rule at once; SetCallbacks calls it first
// and sends nothing when it fails.
func ExampleSetCallbacksRequest_Validate() {
	err := busifavor.SetCallbacksRequest{Mchid: "1234567", NotifyURL: "http://127.0.0.1/notify?from=wechat"}.Validate()
	var ve *busifavor.ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			fmt.Println(f.Field+":", f.Reason)
		}
	}
	// Output:
	// mchid: must be 8 to 15 bytes long, got 7
	// notify_url: must use https, not "http"
	// notify_url: host "127.0.0.1" is a loopback address, which WeChat Pay cannot reach; use a public host name
	// notify_url: must not carry query parameters (不能携带参数); move them into the path
}

// Serve the notify URL: verified, decrypted, typed events, each handled once.
func ExampleNewEventHandler() {
	fake := busifavortest.NewServer() // signs and sends events as WeChat Pay does
	defer fake.Close()

	parser, err := busifavor.NewEventParser(fake.APIv3Key(), fake.Verifier())
	if err != nil {
		log.Fatal(err)
	}
	seen, err := busifavor.NewMemoryDeduplicator(100_000, time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	handler := busifavor.NewEventHandler(parser, busifavor.Deduplicate(seen,
		func(ctx context.Context, ev *busifavor.CouponEvent) error {
			// Keep this quick (WeChat Pay waits 5 s): queue slow work.
			fmt.Println(ev.EventType, ev.Coupon.StockID, ev.Coupon.CouponCode, ev.Coupon.SendChannel)
			return nil
		}))
	srv := httptest.NewServer(handler) // in production: http.Handle("/busifavor/notify", handler)
	defer srv.Close()

	resp, err := fake.SendCouponEvent(context.Background(), srv.URL+"/busifavor/notify", busifavor.CouponSend{
		CouponCode: "sxxe34343434", StockID: "1234567891", SendChannel: busifavor.SendChannelMiniApp,
	})
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode == http.StatusNoContent)
	// Output:
	// COUPON.SEND 1234567891 sxxe34343434 BUSICOUPON_SEND_CHANNEL_MINIAPP
	// true
}
