package busifavorotel_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavorotel"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// What busifavorotel adds to a call and to a notification, on the SDK's
// providers as a service would run them: spans through a batch span
// processor (to an exporter that drops them, so nothing is kept), metrics
// aggregated for a reader. SetCallbacks and Event run the same work
// without and with the observer; the Observer benchmarks time the
// observer's methods alone.

// discard is a span exporter that drops what it is given.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// benchObserver is an Observer on SDK providers.
func benchObserver(b *testing.B) *busifavorotel.Observer {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = tp.Shutdown(ctx); _ = mp.Shutdown(ctx) })
	return busifavorotel.New(busifavorotel.WithTracerProvider(tp), busifavorotel.WithMeterProvider(mp))
}

// canned answers every request in memory with one signed answer.
type canned struct {
	body   []byte
	header http.Header
}

func (c *canned) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: c.header.Clone(), Body: io.NopCloser(bytes.NewReader(c.body)), ContentLength: int64(len(c.body)), Request: r}, nil
}

// impls runs the same work without and with the observer, as
// sub-benchmarks impl=none and impl=otel (for benchstat -col /impl). Each
// reports, beside the time per run, the process's CPU time per run
// (cpu-ns/op, from getrusage: every goroutine's, the span processor's and
// the garbage collector's included), which a shared, loaded machine
// disturbs far less than the time.
func impls(b *testing.B, none, otel func()) {
	for _, impl := range []struct {
		name string
		run  func()
	}{{"none", none}, {"otel", otel}} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			before := cpuTime(b)
			for b.Loop() {
				impl.run()
			}
			b.ReportMetric(float64((cpuTime(b)-before).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSetCallbacks is a whole call, a request signature and an answer
// verification, on a canned answer signed by busifavortest's key, without
// and with the observer.
func BenchmarkSetCallbacks(b *testing.B) {
	s := busifavortest.NewServer()
	b.Cleanup(s.Close)
	body := []byte(`{"update_time":"2026-11-27T10:00:00+08:00","notify_url":"https://example.com/busifavor/notify","mchid":"` + s.MchID() + `"}`)
	h := s.SignNotification(body) // an answer is signed as a notification is
	h.Set("Request-ID", "08BENCH")
	cc, err := core.NewClient(ctx, append(s.ClientOptions(), option.WithHTTPClient(&http.Client{Transport: &canned{body: body, header: h}}))...)
	if err != nil {
		b.Fatal(err)
	}
	plain, err := busifavor.NewClient(cc)
	if err != nil {
		b.Fatal(err)
	}
	observed, err := busifavor.NewClient(cc, busifavor.WithObserver(benchObserver(b)))
	if err != nil {
		b.Fatal(err)
	}
	req := busifavor.SetCallbacksRequest{NotifyURL: "https://example.com/busifavor/notify"}
	call := func(c *busifavor.Client) func() {
		return func() {
			if _, err := c.SetCallbacks(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	}
	impls(b, call(plain), call(observed))
}

// BenchmarkEvent is a notification through NewEventHandler with
// Deduplicate over memory, without and with the observer:
// verified, decrypted, claimed, handled and completed. The deduplicator
// forgets each id at once (a TTL of a nanosecond on a clock that jumps an
// hour a reading), so one signed notification serves every iteration and
// each is handled.
func BenchmarkEvent(b *testing.B) {
	s := busifavortest.NewServer()
	b.Cleanup(s.Close)
	header, body := s.CouponNotification(busifavor.CouponSend{CouponCode: "CODE-0001", StockID: "1200000001", OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"})
	handler := func(obs *busifavorotel.Observer) func() {
		var popts []busifavor.EventOption
		var dopts []busifavor.DedupOption
		if obs != nil {
			popts, dopts = append(popts, busifavor.WithEventObserver(obs)), append(dopts, busifavor.WithDedupObserver(obs))
		}
		parser, err := busifavor.NewEventParser(s.APIv3Key(), s.Verifier(), popts...)
		if err != nil {
			b.Fatal(err)
		}
		var tick time.Time
		clock := func() time.Time { tick = tick.Add(time.Hour); return tick }
		mem, err := busifavor.NewMemoryDeduplicator(10, busifavor.WithDoneTTL(time.Nanosecond), busifavor.WithMemoryClock(clock))
		if err != nil {
			b.Fatal(err)
		}
		deduped, err := busifavor.Deduplicate(mem, func(context.Context, *busifavor.CouponEvent) error { return nil }, dopts...)
		if err != nil {
			b.Fatal(err)
		}
		h := busifavor.NewEventHandler(parser, deduped)
		return func() {
			req := httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(body))
			req.Header = header
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusNoContent {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	}
	impls(b, handler(nil), handler(benchObserver(b)))
}

// BenchmarkObserverCall is what the observer does for a call of one
// attempt, alone.
func BenchmarkObserverCall(b *testing.B) {
	obs := benchObserver(b)
	call := busifavor.Call{Operation: "SetCallbacks", Method: http.MethodPost, Path: "/v3/marketing/busifavor/callbacks"}
	b.ReportAllocs()
	before := cpuTime(b)
	defer func() { b.ReportMetric(float64((cpuTime(b)-before).Nanoseconds())/float64(b.N), "cpu-ns/op") }()
	for b.Loop() {
		ctx := obs.StartCall(ctx, call)
		obs.EndAttempt(ctx, busifavor.Attempt{Call: call, Number: 1, Host: "api.mch.weixin.qq.com", StatusCode: 200, RequestID: "08BENCH", Duration: time.Millisecond})
		obs.EndCall(ctx, busifavor.CallResult{Call: call, Attempts: 1, StatusCode: 200, RequestID: "08BENCH", Duration: time.Millisecond})
	}
}

// BenchmarkObserverEvent is what the observer does for a handled
// notification (a claim, a completion), alone.
func BenchmarkObserverEvent(b *testing.B) {
	obs := benchObserver(b)
	id := "0c3a3f3e-1c5b-5b6e-9f2a-2f0a4c1e7d11"
	b.ReportAllocs()
	before := cpuTime(b)
	defer func() { b.ReportMetric(float64((cpuTime(b)-before).Nanoseconds())/float64(b.N), "cpu-ns/op") }()
	for b.Loop() {
		ctx := obs.StartEvent(ctx)
		obs.EndStoreCall(ctx, busifavor.StoreCall{Op: busifavor.StoreClaim, EventID: id, Status: busifavor.ClaimStatusClaimed, Duration: time.Microsecond})
		obs.EndStoreCall(ctx, busifavor.StoreCall{Op: busifavor.StoreComplete, EventID: id, Duration: time.Microsecond})
		obs.EndEvent(ctx, busifavor.EventResult{Outcome: busifavor.EventHandled, StatusCode: 204, EventID: id, EventType: "COUPON.SEND",
			Duration: 50 * time.Microsecond, ParseDuration: 40 * time.Microsecond, HandlerDuration: 5 * time.Microsecond})
	}
}
