package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// TestBackend is an integration test of the whole coupon flow against the
// fake WeChat Pay: copy it next to your own backend.
func TestBackend(t *testing.T) {
	ctx := context.Background()
	fake := busifavortest.NewServer()
	defer fake.Close()

	client, err := fake.Client()
	if err != nil {
		t.Fatal(err)
	}
	parser, err := busifavor.NewEventParser(fake.APIv3Key(), fake.Verifier())
	if err != nil {
		t.Fatal(err)
	}
	seen, err := busifavor.NewMemoryDeduplicator(1000, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var recorded []busifavor.CouponSend
	b := &Backend{
		Client: client, Parser: parser, Seen: seen,
		NotifyURL: "https://shop.example.com/busifavor/notify",
		Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Record: func(ctx context.Context, ev *busifavor.CouponEvent) error {
			mu.Lock()
			defer mu.Unlock()
			recorded = append(recorded, ev.Coupon)
			return nil
		},
	}

	// Start-up sets the URL; a second start-up finds it in effect and sends
	// no SET.
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := fake.NotifyURL(fake.MchID()); got != b.NotifyURL {
		t.Fatalf("notify URL is %q", got)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sets := 0
	for _, r := range fake.Requests() {
		if r.Method == http.MethodPost {
			sets++
		}
	}
	if sets != 1 {
		t.Fatalf("%d SETs, want 1", sets)
	}

	// A WeChat Pay outage at start-up is retried.
	fake.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.CodeSystemError, Status: 500})
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}

	// Events: delivered twice, recorded once; a forged one is refused.
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	coupon := busifavor.CouponSend{CouponCode: "C-1001", StockID: "1234567891", SendChannel: busifavor.SendChannelMiniApp}
	header, body := fake.CouponNotification(coupon)
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header = header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("delivery answered %d", resp.StatusCode)
		}
	}
	forger := busifavortest.NewServer()
	defer forger.Close()
	resp, err := forger.SendCouponEvent(ctx, srv.URL, coupon)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged event answered %d", resp.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(recorded) != 1 || recorded[0].CouponCode != "C-1001" {
		t.Fatalf("recorded %+v", recorded)
	}
}
