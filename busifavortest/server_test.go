package busifavortest_test

import (
	"bufio"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/services/merchantexclusivecoupon"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

var ctx = context.Background()

// rawRequest is a hand-made request, signed or not, for the checks that
// core.Client would never get wrong.
type rawRequest struct {
	method, uri, body string
	auth              string // whole Authorization header; built from the fields below when empty
	mchid, serial     string
	timestamp         int64
	nonce             string
	key               *rsa.PrivateKey
}

func (r rawRequest) sign() string {
	msg := fmt.Sprintf("%s\n%s\n%d\n%s\n%s\n", r.method, r.uri, r.timestamp, r.nonce, r.body)
	h := sha256.Sum256([]byte(msg))
	sig, err := rsa.SignPKCS1v15(rand.Reader, r.key, crypto.SHA256, h[:])
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func (r rawRequest) send(t *testing.T, s *busifavortest.Server) (*http.Response, map[string]any) {
	t.Helper()
	auth := r.auth
	if auth == "" {
		auth = fmt.Sprintf(`WECHATPAY2-SHA256-RSA2048 mchid="%s",nonce_str="%s",timestamp="%d",serial_no="%s",signature="%s"`,
			r.mchid, r.nonce, r.timestamp, r.serial, r.sign())
	}
	req, err := http.NewRequest(r.method, s.URL+r.uri, strings.NewReader(r.body))
	require.NoError(t, err)
	req.URL.Opaque, _, _ = strings.Cut(r.uri, "?") // the path is sent exactly as given, not re-escaped
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.HTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var body map[string]any
	require.NoError(t, json.Unmarshal(b, &body), "every answer is JSON: %s", b)
	return resp, body
}

// valid returns a correctly signed GET from s's merchant.
func valid(s *busifavortest.Server) rawRequest {
	key, serial := s.MerchantKey()
	return rawRequest{
		method: http.MethodGet, uri: busifavortest.CallbacksPath,
		mchid: s.MchID(), serial: serial, key: key,
		timestamp: time.Now().Unix(), nonce: fmt.Sprint(time.Now().UnixNano()),
	}
}

func TestRequestVerification(t *testing.T) {
	s := busifavortest.NewServer(busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://a.cn/n"))
	defer s.Close()
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	good := valid(s)
	resp, body := good.send(t, s)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)

	// The same five fields in another order are accepted.
	reordered := valid(s)
	reordered.auth = fmt.Sprintf(`WECHATPAY2-SHA256-RSA2048 signature="%s",serial_no="%s",timestamp="%d",nonce_str="%s",mchid="%s"`,
		reordered.sign(), reordered.serial, reordered.timestamp, reordered.nonce, reordered.mchid)
	resp, body = reordered.send(t, s)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)

	tests := []struct {
		name   string
		mutate func(*rawRequest)
		says   string
	}{
		{"replayed nonce", func(r *rawRequest) { r.nonce = good.nonce }, "nonce_str was already used"},
		{"no header", func(r *rawRequest) { r.auth = " " }, "Authorization"},
		{"wrong scheme", func(r *rawRequest) { r.auth = `WECHATPAY2-SHA256-RSA1024 mchid="1"` }, "scheme must be WECHATPAY2-SHA256-RSA2048"},
		{"missing field", func(r *rawRequest) {
			r.auth = fmt.Sprintf(`WECHATPAY2-SHA256-RSA2048 mchid="%s",nonce_str="x",timestamp="%d",serial_no="%s"`, r.mchid, r.timestamp, r.serial)
		}, "signature is missing"},
		{"unknown mchid", func(r *rawRequest) { r.mchid = "19999999" }, "not a known merchant"},
		{"unknown serial", func(r *rawRequest) { r.serial = "ABCDEF" }, "serial_no ABCDEF"},
		{"timestamp 6 minutes old", func(r *rawRequest) { r.timestamp -= 360 }, "timestamp is"},
		{"timestamp 6 minutes ahead", func(r *rawRequest) { r.timestamp += 360 }, "timestamp is"},
		{"wrong key", func(r *rawRequest) { r.key = other }, "signature does not verify"},
		{"signature over another URI", func(r *rawRequest) {
			r.auth = fmt.Sprintf(`WECHATPAY2-SHA256-RSA2048 mchid="%s",nonce_str="%s",timestamp="%d",serial_no="%s",signature="%s"`,
				r.mchid, r.nonce, r.timestamp, r.serial, rawRequest{method: "GET", uri: "/v3/other", timestamp: r.timestamp, nonce: r.nonce, key: r.key}.sign())
		}, "signature does not verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid(s)
			tt.mutate(&r)
			resp, body := r.send(t, s)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Equal(t, "SIGN_ERROR", body["code"])
			assert.Contains(t, body["message"], tt.says)
			assert.NotEmpty(t, resp.Header.Get("Wechatpay-Signature"), "errors are signed too")
		})
	}
	reqs := s.Requests()
	assert.True(t, reqs[0].Verified)
	assert.False(t, reqs[len(reqs)-1].Verified)
	assert.Contains(t, reqs[len(reqs)-1].VerifyError, "signature does not verify")
}

func TestTimestampWindowFollowsTheServerClock(t *testing.T) {
	skew := 4 * time.Minute
	s := busifavortest.NewServer(busifavortest.WithClock(func() time.Time { return time.Now().Add(skew) }),
		busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://a.cn/n"))
	defer s.Close()
	resp, _ := valid(s).send(t, s)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "4 minutes of skew is inside the window")

	s2 := busifavortest.NewServer(busifavortest.WithClock(func() time.Time { return time.Now().Add(6 * time.Minute) }))
	defer s2.Close()
	resp, body := valid(s2).send(t, s2)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, body["message"], "timestamp")
}

// TestGeneratedServiceAgainstFake drives the fake with wechatpay-go's own
// generated service, which hard-wires api.mch.weixin.qq.com: the fake's HTTP
// client rewrites the host, and the answers verify with wechatpay-go's
// validator.
func TestGeneratedServiceAgainstFake(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	cc, err := core.NewClient(ctx, s.ClientOptions()...)
	require.NoError(t, err)
	svc := merchantexclusivecoupon.CallBackApiService{Client: cc}

	set, _, err := svc.SetCouponNotify(ctx, merchantexclusivecoupon.SetCouponNotifyRequest{NotifyUrl: core.String("https://example.com/n")})
	require.NoError(t, err)
	assert.Equal(t, "https://example.com/n", *set.NotifyUrl)
	assert.Equal(t, s.MchID(), *set.Mchid)
	require.NotNil(t, set.UpdateTime)
	got, _, err := svc.GetCouponNotify(ctx, merchantexclusivecoupon.GetCouponNotifyRequest{})
	require.NoError(t, err)
	assert.Equal(t, "https://example.com/n", *got.NotifyUrl)

	// A request signed with a key the fake does not know is refused.
	wrong, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, serial := s.MerchantKey()
	pub, id := s.PublicKey()
	bad, err := core.NewClient(ctx,
		option.WithWechatPayPublicKeyAuthCipher(s.MchID(), serial, wrong, id, pub),
		option.WithHTTPClient(s.HTTPClient()))
	require.NoError(t, err)
	badSvc := merchantexclusivecoupon.CallBackApiService{Client: bad}
	_, _, err = badSvc.GetCouponNotify(ctx, merchantexclusivecoupon.GetCouponNotifyRequest{})
	require.Error(t, err)
	assert.True(t, core.IsAPIError(err, "SIGN_ERROR"), err)
}

func TestPlatformCertificateMode(t *testing.T) {
	apiV3Key := "0123456789abcdef0123456789abcdef"
	s := busifavortest.NewServer(busifavortest.WithPlatformCertificate(apiV3Key))
	defer s.Close()
	c, err := s.Client()
	require.NoError(t, err)
	resp, err := c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://example.com/n"})
	require.NoError(t, err)
	assert.Equal(t, "https://example.com/n", resp.NotifyURL)

	reqs := s.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "/v3/certificates", reqs[0].Path, "the downloader fetched the certificates first")
	assert.True(t, reqs[0].Verified && reqs[1].Verified)

	// Answers are signed with the certificate's serial, not a PUB_KEY_ID_.
	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultBadSignature})
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	assert.ErrorIs(t, err, busifavor.ErrResponseSignature)
	assert.NotContains(t, err.Error(), "PUB_KEY_ID_")
}

func TestParamErrorsNameTheField(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	for body, field := range map[string]string{
		`{"notify_url":"http://a.cn/n"}`:                     "notify_url",
		`{"notify_url":"https://a.cn/n?x=1"}`:                "notify_url",
		`{"mchid":"123","notify_url":"https://a.cn/n"}`:      "mchid",
		`{"mchid":"19000001","notify_url":"https://a.cn/n"}`: "mchid",
		`{}`: "notify_url",
	} {
		r := valid(s)
		r.method, r.body = http.MethodPost, body
		resp, got := r.send(t, s)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
		assert.Equal(t, "PARAM_ERROR", got["code"], body)
		require.IsType(t, map[string]any{}, got["detail"], body)
		assert.Equal(t, field, got["detail"].(map[string]any)["field"], body)
	}
	r := valid(s)
	r.method, r.body = http.MethodPost, `not json`
	resp, got := r.send(t, s)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "PARAM_ERROR", got["code"])
}

func TestGetBeforeSetAndUnknownRoutes(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	resp, body := valid(s).send(t, s)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "RESOURCE_NOT_EXISTS", body["code"])

	r := valid(s)
	r.uri = "/v3/marketing/busifavor/nothing"
	resp, body = r.send(t, s)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "NOT_FOUND", body["code"])

	r = valid(s)
	r.method = http.MethodDelete
	resp, body = r.send(t, s)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "METHOD_NOT_ALLOWED", body["code"])
	assert.Equal(t, "GET, POST", resp.Header.Get("Allow"))

	r = valid(s)
	r.uri = "/v3/certificates"
	resp, _ = r.send(t, s)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "no certificates outside platform-certificate mode")
}

func TestFaultsTargetAnEndpointAndRunOut(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	c, err := s.Client(busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	s.FailOn("GetCallbacks", 2, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeNoAuth})

	_, err = c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn/n"})
	require.NoError(t, err, "a GET fault leaves POST alone")
	for range 2 {
		_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
		assert.ErrorIs(t, err, busifavor.ErrNoAuth)
	}
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	assert.NoError(t, err, "the fault ran out after 2 answers")

	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 503, Body: `{"code":"SERVICE_UNAVAILABLE","message":"busy"}`,
		Header: http.Header{"Retry-After": {"1"}}})
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	var apiErr *busifavor.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 503, apiErr.StatusCode)
	assert.Equal(t, "busy", apiErr.Message)
}

func TestUpdateTimeComesFromTheClock(t *testing.T) {
	at := time.Now().Truncate(time.Second)
	s := busifavortest.NewServer(busifavortest.WithClock(func() time.Time { return at }))
	defer s.Close()
	c, err := s.Client()
	require.NoError(t, err)
	resp, err := c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn/n"})
	require.NoError(t, err)
	assert.True(t, at.Equal(resp.UpdateTime))
	_, offset := resp.UpdateTime.Zone()
	assert.Equal(t, 8*3600, offset, "stamped in China Standard Time")
	assert.Equal(t, at.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02T15:04:05.000+08:00"), busifavortest.FormatTime(at))
	u, ok := s.NotifyURL(s.MchID())
	assert.True(t, ok)
	assert.Equal(t, "https://a.cn/n", u)
}

func TestExtraMerchantsAndFixedKeys(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	platform, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	s := busifavortest.NewServer(
		busifavortest.WithMchID("1230000109"),
		busifavortest.WithMerchantKey(key, "SERIAL1"),
		busifavortest.WithPlatformKey(platform, "PUB_KEY_ID_TEST"),
		busifavortest.WithMerchant("1900000200", "SERIAL2", &other.PublicKey),
	)
	defer s.Close()
	gotKey, serial := s.MerchantKey()
	assert.Same(t, key, gotKey)
	assert.Equal(t, "SERIAL1", serial)
	pub, id := s.PublicKey()
	assert.Equal(t, "PUB_KEY_ID_TEST", id)
	assert.True(t, platform.PublicKey.Equal(pub))

	cc, err := core.NewClient(ctx,
		option.WithWechatPayPublicKeyAuthCipher("1900000200", "SERIAL2", other, id, pub),
		option.WithHTTPClient(s.HTTPClient()))
	require.NoError(t, err)
	c, err := busifavor.NewClient(cc, busifavor.WithBaseURL(s.URL))
	require.NoError(t, err)
	resp, err := c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://second.example.com/n"})
	require.NoError(t, err)
	assert.Equal(t, "1900000200", resp.MchID, "state is kept per calling merchant")
	_, ok := s.NotifyURL("1230000109")
	assert.False(t, ok)
}

func TestRecordingIsBounded(t *testing.T) {
	s := busifavortest.NewServer(busifavortest.WithMaxRecorded(3), busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://a.cn/n"))
	defer s.Close()
	for i := range 10 {
		r := valid(s)
		r.uri = fmt.Sprintf("%s?mchid=%d", busifavortest.CallbacksPath, 10000000+i)
		r.send(t, s)
		got := s.Requests()
		require.Len(t, got, min(i+1, 3))
		assert.Equal(t, fmt.Sprint(10000000+i), got[len(got)-1].Query.Get("mchid"), "the newest is last")
	}
}

func TestEverySignedAnswerCarriesTheSignatureType(t *testing.T) {
	for _, mode := range []string{"public key", "platform certificate"} {
		var opts []busifavortest.Option
		if mode == "platform certificate" {
			opts = append(opts, busifavortest.WithPlatformCertificate("0123456789abcdef0123456789abcdef"))
		}
		s := busifavortest.NewServer(opts...)
		defer s.Close()
		check := func(what string, r rawRequest) {
			resp, body := r.send(t, s)
			assert.Equal(t, "WECHATPAY2-SHA256-RSA2048", resp.Header.Get("Wechatpay-Signature-Type"), "%s, %s: %v", mode, what, body)
		}
		check("404 before any SET", valid(s))
		bad := valid(s)
		bad.serial = "WRONG"
		check("401 SIGN_ERROR", bad)
		certs := valid(s)
		certs.uri = "/v3/certificates"
		check("/v3/certificates", certs)
		post := valid(s)
		post.method, post.body = http.MethodPost, `{"notify_url":"https://a.cn/n"}`
		check("200 SET", post)
	}
}

func TestSignatureCoversTheRequestTargetAsSent(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	target := busifavortest.CallbacksPath + "/{x}?mchid={10000098}"
	// Signed over an escaped form, sent raw: refused.
	for _, signed := range []string{
		busifavortest.CallbacksPath + "/%7Bx%7D?mchid={10000098}",
		busifavortest.CallbacksPath + "/{x}?mchid=%7B10000098%7D",
	} {
		r := valid(s)
		r.auth = fmt.Sprintf(`WECHATPAY2-SHA256-RSA2048 mchid="%s",nonce_str="%s",timestamp="%d",serial_no="%s",signature="%s"`,
			r.mchid, r.nonce, r.timestamp, r.serial,
			rawRequest{method: "GET", uri: signed, timestamp: r.timestamp, nonce: r.nonce, key: r.key}.sign())
		r.uri = target
		resp, body := r.send(t, s)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "signed over %s: %v", signed, body)
		assert.Equal(t, "SIGN_ERROR", body["code"])
	}
	// Signed over exactly what is sent: verified (then 404: no such route).
	ok := valid(s)
	ok.uri = target
	resp, body := ok.send(t, s)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, body)
	reqs := s.Requests()
	assert.True(t, reqs[len(reqs)-1].Verified)
}

func TestTransportFaultsOnAWarmConnection(t *testing.T) {
	s := busifavortest.NewServer(busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://a.cn/n"))
	defer s.Close()
	c, err := s.Client(busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{}) // warms the connection
	require.NoError(t, err)

	// FaultDrop on a warm connection: Go's transport resends the GET by
	// itself, as FaultDrop documents.
	before := len(s.Requests())
	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultDrop})
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	assert.NoError(t, err)
	assert.Len(t, s.Requests(), before+2, "the transport sent the GET twice")

	// FaultGarbled on a warm connection, and on a fresh one: a transport error.
	for _, conn := range []string{"warm", "fresh"} {
		if conn == "fresh" {
			s.HTTPClient().CloseIdleConnections()
		} else {
			_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
			require.NoError(t, err)
		}
		before = len(s.Requests())
		s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultGarbled})
		_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
		assert.ErrorIs(t, err, busifavor.ErrTransport, conn)
		assert.Len(t, s.Requests(), before+1, "%s: sent once", conn)
	}
}

func TestFormattingAServerShowsNoKey(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	key, _ := s.MerchantKey()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
		for _, v := range []any{s, *s} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, s.APIv3Key(), verb)
			assert.NotContains(t, out, fmt.Sprintf("%x", s.APIv3Key()), verb)
			assert.NotContains(t, out, key.D.String()[:20], verb)
			assert.Contains(t, out, s.URL, verb)
		}
	}
}

// TestPackageGuideTestIsARealFile keeps the package guide's copy-paste
// integration test equal to couponflow_test.go, which go test compiles and
// runs.
func TestPackageGuideTestIsARealFile(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	file, err := os.ReadFile("couponflow_test.go")
	require.NoError(t, err)
	var block []string
	in := false
	for _, line := range strings.Split(string(doc), "\n") {
		switch {
		case strings.HasPrefix(line, "//\tpackage busifavortest_test"):
			in = true
		case in && line != "//" && !strings.HasPrefix(line, "//\t"):
			in = false
		}
		if in {
			block = append(block, strings.TrimPrefix(strings.TrimPrefix(line, "//"), "\t"))
		}
	}
	require.NotEmpty(t, block, "doc.go has no code block starting with the package clause")
	assert.Equal(t, string(file), strings.Join(block, "\n")+"\n")
}

// TestLostAnswerOfARefusedRequest: a lost answer is lost whatever the answer
// was. The fake refuses the request (its clock is 6 minutes ahead, outside
// the signature's window) and the connection still breaks, as it would when
// WeChat Pay's refusal is lost on the way back; it used to send an empty,
// unsigned 200.
func TestLostAnswerOfARefusedRequest(t *testing.T) {
	s := busifavortest.NewServer(busifavortest.WithClock(func() time.Time { return time.Now().Add(6 * time.Minute) }))
	defer s.Close()
	c, err := s.Client(busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	s.FailOn("SetCallbacks", 1, busifavortest.Fault{Kind: busifavortest.FaultLostAnswer})
	_, err = c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn/n"})
	assert.ErrorIs(t, err, busifavor.ErrTransport, "%v", err)
	_, err = c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn/n"})
	assert.Equal(t, busifavor.ErrorCodeSignError, busifavor.ErrorCodeOf(err), "without the fault the refusal arrives: %v", err)
}

// postUnsigned posts n unsigned bodies of size bytes to s, on one
// connection, and checks each is refused 401.
func postUnsigned(t *testing.T, s *busifavortest.Server, n, size int) {
	t.Helper()
	body := strings.Repeat("x", size)
	for range n {
		resp, err := s.HTTPClient().Post(s.URL+busifavortest.CallbacksPath, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
}

// recordedBodies is what s keeps of request bodies for Requests.
func recordedBodies(s *busifavortest.Server) (n int) {
	for _, r := range s.Requests() {
		n += len(r.Body)
	}
	return n
}

// Unsigned posts of the largest body the fake reads keep no more than
// DefaultMaxRecordedBytes between them: before the bound, each was kept
// whole (72 of them, 72 MiB).
func TestUnsignedPostsKeepBoundedBytes(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	const mib = 1 << 20
	n := busifavortest.DefaultMaxRecordedBytes/mib + 8
	postUnsigned(t, s, n, mib)
	reqs := s.Requests()
	assert.LessOrEqual(t, recordedBodies(s), busifavortest.DefaultMaxRecordedBytes)
	assert.Less(t, len(reqs), n, "the oldest were dropped")
	assert.Greater(t, len(reqs), n-16, "no more than needed were dropped")
	last := reqs[len(reqs)-1]
	assert.False(t, last.Verified)
	assert.Equal(t, mib, len(last.Body), "the newest is kept whole")
}

func TestWithMaxRecordedBytes(t *testing.T) {
	s := busifavortest.NewServer(busifavortest.WithMaxRecordedBytes(5 << 10))
	defer s.Close()
	postUnsigned(t, s, 3, 2<<10) // two fit, with their headers; three do not
	assert.Equal(t, 2, len(s.Requests()))

	one := busifavortest.NewServer(busifavortest.WithMaxRecordedBytes(1))
	defer one.Close()
	postUnsigned(t, one, 2, 2<<10)
	require.Equal(t, 1, len(one.Requests()), "the newest is kept whatever its size")
	assert.Equal(t, 2<<10, len(one.Requests()[0].Body))
}

// readUntilClosed reads conn until the server closes it, and fails the test
// if the server keeps it open for a minute.
func readUntilClosed(t *testing.T, conn net.Conn) string {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(time.Minute)))
	b, err := io.ReadAll(conn)
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server kept the connection open")
	return string(b)
}

// Connections whose headers never end are closed by the server
// (ReadHeaderTimeout); before, each stayed open as long as its client liked.
func TestUnfinishedHeadersAreClosed(t *testing.T) {
	s := busifavortest.NewServer(busifavortest.WithServeTimeoutsForTest(100*time.Millisecond, 5*time.Second))
	defer s.Close()
	var conns []net.Conn
	for range 20 {
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
		require.NoError(t, err)
		defer conn.Close()
		_, err = io.WriteString(conn, "GET "+busifavortest.CallbacksPath+" HTTP/1.1\r\nHost: x\r\nAuthorization: WECHATPAY2")
		require.NoError(t, err)
		conns = append(conns, conn)
	}
	for _, conn := range conns {
		readUntilClosed(t, conn)
	}
}

// Headers beyond the server's limit are refused 431 before anything is
// read or recorded; headers within it reach the signature check.
func TestHeadersAreBounded(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	for _, tc := range []struct {
		size int
		want int
	}{{32 << 10, http.StatusUnauthorized}, {128 << 10, http.StatusRequestHeaderFieldsTooLarge}} {
		req, err := http.NewRequest(http.MethodGet, s.URL+busifavortest.CallbacksPath, nil)
		require.NoError(t, err)
		req.Header.Set("X-Padding", strings.Repeat("p", tc.size))
		resp, err := s.HTTPClient().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, tc.want, resp.StatusCode, "a %d-byte header", tc.size)
	}
	assert.Equal(t, 1, len(s.Requests()), "only the request within the limit was read")
}

// closeReturns calls s.Close and fails the test if it has not returned
// within a minute.
func closeReturns(t *testing.T, s *busifavortest.Server) {
	t.Helper()
	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Fatal("Close waited a minute for a request that does not end")
	}
}

// Close returns while a client is still sending its request body: it waits
// a while for the requests under way, then closes their connections.
// Before, it waited for the slow client as long as the client liked.
func TestCloseDoesNotWaitForASlowClient(t *testing.T) {
	s := busifavortest.NewServer(busifavortest.WithServeTimeoutsForTest(time.Minute, 50*time.Millisecond))
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	// The server answers 100 Continue once the handler reads the body, so
	// the client knows the request is under way; it then sends nothing.
	_, err = io.WriteString(conn, "POST "+busifavortest.CallbacksPath+" HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n")
	require.NoError(t, err)
	line, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "HTTP/1.1 100 Continue\r\n", line)
	closeReturns(t, s)
	readUntilClosed(t, conn)
	s.Close() // again: nothing happens
}

// Close ends a delayed answer (FaultDelay) at once instead of waiting it
// out: the requests' contexts end with the server.
func TestCloseEndsADelayedAnswer(t *testing.T) {
	s := busifavortest.NewServer()
	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultDelay, Delay: time.Hour})
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET "+busifavortest.CallbacksPath+" HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	for len(s.Requests()) == 0 { // recorded just before the fault applies
		time.Sleep(time.Millisecond)
	}
	closeReturns(t, s)
	readUntilClosed(t, conn)
}

// WithListener serves the fake on the caller's listener, and Close closes
// it.
func TestWithListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := busifavortest.NewServer(busifavortest.WithListener(l), busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://a.cn/n"))
	assert.Equal(t, "http://"+l.Addr().String(), s.URL)
	c, err := s.Client()
	require.NoError(t, err)
	got, err := c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	require.NoError(t, err)
	assert.Equal(t, "https://a.cn/n", got.NotifyURL)
	s.Close()
	_, err = net.Dial("tcp", l.Addr().String())
	assert.Error(t, err, "the listener is closed")
}
