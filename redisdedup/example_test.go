package redisdedup_test

import (
	"context"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/redisdedup"
)

// Every instance of a merchant backend serves the notify URL with the same
// Redis behind its deduplicator, so a redelivery landing on any instance is
// handled once. This example is compiled, not run.
func Example() {
	publicKey, err := utils.LoadPublicKeyWithPath(os.Getenv("WECHATPAY_PUBLIC_KEY_FILE"))
	if err != nil {
		log.Fatal(err)
	}
	parser, err := busifavor.NewEventParser(os.Getenv("WECHATPAY_APIV3_KEY"),
		verifiers.NewSHA256WithRSAPubkeyVerifier(os.Getenv("WECHATPAY_PUBLIC_KEY_ID"), *publicKey))
	if err != nil {
		log.Fatal(err)
	}
	// ContextTimeoutEnabled lets Deduplicate's deadlines bound each command.
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_ADDR"), ContextTimeoutEnabled: true})
	// Leases of 30 s, handled ids remembered for a day, apart from other
	// merchants'. New refuses a Redis that may evict keys (maxmemory-policy
	// other than noeviction), or that it cannot reach.
	seen, err := redisdedup.New(context.Background(), rdb, redisdedup.WithNamespace(os.Getenv("WECHATPAY_MCHID")))
	if err != nil {
		log.Fatal(err)
	}
	handle, err := busifavor.Deduplicate(seen, func(ctx context.Context, ev *busifavor.CouponEvent) error {
		return nil // record ev.Coupon on your queue or table; keep it quick
	})
	if err != nil {
		log.Fatal(err)
	}
	handler := busifavor.NewEventHandler(parser, handle)
	srv := &http.Server{Addr: ":8080", Handler: handler, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
