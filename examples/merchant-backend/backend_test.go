package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// TestBackend is an integration test of the whole coupon flow against the
// fake WeChat Pay, recording in SQLite: copy it next to your own backend.
func TestBackend(t *testing.T) {
	ctx := context.Background()
	fake := busifavortest.NewServer()
	defer fake.Close()

	var logs bytes.Buffer // the client's and the backend's log lines
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	client, err := fake.Client(busifavor.WithLogger(logger))
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
	store, err := OpenStore(ctx, "sqlite:"+filepath.Join(t.TempDir(), "backend.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	b := &Backend{
		Client: client, Parser: parser, Seen: seen,
		NotifyURL: "https://shop.example.com/wechat/coupons",
		Log:       logger,
		Record:    store.Record,
	}

	// The first start-up, with no URL set yet, sets it without a warning;
	// a second sets the same URL again, which changes nothing.
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := fake.NotifyURL(fake.MchID()); got != b.NotifyURL {
		t.Fatalf("notify URL is %q", got)
	}
	if strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "notify URL set") {
		t.Fatalf("the first start logged:\n%s", logs.String())
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}

	// A WeChat Pay outage at start-up is retried.
	fake.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 500})
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}

	// Events arrive at the notify URL's path: delivered twice, recorded
	// once; a forged one is refused; other paths and methods are not served.
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	for path, want := range map[string]int{"/busifavor/notify": http.StatusNotFound, "/": http.StatusNotFound} {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("POST %s answered %d, want %d", path, resp.StatusCode, want)
		}
	}
	if resp, err := http.Get(srv.URL + "/wechat/coupons"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET of the notify path: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	coupon := busifavor.CouponSend{CouponCode: "C-1001", StockID: "1234567891", SendChannel: busifavor.SendChannelMiniApp}
	header, body := fake.CouponNotification(coupon)
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/wechat/coupons", bytes.NewReader(body))
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
	resp, err := forger.SendCouponEvent(ctx, srv.URL+"/wechat/coupons", coupon)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged event answered %d", resp.StatusCode)
	}
	var codes []string
	rows, err := store.db.Query("SELECT coupon_code FROM coupon_sends")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var code string
		if err := rows.Scan(&code); err != nil {
			t.Fatal(err)
		}
		codes = append(codes, code)
	}
	if err := rows.Err(); err != nil || len(codes) != 1 || codes[0] != "C-1001" {
		t.Fatalf("recorded %q (%v), want the one coupon C-1001", codes, err)
	}
}
