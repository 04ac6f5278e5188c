package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/busifavor-go/busifavor"
)

// Server timeouts. WeChat Pay waits 5 s for an answer, so a notification
// that has not arrived whole within 10 s is not a real one: the timeouts stop
// a slow client from holding a connection (and a goroutine) open.
// Variables so that a test can shorten them.
var (
	readTimeout  = 10 * time.Second
	writeTimeout = 10 * time.Second
	idleTimeout  = 60 * time.Second
)

// listen serves the notification handler on addr until ctx is done, printing
// each verified event as one JSON line, openid and unionid masked unless
// showOpenID, its codes unless showCodes. In the sandbox it then sends
// itself a sample COUPON.SEND event, so a new user sees one arrive.
func listen(ctx context.Context, env *environment, addr string, showOpenID, showCodes bool, stdout, stderr io.Writer) int {
	if env.apiV3Key == "" {
		fmt.Fprintln(stderr, "busifavor listen: notifications are encrypted with the APIv3 key: set WECHATPAY_APIV3_KEY or --apiv3-key-file")
		return exitUsage
	}
	popts := []busifavor.EventOption{busifavor.WithEventLogger(slog.New(slog.NewTextHandler(stderr, nil)))}
	if env.observer != nil {
		popts = append(popts, busifavor.WithEventObserver(env.observer))
	}
	parser, err := busifavor.NewEventParser(env.apiV3Key, env.verifier, popts...)
	if err != nil {
		fmt.Fprintf(stderr, "busifavor listen: %v\n", err)
		return exitUsage
	}
	var mu sync.Mutex // one line at a time
	handler := busifavor.NewEventHandler(parser, func(_ context.Context, ev *busifavor.CouponEvent) error {
		if !showOpenID {
			masked := ev.Masked()
			ev = &masked
		}
		if !showCodes && ev.Coupon != nil {
			masked := *ev
			masked.Coupon = maskCodes(*masked.Coupon)
			ev = &masked
		}
		mu.Lock()
		defer mu.Unlock()
		return printJSONLine(stdout, ev)
	})

	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "busifavor listen: cannot listen on --addr %q: %v\n", addr, err)
		return exitUsage
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: readTimeout, WriteTimeout: writeTimeout, IdleTimeout: idleTimeout}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	url := "http://" + l.Addr().String() + "/"
	fmt.Fprintf(stderr, "busifavor: receiving coupon events at %s (interrupt to stop)\n", url)

	if env.sandbox != nil {
		resp, err := env.sandbox.SendCouponEvent(ctx, url, busifavor.CouponSend{
			CouponCode: "sandbox-coupon-0001", StockID: "1234567891",
			SendChannel: busifavor.SendChannelAPI, SendMerchant: env.sandbox.MchID(),
		})
		if err != nil {
			fmt.Fprintf(stderr, "busifavor: sending the sample event: %v\n", err)
		} else {
			resp.Body.Close()
			fmt.Fprintf(stderr, "busifavor: the sandbox sent a sample COUPON.SEND event: answered %s\n", resp.Status)
		}
	}

	select {
	case <-ctx.Done():
	case err := <-done:
		fmt.Fprintf(stderr, "busifavor listen: %v\n", err)
		return exitAPI
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "busifavor listen: %v\n", err)
	}
	return exitOK
}

// maskCodes masks the codes a coupon event holds, bearer credentials at a
// till: the coupon code and a member card's code (MaskCode).
func maskCodes(c busifavor.CouponSend) *busifavor.CouponSend {
	c.CouponCode = busifavor.MaskCode(c.CouponCode)
	if c.AttachInfo != nil {
		a := *c.AttachInfo
		a.Code = busifavor.MaskCode(a.Code)
		c.AttachInfo = &a
	}
	return &c
}
