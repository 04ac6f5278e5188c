package busifavor_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// fast retries without real waiting to speak of.
var fast = busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})

var noBackup = busifavor.WithBackupBaseURL("")

// systemError500 is the SYSTEM_ERROR row that the error table lists at 500.
var systemError500 = busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 500}

// twin starts two fakes that share keys, as WeChat Pay's two domains do.
func twin(t *testing.T) (primary, backup *busifavortest.Server) {
	t.Helper()
	merchant, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	platform, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	opts := []busifavortest.Option{
		busifavortest.WithMerchantKey(merchant, "SERIAL"),
		busifavortest.WithPlatformKey(platform, "PUB_KEY_ID_TWIN"),
		busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://a.cn/n"),
	}
	primary, backup = busifavortest.NewServer(opts...), busifavortest.NewServer(opts...)
	t.Cleanup(primary.Close)
	t.Cleanup(backup.Close)
	return primary, backup
}

func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	u := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	return u
}

func hostOf(u string) string { return strings.TrimPrefix(u, "http://") }

func TestRetryableFailuresThenSuccess(t *testing.T) {
	for _, f := range []busifavortest.Fault{
		systemError500,
		{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError}, // the 400 row
		{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeFrequencyLimited},
		{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeServiceUnavailable},
		{Kind: busifavortest.FaultStatus, Status: 502, Body: "<html>bad gateway</html>"},
		{Kind: busifavortest.FaultDrop},
		{Kind: busifavortest.FaultTruncated},
	} {
		s, c := newFake(t, []busifavortest.Option{busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://a.cn/n")}, fast, noBackup)
		s.Fail(2, f)
		got, err := c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
		require.NoError(t, err, "fault %+v", f)
		assert.Equal(t, "https://a.cn/n", got.NotifyURL)

		reqs := s.Requests()
		require.Len(t, reqs, 3, "two failures, then success")
		seen := map[string]bool{}
		for _, r := range reqs {
			assert.True(t, r.Verified, r.VerifyError)
			auth := r.Header.Get("Authorization")
			assert.False(t, seen[auth], "every attempt is signed afresh")
			seen[auth] = true
		}
	}
}

func TestNonRetryableFailuresSendOnce(t *testing.T) {
	for _, f := range []busifavortest.Fault{
		{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeParamError},
		{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeNoAuth},
		{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSignError},
		{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeResourceNotExists},
		{Kind: busifavortest.FaultBadSignature},
		{Kind: busifavortest.FaultSignTest},
		{Kind: busifavortest.FaultMalformed},
	} {
		primary, backup := twin(t)
		c, err := primary.Client(fast, busifavor.WithBackupBaseURL(backup.URL))
		require.NoError(t, err)
		primary.Fail(1, f)
		_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
		require.Error(t, err)
		assert.False(t, busifavor.IsRetryable(err))
		assert.Len(t, primary.Requests(), 1, "fault %+v", f)
		assert.Empty(t, backup.Requests(), "a 4xx or a bad answer never fails over")
	}
}

func TestPrimaryDownBackupUp(t *testing.T) {
	primary, backup := twin(t)
	c, err := backup.Client(fast, busifavor.WithBaseURL(closedPort(t)), busifavor.WithBackupBaseURL(backup.URL))
	require.NoError(t, err)
	got, err := c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	require.NoError(t, err)
	assert.Equal(t, "https://a.cn/n", got.NotifyURL)
	assert.Len(t, backup.Requests(), 1)
	assert.Empty(t, primary.Requests())
}

func TestServerErrorOnPrimaryThenBackup(t *testing.T) {
	primary, backup := twin(t)
	c, err := primary.Client(fast, busifavor.WithBackupBaseURL(backup.URL))
	require.NoError(t, err)
	primary.Fail(1, systemError500)
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	require.NoError(t, err)
	assert.Len(t, primary.Requests(), 1)
	assert.Len(t, backup.Requests(), 1)

	// The next call starts on the primary again.
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	require.NoError(t, err)
	assert.Len(t, primary.Requests(), 2)
	assert.Len(t, backup.Requests(), 1)

	// A 429 is retried but stays on the same domain: it is about the caller.
	primary.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeFrequencyLimited})
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	require.NoError(t, err)
	assert.Len(t, primary.Requests(), 4)
	assert.Len(t, backup.Requests(), 1)
}

func TestFinalErrorKeepsLastAPIErrorAndNamesHosts(t *testing.T) {
	primary, _ := twin(t)
	dead := closedPort(t)
	c, err := primary.Client(busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}),
		busifavor.WithBackupBaseURL(dead))
	require.NoError(t, err)
	primary.Fail(5, systemError500)
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	require.Error(t, err)
	assert.Equal(t, busifavor.ErrorCodeSystemError, busifavor.ErrorCodeOf(err), "the 500 on the primary stays reachable")
	var apiErr *busifavor.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 500, apiErr.StatusCode)
	msg := err.Error()
	assert.Contains(t, msg, "3 attempts")
	assert.Contains(t, msg, hostOf(primary.URL)+", "+hostOf(dead)+", "+hostOf(primary.URL))
	assert.Len(t, primary.Requests(), 2)

	// The last attempt was the primary's 500, so the call is retryable later.
	assert.True(t, busifavor.IsRetryable(err))
}

func TestRetryAfter(t *testing.T) {
	s, c := newFake(t, []busifavortest.Option{busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://a.cn/n")},
		busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: 3 * time.Second}), noBackup)
	limited := busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeFrequencyLimited, Header: http.Header{"Retry-After": {"1"}}}
	s.Fail(1, limited)
	_, err := c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	require.NoError(t, err, "waited the second asked for, then succeeded")
	assert.Len(t, s.Requests(), 2)

	// Asking for longer than MaxBackoff returns the error instead of sleeping.
	limited.Header = http.Header{"Retry-After": {"3600"}}
	s.Fail(1, limited)
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	assert.ErrorIs(t, err, busifavor.ErrFrequencyLimited)
	assert.Len(t, s.Requests(), 3, "no second attempt")
}

// cancelOnAttempt is a slog handler that cancels a context once an attempt
// has been logged: the call is then in its backoff wait.
type cancelOnAttempt struct {
	slog.Handler
	cancel context.CancelFunc
}

func (h cancelOnAttempt) Enabled(context.Context, slog.Level) bool { return true }

func (h cancelOnAttempt) Handle(ctx context.Context, r slog.Record) error {
	h.cancel()
	return nil
}

func TestContextCancelledDuringBackoff(t *testing.T) {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	logger := slog.New(cancelOnAttempt{Handler: slog.NewTextHandler(io.Discard, nil), cancel: cancel})
	s, c := newFake(t, nil, busifavor.WithLogger(logger), noBackup,
		busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Hour, MaxBackoff: time.Hour}))
	s.Fail(3, systemError500)

	start := time.Now()
	_, err := c.GetCallbacks(cctx, busifavor.GetCallbacksRequest{})
	assert.Less(t, time.Since(start), time.Minute, "did not sit out the hour-long backoff")
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, busifavor.ErrorCodeSystemError, busifavor.ErrorCodeOf(err), "the last APIError stays reachable")
	var apiErr *busifavor.APIError
	assert.ErrorAs(t, err, &apiErr)
	assert.False(t, busifavor.IsRetryable(err))
	assert.Len(t, s.Requests(), 1)
}

func TestWithRetryRejectsNonsense(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	for _, p := range []busifavor.RetryPolicy{
		{MaxAttempts: -1},
		{MaxAttempts: 2, InitialBackoff: -time.Second},
		{MaxAttempts: 2, MaxBackoff: -time.Second},
		{MaxAttempts: 2, InitialBackoff: time.Second, MaxBackoff: time.Millisecond},
		{InitialBackoff: time.Minute},  // above the default MaxBackoff (5 s)
		{MaxBackoff: time.Millisecond}, // below the default InitialBackoff (200 ms)
	} {
		_, err := s.Client(busifavor.WithRetry(p))
		assert.ErrorContains(t, err, "busifavor: WithRetry: ", "%+v", p)
	}
	_, err := s.Client(busifavor.WithBackupBaseURL("not a url"))
	assert.Error(t, err)
	_, err = s.Client(busifavor.WithBackupBaseURL(""))
	assert.NoError(t, err)
}

// TestPoliciesReadZeroAlike: RetryPolicy and PollPolicy name their backoffs
// alike, and read them by one rule: a zero field takes the default, a
// negative one or an initial above the maximum (once the defaults are in)
// is refused.
func TestPoliciesReadZeroAlike(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	for _, tc := range []struct {
		initial, max time.Duration
		ok           bool
	}{
		{0, 0, true}, {time.Millisecond, 0, true}, {0, time.Hour, true}, {time.Millisecond, time.Millisecond, true},
		{-1, 0, false}, {0, -1, false}, {2 * time.Second, time.Second, false},
		{time.Hour, 0, false},       // above either default maximum
		{0, time.Nanosecond, false}, // below either default initial
	} {
		_, retryErr := s.Client(busifavor.WithRetry(busifavor.RetryPolicy{InitialBackoff: tc.initial, MaxBackoff: tc.max}))
		pollErr := busifavor.WaitSubsidyPayReceiptRequest{StockID: "1", CouponCode: "C", OutSubsidyNo: "pay-1",
			Poll: busifavor.PollPolicy{InitialBackoff: tc.initial, MaxBackoff: tc.max}}.Validate()
		if tc.ok {
			assert.NoError(t, retryErr, "%+v", tc)
			assert.NoError(t, pollErr, "%+v", tc)
		} else {
			assert.ErrorContains(t, retryErr, "WithRetry", "%+v", tc)
			assert.ErrorIs(t, pollErr, busifavor.ErrValidation, "%+v", tc)
			var ve *busifavor.ValidationError
			require.ErrorAs(t, pollErr, &ve)
			assert.Equal(t, "poll", ve.Fields[0].Field)
		}
	}
	assert.Equal(t, busifavor.RetryPolicy{MaxAttempts: 3, InitialBackoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second},
		busifavor.DefaultRetryPolicy())
	assert.Equal(t, busifavor.PollPolicy{InitialBackoff: time.Second, MaxBackoff: 30 * time.Second}, busifavor.DefaultPollPolicy())

	// A zero MaxAttempts is the default's 3.
	s2, c := newFake(t, nil, noBackup, busifavor.WithRetry(busifavor.RetryPolicy{InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	s2.Fail(3, systemError500)
	_, err := c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	assert.Equal(t, busifavor.ErrorCodeSystemError, busifavor.ErrorCodeOf(err))
	assert.Len(t, s2.Requests(), 3)
}

func TestLoggerWritesOneLinePerAttemptWithoutSecrets(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})) // an answered attempt is DEBUG
	s, c := newFake(t, []busifavortest.Option{busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://a.cn/n")},
		fast, noBackup, busifavor.WithLogger(logger))
	s.Fail(1, systemError500)
	_, err := c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	require.NoError(t, err)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	for _, want := range []string{`"method":"GET"`, `"path":"/v3/marketing/busifavor/callbacks"`, `"host":"` + hostOf(s.URL) + `"`,
		`"attempt":1`, `"status":500`, `"code":"SYSTEM_ERROR"`, `"request_id":"08`, `"duration":`} {
		assert.Contains(t, lines[0], want)
	}
	assert.Contains(t, lines[1], `"attempt":2`)
	assert.Contains(t, lines[1], `"status":200`)
	key, _ := s.MerchantKey()
	for _, secret := range []string{"WECHATPAY2-SHA256-RSA2048", "signature", key.D.String()[:20], s.Requests()[0].Header.Get("Authorization")} {
		assert.NotContains(t, buf.String(), secret)
	}
}

// TestConcurrentCallsUnderRandomFaults shares one Client among many
// goroutines against a fake injecting random faults; run it with -race.
func TestConcurrentCallsUnderRandomFaults(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		primary, backup := twin(t)
		defer primary.Close()
		defer backup.Close()
		c, err := primary.Client(busifavor.WithBackupBaseURL(backup.URL),
			busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 4, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}))
		require.NoError(t, err)
		kinds := []busifavortest.Fault{
			systemError500,
			{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeFrequencyLimited},
			{Kind: busifavortest.FaultDrop},
			{Kind: busifavortest.FaultTruncated},
			{Kind: busifavortest.FaultSignTest},
			{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeParamError},
		}
		for range 60 {
			primary.Fail(1, kinds[mrand.IntN(len(kinds))])
		}

		const workers, calls = 16, 12
		var wg sync.WaitGroup
		errs := make(chan error, workers*calls)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range calls {
					var err error
					if i%2 == 0 {
						_, err = c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn/n"})
					} else {
						_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
					}
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err == nil {
				continue
			}
			// Non-retryable faults surface at once; retryable ones only when a
			// call drew a fault on every one of its 4 attempts.
			ok := errors.Is(err, busifavor.ErrResponseSignature) || busifavor.ErrorCodeOf(err) == busifavor.ErrorCodeParamError ||
				busifavor.IsRetryable(err) && strings.Contains(err.Error(), "gave up after 4 attempts")
			assert.True(t, ok, "unexpected error: %v", err)
		}
		for _, r := range append(primary.Requests(), backup.Requests()...) {
			assert.True(t, r.Verified, r.VerifyError)
		}
	}()
	http.DefaultClient.CloseIdleConnections()
	// Connections wind down asynchronously after the servers close.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before, "goroutines left behind")
}
