package redisdedup_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
	"github.com/busifavor-go/busifavor/redisdedup"
)

const shopURL = "https://shop.example.com/busifavor/notify"

// eventsEnv sets how many events TestEveryEventHandledOnceAcrossInstances
// sends (default 200; the closing figures of the delivery work used 1000).
const eventsEnv = "BUSIFAVOR_E2E_EVENTS"

// backend is one merchant backend instance: its handler function, wrapped
// with Deduplicate, behind an HTTP server.
type ledger struct {
	mu        sync.Mutex
	completed map[string]int // event id -> times fn completed
	calls     atomic.Int64   // fn calls
	failed    atomic.Int64   // fn errors
	panicked  atomic.Int64   // fn panics
	slow      atomic.Int64   // fn calls slower than WeChat Pay waits
}

// chaoticRecord is a merchant's handler function that fails, panics and is
// slow at random (longer than WeChat Pay waits, up to slowFor), and
// otherwise records the event.
func (l *ledger) chaoticRecord(wait, slowFor time.Duration) func(ctx context.Context, ev *busifavor.CouponEvent) error {
	return func(ctx context.Context, ev *busifavor.CouponEvent) error {
		l.calls.Add(1)
		switch x := rand.Float64(); {
		case x < 0.15:
			l.failed.Add(1)
			return errors.New("database down")
		case x < 0.20:
			l.panicked.Add(1)
			panic("a bug in the merchant's code")
		case x < 0.30:
			l.slow.Add(1)
			// WeChat Pay stops waiting and delivers again meanwhile.
			time.Sleep(wait + rand.N(slowFor-wait))
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		l.completed[ev.ID]++
		return nil
	}
}

// newMerchant starts a fake WeChat Pay with the merchant's notify URL set
// through the API, and returns it with a parser for its events.
func newMerchant(t *testing.T, policy busifavortest.DeliveryPolicy) (*busifavortest.Server, *busifavor.EventParser) {
	t.Helper()
	fake := busifavortest.NewServer(busifavortest.WithDeliveryPolicy(policy))
	t.Cleanup(fake.Close)
	client, err := fake.Client()
	require.NoError(t, err)
	_, err = client.SetCallbacks(context.Background(), busifavor.SetCallbacksRequest{NotifyURL: shopURL})
	require.NoError(t, err)
	parser, err := busifavor.NewEventParser(fake.APIv3Key(), fake.Verifier(),
		busifavor.WithEventLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	return fake, parser
}

// TestEveryEventHandledOnceAcrossInstances is the promise, end to end: the
// fake delivers N coupon events the way WeChat Pay does, to two backend
// instances behind a load balancer sharing one Redis, while the handler
// function fails, panics and is slow at random. Afterwards every event was
// handled to completion exactly once and none was lost.
func TestEveryEventHandledOnceAcrossInstances(t *testing.T) {
	n := 200
	if v, err := strconv.Atoi(os.Getenv(eventsEnv)); err == nil && v > 0 {
		n = v
	}
	r := startRedis(t)
	// WeChat Pay's schedule (a 5 s wait, 60 s between deliveries) and the
	// default 30 s lease, compressed but in proportion: a slow call outlives
	// the wait and sometimes the next delivery, never the lease.
	const wait, interval, lease = time.Second, time.Second, 5 * time.Second
	fake, parser := newMerchant(t, busifavortest.DeliveryPolicy{Timeout: wait, Interval: interval, Attempts: 11})
	l := &ledger{completed: map[string]int{}}
	var urls []string
	for range 2 {
		d := newDedup(t, r.Client(), redisdedup.WithLease(lease))
		srv := httptest.NewServer(eventHandler(t, parser, d, l.chaoticRecord(wait, wait+2*interval)))
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	require.NoError(t, fake.Route(shopURL, urls...))

	ids := make([]string, n)
	for i := range ids {
		id, err := fake.ClaimCoupon("", busifavor.CouponSend{CouponCode: "C" + strconv.Itoa(i), StockID: "1234567891"})
		require.NoError(t, err)
		ids[i] = id
	}
	wctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	statuses := map[int]int{}
	deliveries, lost := 0, 0
	for _, id := range ids {
		out, err := fake.WaitEvent(wctx, id)
		require.NoError(t, err)
		if !out.Acknowledged {
			lost++
		}
		deliveries += len(out.Statuses)
		for _, s := range out.Statuses {
			statuses[s]++
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	notOnce := 0
	for _, id := range ids {
		if c := l.completed[id]; c != 1 {
			notOnce++
			t.Errorf("event %s completed %d times", id, c)
		}
	}
	assert.Zero(t, lost, "events WeChat Pay gave up on")
	assert.Len(t, l.completed, n, "events handled to completion")
	suppressed := int64(deliveries) - l.calls.Load() - int64(statuses[http.StatusServiceUnavailable])
	t.Logf("%d events, 2 instances, 1 Redis: %d deliveries (%.2f per event; answers %v, 0 = no answer in %s); "+
		"fn called %d times (%d failed, %d panicked, %d slow); %d duplicate deliveries suppressed; "+
		"completed other than once %d; lost %d",
		n, deliveries, float64(deliveries)/float64(n), statuses, wait,
		l.calls.Load(), l.failed.Load(), l.panicked.Load(), l.slow.Load(), suppressed, notOnce, lost)
}

// TestRedisDownMeans5xxAndNothingLost stops Redis while WeChat Pay delivers:
// every delivery meanwhile gets 503 (never 204, never a call of fn), and
// once Redis is back the event is handled, once.
func TestRedisDownMeans5xxAndNothingLost(t *testing.T) {
	r := startRedis(t)
	fake, parser := newMerchant(t, busifavortest.DeliveryPolicy{Timeout: 2 * time.Second, Interval: 50 * time.Millisecond, Attempts: 11})
	var calls atomic.Int64
	d := newDedup(t, r.Client())
	srv := httptest.NewServer(eventHandler(t, parser, d,
		func(context.Context, *busifavor.CouponEvent) error { calls.Add(1); return nil }))
	t.Cleanup(srv.Close)
	require.NoError(t, fake.Route(shopURL, srv.URL))

	r.stop()
	id, err := fake.ClaimCoupon("", busifavor.CouponSend{CouponCode: "C1"})
	require.NoError(t, err)
	for deadline := time.Now().Add(20 * time.Second); len(fake.Deliveries()) < 3; {
		require.True(t, time.Now().Before(deadline), "no deliveries")
		time.Sleep(5 * time.Millisecond)
	}
	assert.Zero(t, calls.Load(), "fn is never called without a claim")
	r.start()
	out, err := fake.WaitEvent(context.Background(), id)
	require.NoError(t, err)
	assert.True(t, out.Acknowledged, "handled once Redis is back: %v", out.Statuses)
	assert.EqualValues(t, 1, calls.Load())
	for _, s := range out.Statuses[:len(out.Statuses)-1] {
		assert.Equal(t, http.StatusServiceUnavailable, s, "while Redis was down: %v", out.Statuses)
	}
	assert.Equal(t, http.StatusNoContent, out.Statuses[len(out.Statuses)-1])

	// Restarted (empty, as without persistence) mid-run: the next event is
	// handled as well.
	r.restart()
	id, err = fake.ClaimCoupon("", busifavor.CouponSend{CouponCode: "C2"})
	require.NoError(t, err)
	out, err = fake.WaitEvent(context.Background(), id)
	require.NoError(t, err)
	assert.True(t, out.Acknowledged, "%v", out.Statuses)
	assert.EqualValues(t, 2, calls.Load())
}
