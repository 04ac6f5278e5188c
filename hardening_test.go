package busifavor_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"

	"github.com/busifavor-go/busifavor"
)

// redirectScene is a server that redirects every request to a second server
// (same host, another port) which answers any request with a correctly
// signed success: what a hostile or misconfigured proxy could do.
type redirectScene struct {
	target     *httptest.Server
	targetHits atomic.Int32
	targetAuth atomic.Value // the Authorization header the target last saw
	targetBody atomic.Value // the body the target last saw
	redirector *httptest.Server
	key        *rsa.PrivateKey
}

func newRedirectScene(t *testing.T, status int) *redirectScene {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	sc := &redirectScene{key: key}
	sc.target = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc.targetHits.Add(1)
		b, _ := io.ReadAll(r.Body)
		sc.targetAuth.Store(r.Header.Get("Authorization"))
		sc.targetBody.Store(string(b))
		body := `{"update_time":"2019-05-20T13:29:35+08:00","notify_url":"https://evil.example.com/n","mchid":"10000098"}`
		for k, v := range signedHeader(key, "PUB_KEY_ID_0000", body) {
			w.Header()[k] = v
		}
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(sc.target.Close)
	sc.redirector = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, sc.target.URL+r.URL.RequestURI(), status)
	}))
	t.Cleanup(sc.redirector.Close)
	return sc
}

// client returns a busifavor client on hc, trusting the scene's signing key.
func (sc *redirectScene) client(t *testing.T, hc *http.Client) *busifavor.Client {
	t.Helper()
	merchant, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	cc, err := core.NewClient(ctx,
		option.WithWechatPayPublicKeyAuthCipher("10000098", "SERIAL", merchant, "PUB_KEY_ID_0000", &sc.key.PublicKey),
		option.WithHTTPClient(hc))
	require.NoError(t, err)
	c, err := busifavor.NewClient(cc, busifavor.WithBaseURL(sc.redirector.URL), fast)
	require.NoError(t, err)
	return c
}

func TestRedirectIsNeverSuccess(t *testing.T) {
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		t.Run(http.StatusText(status)+"/followed by a plain client", func(t *testing.T) {
			sc := newRedirectScene(t, status)
			resp, err := sc.client(t, &http.Client{}).SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://shop.example.com/n"})
			assert.Nil(t, resp)
			require.ErrorIs(t, err, busifavor.ErrRedirect)
			assert.Contains(t, err.Error(), "followed")
			assert.False(t, busifavor.IsRetryable(err))
			assert.EqualValues(t, 1, sc.targetHits.Load(), "not retried")
		})
		t.Run(http.StatusText(status)+"/NewHTTPClient", func(t *testing.T) {
			sc := newRedirectScene(t, status)
			resp, err := sc.client(t, busifavor.NewHTTPClient(nil)).SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://shop.example.com/n"})
			assert.Nil(t, resp)
			require.ErrorIs(t, err, busifavor.ErrRedirect)
			assert.Contains(t, err.Error(), "stopped at")
			assert.Contains(t, err.Error(), sc.target.URL, "the error says where it pointed")
			assert.Zero(t, sc.targetHits.Load(), "nothing was sent to the redirect's target")
		})
	}

	// What the plain client does on a 307 (the reason for NewHTTPClient): the
	// body and the Authorization header go to the other port.
	sc := newRedirectScene(t, http.StatusTemporaryRedirect)
	_, _ = sc.client(t, &http.Client{}).SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://shop.example.com/n"})
	assert.Contains(t, sc.targetAuth.Load(), "WECHATPAY2-SHA256-RSA2048")
	assert.Contains(t, sc.targetBody.Load(), "shop.example.com")
}

func TestNewHTTPClientKeepsTheBaseClient(t *testing.T) {
	mt := httpmock.NewMockTransport()
	base := &http.Client{Transport: mt, Timeout: 7 * time.Second}
	c := busifavor.NewHTTPClient(base)
	assert.Equal(t, base.Timeout, c.Timeout)
	assert.Nil(t, base.CheckRedirect, "the base client is not changed")
	assert.Same(t, mt, base.Transport)
	mt.RegisterResponder(http.MethodGet, "http://x.test/", httpmock.NewStringResponder(200, "ok"))
	res, err := c.Get("http://x.test/")
	require.NoError(t, err)
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	assert.Equal(t, "ok", string(b))
}

func TestFailoverOnlyWithTheDefaultBaseURL(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       []busifavor.Option
		wantBackup int
	}{
		{"proxy base URL: no failover", []busifavor.Option{busifavor.WithBaseURL("https://proxy.internal")}, 0},
		{"proxy with an explicit backup", []busifavor.Option{busifavor.WithBaseURL("https://proxy.internal"),
			busifavor.WithBackupBaseURL("https://proxy2.internal")}, 1},
		{"backup named before the base URL", []busifavor.Option{busifavor.WithBackupBaseURL("https://proxy2.internal"),
			busifavor.WithBaseURL("https://proxy.internal")}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMockWechat(t, append(tc.opts, fast)...)
			hosts := m.failEverywhere()
			_, err := m.client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
			require.ErrorIs(t, err, busifavor.ErrSystemError)
			assert.NotContains(t, *hosts, "api2.mch.weixin.qq.com", "never the real backup domain")
			assert.NotContains(t, *hosts, "api.mch.weixin.qq.com")
			assert.Len(t, *hosts, 3)
			assert.Equal(t, tc.wantBackup, strings.Count(strings.Join(*hosts, " "), "proxy2.internal"), *hosts)
		})
	}
	// The default base URL still fails over to the default backup.
	m := newMockWechat(t, fast)
	hosts := m.failEverywhere()
	_, err := m.client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	require.Error(t, err)
	assert.Equal(t, []string{"api.mch.weixin.qq.com", "api2.mch.weixin.qq.com", "api.mch.weixin.qq.com"}, *hosts)
}

// failEverywhere answers every request with a signed 500 SYSTEM_ERROR and
// records the host of each.
func (m *mockWechat) failEverywhere() *[]string {
	var hosts []string
	answer := m.signed(500, `{"code":"SYSTEM_ERROR","message":"系统失败"}`)
	m.mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		hosts = append(hosts, r.URL.Host)
		return answer(r)
	})
	return &hosts
}

func TestErrorBodiesAreBounded(t *testing.T) {
	huge := strings.Repeat("界", 200<<10) // 600 KiB, under MaxResponseBytes
	detail := `{"field":"x","issue":"` + strings.Repeat("y", busifavor.MaxErrorFieldBytes) + `"}`
	body, err := json.Marshal(map[string]any{"code": "PARAM_ERROR", "message": huge, "detail": json.RawMessage(detail)})
	require.NoError(t, err)
	m := newMockWechat(t, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	m.mt.RegisterNoResponder(m.signed(400, string(body)))
	_, err = m.client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	var apiErr *busifavor.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, busifavor.ErrorCodeParamError, apiErr.Code)
	assert.LessOrEqual(t, len(apiErr.Message), busifavor.MaxErrorFieldBytes+len("…(cut)"))
	assert.True(t, strings.HasSuffix(apiErr.Message, "…(cut)"))
	assert.True(t, strings.HasPrefix(apiErr.Message, "界界"), "cut on a rune boundary")
	assert.Nil(t, apiErr.Detail, "a detail over the bound is dropped, not cut into invalid JSON")
	assert.Less(t, len(err.Error()), 1<<10)

	// Exactly at the bound: kept whole.
	atBound := strings.Repeat("a", busifavor.MaxErrorFieldBytes)
	m2 := newMockWechat(t, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	m2.mt.RegisterNoResponder(m2.signed(400, `{"code":"PARAM_ERROR","message":"`+atBound+`","detail":{"field":"x"}}`))
	_, err = m2.client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, atBound, apiErr.Message)
	assert.JSONEq(t, `{"field":"x"}`, string(apiErr.Detail))

	// Over MaxResponseBytes: not decoded at all.
	m3 := newMockWechat(t, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	m3.mt.RegisterNoResponder(m3.signed(500, `{"code":"SYSTEM_ERROR","message":"`+strings.Repeat("x", 2<<20)+`"}`))
	_, err = m3.client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 500, apiErr.StatusCode)
	assert.Less(t, len(apiErr.Message), 100)
}

// countingBody counts what the client read of a body.
type countingBody struct {
	r    io.Reader
	read *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read.Add(int64(n))
	return n, err
}
func (b *countingBody) Close() error { return nil }

func TestNewHTTPClientBoundsWhatIsRead(t *testing.T) {
	for _, status := range []int{200, 500} {
		var read atomic.Int64
		mt := httpmock.NewMockTransport()
		mt.RegisterNoResponder(func(*http.Request) (*http.Response, error) {
			res := httpmock.NewStringResponse(status, "")
			res.Body = &countingBody{r: io.LimitReader(zeros{}, 64<<20), read: &read}
			return res, nil
		})
		merchant, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		cc, err := core.NewClient(ctx,
			option.WithWechatPayPublicKeyAuthCipher("10000098", "SERIAL", merchant, "PUB_KEY_ID_0000", &merchant.PublicKey),
			option.WithHTTPClient(busifavor.NewHTTPClient(&http.Client{Transport: mt})))
		require.NoError(t, err)
		c, err := busifavor.NewClient(cc, fast)
		require.NoError(t, err)
		_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
		require.ErrorIs(t, err, busifavor.ErrMalformedResponse, "status %d", status)
		assert.False(t, busifavor.IsRetryable(err))
		assert.LessOrEqual(t, read.Load(), int64(busifavor.MaxResponseBytes+64<<10), "status %d: read %d bytes of 64 MiB", status, read.Load())
		assert.Equal(t, 1, mt.GetTotalCallCount(), "not retried")
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}

func TestHeaderValuesAreCutInErrorsAndLogs(t *testing.T) {
	long := strings.Repeat("R", 200<<10)
	var logs bytes.Buffer
	m := newMockWechat(t, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}),
		busifavor.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	errAnswer := m.signed(400, `{"code":"PARAM_ERROR","message":"bad"}`)
	m.mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		res, err := errAnswer(r)
		res.Header.Set("Request-ID", long)
		return res, err
	})
	_, err := m.client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	var apiErr *busifavor.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.LessOrEqual(t, len(apiErr.RequestID), busifavor.MaxHeaderValueBytes+len("…(cut)"))
	assert.True(t, strings.HasSuffix(apiErr.RequestID, "…(cut)"))
	assert.Less(t, len(err.Error()), 1<<10)
	assert.Less(t, logs.Len(), 2<<10)

	// A 2xx whose signature fails: the validator's text echoes Wechatpay-Serial
	// and Request-ID.
	logs.Reset()
	m.mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		res := httpmock.NewStringResponse(200, `{}`)
		res.Header = signedHeader(m.key, long, `{}`)
		res.Header.Set("Request-ID", long)
		return res, nil
	})
	_, err = m.client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	require.ErrorIs(t, err, busifavor.ErrResponseSignature)
	assert.Less(t, len(err.Error()), 2<<10)
	assert.Less(t, logs.Len(), 4<<10)
}
