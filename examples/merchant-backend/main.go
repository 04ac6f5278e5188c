// Command merchant-backend is an example merchant backend to copy: it sets
// its coupon notify URL at start-up, receives coupon events with a
// deduplicator, and records each COUPON.SEND once in a database, even across
// a crash (see README.md: the inbox row is committed with the effect).
//
//	WECHATPAY_MCHID=… WECHATPAY_CERT_SERIAL=… WECHATPAY_PRIVATE_KEY_FILE=… \
//	WECHATPAY_PUBLIC_KEY_ID=… WECHATPAY_PUBLIC_KEY_FILE=… WECHATPAY_APIV3_KEY=… \
//	NOTIFY_URL=https://shop.example.com/busifavor/notify ADDR=:8080 \
//	go run .
//
// DATABASE_URL picks the database: unset, SQLite in the file
// merchant-backend.db in the working directory (pure Go, nothing to
// install); sqlite:PATH, SQLite in PATH; postgres://… or postgresql://…,
// PostgreSQL. The tables are created at start-up when missing.
//
// WECHATPAY_BASE_URL, when set, replaces https://api.mch.weixin.qq.com (a
// proxy; main_test.go sets it to busifavortest).
//
// OTEL_TRACES_EXPORTER=console prints a span per call and per event on
// stdout (busifavorotel; see README.md, Observing it).
//
// WeChat Pay only calls https URLs. By default the backend serves plain HTTP
// on ADDR and TLS ends in front of it (a load balancer or reverse proxy that
// owns NOTIFY_URL's certificate). Set TLS_CERT_FILE and TLS_KEY_FILE to serve
// https on ADDR itself. It stops gracefully on SIGINT or SIGTERM.
//
// It serves NOTIFY_URL's path (https://shop.example.com/wechat/coupons is
// served at /wechat/coupons on ADDR). Each event is logged with the openid
// and the coupon code masked; the database holds them whole.
//
// Its tests, backend_test.go and main_test.go, run it against busifavortest
// on SQLite and on a PostgreSQL they start themselves; copy them too.
//
// To run it against a fake WeChat Pay, start busifavor sandbox, which
// writes sandbox.env, and configure the backend from that file alone:
//
//	busifavor sandbox --dir DIR --route https://shop.example.com/wechat/coupons=http://127.0.0.1:8080/wechat/coupons
//	. DIR/sandbox.env
//	NOTIFY_URL=https://shop.example.com/wechat/coupons ADDR=127.0.0.1:8080 go run .
//
// The sandbox delivers the COUPON.SEND of every coupon sent through it to
// the backend, and busifavor event send http://127.0.0.1:8080/wechat/coupons
// --keys-dir DIR sends it a sample signed as the sandbox signs. A test
// deployment checks itself the same way, against a sandbox of its own; the
// production deployment never loads sandbox.env, and never gets a test key:
// the backend verifies WeChat Pay's API answers and its events with one
// public key, so a test key would stop it at start-up.
package main

import (
	"context"
	"errors"
	"fmt"
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
	b, store, err := newBackend(ctx, os.Getenv, logger)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	defer b.flush(context.Background())
	if err := serve(ctx, b, os.Getenv); err != nil {
		log.Fatal(err)
	}
}

// newBackend builds the backend from the environment (see the package
// comment) and opens its database.
func newBackend(ctx context.Context, env func(string) string, logger *slog.Logger) (*Backend, *Store, error) {
	if env("WECHATPAY_MCHID") == "" {
		return nil, nil, errors.New("set the WECHATPAY_* variables (see the package comment), or run `go test` in this directory to see it work against the fake")
	}
	privateKey, err := utils.LoadPrivateKeyWithPath(env("WECHATPAY_PRIVATE_KEY_FILE"))
	if err != nil {
		return nil, nil, fmt.Errorf("WECHATPAY_PRIVATE_KEY_FILE: %w", err)
	}
	publicKey, err := utils.LoadPublicKeyWithPath(env("WECHATPAY_PUBLIC_KEY_FILE"))
	if err != nil {
		return nil, nil, fmt.Errorf("WECHATPAY_PUBLIC_KEY_FILE: %w", err)
	}
	cc, err := core.NewClient(ctx, option.WithWechatPayPublicKeyAuthCipher(
		env("WECHATPAY_MCHID"), env("WECHATPAY_CERT_SERIAL"), privateKey, env("WECHATPAY_PUBLIC_KEY_ID"), publicKey),
		option.WithHTTPClient(busifavor.NewHTTPClient(&http.Client{Timeout: 30 * time.Second})))
	if err != nil {
		return nil, nil, err
	}
	obs, flush, err := observer(env, os.Stdout, logger)
	if err != nil {
		return nil, nil, err
	}
	opts := []busifavor.Option{busifavor.WithLogger(logger)}
	popts := []busifavor.EventOption{busifavor.WithEventLogger(logger)}
	if obs != nil {
		opts, popts = append(opts, busifavor.WithObserver(obs)), append(popts, busifavor.WithEventObserver(obs))
	}
	if base := env("WECHATPAY_BASE_URL"); base != "" { // a proxy, or busifavortest in tests
		opts = append(opts, busifavor.WithBaseURL(base))
	}
	client, err := busifavor.NewClient(cc, opts...)
	if err != nil {
		return nil, nil, err
	}
	parser, err := busifavor.NewEventParser(env("WECHATPAY_APIV3_KEY"),
		verifiers.NewSHA256WithRSAPubkeyVerifier(env("WECHATPAY_PUBLIC_KEY_ID"), *publicKey), popts...)
	if err != nil {
		return nil, nil, err
	}
	// One instance: in memory. Several: redisdedup.New on a shared Redis
	// (see README.md for when it is worth having; the database alone keeps
	// each event once).
	seen, err := busifavor.NewMemoryDeduplicator(100_000)
	if err != nil {
		return nil, nil, err
	}
	store, err := OpenStore(ctx, env("DATABASE_URL"), logger)
	if err != nil {
		return nil, nil, err
	}
	logger.Info("recording coupon events", "database", store.Where)
	b := &Backend{
		Client: client, Parser: parser, Seen: seen, Log: logger,
		NotifyURL: env("NOTIFY_URL"),
		Record:    store.Record,
		Observer:  obs, shutdown: flush,
	}
	return b, store, nil
}

// serve sets the notify URL and serves the backend on ADDR until ctx ends.
func serve(ctx context.Context, b *Backend, env func(string) string) error {
	handler, err := b.Handler()
	if err != nil {
		return err
	}
	if err := b.Start(ctx); err != nil {
		return err
	}
	b.Log.Info("receiving coupon events", "addr", env("ADDR"), "path", b.Path())
	// WeChat Pay waits 5 s for an answer: a notification still arriving after
	// 10 s is not a real one, and the timeouts keep slow clients from holding
	// connections open.
	srv := &http.Server{Addr: env("ADDR"), Handler: handler, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown) // lets the events being handled finish
	}()
	if certFile, keyFile := env("TLS_CERT_FILE"), env("TLS_KEY_FILE"); certFile != "" || keyFile != "" {
		err = srv.ListenAndServeTLS(certFile, keyFile)
	} else {
		err = srv.ListenAndServe() // TLS ends in front of this server
	}
	if err != http.ErrServerClosed {
		return err
	}
	<-stopped
	return nil
}
