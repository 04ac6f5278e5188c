package busifavortest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/busifavor-go/busifavor"
)

// DeliveryPolicy is how a Server delivers coupon events to a notify URL, as
// WeChat Pay does: it waits Timeout for an answer, and on anything but a 2xx
// in time delivers the same event again (same id, fresh signature and
// timestamp) Interval later, Attempts times in all.
type DeliveryPolicy struct {
	Timeout  time.Duration
	Interval time.Duration
	Attempts int
}

// DefaultDeliveryPolicy is WeChat Pay's: a 5 s wait, 11 deliveries 60 s
// apart. Tests compress it with WithDeliveryPolicy, for example to
// {Timeout: time.Second, Interval: time.Millisecond, Attempts: 11}.
var DefaultDeliveryPolicy = DeliveryPolicy{Timeout: 5 * time.Second, Interval: time.Minute, Attempts: 11}

// WithDeliveryPolicy sets how ClaimCoupon's events are delivered (default
// DefaultDeliveryPolicy). Zero fields keep their defaults.
func WithDeliveryPolicy(p DeliveryPolicy) Option {
	return func(c *config) {
		if p.Timeout > 0 {
			c.delivery.Timeout = p.Timeout
		}
		if p.Interval > 0 {
			c.delivery.Interval = p.Interval
		}
		if p.Attempts > 0 {
			c.delivery.Attempts = p.Attempts
		}
	}
}

// Delivery is one delivery of an event, as recorded by the Server.
type Delivery struct {
	EventID string
	Attempt int    // 1 for the first delivery
	Target  string // the URL the delivery was sent to
	// Status is the HTTP status of the answer, 0 when none came in time.
	Status int
	// Error says why no answer counted, when Status is 0.
	Error    string
	Duration time.Duration
}

// Outcome is how the deliveries of one event ended.
type Outcome struct {
	EventID string
	// Acknowledged reports whether a delivery got a 2xx in time; false
	// means WeChat Pay gave up after Attempts deliveries.
	Acknowledged bool
	// Statuses are the answers, one per delivery, 0 for none in time.
	Statuses []int
}

// delivery is one event being delivered.
type delivery struct {
	done    chan struct{} // closed when the outcome is final
	outcome Outcome
}

// deliveries is a Server's delivery state.
type deliveries struct {
	ctx    context.Context // ends on Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	client *http.Client

	mu     sync.Mutex
	routes map[string][]*url.URL // notify URL -> where to deliver it
	events map[string]*delivery  // the most recent WithMaxRecorded events, and any still being delivered
	order  []string              // event ids, oldest first
	log    []Delivery
}

// track keeps d for WaitEvent, dropping the oldest finished events beyond
// n so that a long test holds flat memory. The caller holds dl.mu.
func (dl *deliveries) track(id string, d *delivery, n int) {
	dl.events[id] = d
	dl.order = append(dl.order, id)
	for len(dl.order) > n {
		old := dl.events[dl.order[0]]
		select {
		case <-old.done:
		default:
			return // still being delivered: kept until it ends
		}
		delete(dl.events, dl.order[0])
		dl.order[0] = ""
		dl.order = dl.order[1:]
	}
}

// Route makes deliveries to notifyURL go to targets instead: each delivery
// picks one at random, as a load balancer in front of several instances
// would. A target without a path (http://127.0.0.1:port of an
// httptest.Server, say) keeps the notify URL's path, replacing its scheme
// and host; a target with one (http://127.0.0.1:8080/events) is used as it
// is. The notify URL a merchant sets must be a public https URL; this is how
// a test reaches its local handler through it. Events for a notify URL
// without a Route are not sent anywhere: ClaimCoupon and the send channels'
// claims return an error then, SendCoupon does not.
func (s *Server) Route(notifyURL string, targets ...string) error {
	if len(targets) == 0 {
		return errors.New("busifavortest: Route: no target")
	}
	var us []*url.URL
	for _, t := range targets {
		u, err := url.Parse(t)
		if err != nil || u.Host == "" {
			return fmt.Errorf("busifavortest: Route: target %q is not an absolute URL", t)
		}
		us = append(us, u)
	}
	s.dl.mu.Lock()
	defer s.dl.mu.Unlock()
	s.dl.routes[notifyURL] = us
	return nil
}

// ClaimCoupon makes a user claim coupon c of merchant mchID (the calling
// merchant when ""), as it happens in WeChat Pay: it builds the COUPON.SEND
// event and delivers it to the notify URL the merchant set through the API,
// routed by Route, redelivering per the DeliveryPolicy until it is
// acknowledged or the attempts are used up. It returns the event id at once;
// WaitEvent waits for the outcome.
func (s *Server) ClaimCoupon(mchID string, c busifavor.CouponSend) (string, error) {
	if mchID == "" {
		mchID = s.cfg.mchID
	}
	notifyURL, ok := s.NotifyURL(mchID)
	if !ok {
		return "", fmt.Errorf("busifavortest: ClaimCoupon: merchant %s has not set a notify URL (SetCallbacks)", mchID)
	}
	s.dl.mu.Lock()
	defer s.dl.mu.Unlock()
	targets, ok := s.dl.routes[notifyURL]
	if !ok {
		return "", fmt.Errorf("busifavortest: ClaimCoupon: no Route for notify URL %s", notifyURL)
	}
	if s.dl.ctx.Err() != nil {
		return "", errors.New("busifavortest: ClaimCoupon: the server is closed")
	}
	if c.SendMerchant == "" {
		c.SendMerchant = mchID
	}
	if err := s.claim(mchID, &c); err != nil {
		return "", err
	}
	id, body := s.couponBody(c)
	d := &delivery{done: make(chan struct{}), outcome: Outcome{EventID: id}}
	s.dl.track(id, d, s.cfg.maxRecorded)
	s.dl.wg.Add(1)
	go s.deliver(d, notifyURL, targets, body)
	return id, nil
}

// claim issues the coupon of a stock the server keeps, within its time and
// caps as SendCoupon would, and fills in the code and send time. Coupons of
// stocks the server does not keep only make the event.
func (s *Server) claim(mchID string, c *busifavor.CouponSend) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stocks[c.StockID]
	if st == nil {
		return nil
	}
	now := s.now()
	uc, ref := s.issueCoupon(st, mchID, c.OpenID, c.CouponCode, "claim-"+strconv.Itoa(s.couponSeq+1), now)
	if ref != nil {
		return fmt.Errorf("busifavortest: ClaimCoupon: WeChat Pay would refuse this claim: %w", ref)
	}
	c.CouponCode = uc.CouponCode
	if c.SendTime.IsZero() {
		c.SendTime = now
	}
	if c.SendChannel == "" {
		c.SendChannel = busifavor.SendChannelMiniApp
	}
	return nil
}

// WaitEvent waits until the event's deliveries have ended, acknowledged or
// given up, or ctx is done. The outcomes of the most recent WithMaxRecorded
// events are kept; an older event's is gone (an error).
func (s *Server) WaitEvent(ctx context.Context, eventID string) (Outcome, error) {
	s.dl.mu.Lock()
	d, ok := s.dl.events[eventID]
	s.dl.mu.Unlock()
	if !ok {
		return Outcome{}, fmt.Errorf("busifavortest: WaitEvent: no event %s", eventID)
	}
	select {
	case <-d.done:
		return d.outcome, nil
	case <-ctx.Done():
		return Outcome{}, ctx.Err()
	}
}

// Deliveries returns every delivery made so far, oldest first (the most
// recent WithMaxRecorded).
func (s *Server) Deliveries() []Delivery {
	s.dl.mu.Lock()
	defer s.dl.mu.Unlock()
	return append([]Delivery(nil), s.dl.log[max(0, len(s.dl.log)-s.cfg.maxRecorded):]...)
}

// deliver delivers one event until it is acknowledged, given up, or the
// server closes.
func (s *Server) deliver(d *delivery, notifyURL string, targets []*url.URL, body []byte) {
	defer s.dl.wg.Done()
	defer close(d.done)
	policy := s.cfg.delivery
	for attempt := 1; attempt <= policy.Attempts; attempt++ {
		if attempt > 1 {
			t := time.NewTimer(policy.Interval)
			select {
			case <-s.dl.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		target := routed(notifyURL, targets[rand.IntN(len(targets))])
		rec := s.post(target, body)
		rec.EventID, rec.Attempt = d.outcome.EventID, attempt
		s.dl.mu.Lock()
		d.outcome.Statuses = append(d.outcome.Statuses, rec.Status)
		s.dl.log = appendBounded(s.dl.log, rec, s.cfg.maxRecorded)
		s.dl.mu.Unlock()
		if rec.Status >= 200 && rec.Status <= 299 {
			d.outcome.Acknowledged = true
			return
		}
	}
}

// post sends one delivery, freshly signed, and waits at most the policy's
// timeout for the answer.
func (s *Server) post(target string, body []byte) Delivery {
	rec := Delivery{Target: target}
	ctx, cancel := context.WithTimeout(s.dl.ctx, s.cfg.delivery.Timeout)
	defer cancel()
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		rec.Error = err.Error()
		return rec
	}
	req.Header = s.SignNotification(body)
	req.Header.Set("User-Agent", "Mozilla/4.0 (busifavortest)")
	resp, err := s.dl.client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}
	rec.Duration = time.Since(start)
	if err != nil {
		rec.Error = err.Error()
		return rec
	}
	rec.Status = resp.StatusCode
	return rec
}

// routed is where a delivery for notifyURL goes: target when it has a
// path, else notifyURL with target's scheme and host.
func routed(notifyURL string, target *url.URL) string {
	u, err := url.Parse(notifyURL)
	if err != nil || target.Path != "" && target.Path != "/" {
		return target.String()
	}
	u.Scheme, u.Host = target.Scheme, target.Host
	return u.String()
}
