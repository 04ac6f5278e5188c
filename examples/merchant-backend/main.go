// Command merchant-backend is an example merchant backend: it sets its
// coupon notify URL at start-up and serves the event handler with a
// deduplicator. Copy it and replace Record with your own storage.
//
//	WECHATPAY_MCHID=… WECHATPAY_CERT_SERIAL=… WECHATPAY_PRIVATE_KEY_FILE=… \
//	WECHATPAY_PUBLIC_KEY_ID=… WECHATPAY_PUBLIC_KEY_FILE=… WECHATPAY_APIV3_KEY=… \
//	NOTIFY_URL=https://shop.example.com/busifavor/notify ADDR=:8443 \
//	go run ./examples/merchant-backend
//
// Its test, backend_test.go, is an integration test against busifavortest
// that you can copy too.
package main

import (
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/busifavor-go/busifavor"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
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
		env("WECHATPAY_MCHID"), env("WECHATPAY_CERT_SERIAL"), privateKey, env("WECHATPAY_PUBLIC_KEY_ID"), publicKey))
	if err != nil {
		log.Fatal(err)
	}
	client, err := busifavor.NewClient(cc, busifavor.WithLogger(logger))
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
			// Replace with your queue or table. Keep it quick.
			return json.NewEncoder(os.Stdout).Encode(ev.Coupon)
		},
	}
	if err := b.Start(ctx); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /busifavor/notify", b.Handler())
	srv := &http.Server{Addr: env("ADDR"), Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	// WeChat Pay only calls https URLs: terminate TLS here or in front.
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
