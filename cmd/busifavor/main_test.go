package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// runCmd runs the command in-process with env as its whole environment.
func runCmd(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

// credentialsFor writes s's merchant key and WeChat Pay public key to files
// and returns the environment a merchant would set.
func credentialsFor(t *testing.T, s *busifavortest.Server) map[string]string {
	t.Helper()
	dir := t.TempDir()
	key, serial := s.MerchantKey()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	keyFile := filepath.Join(dir, "apiclient_key.pem")
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	pub, id := s.PublicKey()
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	pubFile := filepath.Join(dir, "pub_key.pem")
	require.NoError(t, os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600))
	return map[string]string{
		"WECHATPAY_MCHID":            s.MchID(),
		"WECHATPAY_CERT_SERIAL":      serial,
		"WECHATPAY_PRIVATE_KEY_FILE": keyFile,
		"WECHATPAY_PUBLIC_KEY_ID":    id,
		"WECHATPAY_PUBLIC_KEY_FILE":  pubFile,
	}
}

func TestSandboxIsTheDefault(t *testing.T) {
	code, out, errOut := runCmd(t, nil, "set", "--notify-url", "https://example.com/busifavor/notify")
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "sandbox")
	assert.Contains(t, out, "notify URL:  https://example.com/busifavor/notify")
	assert.Contains(t, out, "mchid:       "+busifavortest.DefaultMchID)
	assert.Contains(t, out, "updated:")
	assert.Contains(t, out, "request id:  08")

	code, out, errOut = runCmd(t, nil, "get", "--json")
	assert.Equal(t, exitOK, code, errOut)
	var got busifavor.GetCallbacksResponse
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.Equal(t, "https://example.com/busifavor/notify", got.NotifyURL)
	assert.NotEmpty(t, got.RequestID)

	code, _, errOut = runCmd(t, nil, "get", "--sandbox")
	assert.Equal(t, exitOK, code)
	assert.NotContains(t, errOut, "no WECHATPAY_", "an explicit --sandbox needs no notice")
}

func TestSetAndGetWithCredentials(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)

	code, out, errOut := runCmd(t, env, "set", "--notify-url", "https://merchant.example.com/coupons", "--base-url", s.URL, "--json")
	require.Equal(t, exitOK, code, errOut)
	assert.Empty(t, errOut)
	var set busifavor.SetCallbacksResponse
	require.NoError(t, json.Unmarshal([]byte(out), &set))
	assert.Equal(t, "https://merchant.example.com/coupons", set.NotifyURL)
	assert.False(t, set.UpdateTime.IsZero())

	code, out, errOut = runCmd(t, env, "get", "--base-url", s.URL)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "https://merchant.example.com/coupons")
	for _, r := range s.Requests() {
		assert.True(t, r.Verified, r.VerifyError)
	}

	// Flags win over the environment.
	bad := map[string]string{}
	for k, v := range env {
		bad[k] = v
	}
	bad["WECHATPAY_CERT_SERIAL"] = "WRONG"
	_, serial := s.MerchantKey()
	code, _, errOut = runCmd(t, bad, "get", "--base-url", s.URL, "--cert-serial", serial)
	assert.Equal(t, exitOK, code, errOut)
}

func TestValidationFailureExits2AndSendsNothing(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	code, out, errOut := runCmd(t, credentialsFor(t, s), "set", "--notify-url", "http://10.0.0.1/n?x=1", "--mchid", "123", "--base-url", s.URL)
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "nothing was sent")
	assert.Contains(t, errOut, "--mchid: must be 8 to 15 bytes long")
	assert.Contains(t, errOut, "--notify-url: must use https")
	assert.Contains(t, errOut, "query parameters")
	assert.Empty(t, s.Requests())

	code, _, errOut = runCmd(t, nil, "set")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--notify-url: is required")
}

func TestAPIErrorExits1WithSolution(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.CodeNoAuth})
	code, out, errOut := runCmd(t, credentialsFor(t, s), "get", "--base-url", s.URL)
	assert.Equal(t, exitAPI, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "NOAUTH")
	assert.Contains(t, errOut, "解决方案: 查看具体错误信息, 确认是否有权限")
	assert.Contains(t, errOut, "request id: 08")
	assert.Len(t, s.Requests(), 1, "NOAUTH is not retried")
}

func TestCredentialErrors(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)

	missing := map[string]string{"WECHATPAY_MCHID": "10000098"}
	code, _, errOut := runCmd(t, missing, "get")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--cert-serial / WECHATPAY_CERT_SERIAL")
	assert.Contains(t, errOut, "--private-key-file / WECHATPAY_PRIVATE_KEY_FILE")

	noKey := map[string]string{}
	for k, v := range env {
		noKey[k] = v
	}
	noKey["WECHATPAY_PRIVATE_KEY_FILE"] = filepath.Join(t.TempDir(), "absent.pem")
	code, _, errOut = runCmd(t, noKey, "get", "--base-url", s.URL)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--private-key-file / WECHATPAY_PRIVATE_KEY_FILE")

	noPub := map[string]string{}
	for k, v := range env {
		noPub[k] = v
	}
	noPub["WECHATPAY_PUBLIC_KEY_FILE"] = env["WECHATPAY_PRIVATE_KEY_FILE"]
	code, _, errOut = runCmd(t, noPub, "get", "--base-url", s.URL)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--public-key-file / WECHATPAY_PUBLIC_KEY_FILE")
	assert.NotContains(t, errOut, "PRIVATE KEY", "no key material in errors")

	delete(noPub, "WECHATPAY_PUBLIC_KEY_FILE")
	delete(noPub, "WECHATPAY_PUBLIC_KEY_ID")
	code, _, errOut = runCmd(t, noPub, "get", "--base-url", s.URL)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "WECHATPAY_APIV3_KEY")

	noPub["WECHATPAY_APIV3_KEY"] = "short"
	code, _, errOut = runCmd(t, noPub, "get", "--base-url", s.URL)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "32 bytes")
	assert.NotContains(t, errOut, "short", "the key itself is never echoed")
}

func TestUsageErrors(t *testing.T) {
	code, _, _ := runCmd(t, nil)
	assert.Equal(t, exitUsage, code)
	code, _, errOut := runCmd(t, nil, "delete")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `unknown command "delete"`)
	code, _, _ = runCmd(t, nil, "get", "--no-such-flag")
	assert.Equal(t, exitUsage, code)
	code, _, _ = runCmd(t, nil, "get", "extra")
	assert.Equal(t, exitUsage, code)
	code, _, _ = runCmd(t, nil, "--help")
	assert.Equal(t, exitOK, code)
}

// syncBuffer is a bytes.Buffer safe for the listener's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls until buf holds want, failing after a generous deadline.
func waitFor(t *testing.T, buf *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(buf.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("never saw %q in %q", want, buf.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestListenInSandboxReceivesTheSampleEvent(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"listen", "--addr", "127.0.0.1:0"}, func(string) string { return "" }, &out, &errOut)
	}()
	waitFor(t, &out, "\n")
	var ev busifavor.CouponEvent
	require.NoError(t, json.Unmarshal([]byte(out.String()), &ev))
	assert.Equal(t, busifavor.EventTypeCouponSend, ev.EventType)
	assert.Equal(t, "sandbox-coupon-0001", ev.Coupon.CouponCode)
	waitFor(t, &errOut, "answered 204 No Content")

	// A forged event is refused and the reason logged, without the body.
	addr := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`).FindString(errOut.String())
	require.NotEmpty(t, addr)
	forger := busifavortest.NewServer()
	defer forger.Close()
	resp, err := forger.SendCouponEvent(ctx, addr, busifavor.CouponSend{CouponCode: "forged-coupon"})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	waitFor(t, &errOut, "notification refused")
	assert.NotContains(t, errOut.String(), "forged-coupon")
	assert.Equal(t, 1, strings.Count(out.String(), "\n"), "only the genuine event was printed")

	cancel()
	assert.Equal(t, exitOK, <-exit)
}

func TestListenNeedsTheAPIv3Key(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	code, _, errOut := runCmd(t, credentialsFor(t, s), "listen", "--addr", "127.0.0.1:0", "--base-url", s.URL)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "WECHATPAY_APIV3_KEY")
}

func TestListenWithCredentialsVerifiesWithThePublicKey(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)
	env["WECHATPAY_APIV3_KEY"] = s.APIv3Key()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"listen", "--addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, &out, &errOut)
	}()
	waitFor(t, &errOut, "receiving coupon events at ")
	addr := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`).FindString(errOut.String())
	resp, err := s.SendCouponEvent(ctx, addr, busifavor.CouponSend{CouponCode: "real-0001", StockID: "1234567891"})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	waitFor(t, &out, "real-0001")
	cancel()
	assert.Equal(t, exitOK, <-exit)
}
