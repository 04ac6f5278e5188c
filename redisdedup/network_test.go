package redisdedup_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
	"github.com/busifavor-go/busifavor/redisdedup"
)

// TestAcknowledgedInTimeWhileRedisStalls is issue 18's first event bug
// against a real redis-server: instance A reaches Redis through a proxy
// that stalls once A's handler function has run, so recording the handled
// event stalls. A still answers 204 within WeChat Pay's wait, so WeChat Pay
// stops delivering and the function runs once (it used to answer only
// when go-redis gave up, after WeChat Pay had; the redelivery reached
// instance B, waited out the lease and ran the function again, and
// WeChat Pay could give up on the event meanwhile). Once the
// network recovers, A's background recording lands.
func TestAcknowledgedInTimeWhileRedisStalls(t *testing.T) {
	r := startRedis(t)
	px := startProxy(t, r.Addr())
	const wait, lease = 2 * time.Second, 10 * time.Second
	// Deliveries 1 s apart: WeChat Pay's redeliveries outlast the lease.
	fake, parser := newMerchant(t, busifavortest.DeliveryPolicy{Timeout: wait, Interval: time.Second, Attempts: 11})

	// go-redis's defaults: its own timeouts and retries, not the context's.
	viaProxy := redis.NewClient(&redis.Options{Addr: px.Addr()})
	t.Cleanup(func() { viaProxy.Close() })
	direct := r.Client()
	var calls atomic.Int32
	record := func(context.Context, *busifavor.CouponEvent) error {
		if calls.Add(1) == 1 {
			px.Stall() // the network stalls right after A handled the event
		}
		return nil
	}
	instance := func(rdb redis.UniversalClient) http.Handler {
		return busifavor.NewEventHandler(parser, busifavor.Deduplicate(newDedup(t, rdb, redisdedup.WithLease(lease)), record,
			busifavor.WithAckDeadline(wait/4)))
	}
	a, b := instance(viaProxy), instance(direct)
	// The load balancer: the first delivery to A, later ones to B.
	var n atomic.Int32
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if n.Add(1) == 1 {
			a.ServeHTTP(w, req)
			return
		}
		b.ServeHTTP(w, req)
	}))
	t.Cleanup(lb.Close)
	require.NoError(t, fake.Route(shopURL, lb.URL))

	id, err := fake.ClaimCoupon("", busifavor.CouponSend{CouponCode: "C1", StockID: "1234567891"})
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := fake.WaitEvent(wctx, id)
	require.NoError(t, err)
	assert.Equal(t, []int{http.StatusNoContent}, out.Statuses, "acknowledged at the first delivery, in time")
	assert.EqualValues(t, 1, calls.Load(), "the function ran once")

	px.Resume()
	key := redisdedup.DefaultKeyPrefix + ":" + id // no namespace
	for deadline := time.Now().Add(30 * time.Second); !strings.HasPrefix(direct.Get(ctx, key).Val(), "d:"); {
		require.True(t, time.Now().Before(deadline), "the background recording never landed: %q", direct.Get(ctx, key).Val())
		time.Sleep(10 * time.Millisecond)
	}
	c, err := newDedup(t, direct).Claim(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusDone, c.Status)
}

// TestLostRepliesAreIdempotent is issue 18's third event bug: the answer
// to a script is lost (the connection drops after Redis ran it), go-redis
// sends the script again, and the second run must answer as the first
// would have: Claim "claimed" (not "in flight"), Complete and Release
// success (not ErrNotOwner).
func TestLostRepliesAreIdempotent(t *testing.T) {
	r := startRedis(t)
	px := startProxy(t, r.Addr())
	rdb := redis.NewClient(&redis.Options{Addr: px.Addr(), MaxRetries: 3})
	t.Cleanup(func() { rdb.Close() })
	d := newDedup(t, rdb, redisdedup.WithKeyPrefix("t:"))
	direct := r.Client()

	// Load the scripts and warm a connection, so that the dropped answer
	// is the script's, not a handshake's or a NOSCRIPT.
	w, err := d.Claim(ctx, "warm")
	require.NoError(t, err)
	require.NoError(t, d.Complete(ctx, "warm", w.Token))
	w, err = d.Claim(ctx, "warm2")
	require.NoError(t, err)
	require.NoError(t, d.Release(ctx, "warm2", w.Token))

	px.DropNextReply()
	c, err := d.Claim(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusClaimed, c.Status, "the retried Claim finds its own claim")
	assert.Equal(t, "f:"+c.Token, direct.Get(ctx, "t::a").Val())

	px.DropNextReply()
	require.NoError(t, d.Complete(ctx, "a", c.Token), "the retried Complete finds it done by its token")
	assert.Equal(t, "d:"+c.Token, direct.Get(ctx, "t::a").Val())

	b, err := d.Claim(ctx, "b")
	require.NoError(t, err)
	px.DropNextReply()
	require.NoError(t, d.Release(ctx, "b", b.Token), "the retried Release finds nothing left to forget")
	assert.Zero(t, direct.Exists(ctx, "t::b").Val())
	assert.EqualValues(t, 3, px.dropped.Load(), "three answers were lost on the way")

	// Another holder is still refused.
	o, err := d.Claim(ctx, "o")
	require.NoError(t, err)
	assert.ErrorIs(t, d.Complete(ctx, "o", "another token"), busifavor.ErrNotOwner)
	assert.ErrorIs(t, d.Release(ctx, "o", "another token"), busifavor.ErrNotOwner)
	require.NoError(t, d.Complete(ctx, "o", o.Token))
	assert.ErrorIs(t, d.Complete(ctx, "o", "another token"), busifavor.ErrNotOwner, "done by another token")
}

// TestNamespacesKeepMerchantsApart: two merchants' deduplicators on one
// Redis, whose event ids happen to be equal, keep apart.
func TestNamespacesKeepMerchantsApart(t *testing.T) {
	rdb := startRedis(t).Client()
	m1 := newDedup(t, rdb, redisdedup.WithNamespace("1900000001"))
	m2 := newDedup(t, rdb, redisdedup.WithNamespace("1900000002"))
	c1, err := m1.Claim(ctx, "same-id")
	require.NoError(t, err)
	require.NoError(t, m1.Complete(ctx, "same-id", c1.Token))
	c2, err := m2.Claim(ctx, "same-id")
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusClaimed, c2.Status, "the other merchant's event is not done")
	c0, err := newDedup(t, rdb).Claim(ctx, "same-id")
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusClaimed, c0.Status, "nor is the unnamespaced one")

	// A separator in a namespace cannot make two namespaces meet.
	a, err := newDedup(t, rdb, redisdedup.WithNamespace("a:b")).Claim(ctx, "c")
	require.NoError(t, err)
	b, err := newDedup(t, rdb, redisdedup.WithNamespace("a")).Claim(ctx, "b:c")
	require.NoError(t, err)
	assert.Equal(t, []busifavor.ClaimStatus{busifavor.ClaimStatusClaimed, busifavor.ClaimStatusClaimed}, []busifavor.ClaimStatus{a.Status, b.Status})

	// Nor can an id without a namespace spell a namespaced key.
	n, err := newDedup(t, rdb).Claim(ctx, "1900000001:same-id")
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusClaimed, n.Status, "not merchant 1900000001's done event")

	keys := rdb.Keys(ctx, "*").Val()
	assert.ElementsMatch(t, []string{"busifavor:event:1900000001:same-id", "busifavor:event:1900000002:same-id",
		"busifavor:event::same-id", "busifavor:event:a%3Ab:c", "busifavor:event:a:b%3Ac", "busifavor:event::1900000001%3Asame-id"}, keys)

	_, err = m1.Claim(ctx, "")
	assert.ErrorIs(t, err, busifavor.ErrMissingEventID)
}
