package busifavor_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
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
		os.Getenv("WECHATPAY_PUBLIC_KEY_ID"), publicKey),
		// Follows no redirect and reads at most 1 MiB of an answer.
		option.WithHTTPClient(busifavor.NewHTTPClient(&http.Client{Timeout: 30 * time.Second})))
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

// NewHTTPClient makes the HTTP client under core.Client safe for WeChat
// Pay's API: a redirect is never followed (ErrRedirect), and an answer larger
// than MaxResponseBytes is cut off (ErrMalformedResponse) instead of being
// read into memory whole.
func ExampleNewHTTPClient() {
	fake := busifavortest.NewServer() // stands in for WeChat Pay
	defer fake.Close()
	merchantKey, certSerial := fake.MerchantKey()
	publicKey, publicKeyID := fake.PublicKey()

	cc, err := core.NewClient(context.Background(),
		option.WithWechatPayPublicKeyAuthCipher(fake.MchID(), certSerial, merchantKey, publicKeyID, publicKey),
		option.WithHTTPClient(busifavor.NewHTTPClient(&http.Client{Timeout: 30 * time.Second})))
	if err != nil {
		log.Fatal(err)
	}
	client, err := busifavor.NewClient(cc, busifavor.WithBaseURL(fake.URL))
	if err != nil {
		log.Fatal(err)
	}

	fake.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: http.StatusFound,
		Header: http.Header{"Location": {"https://elsewhere.example.com/"}}})
	_, err = client.GetCallbacks(context.Background(), busifavor.GetCallbacksRequest{})
	fmt.Println("redirect refused:", errors.Is(err, busifavor.ErrRedirect))

	fake.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 500, Body: strings.Repeat("x", 8<<20)})
	_, err = client.GetCallbacks(context.Background(), busifavor.GetCallbacksRequest{})
	fmt.Println("8 MiB answer cut off:", errors.Is(err, busifavor.ErrMalformedResponse))
	// Output:
	// redirect refused: true
	// 8 MiB answer cut off: true
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
	fake.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 500})
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
	fmt.Println(resp.NotifyURL, resp.MchID, !resp.UpdateTime.IsZero(), resp.RequestID != "")
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
	fmt.Println(resp.NotifyURL, resp.MchID)
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
	fake.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeFrequencyLimited})

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
	err := busifavor.SetCallbacksRequest{MchID: "1234567", NotifyURL: "http://127.0.0.1/notify?from=wechat"}.Validate()
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

// In production, serve the handler with timeouts: WeChat Pay waits 5 s for
// the answer, so a notification still arriving after 10 s is not WeChat
// Pay's, and a client dripping its body must not hold a connection open.
// This example is compiled, not run.
func ExampleNewEventHandler_production() {
	var parser *busifavor.EventParser // from NewEventParser
	var record func(context.Context, *busifavor.CouponEvent) error
	seen, err := busifavor.NewMemoryDeduplicator(100_000, time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /busifavor/notify", busifavor.NewEventHandler(parser, busifavor.Deduplicate(seen, record)))
	srv := &http.Server{
		Addr:              ":8080", // TLS ends at the load balancer in front
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}
