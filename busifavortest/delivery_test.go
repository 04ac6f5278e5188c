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

// waitArrivals waits until rc has seen n deliveries (the fake delivers
// SendCoupon's event after answering, so the caller cannot wait on an id).
func waitArrivals(t *testing.T, rc *recorder, n int) []arrival {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); len(rc.seen()) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries in a minute, want %d", len(rc.seen()), n)
		}
	}
	return rc.seen()
}

// A coupon sent through the API (SendCoupon) makes a COUPON.SEND on the
// channel BUSICOUPON_SEND_CHANNEL_API, delivered to the stock creator's
// notify URL; the openid only for a stock with notify_appid. A repeat of
// the same send gives no coupon and so no event.
func TestSendCouponDeliversItsEvent(t *testing.T) {
	s := withNotifyURL(t, fastDelivery)
	rc := &recorder{answers: []int{204}}
	backend := httptest.NewServer(rc)
	t.Cleanup(backend.Close)
	require.NoError(t, s.Route(shopURL, backend.URL))
	c, err := s.Client()
	require.NoError(t, err)
	parser, err := busifavor.NewEventParser(s.APIv3Key(), s.Verifier())
	require.NoError(t, err)
	const appid, openid = "wx233544546545989", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"

	plain := newStock(t, c, s, "stock-1", busifavor.CouponCodeModeWechatPay, busifavor.StockTypeNormal, 5)
	req := busifavor.SendCouponRequest{StockID: plain, OpenID: openid, AppID: appid, OutRequestNo: "send-1"}
	before := s.Now().Truncate(time.Millisecond) // event times are written to the millisecond
	sent, err := c.SendCoupon(ctx, req)
	require.NoError(t, err)
	after := s.Now()
	a := waitArrivals(t, rc, 1)[0]
	assert.Equal(t, "/busifavor/notify", a.path)
	ev, err := parser.Parse(ctx, s.SignNotification(a.body), a.body)
	require.NoError(t, err)
	assert.Equal(t, &busifavor.CouponSend{EventType: "EVENT_TYPE_BUSICOUPON_SEND", CouponCode: sent.CouponCode, StockID: plain,
		SendTime: ev.Coupon.SendTime, SendChannel: busifavor.SendChannelAPI, SendMerchant: s.MchID()}, ev.Coupon)
	assert.False(t, ev.Coupon.SendTime.Before(before) || ev.Coupon.SendTime.After(after), "sent at the send, on the fake's clock")

	_, err = c.SendCoupon(ctx, req) // the same send again
	require.NoError(t, err)

	withAppid, err := c.CreateStock(ctx, busifavor.CreateStockRequest{
		StockName: "满100减10元", BelongMerchant: s.MchID(), GoodsName: "全场可用", StockType: busifavor.StockTypeNormal,
		CouponUseRule: busifavor.CouponUseRule{
			CouponAvailableTime: busifavor.AvailableTime{AvailableBeginTime: s.Now().Add(-time.Hour), AvailableEndTime: s.Now().AddDate(0, 1, 0)},
			FixedNormalCoupon:   &busifavor.FixedNormalCoupon{DiscountAmount: 1000, TransactionMinimum: 10000},
			UseMethod:           busifavor.CouponUseMethodOffline,
		},
		StockSendRule: busifavor.StockSendRule{MaxCoupons: 10, MaxCouponsPerUser: 1},
		OutRequestNo:  "stock-2", CouponCodeMode: busifavor.CouponCodeModeWechatPay,
		NotifyConfig: &busifavor.NotifyConfig{NotifyAppID: appid},
	})
	require.NoError(t, err)
	_, err = c.SendCoupon(ctx, busifavor.SendCouponRequest{StockID: withAppid.StockID, OpenID: openid, AppID: appid, OutRequestNo: "send-2"})
	require.NoError(t, err)
	seen := waitArrivals(t, rc, 2)
	ev, err = parser.Parse(ctx, s.SignNotification(seen[1].body), seen[1].body)
	require.NoError(t, err)
	assert.Equal(t, withAppid.StockID, ev.Coupon.StockID, "the repeated send made no event")
	assert.Equal(t, openid, ev.Coupon.OpenID)
	assert.Len(t, rc.seen(), 2)
}

// Without a Route the fake cannot reach the notify URL: SendCoupon still
// gives the coupon, and no event goes anywhere.
func TestSendCouponWithoutARouteSendsNoEvent(t *testing.T) {
	s := withNotifyURL(t)
	c, err := s.Client()
	require.NoError(t, err)
	stock := newStock(t, c, s, "stock-1", busifavor.CouponCodeModeWechatPay, busifavor.StockTypeNormal, 5)
	_, err = c.SendCoupon(ctx, busifavor.SendCouponRequest{StockID: stock, OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", AppID: "wx233544546545989", OutRequestNo: "n1"})
	require.NoError(t, err)
	assert.Empty(t, s.Deliveries())
}

// A Route target with a path receives the deliveries at that path; one
// without keeps the notify URL's.
func TestRouteTargetWithAPath(t *testing.T) {
	s := withNotifyURL(t, fastDelivery)
	rc := &recorder{answers: []int{204}}
	backend := httptest.NewServer(rc)
	t.Cleanup(backend.Close)
	for _, tc := range []struct{ target, path string }{
		{backend.URL + "/events/coupons", "/events/coupons"},
		{backend.URL + "/", "/busifavor/notify"},
		{backend.URL, "/busifavor/notify"},
	} {
		require.NoError(t, s.Route(shopURL, tc.target))
		id, err := s.ClaimCoupon("", busifavor.CouponSend{CouponCode: "C1"})
		require.NoError(t, err)
		_, err = s.WaitEvent(ctx, id)
		require.NoError(t, err)
		seen := rc.seen()
		assert.Equal(t, tc.path, seen[len(seen)-1].path, tc.target)
	}
}
