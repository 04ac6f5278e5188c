package redisdedup_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core/auth"
	"github.com/wechatpay-apiv3/wechatpay-go/core/notify"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// BenchmarkEventHandler delivers b.N distinct, signed COUPON.SEND
// notifications, from parallel goroutines, to a handler that verifies,
// decrypts and de-duplicates them and records each: busifavor's
// NewEventHandler with Deduplicate over the in-memory deduplicator and over
// redisdedup on a loopback Redis, and wechatpay-go's notify.Handler with a
// map. It reports events/s and the p50 and p99 time per event, with one
// delivery in flight per CPU (-cpu raises that). The
// notifications are signed before the timer starts (an RSA signature each),
// so run it with a fixed count: -benchtime 2000x.
func BenchmarkEventHandler(b *testing.B) {
	fake := busifavortest.NewServer()
	b.Cleanup(fake.Close)
	parser, err := busifavor.NewEventParser(fake.APIv3Key(), fake.Verifier())
	if err != nil {
		b.Fatal(err)
	}
	record := func(context.Context, *busifavor.CouponEvent) error { return nil }

	b.Run("impl=busifavor-memory", func(b *testing.B) {
		d, err := busifavor.NewMemoryDeduplicator(1_000_000, busifavor.WithDoneTTL(time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		benchHandler(b, fake, eventHandler(b, parser, d, record))
	})
	b.Run("impl=busifavor-redis", func(b *testing.B) {
		r := startRedisB(b)
		d := newDedup(b, r.Client())
		benchHandler(b, fake, eventHandler(b, parser, d, record))
	})
	b.Run("impl=wechatpay-go-map", func(b *testing.B) {
		nh, err := notify.NewRSANotifyHandler(fake.APIv3Key(), fake.Verifier().(auth.Verifier))
		if err != nil {
			b.Fatal(err)
		}
		var mu sync.Mutex
		seen := map[string]bool{}
		benchHandler(b, fake, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var content map[string]any
			req, err := nh.ParseNotifyRequest(r.Context(), r, &content)
			if err != nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			mu.Lock()
			dup := seen[req.ID]
			seen[req.ID] = true
			mu.Unlock()
			if !dup {
				_ = record(r.Context(), nil)
			}
			w.WriteHeader(http.StatusNoContent)
		}))
	})
}

// benchHandler delivers b.N distinct notifications to h in parallel.
func benchHandler(b *testing.B, fake *busifavortest.Server, h http.Handler) {
	type note struct {
		header http.Header
		body   []byte
	}
	notes := make([]note, b.N)
	for i := range notes {
		notes[i].header, notes[i].body = fake.CouponNotification(busifavor.CouponSend{CouponCode: "C", StockID: "1234567891"})
	}
	took := make([]time.Duration, b.N)
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(notes[i].body))
			req.Header = notes[i].header.Clone()
			rec := httptest.NewRecorder()
			t0 := time.Now()
			h.ServeHTTP(rec, req)
			took[i] = time.Since(t0)
			if rec.Code != http.StatusNoContent {
				b.Errorf("answered %d", rec.Code)
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(took[b.N/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[b.N*99/100].Microseconds()), "p99-µs")
}
