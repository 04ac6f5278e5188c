package busifavor_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

var ctx = context.Background()

// newFake starts a busifavortest server and a client for it; retries are off
// unless opts turn them on, so each call is one request.
func newFake(t *testing.T, serverOpts []busifavortest.Option, opts ...busifavor.Option) (*busifavortest.Server, *busifavor.Client) {
	t.Helper()
	s := busifavortest.NewServer(serverOpts...)
	t.Cleanup(s.Close)
	c, err := s.Client(opts...)
	require.NoError(t, err)
	return s, c
}

func TestSetThenGetRoundTrip(t *testing.T) {
	fixed := time.Now().Truncate(time.Millisecond)
	s, c := newFake(t, []busifavortest.Option{busifavortest.WithClock(func() time.Time { return fixed })})

	set, err := c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://example.com/busifavor/notify"})
	require.NoError(t, err)
	assert.Equal(t, "https://example.com/busifavor/notify", set.NotifyURL)
	assert.Equal(t, s.MchID(), set.MchID)
	assert.True(t, set.UpdateTime.Equal(fixed), "update_time %v, server clock %v", set.UpdateTime, fixed)
	assert.NotEmpty(t, set.RequestID)

	got, err := c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	require.NoError(t, err)
	assert.Equal(t, "https://example.com/busifavor/notify", got.NotifyURL)
	assert.Equal(t, s.MchID(), got.MchID)
	assert.NotEmpty(t, got.RequestID)
	assert.NotEqual(t, set.RequestID, got.RequestID)

	reqs := s.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, http.MethodPost, reqs[0].Method)
	assert.Equal(t, busifavortest.CallbacksPath, reqs[0].Path)
	assert.JSONEq(t, `{"notify_url":"https://example.com/busifavor/notify"}`, string(reqs[0].Body))
	assert.Equal(t, http.MethodGet, reqs[1].Method)
	assert.Empty(t, reqs[1].Query, "no mchid query unless Mchid is set")
	assert.Empty(t, reqs[1].Body)
	for _, r := range reqs {
		assert.True(t, r.Verified, r.VerifyError)
		assert.True(t, strings.HasPrefix(r.Header.Get("Authorization"), "WECHATPAY2-SHA256-RSA2048 "))
	}
}

func TestSetForDelegatedMerchant(t *testing.T) {
	s, c := newFake(t, []busifavortest.Option{busifavortest.WithDelegation(busifavortest.DefaultMchID, "1900000109")})
	set, err := c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{MchID: "1900000109", NotifyURL: "https://sub.example.com/n"})
	require.NoError(t, err)
	assert.Equal(t, "1900000109", set.MchID)
	got, err := c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{MchID: "1900000109"})
	require.NoError(t, err)
	assert.Equal(t, "https://sub.example.com/n", got.NotifyURL)
	assert.Equal(t, "1900000109", s.Requests()[1].Query.Get("mchid"))

	// A merchant the caller may not act for is refused by the server.
	_, err = c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{MchID: "1900000110", NotifyURL: "https://sub.example.com/n"})
	var apiErr *busifavor.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, busifavor.ErrParamError)
	assert.JSONEq(t, `"mchid"`, fieldOf(t, apiErr.Detail))
}

func fieldOf(t *testing.T, detail []byte) string {
	t.Helper()
	var d map[string]any
	require.NoError(t, json.Unmarshal(detail, &d))
	return fmt.Sprintf("%q", d["field"])
}

func TestInvalidRequestSendsNothing(t *testing.T) {
	s, c := newFake(t, nil)
	_, err := c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{MchID: "1234567", NotifyURL: "http://localhost/x"})
	var ve *busifavor.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Len(t, ve.Fields, 3)
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{MchID: "1234567890123456"})
	require.ErrorIs(t, err, busifavor.ErrValidation)
	assert.False(t, busifavor.IsRetryable(err))
	assert.Empty(t, s.Requests())
}

// expectedRetryable is the retry column of the error table.
var expectedRetryable = map[busifavor.ErrorCode]bool{
	busifavor.ErrorCodeSystemError:        true,
	busifavor.ErrorCodeFrequencyLimited:   true,
	busifavor.ErrorCodeRateLimitExceeded:  true,
	busifavor.ErrorCodeServiceUnavailable: true,
}

var codeSentinel = map[busifavor.ErrorCode]error{
	busifavor.ErrorCodeParamError:            busifavor.ErrParamError,
	busifavor.ErrorCodeSystemError:           busifavor.ErrSystemError,
	busifavor.ErrorCodeResourceAlreadyExists: busifavor.ErrResourceAlreadyExists,
	busifavor.ErrorCodeResourceNotExists:     busifavor.ErrResourceNotExists,
	busifavor.ErrorCodeNoAuth:                busifavor.ErrNoAuth,
	busifavor.ErrorCodeNoAuthGeneral:         busifavor.ErrNoAuth,
	busifavor.ErrorCodeAppIDMchIDNotMatch:    busifavor.ErrAppIDMchIDNotMatch,
	busifavor.ErrorCodeMchNotExists:          busifavor.ErrMchNotExists,
	busifavor.ErrorCodeUserNotExists:         busifavor.ErrUserNotExists,
	busifavor.ErrorCodeFrequencyLimited:      busifavor.ErrFrequencyLimited,
	busifavor.ErrorCodeRateLimitExceeded:     busifavor.ErrFrequencyLimited,
	busifavor.ErrorCodeRuleLimit:             busifavor.ErrRuleLimit,
	busifavor.ErrorCodeInvalidRequest:        busifavor.ErrInvalidRequest,
	busifavor.ErrorCodeSignError:             busifavor.ErrSignError,
	busifavor.ErrorCodeServiceUnavailable:    busifavor.ErrServiceUnavailable,
}

func TestEveryTableCodeMapsToItsSentinel(t *testing.T) {
	require.Len(t, busifavor.ErrorCodes(), len(codeSentinel))
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	for _, code := range busifavor.ErrorCodes() {
		t.Run(string(code), func(t *testing.T) {
			s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: code})
			_, err := c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
			require.Error(t, err)
			assert.ErrorIs(t, err, codeSentinel[code])
			for other, sentinel := range codeSentinel {
				if sentinel != codeSentinel[code] {
					assert.NotErrorIs(t, err, sentinel, "%s must not match %s's sentinel", code, other)
				}
			}
			var apiErr *busifavor.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, code, apiErr.Code)
			assert.Equal(t, busifavor.CodeStatus(code), apiErr.StatusCode)
			assert.NotEmpty(t, apiErr.RequestID)
			assert.NotEmpty(t, apiErr.Description())
			assert.NotEmpty(t, apiErr.Solution())
			assert.Equal(t, expectedRetryable[code], apiErr.Retryable())
			assert.Equal(t, expectedRetryable[code], busifavor.IsRetryable(err))
			assert.Contains(t, err.Error(), string(code))
			assert.Contains(t, err.Error(), apiErr.RequestID)
		})
	}
}

func TestUnknownCodeAndNonJSONErrorBodies(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	tests := []struct {
		name      string
		status    int
		body      string
		code      busifavor.ErrorCode
		retryable bool
	}{
		{"unknown code kept raw", 400, `{"code":"BRAND_NEW_CODE","message":"新错误"}`, "BRAND_NEW_CODE", false},
		{"html 502", 502, `<html>Bad Gateway</html>`, "", true},
		{"empty 500", 500, ``, "", true},
		{"empty 404", 404, ``, "", false},
		{"json of the wrong shape", 400, `["PARAM_ERROR"]`, "", false},
		{"429 without a code", 429, `{}`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: tt.status, Body: tt.body})
			_, err := c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
			var apiErr *busifavor.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.Equal(t, tt.code, apiErr.Code)
			assert.Equal(t, tt.retryable, busifavor.IsRetryable(err))
			assert.Empty(t, apiErr.Description(), "no table text for an unlisted code")
		})
	}
}

func TestAPIErrorTextsFollowTheStatus(t *testing.T) {
	e400 := &busifavor.APIError{StatusCode: 400, Code: busifavor.ErrorCodeSystemError}
	e500 := &busifavor.APIError{StatusCode: 500, Code: busifavor.ErrorCodeSystemError}
	assert.Equal(t, "系统错误", e400.Description())
	assert.Equal(t, "请使用相同参数稍后重新调用", e400.Solution())
	assert.Equal(t, "系统失败", e500.Description())
	assert.Equal(t, "多为网络超时引起, 重试", e500.Solution())
	both := &busifavor.APIError{StatusCode: 400, Code: busifavor.ErrorCodeResourceAlreadyExists}
	assert.Contains(t, both.Description(), "批次已存在")
	assert.Contains(t, both.Description(), "券已被其他订单核销")
	assert.Contains(t, both.Solution(), "out_request_no")
	assert.Contains(t, both.Solution(), "查询券 API")
	inv := &busifavor.APIError{StatusCode: 400, Code: busifavor.ErrorCodeInvalidRequest}
	assert.Contains(t, inv.Description(), "发券模式不合法")
	assert.Contains(t, inv.Description(), "上传的自定义 code 已达上限")

	e := &busifavor.APIError{StatusCode: 429, Code: busifavor.ErrorCodeFrequencyLimited, Message: "too fast", RequestID: "08ABC"}
	assert.Equal(t, "busifavor: 429 Too Many Requests FREQUENCY_LIMITED: too fast (request id 08ABC)", e.Error())
	long := &busifavor.APIError{StatusCode: 400, Message: strings.Repeat("x", 10000)}
	assert.Less(t, len(long.Error()), 1000, "a hostile message is capped")
}

func TestResponseSignatureFailuresAreNeverSuccess(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	for _, kind := range []busifavortest.FaultKind{busifavortest.FaultBadSignature, busifavortest.FaultSignTest} {
		s.Fail(1, busifavortest.Fault{Kind: kind})
		resp, err := c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://example.com/notify"})
		assert.Nil(t, resp)
		assert.ErrorIs(t, err, busifavor.ErrResponseSignature)
		assert.False(t, busifavor.IsRetryable(err))

		s.Fail(1, busifavortest.Fault{Kind: kind})
		got, err := c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
		assert.Nil(t, got)
		assert.ErrorIs(t, err, busifavor.ErrResponseSignature)
	}
}

func TestAnswerSignedByAnotherKeyIsRefused(t *testing.T) {
	s, _ := newFake(t, nil)
	other := busifavortest.NewServer(busifavortest.WithMerchantKey(s.MerchantKey()))
	t.Cleanup(other.Close)
	// A client that trusts s's public key but talks to other, which signs
	// with its own key under the same id.
	pub, id := s.PublicKey()
	key, serial := s.MerchantKey()
	cc, err := core.NewClient(ctx,
		option.WithWechatPayPublicKeyAuthCipher(s.MchID(), serial, key, id, pub),
		option.WithHTTPClient(other.HTTPClient()))
	require.NoError(t, err)
	c, err := busifavor.NewClient(cc, busifavor.WithBaseURL(other.URL))
	require.NoError(t, err)
	_, err = c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn/notify"})
	assert.ErrorIs(t, err, busifavor.ErrResponseSignature)
	assert.True(t, other.Requests()[0].Verified, "the request itself was fine")
}

func TestMalformedSuccessBodies(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	tests := []struct {
		name, body, mention string
	}{
		{"not json", `<html>`, "JSON"},
		{"empty body", ``, "JSON"},
		{"json array", `[]`, "JSON"},
		{"empty object", `{}`, "notify_url"},
		{"no mchid", `{"notify_url":"https://a.cn/n"}`, "mchid"},
		{"wrong type", `{"notify_url":1,"mchid":"10000098"}`, "JSON"},
		{"bad time", `{"update_time":"yesterday","notify_url":"https://a.cn/n","mchid":"10000098"}`, `update_time: "yesterday"`},
		{"null", `null`, "JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: tt.body})
			resp, err := c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn/n"})
			assert.Nil(t, resp)
			assert.ErrorIs(t, err, busifavor.ErrMalformedResponse)
			assert.Contains(t, err.Error(), tt.mention)
			assert.False(t, busifavor.IsRetryable(err))
		})
	}
	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultMalformed})
	_, err := c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	assert.ErrorIs(t, err, busifavor.ErrMalformedResponse)
}

func TestUpdateTimeShapes(t *testing.T) {
	s, c := newFake(t, nil)
	tests := map[string]time.Time{
		"2019-05-20T13:29:35+08:00":     time.Date(2019, 5, 20, 5, 29, 35, 0, time.UTC),
		"2019-05-20T13:29:35.120+08:00": time.Date(2019, 5, 20, 5, 29, 35, 120e6, time.UTC),
		"2019-05-20T13:29:35:120+08:00": time.Date(2019, 5, 20, 5, 29, 35, 120e6, time.UTC),
		"2019-05-20T05:29:35Z":          time.Date(2019, 5, 20, 5, 29, 35, 0, time.UTC),
		"2019-05-20T05:29:35.5Z":        time.Date(2019, 5, 20, 5, 29, 35, 500e6, time.UTC),
	}
	for in, want := range tests {
		s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200,
			Body: `{"update_time":"` + in + `","notify_url":"https://a.cn/n","mchid":"10000098"}`})
		resp, err := c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn/n"})
		require.NoError(t, err, in)
		assert.True(t, want.Equal(resp.UpdateTime), "%s parsed as %v", in, resp.UpdateTime)
	}
	for _, bad := range []string{"2019-05-20 13:29:35", "2019-05-20T13:29:35", "2019-05-20T13:29:35:+08:00", "20190520", ""} {
		_, err := busifavor.ParseTime(bad)
		assert.Error(t, err, bad)
	}
	// update_time is optional on the API page: absent is not an error.
	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: `{"notify_url":"https://a.cn/n","mchid":"10000098"}`})
	resp, err := c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn/n"})
	require.NoError(t, err)
	assert.True(t, resp.UpdateTime.IsZero())
}

func TestTransportFailures(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	for _, kind := range []busifavortest.FaultKind{busifavortest.FaultDrop, busifavortest.FaultTruncated} {
		s.Fail(1, busifavortest.Fault{Kind: kind})
		resp, err := c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
		assert.Nil(t, resp)
		assert.ErrorIs(t, err, busifavor.ErrTransport, "fault %d", kind)
		assert.True(t, busifavor.IsRetryable(err))
	}

	// A closed port: connection refused.
	c2, err := s.Client(busifavor.WithBaseURL(closedPort(t)), busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	_, err = c2.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	assert.ErrorIs(t, err, busifavor.ErrTransport)
	assert.True(t, busifavor.IsRetryable(err))
}

func TestContextCancellation(t *testing.T) {
	s, c := newFake(t, nil)
	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultDelay, Delay: time.Minute})
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := c.GetCallbacks(tctx, busifavor.GetCallbacksRequest{})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, busifavor.IsRetryable(err))

	cctx, cancel2 := context.WithCancel(ctx)
	cancel2()
	_, err = c.SetCallbacks(cctx, busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn/n"})
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, busifavor.IsRetryable(err))
}

func TestNewClientRejects(t *testing.T) {
	_, err := busifavor.NewClient(nil)
	assert.ErrorContains(t, err, "core client is nil")

	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	cc, err := core.NewClient(ctx, s.ClientOptions()...)
	require.NoError(t, err)
	for _, bad := range []string{"", "::not a url", "/v3", "api.mch.weixin.qq.com", "ftp://api.mch.weixin.qq.com", "https://", "https://h/?q=1", "https://h/#f"} {
		_, err := busifavor.NewClient(cc, busifavor.WithBaseURL(bad))
		assert.Error(t, err, "base URL %q", bad)
	}
	_, err = busifavor.NewClient(cc, nil)
	assert.Error(t, err)
	for _, good := range []string{"http://127.0.0.1:8080", "https://api.mch.weixin.qq.com/", "https://proxy.internal/wechat"} {
		_, err := busifavor.NewClient(cc, busifavor.WithBaseURL(good))
		assert.NoError(t, err, good)
	}
}

// --- httpmock: canned answers, signed with a key the test makes ---

// mockWechat is a core client on an httpmock transport and the key that
// signs its canned answers.
type mockWechat struct {
	mt     *httpmock.MockTransport
	key    *rsa.PrivateKey
	client *busifavor.Client
}

func newMockWechat(t *testing.T, opts ...busifavor.Option) *mockWechat {
	t.Helper()
	merchant, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	platform, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	mt := httpmock.NewMockTransport()
	cc, err := core.NewClient(ctx,
		option.WithWechatPayPublicKeyAuthCipher("10000098", "5157F09EFDC096DE15EBE81A47057A7232F1B8E1", merchant, "PUB_KEY_ID_0000", &platform.PublicKey),
		option.WithHTTPClient(&http.Client{Transport: mt}))
	require.NoError(t, err)
	c, err := busifavor.NewClient(cc, opts...)
	require.NoError(t, err)
	return &mockWechat{mt: mt, key: platform, client: c}
}

// signed answers status with body, signed as WeChat Pay signs.
func (m *mockWechat) signed(status int, body string) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		r := httpmock.NewStringResponse(status, body)
		r.Header = signedHeader(m.key, "PUB_KEY_ID_0000", body)
		r.Header.Set("Request-ID", "08CANNED")
		return r, nil
	}
}

// signedHeader returns the Wechatpay-* headers of an answer with body, signed
// now with key under serial, for canned answers made without busifavortest.
func signedHeader(key *rsa.PrivateKey, serial, body string) http.Header {
	ts, nonce := fmt.Sprint(time.Now().Unix()), fmt.Sprint("n", time.Now().UnixNano())
	digest := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + body + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Wechatpay-Timestamp", ts)
	h.Set("Wechatpay-Nonce", nonce)
	h.Set("Wechatpay-Signature", base64.StdEncoding.EncodeToString(sig))
	h.Set("Wechatpay-Serial", serial)
	return h
}

func TestDefaultBaseURLAndEscapedQuery(t *testing.T) {
	m := newMockWechat(t)
	var rawQuery string
	answer := m.signed(200, `{"notify_url":"https://pay.weixin.qq.com","mchid":"a&b=c+dd"}`)
	m.mt.RegisterResponder(http.MethodGet, "https://api.mch.weixin.qq.com/v3/marketing/busifavor/callbacks",
		func(r *http.Request) (*http.Response, error) {
			rawQuery = r.URL.RawQuery
			return answer(r)
		})
	got, err := m.client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{MchID: "a&b=c+dd"})
	require.NoError(t, err)
	assert.Equal(t, "a&b=c+dd", got.MchID)
	assert.Equal(t, "08CANNED", got.RequestID)
	assert.Equal(t, "mchid=a%26b%3Dc%2Bdd", rawQuery)
	assert.Equal(t, 1, m.mt.GetTotalCallCount())
}

func TestBaseURLWithPathPrefix(t *testing.T) {
	m := newMockWechat(t, busifavor.WithBaseURL("https://proxy.internal/wechat/"))
	m.mt.RegisterResponder(http.MethodPost, "https://proxy.internal/wechat/v3/marketing/busifavor/callbacks",
		m.signed(200, `{"update_time":"2019-05-20T13:29:35.120+08:00","notify_url":"https://pay.weixin.qq.com","mchid":"10000098"}`))
	resp, err := m.client.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://pay.weixin.qq.com"})
	require.NoError(t, err)
	assert.Equal(t, 2019, resp.UpdateTime.Year())
	assert.Equal(t, 1, m.mt.GetTotalCallCount())
}

func TestUnsignedCannedSuccessIsRefused(t *testing.T) {
	m := newMockWechat(t)
	m.mt.RegisterResponder(http.MethodGet, `=~callbacks`,
		httpmock.NewStringResponder(200, `{"notify_url":"https://pay.weixin.qq.com","mchid":"10000098"}`))
	resp, err := m.client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	assert.Nil(t, resp)
	assert.ErrorIs(t, err, busifavor.ErrResponseSignature)
}

func TestOversizedSuccessBodyIsRefused(t *testing.T) {
	m := newMockWechat(t)
	huge := `{"notify_url":"https://pay.weixin.qq.com","mchid":"10000098","pad":"` + strings.Repeat("x", 2<<20) + `"}`
	m.mt.RegisterResponder(http.MethodGet, `=~callbacks`, m.signed(200, huge))
	_, err := m.client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	assert.ErrorIs(t, err, busifavor.ErrMalformedResponse)
}

// TestErrorsAndLogsCarryNoSecrets drives every error path, in both
// signature modes, and checks that neither the error strings nor the log
// lines hold the private key, the APIv3 key or an Authorization header.
func TestErrorsAndLogsCarryNoSecrets(t *testing.T) {
	for _, mode := range []string{"public key", "platform certificate"} {
		t.Run(mode, func(t *testing.T) {
			var serverOpts []busifavortest.Option
			if mode == "platform certificate" {
				serverOpts = append(serverOpts, busifavortest.WithPlatformCertificate("0123456789abcdef0123456789abcdef"))
			}
			var logs bytes.Buffer
			s, c := newFake(t, serverOpts,
				busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}),
				busifavor.WithBackupBaseURL(closedPort(t)),
				busifavor.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			key, _ := s.MerchantKey()
			der, err := x509.MarshalPKCS8PrivateKey(key)
			require.NoError(t, err)
			secrets := []string{"WECHATPAY2-SHA256-RSA2048", "signature=", "PRIVATE KEY", s.APIv3Key(),
				base64.StdEncoding.EncodeToString(der)[40:80], key.D.String()[:20]}

			var errs []error
			call := func(ctx context.Context, req busifavor.SetCallbacksRequest) {
				_, err := c.SetCallbacks(ctx, req)
				require.Error(t, err)
				errs = append(errs, err)
			}
			for _, f := range []busifavortest.Fault{
				{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSignError},
				{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 500},
				{Kind: busifavortest.FaultBadSignature},
				{Kind: busifavortest.FaultSignTest},
				{Kind: busifavortest.FaultDrop},
				{Kind: busifavortest.FaultTruncated},
				{Kind: busifavortest.FaultMalformed},
				{Kind: busifavortest.FaultStatus, Status: 500, Body: "oops"},
			} {
				s.Fail(2, f)
				call(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn/n"})
			}
			call(ctx, busifavor.SetCallbacksRequest{MchID: "1", NotifyURL: "http://a"})
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			call(cancelled, busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn/n"})

			for _, r := range s.Requests() {
				secrets = append(secrets, r.Header.Get("Authorization"))
			}
			for _, err := range errs {
				for _, secret := range secrets {
					assert.NotContains(t, err.Error(), secret)
				}
			}
			require.NotEmpty(t, logs.String())
			for _, secret := range secrets {
				assert.NotContains(t, logs.String(), secret)
			}
		})
	}
}
