// Command merchant-backend is an example merchant backend: it sets its
// coupon notify URL at start-up and serves the event handler with a
// deduplicator. Copy it and replace Record with your own storage.
//
//	WECHATPAY_MCHID=… WECHATPAY_CERT_SERIAL=… WECHATPAY_PRIVATE_KEY_FILE=… \
//	WECHATPAY_PUBLIC_KEY_ID=… WECHATPAY_PUBLIC_KEY_FILE=… WECHATPAY_APIV3_KEY=… \
//	NOTIFY_URL=https://shop.example.com/busifavor/notify ADDR=:8080 \
//	go run ./examples/merchant-backend
//
// WECHATPAY_BASE_URL, when set, replaces https://api.mch.weixin.qq.com (a
// proxy; main_test.go sets it to busifavortest).
//
// WeChat Pay only calls https URLs. By default the backend serves plain HTTP
// on ADDR and TLS ends in front of it (a load balancer or reverse proxy that
// owns NOTIFY_URL's certificate). Set TLS_CERT_FILE and TLS_KEY_FILE to serve
// https on ADDR itself. It stops gracefully on SIGINT or SIGTERM.
//
// It serves NOTIFY_URL's path (https://shop.example.com/wechat/coupons is
// served at /wechat/coupons on ADDR). Coupon events are printed on stdout
// with openid, unionid and the coupon code masked.
//
// Its test, backend_test.go, is an integration test against busifavortest
// that you can copy too. To check a deployed copy, run it on a test
// deployment with the settings busifavor event send prints (a test public
// key, and a test APIv3 key unless you give your own) and send it a sample:
//
//	busifavor event send https://staging.shop.example.com/busifavor/notify
//
// Never configure the test key in production.
package main

import (
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/busifavor-go/busifavor"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.Default()
	env := os.Getenv
	if env("WECHATPAY_MCHID") == "" {
		log.Fatal("set the WECHATPAY_* variables (see the package comment), or run `go test ./examples/...` to see it work against the fake")
	}

	privateKey, err := utils.LoadPrivateKeyWithPath(env("WECHATPAY_PRIVATE_KEY_FILE"))
	if err != nil {
		log.Fatalf("WECHATPAY_PRIVATE_KEY_FILE: %v", err)
	}
	publicKey, err := utils.LoadPublicKeyWithPath(env("WECHATPAY_PUBLIC_KEY_FILE"))
	if err != nil {
		log.Fatalf("WECHATPAY_PUBLIC_KEY_FILE: %v", err)
	}
	cc, err := core.NewClient(ctx, option.WithWechatPayPublicKeyAuthCipher(
		env("WECHATPAY_MCHID"), env("WECHATPAY_CERT_SERIAL"), privateKey, env("WECHATPAY_PUBLIC_KEY_ID"), publicKey),
		option.WithHTTPClient(busifavor.NewHTTPClient(&http.Client{Timeout: 30 * time.Second})))
	if err != nil {
		log.Fatal(err)
	}
	opts := []busifavor.Option{busifavor.WithLogger(logger)}
	if base := env("WECHATPAY_BASE_URL"); base != "" { // a proxy, or busifavortest in tests
		opts = append(opts, busifavor.WithBaseURL(base))
	}
	client, err := busifavor.NewClient(cc, opts...)
	if err != nil {
		log.Fatal(err)
	}
	parser, err := busifavor.NewEventParser(env("WECHATPAY_APIV3_KEY"),
		verifiers.NewSHA256WithRSAPubkeyVerifier(env("WECHATPAY_PUBLIC_KEY_ID"), *publicKey),
		busifavor.WithEventLogger(logger))
	if err != nil {
		log.Fatal(err)
	}
	seen, err := busifavor.NewMemoryDeduplicator(100_000, time.Hour)
	if err != nil {
		log.Fatal(err)
	}

	b := &Backend{
		Client: client, Parser: parser, Seen: seen, Log: logger,
		NotifyURL: env("NOTIFY_URL"),
		Record: func(ctx context.Context, ev *busifavor.CouponEvent) error {
			// Replace with your queue or table (which gets ev.Coupon whole).
			// Keep it quick. What is printed is masked as the package masks
			// its logs: the user's ids (MaskID) and the coupon code, a bearer
			// credential at a till (MaskCode).
			shown := ev.Coupon.Masked()
			shown.CouponCode = busifavor.MaskCode(shown.CouponCode)
			return json.NewEncoder(os.Stdout).Encode(shown)
		},
	}
	if err := b.Start(ctx); err != nil {
		log.Fatal(err)
	}
	logger.Info("receiving coupon events", "addr", env("ADDR"), "path", b.Path())
	// WeChat Pay waits 5 s for an answer: a notification still arriving after
	// 10 s is not a real one, and the timeouts keep slow clients from holding
	// connections open.
	srv := &http.Server{Addr: env("ADDR"), Handler: b.Handler(), ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if certFile, keyFile := env("TLS_CERT_FILE"), env("TLS_KEY_FILE"); certFile != "" || keyFile != "" {
		err = srv.ListenAndServeTLS(certFile, keyFile)
	} else {
		err = srv.ListenAndServe() // TLS ends in front of this server
	}
	if err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
