package busifavortest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// fastDelivery compresses WeChat Pay's schedule for tests.
var fastDelivery = busifavortest.WithDeliveryPolicy(busifavortest.DeliveryPolicy{
	Timeout: 2 * time.Second, Interval: time.Millisecond, Attempts: 11})

const shopURL = "https://shop.example.com/busifavor/notify"

// withNotifyURL starts a fake on which the merchant has set shopURL through
// the API.
func withNotifyURL(t *testing.T, opts ...busifavortest.Option) *busifavortest.Server {
	t.Helper()
	s := busifavortest.NewServer(opts...)
	t.Cleanup(s.Close)
	c, err := s.Client()
	require.NoError(t, err)
	_, err = c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: shopURL})
	require.NoError(t, err)
	return s
}

// arrival is one delivery as the merchant's server saw it.
type arrival struct {
	path, nonce string
	body        []byte
}

// recorder answers deliveries with statuses in turn (the last one from
// then on) and records what arrived.
type recorder struct {
	mu       sync.Mutex
	arrivals []arrival
	answers  []int
	stall    chan struct{} // when set, the first delivery waits on it
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	n := len(rc.arrivals)
	rc.arrivals = append(rc.arrivals, arrival{path: r.URL.Path, nonce: r.Header.Get("Wechatpay-Nonce"), body: b})
	status := rc.answers[min(n, len(rc.answers)-1)]
	stall := rc.stall
	rc.mu.Unlock()
	if n == 0 && stall != nil {
		<-stall
	}
	w.WriteHeader(status)
}

func (rc *recorder) seen() []arrival {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]arrival(nil), rc.arrivals...)
}

func TestClaimCouponDeliversUntilAcknowledged(t *testing.T) {
	s := withNotifyURL(t, fastDelivery)
	rc := &recorder{answers: []int{500, 409, 204}}
	backend := httptest.NewServer(rc)
	t.Cleanup(backend.Close)
	require.NoError(t, s.Route(shopURL, backend.URL))

	id, err := s.ClaimCoupon("", busifavor.CouponSend{CouponCode: "C1", StockID: "S1"})
	require.NoError(t, err)
	out, err := s.WaitEvent(ctx, id)
	require.NoError(t, err)
	assert.True(t, out.Acknowledged)
	assert.Equal(t, []int{500, 409, 204}, out.Statuses)

	seen := rc.seen()
	require.Len(t, seen, 3)
	parser, err := busifavor.NewEventParser(s.APIv3Key(), s.Verifier())
	require.NoError(t, err)
	for i, a := range seen {
		assert.Equal(t, "/busifavor/notify", a.path, "the notify URL's path is kept")
		assert.Equal(t, seen[0].body, a.body, "the same event every time")
		if i > 0 {
			assert.NotEqual(t, seen[i-1].nonce, a.nonce, "signed afresh")
		}
	}
	b := seen[2].body
	ev, err := parser.Parse(ctx, s.SignNotification(b), b)
	require.NoError(t, err)
	assert.Equal(t, id, ev.ID)
	assert.Equal(t, "C1", ev.Coupon.CouponCode)
	assert.Equal(t, s.MchID(), ev.Coupon.SendMerchant)

	var attempts []int
	for _, d := range s.Deliveries() {
		assert.Equal(t, id, d.EventID)
		attempts = append(attempts, d.Attempt)
	}
	assert.Equal(t, []int{1, 2, 3}, attempts)
}

func TestClaimCouponGivesUpAfterTheAttempts(t *testing.T) {
	s := withNotifyURL(t, busifavortest.WithDeliveryPolicy(busifavortest.DeliveryPolicy{
		Timeout: time.Second, Interval: time.Millisecond, Attempts: 4}))
	backend := httptest.NewServer(&recorder{answers: []int{500}})
	t.Cleanup(backend.Close)
	require.NoError(t, s.Route(shopURL, backend.URL))
	id, err := s.ClaimCoupon("", busifavor.CouponSend{CouponCode: "C1"})
	require.NoError(t, err)
	out, err := s.WaitEvent(ctx, id)
	require.NoError(t, err)
	assert.False(t, out.Acknowledged)
	assert.Equal(t, []int{500, 500, 500, 500}, out.Statuses)
}

func TestClaimCouponTimesOutASlowAnswer(t *testing.T) {
	s := withNotifyURL(t, busifavortest.WithDeliveryPolicy(busifavortest.DeliveryPolicy{
		Timeout: 200 * time.Millisecond, Interval: time.Millisecond, Attempts: 10}))
	stall := make(chan struct{})
	rc := &recorder{answers: []int{204}, stall: stall}
	backend := httptest.NewServer(rc)
	t.Cleanup(backend.Close)
	t.Cleanup(func() { close(stall) })
	require.NoError(t, s.Route(shopURL, backend.URL))
	id, err := s.ClaimCoupon("", busifavor.CouponSend{CouponCode: "C1"})
	require.NoError(t, err)
	out, err := s.WaitEvent(ctx, id)
	require.NoError(t, err)
	assert.True(t, out.Acknowledged)
	// The stalled first delivery fails; on a loaded machine a later one may
	// miss the deadline too, so only the first and the last are asserted.
	require.GreaterOrEqual(t, len(out.Statuses), 2)
	assert.Equal(t, 0, out.Statuses[0], "no answer in time counts as a failure")
	assert.Equal(t, 204, out.Statuses[len(out.Statuses)-1])
	d := s.Deliveries()
	assert.Contains(t, d[0].Error, "deadline exceeded")
}

func TestRouteSpreadsDeliveriesOverInstances(t *testing.T) {
	s := withNotifyURL(t, busifavortest.WithDeliveryPolicy(busifavortest.DeliveryPolicy{
		Timeout: time.Second, Interval: time.Millisecond, Attempts: 40}))
	var hits [2]atomic.Int32
	var backends [2]string
	for i := range backends {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i].Add(1)
			w.WriteHeader(500)
		}))
		t.Cleanup(srv.Close)
		backends[i] = srv.URL
	}
	require.NoError(t, s.Route(shopURL, backends[0], backends[1]))
	id, err := s.ClaimCoupon("", busifavor.CouponSend{CouponCode: "C1"})
	require.NoError(t, err)
	_, err = s.WaitEvent(ctx, id)
	require.NoError(t, err)
	assert.EqualValues(t, 40, hits[0].Load()+hits[1].Load())
	assert.NotZero(t, hits[0].Load(), "40 deliveries never reached instance 0 (p = 2^-40)")
	assert.NotZero(t, hits[1].Load())
}

func TestClaimCouponNeedsANotifyURLAndARoute(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	_, err := s.ClaimCoupon("", busifavor.CouponSend{CouponCode: "C1"})
	assert.ErrorContains(t, err, "has not set a notify URL")

	s2 := withNotifyURL(t)
	_, err = s2.ClaimCoupon("", busifavor.CouponSend{CouponCode: "C1"})
	assert.ErrorContains(t, err, "no Route for notify URL "+shopURL)
	assert.Error(t, s2.Route(shopURL))
	assert.Error(t, s2.Route(shopURL, "/relative"))

	_, err = s2.WaitEvent(ctx, "no-such-event")
	assert.Error(t, err)
}

func TestCloseStopsDeliveries(t *testing.T) {
	s := busifavortest.NewServer(busifavortest.WithDeliveryPolicy(busifavortest.DeliveryPolicy{Interval: time.Hour}))
	c, err := s.Client()
	require.NoError(t, err)
	_, err = c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: shopURL})
	require.NoError(t, err)
	backend := httptest.NewServer(&recorder{answers: []int{500}})
	defer backend.Close()
	require.NoError(t, s.Route(shopURL, backend.URL))
	id, err := s.ClaimCoupon("", busifavor.CouponSend{CouponCode: "C1"})
	require.NoError(t, err)
	for len(s.Deliveries()) == 0 { // the first delivery is made at once
		time.Sleep(time.Millisecond)
	}
	s.Close() // does not wait out the hour before the second delivery
	out, err := s.WaitEvent(context.Background(), id)
	require.NoError(t, err)
	assert.False(t, out.Acknowledged)
	assert.Equal(t, []int{500}, out.Statuses)
	_, err = s.ClaimCoupon("", busifavor.CouponSend{CouponCode: "C2"})
	assert.ErrorContains(t, err, "closed")
}
