package busifavor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// recorder is an Observer that keeps everything it is told, and what
// context each report came with.
type recorder struct {
	mu       sync.Mutex
	calls    []busifavor.Call
	attempts []busifavor.Attempt
	results  []busifavor.CallResult
	events   []busifavor.EventResult
	stores   []busifavor.StoreCall
	seen     []string // every report, printed
	marks    []string // the mark of the context of each report, in order
	started  int      // StartEvent calls
}

// markKey marks the contexts StartCall and StartEvent return.
type markKey struct{}

func mark(ctx context.Context) string { s, _ := ctx.Value(markKey{}).(string); return s }

// newRecorder returns a recorder whose test, when it ends, fails if
// anything the recorder was told holds one of secrets.
func newRecorder(t *testing.T, secrets ...string) *recorder {
	r := &recorder{}
	t.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		require.NotEmpty(t, r.seen)
		for _, seen := range r.seen {
			for _, s := range append(secrets, everySecret...) {
				if strings.Contains(seen, s) {
					t.Errorf("an observer was told %q: %s", s, seen)
				}
			}
		}
	})
	return r
}

// everySecret is what no observer may see, whatever the test: the openids,
// unionids and coupon codes of the requests, answers and events the tests
// use, and the fake's APIv3 key (busifavortest's default).
var everySecret = []string{testOpenid, secretUnionid, secretCode, fxCode, fxUnionid, "ABC-000001",
	sampleCoupon.OpenID, sampleCoupon.UnionID, sampleCoupon.CouponCode, sampleCoupon.AttachInfo.Code}

func (r *recorder) keep(ctx context.Context, v any) {
	r.seen = append(r.seen, fmt.Sprintf("%+v", v))
	r.marks = append(r.marks, mark(ctx))
}

func (r *recorder) StartCall(ctx context.Context, c busifavor.Call) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	r.keep(ctx, c)
	return context.WithValue(ctx, markKey{}, "call "+c.Operation)
}

func (r *recorder) EndAttempt(ctx context.Context, a busifavor.Attempt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, a)
	r.keep(ctx, a)
}

func (r *recorder) EndCall(ctx context.Context, c busifavor.CallResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, c)
	r.keep(ctx, c)
}

func (r *recorder) StartEvent(ctx context.Context) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started++
	return context.WithValue(ctx, markKey{}, "event")
}

func (r *recorder) EndEvent(ctx context.Context, e busifavor.EventResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	r.keep(ctx, e)
}

func (r *recorder) EndStoreCall(ctx context.Context, s busifavor.StoreCall) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stores = append(r.stores, s)
	r.keep(ctx, s)
}

// reset forgets what was recorded, keeping it for the secrets check.
func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls, r.attempts, r.results, r.events, r.stores, r.marks, r.started = nil, nil, nil, nil, nil, nil, 0
}

// pathRecorder answers like cannedTransport and records each request's
// path, as sent.
type pathRecorder struct {
	cannedTransport
	paths []string
}

func (p *pathRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	p.paths = append(p.paths, r.URL.EscapedPath())
	return p.cannedTransport.RoundTrip(r)
}

// templateRE matches the paths a template stands for.
func templateRE(template string) *regexp.Regexp {
	return regexp.MustCompile("^" + regexp.MustCompile(`\\\{[a-z_]+\\\}`).ReplaceAllString(regexp.QuoteMeta(template), "[^/]+") + "$")
}

// TestObserverSeesEveryCall calls every Client method that sends, once,
// on a canned, signed answer, and checks what the observer saw: the
// operation, the method, a path template that the path sent matches, one
// attempt with its status and Request-ID, and the call's end, each with
// the context StartCall returned. Every method is called: a method added
// without a row here fails the test. The recorder's check (newRecorder)
// then finds none of the openids and codes of the paths and answers.
func TestObserverSeesEveryCall(t *testing.T) {
	rec := newRecorder(t)
	calls := map[string]func(context.Context, *busifavor.Client) (any, error){}
	answers := map[string]any{}
	for _, e := range endpoints() {
		calls[e.name] = e.ours
		if e.answer != nil {
			answers[e.name] = e.answer(3)
		}
	}
	for name, answer := range gopayAnswers() {
		answers[name] = answer
	}
	calls["BuildPartnership"] = func(ctx context.Context, c *busifavor.Client) (any, error) {
		return c.BuildPartnership(ctx, validBuild())
	}
	calls["TerminatePartnership"] = func(ctx context.Context, c *busifavor.Client) (any, error) {
		return c.TerminatePartnership(ctx, busifavor.TerminatePartnershipRequest(validBuild()))
	}
	calls["ListPartnerships"] = func(ctx context.Context, c *busifavor.Client) (any, error) {
		return c.ListPartnerships(ctx, busifavor.ListPartnershipsRequest{Limit: 50, AuthorizedData: validBuild().AuthorizedData})
	}
	calls["UploadImage"] = func(ctx context.Context, c *busifavor.Client) (any, error) {
		return c.UploadImage(ctx, busifavor.UploadImageRequest{Filename: "logo.png", Data: examplePNG()})
	}
	answers["UploadImage"] = map[string]string{"media_url": "https://wxpaylogo.qpic.cn/wxpaylogo/abc/0"}

	// Every method that sends one request: (ctx, request) → (*response,
	// error). UploadAllCouponCodes is UploadCouponCodes in batches.
	typ := reflect.TypeOf(&busifavor.Client{})
	errType := reflect.TypeOf((*error)(nil)).Elem()
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		if m.Type.NumIn() == 3 && m.Type.NumOut() == 2 && m.Type.Out(0).Kind() == reflect.Pointer && m.Type.Out(1) == errType &&
			m.Name != "UploadAllCouponCodes" {
			assert.Contains(t, calls, m.Name, "every method that sends is observed here")
		}
	}

	keys := benchKeys()
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			rec.reset()
			body := ""
			if a, ok := answers[name]; ok {
				b, err := json.Marshal(a)
				require.NoError(t, err)
				body = string(b)
			}
			h := signedHeader(keys.platform, benchPubKeyID, body)
			h.Set("Request-ID", "08OBSERVED")
			tr := &pathRecorder{cannedTransport: cannedTransport{body: []byte(body), header: h}}
			cc, err := core.NewClient(ctx,
				option.WithWechatPayPublicKeyAuthCipher("10000098", "SERIAL", keys.merchant, benchPubKeyID, &keys.platform.PublicKey),
				option.WithHTTPClient(&http.Client{Transport: tr}))
			require.NoError(t, err)
			c, err := busifavor.NewClient(cc, busifavor.WithObserver(rec))
			require.NoError(t, err)

			_, err = call(ctx, c)
			require.NoError(t, err)
			require.Len(t, tr.paths, 1)
			require.Len(t, rec.calls, 1)
			call := rec.calls[0]
			assert.Equal(t, name, call.Operation)
			assert.NotEmpty(t, call.Method)
			assert.Empty(t, call.ReadBackOf)
			assert.Regexp(t, templateRE(call.Path), tr.paths[0], "the template stands for the path sent")
			require.Len(t, rec.attempts, 1)
			a := rec.attempts[0]
			assert.Equal(t, call, a.Call)
			assert.Equal(t, 1, a.Number)
			assert.Equal(t, "api.mch.weixin.qq.com", a.Host)
			assert.Equal(t, http.StatusOK, a.StatusCode)
			assert.Equal(t, "08OBSERVED", a.RequestID)
			assert.NoError(t, a.Err)
			assert.Empty(t, a.Retry)
			assert.False(t, a.FailedOver)
			require.Len(t, rec.results, 1)
			r := rec.results[0]
			assert.Equal(t, call, r.Call)
			assert.Equal(t, 1, r.Attempts)
			assert.Equal(t, http.StatusOK, r.StatusCode)
			assert.Equal(t, "08OBSERVED", r.RequestID)
			assert.NoError(t, r.Err)
			assert.Positive(t, r.Duration)
			assert.Equal(t, []string{"", "call " + name, "call " + name}, rec.marks, "attempts and the end get StartCall's context")
		})
	}
}

// TestObserverSeesRetriesAndFailover fails calls whose paths hold an
// openid and a coupon code: a 500 fails over to the backup, a 429 is
// retried on the same domain, a refusal is not retried, and an answer that
// never comes is retried with its reason.
func TestObserverSeesRetriesAndFailover(t *testing.T) {
	rec := newRecorder(t)
	primary, backup := twin(t)
	c, err := primary.Client(fast, busifavor.WithBackupBaseURL(backup.URL), busifavor.WithObserver(rec))
	require.NoError(t, err)
	get := func() error {
		_, err := c.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{OpenID: testOpenid, CouponCode: secretCode, AppID: testAppid})
		return err
	}
	template := "/v3/marketing/busifavor/users/{openid}/coupons/{coupon_code}/appids/{appid}"

	t.Run("a 500 fails over", func(t *testing.T) {
		rec.reset()
		primary.Fail(1, systemError500)
		backup.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeResourceNotExists})
		require.ErrorIs(t, get(), busifavor.ErrCouponNotFound)
		require.Len(t, rec.attempts, 2)
		first, second := rec.attempts[0], rec.attempts[1]
		assert.Equal(t, template, first.Path)
		assert.Equal(t, 500, first.StatusCode)
		assert.Equal(t, busifavor.ErrorCodeSystemError, first.ErrorCode)
		assert.NotEmpty(t, first.RequestID)
		assert.Error(t, first.Err)
		assert.Empty(t, first.Retry)
		assert.Equal(t, 2, second.Number)
		assert.Equal(t, busifavor.RetryServerError, second.Retry)
		assert.True(t, second.FailedOver)
		assert.NotEqual(t, first.Host, second.Host)
		assert.Equal(t, 404, second.StatusCode)
		require.Len(t, rec.results, 1)
		r := rec.results[0]
		assert.Equal(t, 2, r.Attempts)
		assert.Equal(t, 404, r.StatusCode)
		assert.Equal(t, busifavor.ErrorCodeResourceNotExists, r.ErrorCode)
		assert.Equal(t, second.RequestID, r.RequestID)
		assert.ErrorIs(t, r.Err, busifavor.ErrCouponNotFound)
	})
	t.Run("a 429 is retried on the same domain", func(t *testing.T) {
		rec.reset()
		primary.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeFrequencyLimited})
		primary.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeResourceNotExists})
		require.Error(t, get())
		require.Len(t, rec.attempts, 2)
		assert.Equal(t, busifavor.ErrorCodeFrequencyLimited, rec.attempts[0].ErrorCode)
		assert.Equal(t, busifavor.RetryRateLimited, rec.attempts[1].Retry)
		assert.False(t, rec.attempts[1].FailedOver)
	})
	t.Run("no answer", func(t *testing.T) {
		rec.reset()
		primary.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultGarbled})
		backup.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeResourceNotExists})
		require.Error(t, get())
		require.Len(t, rec.attempts, 2)
		assert.Zero(t, rec.attempts[0].StatusCode)
		assert.ErrorIs(t, rec.attempts[0].Err, busifavor.ErrTransport)
		assert.Equal(t, busifavor.RetryNoAnswer, rec.attempts[1].Retry)
		assert.True(t, rec.attempts[1].FailedOver)
	})
	t.Run("a refusal is one attempt", func(t *testing.T) {
		rec.reset()
		primary.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeParamError})
		require.Equal(t, busifavor.ErrorCodeParamError, busifavor.ErrorCodeOf(get()))
		require.Len(t, rec.attempts, 1)
		require.Len(t, rec.results, 1)
		assert.Equal(t, 400, rec.results[0].StatusCode)
		assert.Equal(t, busifavor.ErrorCodeParamError, rec.results[0].ErrorCode)
	})
	t.Run("a request that breaks a rule is not observed", func(t *testing.T) {
		rec.reset()
		_, err := c.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{OpenID: testOpenid, CouponCode: secretCode})
		require.ErrorIs(t, err, busifavor.ErrValidation)
		assert.Empty(t, rec.calls)
	})
}

// TestObserverSeesAMoneyCreatesReadBack loses the answer of a subsidy
// payment: the observer sees the lost attempt, the read-back as a call of
// its own inside the create, and the identical request sent again as the
// create's second attempt.
func TestObserverSeesAMoneyCreatesReadBack(t *testing.T) {
	rec := newRecorder(t)
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}), busifavor.WithObserver(rec))
	id, code := usedCoupon(t, c, "observed")
	rec.reset()
	s.FailOn("CreateSubsidyPayReceipt", 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 500})
	_, err := c.CreateSubsidyPayReceipt(ctx, payRequest(id, code, "pay-observed", 100))
	require.NoError(t, err)

	require.Len(t, rec.calls, 2)
	create, read := rec.calls[0], rec.calls[1]
	assert.Equal(t, busifavor.Call{Operation: "CreateSubsidyPayReceipt", Method: "POST", Path: "/v3/marketing/busifavor/subsidy/pay-receipts"}, create)
	assert.Equal(t, busifavor.Call{Operation: "ListSubsidyPayReceipts", Method: "GET", Path: "/v3/marketing/busifavor/subsidy/pay-receipts",
		ReadBackOf: "CreateSubsidyPayReceipt"}, read)
	require.Len(t, rec.attempts, 3)
	assert.Equal(t, create, rec.attempts[0].Call)
	assert.Equal(t, 500, rec.attempts[0].StatusCode)
	assert.Equal(t, read, rec.attempts[1].Call)
	assert.Equal(t, 1, rec.attempts[1].Number)
	assert.Equal(t, create, rec.attempts[2].Call)
	assert.Equal(t, 2, rec.attempts[2].Number, "the create's attempts are counted across the read-back")
	assert.Equal(t, busifavor.RetryServerError, rec.attempts[2].Retry)
	assert.False(t, rec.attempts[2].FailedOver)
	require.Len(t, rec.results, 2)
	assert.Equal(t, read, rec.results[0].Call, "the read-back ends inside the create")
	assert.Equal(t, create, rec.results[1].Call)
	assert.Equal(t, 2, rec.results[1].Attempts)
	assert.Equal(t, 200, rec.results[1].StatusCode)
	assert.NoError(t, rec.results[1].Err)
	assert.Equal(t, []string{"", "call CreateSubsidyPayReceipt", "call CreateSubsidyPayReceipt", "call ListSubsidyPayReceipts",
		"call ListSubsidyPayReceipts", "call CreateSubsidyPayReceipt", "call CreateSubsidyPayReceipt"}, rec.marks,
		"the read-back starts in the create's context")
}

// failingStore is a Deduplicator that cannot be reached.
type failingStore struct{}

var errStoreDown = errors.New("store down")

func (failingStore) Claim(context.Context, string) (busifavor.Claim, error) {
	return busifavor.Claim{}, errStoreDown
}
func (failingStore) Complete(context.Context, string, string) error { return errStoreDown }
func (failingStore) Release(context.Context, string, string) error  { return errStoreDown }

// eventID is the id in a notification body.
func eventID(t *testing.T, body []byte) string {
	var env struct{ ID string }
	require.NoError(t, json.Unmarshal(body, &env))
	return env.ID
}

// TestObserverSeesEveryEventOutcome delivers notifications to
// NewEventHandler, with Deduplicate, and checks each outcome the observer
// saw: handled, the same event again, one in flight, every refusal, the
// handler's error and panic, and a deduplicator that is down; the
// deduplicator's calls; that the handler ran in StartEvent's context; and
// Parse and ParseRequest on their own. The recorder's check then finds
// none of the events' openids, unionid, codes or the APIv3 key.
func TestObserverSeesEveryEventOutcome(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	rec := newRecorder(t, s.APIv3Key())
	mem, err := busifavor.NewMemoryDeduplicator(100, busifavor.WithDoneTTL(time.Hour))
	require.NoError(t, err)
	var handlerMark string
	var fail error
	fn := func(ctx context.Context, ev *busifavor.CouponEvent) error {
		handlerMark = mark(ctx)
		if fail != nil && fail.Error() == "panic" {
			panic("the handler panicked")
		}
		return fail
	}
	handler := func(d busifavor.Deduplicator, opts ...busifavor.EventOption) http.Handler {
		deduped, err := busifavor.Deduplicate(d, fn, busifavor.WithDedupObserver(rec))
		require.NoError(t, err)
		return busifavor.NewEventHandler(newParser(t, s, append(opts, busifavor.WithEventObserver(rec))...), deduped)
	}
	deliver := func(h http.Handler, method string, header http.Header, body []byte) (int, busifavor.EventResult) {
		t.Helper()
		rec.reset()
		req := httptest.NewRequest(method, "/notify", strings.NewReader(string(body)))
		req.Header = header.Clone()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		require.Equal(t, 1, rec.started)
		require.Len(t, rec.events, 1)
		e := rec.events[0]
		assert.Equal(t, w.Code, e.StatusCode)
		assert.Positive(t, e.Duration)
		assert.Equal(t, "event", rec.marks[len(rec.marks)-1], "EndEvent gets StartEvent's context")
		return w.Code, e
	}
	header, body := s.CouponNotification(sampleCoupon)
	id := eventID(t, body)
	ok := handler(mem)

	t.Run("handled", func(t *testing.T) {
		code, e := deliver(ok, http.MethodPost, header, body)
		assert.Equal(t, http.StatusNoContent, code)
		assert.Equal(t, busifavor.EventHandled, e.Outcome)
		assert.Empty(t, e.Reason)
		assert.Equal(t, id, e.EventID)
		assert.Equal(t, busifavor.EventTypeCouponSend, e.EventType)
		assert.Positive(t, e.ParseDuration)
		assert.Positive(t, e.HandlerDuration)
		assert.NoError(t, e.Err)
		assert.Equal(t, "event", handlerMark, "the handler runs in StartEvent's context")
		require.Len(t, rec.stores, 2)
		assert.Equal(t, busifavor.StoreCall{Op: busifavor.StoreClaim, EventID: id, Status: busifavor.ClaimStatusClaimed, Duration: rec.stores[0].Duration}, rec.stores[0])
		assert.Equal(t, busifavor.StoreComplete, rec.stores[1].Op)
		assert.NoError(t, rec.stores[1].Err)
		assert.False(t, rec.stores[1].Late)
		assert.Equal(t, []string{"event", "event", "event"}, rec.marks, "store calls get the handler's context")
	})
	t.Run("the same event again: duplicate", func(t *testing.T) {
		code, e := deliver(ok, http.MethodPost, header, body)
		assert.Equal(t, http.StatusNoContent, code)
		assert.Equal(t, busifavor.EventDuplicate, e.Outcome)
		require.Len(t, rec.stores, 1)
		assert.Equal(t, busifavor.ClaimStatusDone, rec.stores[0].Status)
	})
	t.Run("in flight", func(t *testing.T) {
		h, b := s.CouponNotification(sampleCoupon)
		_, err := mem.Claim(ctx, eventID(t, b))
		require.NoError(t, err)
		code, e := deliver(ok, http.MethodPost, h, b)
		assert.Equal(t, http.StatusConflict, code)
		assert.Equal(t, busifavor.EventInFlight, e.Outcome)
		assert.ErrorIs(t, e.Err, busifavor.ErrInFlight)
	})
	// A parser with another APIv3 key: the signature verifies, the
	// resource does not decrypt.
	p, err := busifavor.NewEventParser(strings.Repeat("k", 32), s.Verifier(), busifavor.WithEventObserver(rec))
	require.NoError(t, err)
	otherKey := busifavor.NewEventHandler(p, fn)
	for _, tc := range []struct {
		name   string
		reason busifavor.EventReason
		h      http.Handler
		method string
		header http.Header
		body   []byte
	}{
		{"signature", busifavor.EventReasonSignature, ok, http.MethodPost, header, []byte(strings.Replace(string(body), `"id"`, `"Id"`, 1))},
		{"timestamp", busifavor.EventReasonTimestamp, handler(mem, busifavor.WithEventClock(func() time.Time { return s.Now().Add(time.Hour) })),
			http.MethodPost, header, body},
		{"decryption", busifavor.EventReasonDecryption, otherKey, http.MethodPost, header, body},
		{"body", busifavor.EventReasonBody, ok, http.MethodPost, s.SignNotification([]byte(`{"id":"x"}`)), []byte(`{"id":"x"}`)},
		{"body too large", busifavor.EventReasonBodyTooLarge, handler(mem, busifavor.WithMaxBodyBytes(10)), http.MethodPost, header, body},
		{"method", busifavor.EventReasonMethod, ok, http.MethodGet, header, nil},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			handlerMark = ""
			_, e := deliver(tc.h, tc.method, tc.header, tc.body)
			assert.Equal(t, busifavor.EventRefused, e.Outcome)
			assert.Equal(t, tc.reason, e.Reason)
			assert.Empty(t, handlerMark, "the handler was not called")
			assert.Zero(t, e.HandlerDuration)
			if tc.reason != busifavor.EventReasonMethod {
				assert.Error(t, e.Err)
			}
		})
	}
	for _, tc := range []struct {
		name   string
		err    error
		reason busifavor.EventReason
		status int
	}{
		{"handler", errors.New("database down"), busifavor.EventReasonHandler, 500},
		{"panic", errors.New("panic"), busifavor.EventReasonPanic, 500},
	} {
		t.Run("failed: "+tc.name, func(t *testing.T) {
			fail = tc.err
			defer func() { fail = nil }()
			h, b := s.CouponNotification(sampleCoupon)
			code, e := deliver(ok, http.MethodPost, h, b)
			assert.Equal(t, tc.status, code)
			assert.Equal(t, busifavor.EventFailed, e.Outcome)
			assert.Equal(t, tc.reason, e.Reason)
			assert.Positive(t, e.HandlerDuration)
			require.Len(t, rec.stores, 2)
			assert.Equal(t, busifavor.StoreRelease, rec.stores[1].Op, "a failed handling is released")
		})
	}
	t.Run("failed: deduplicator", func(t *testing.T) {
		code, e := deliver(handler(failingStore{}), http.MethodPost, header, body)
		assert.Equal(t, http.StatusServiceUnavailable, code)
		assert.Equal(t, busifavor.EventFailed, e.Outcome)
		assert.Equal(t, busifavor.EventReasonDeduplicator, e.Reason)
		require.Len(t, rec.stores, 1)
		assert.ErrorIs(t, rec.stores[0].Err, errStoreDown)
		assert.Zero(t, rec.stores[0].Status)
	})
	t.Run("Parse and ParseRequest", func(t *testing.T) {
		p := newParser(t, s, busifavor.WithEventObserver(rec))
		rec.reset()
		_, err := p.Parse(ctx, header, body)
		require.NoError(t, err)
		_, err = p.Parse(ctx, header, body[1:])
		require.Error(t, err)
		_, err = p.ParseRequest(notifyRequest(header, body))
		require.NoError(t, err)
		require.Len(t, rec.events, 3)
		assert.Equal(t, busifavor.EventParsed, rec.events[0].Outcome)
		assert.Equal(t, id, rec.events[0].EventID)
		assert.Equal(t, rec.events[0].Duration, rec.events[0].ParseDuration)
		assert.Equal(t, busifavor.EventRefused, rec.events[1].Outcome)
		assert.Equal(t, busifavor.EventReasonSignature, rec.events[1].Reason)
		assert.Empty(t, rec.events[1].EventID)
		assert.Equal(t, busifavor.EventParsed, rec.events[2].Outcome)
		assert.Zero(t, rec.events[2].StatusCode)
	})
}

// TestObserverOptionsRefuseNil: nil is not "no observer"; leaving the
// option out is.
func TestObserverOptionsRefuseNil(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	_, err := s.Client(busifavor.WithObserver(nil))
	require.ErrorContains(t, err, "busifavor: WithObserver: nil Observer")
	_, err = busifavor.NewEventParser(s.APIv3Key(), s.Verifier(), busifavor.WithEventObserver(nil))
	require.ErrorContains(t, err, "busifavor: WithEventObserver: nil Observer")
	mem, err := busifavor.NewMemoryDeduplicator(10)
	require.NoError(t, err)
	_, err = busifavor.Deduplicate(mem, func(context.Context, *busifavor.CouponEvent) error { return nil }, busifavor.WithDedupObserver(nil))
	require.ErrorContains(t, err, "busifavor: WithDedupObserver: nil Observer")
}
