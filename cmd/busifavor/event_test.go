package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/busifavor-go/busifavor"
)

// verifyingBackend is a merchant backend configured as event send prints:
// the test public key and id, and apiV3Key. It records the events it
// accepts.
func verifyingBackend(t *testing.T, dir, apiV3Key string) (*httptest.Server, func() []busifavor.CouponSend) {
	t.Helper()
	keys, err := loadTestKeys(dir, apiV3Key)
	require.NoError(t, err)
	pub, err := utils.LoadPublicKeyWithPath(filepath.Join(dir, "pub_key.pem"))
	require.NoError(t, err)
	parser, err := busifavor.NewEventParser(keys.apiV3Key, verifiers.NewSHA256WithRSAPubkeyVerifier(keys.keyID, *pub))
	require.NoError(t, err)
	var mu sync.Mutex
	var got []busifavor.CouponSend
	srv := httptest.NewServer(busifavor.NewEventHandler(parser, func(_ context.Context, ev *busifavor.CouponEvent) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, *ev.Coupon)
		return nil
	}))
	t.Cleanup(srv.Close)
	return srv, func() []busifavor.CouponSend {
		mu.Lock()
		defer mu.Unlock()
		return append([]busifavor.CouponSend(nil), got...)
	}
}

// TestEventSendReachesAVerifyingBackend sends the sample event to a backend
// that verifies and decrypts it with the settings event send prints, in the
// sandbox (a test APIv3 key kept with the keys) and with the merchant's own
// APIv3 key; the keys are made once and reused.
func TestEventSendReachesAVerifyingBackend(t *testing.T) {
	dir := t.TempDir()
	srv, got := verifyingBackend(t, dir, "")
	code, out, errOut := runCmd(t, nil, "event", "send", srv.URL+"/busifavor/notify", "--keys-dir", dir, "--coupon-code", "CODE-12345678")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "204")
	assert.Contains(t, errOut, "WECHATPAY_PUBLIC_KEY_ID=PUB_KEY_ID_TEST")
	assert.Contains(t, errOut, filepath.Join(dir, "apiv3_key"))
	require.Len(t, got(), 1)
	assert.Equal(t, "CODE-12345678", got()[0].CouponCode)
	assert.Equal(t, busifavor.SendChannelAPI, got()[0].SendChannel)

	// The merchant's APIv3 key encrypts when given; the key pair stays.
	own := "0123456789abcdef0123456789abcdef"
	srv2, got2 := verifyingBackend(t, dir, own)
	code, _, errOut = runCmd(t, map[string]string{"WECHATPAY_APIV3_KEY": own}, "event", "send", srv2.URL, "--keys-dir", dir)
	require.Equal(t, exitOK, code, errOut)
	assert.NotContains(t, errOut, "made a test key pair")
	require.Len(t, got2(), 1)
	assert.NotContains(t, errOut, own, "the key is never printed")
}

// TestEventSendFailsWhenTheBackendRefuses: a backend with another APIv3 key
// cannot decrypt the event and refuses it; event send exits 1.
func TestEventSendFailsWhenTheBackendRefuses(t *testing.T) {
	dir := t.TempDir()
	srv, got := verifyingBackend(t, dir, "ffffffffffffffffffffffffffffffff")
	code, out, errOut := runCmd(t, nil, "event", "send", srv.URL, "--keys-dir", dir)
	assert.Equal(t, exitAPI, code, errOut)
	assert.Contains(t, out, "400")
	assert.Empty(t, got())
	code, _, errOut = runCmd(t, nil, "event", "send", "not a url", "--keys-dir", dir)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "see busifavor event send --help")
}

// TestEventSendDoesNotFollowRedirects: a backend behind a login page answers
// 302. WeChat Pay follows no redirect, so neither does event send: the 3xx is
// a failure (exit 1) naming the Location, and the login page never gets the
// event.
func TestEventSendDoesNotFollowRedirects(t *testing.T) {
	var loginHits atomic.Int32
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loginHits.Add(1)
		_, _ = io.WriteString(w, "<html>please sign in</html>")
	}))
	defer login.Close()
	behind := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, login.URL+"/sso/login?next=%2Fnotify", http.StatusFound)
	}))
	defer behind.Close()
	code, out, errOut := runCmd(t, nil, "event", "send", behind.URL+"/busifavor/notify", "--keys-dir", t.TempDir())
	assert.Equal(t, exitAPI, code, "stdout %s stderr %s", out, errOut)
	assert.Contains(t, out, "302")
	assert.Contains(t, errOut, "redirect")
	assert.Contains(t, errOut, login.URL+"/sso/login?next=%2Fnotify")
	assert.Zero(t, loginHits.Load(), "the redirect was followed")
}

// TestEventSendTakesTheAPIv3KeyAlone: the merchant's APIv3 key, with no
// signing credentials set, is what event send encrypts with.
func TestEventSendTakesTheAPIv3KeyAlone(t *testing.T) {
	dir := t.TempDir()
	const own = "0123456789abcdef0123456789abcdef"
	srv, got := verifyingBackend(t, dir, own)
	code, out, errOut := runCmd(t, map[string]string{"WECHATPAY_APIV3_KEY": own}, "event", "send", srv.URL, "--keys-dir", dir)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "204")
	assert.Contains(t, errOut, "WECHATPAY_APIV3_KEY=your APIv3 key, as given")
	require.Len(t, got(), 1)
	code, _, errOut = runCmd(t, map[string]string{"WECHATPAY_APIV3_KEY": "short"}, "event", "send", srv.URL, "--keys-dir", dir)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "must be 32 bytes")
	assert.NotContains(t, errOut, "short")
}

// TestEventSendNeverOverwritesAnotherKey: a --keys-dir holding a
// pub_key.pem but no test key (another tool's keys, such as a WeChat Pay
// public key kept with the merchant's) is refused, exit status 2, and left
// as it was.
func TestEventSendNeverOverwritesAnotherKey(t *testing.T) {
	dir := t.TempDir()
	pub := filepath.Join(dir, "pub_key.pem")
	require.NoError(t, os.WriteFile(pub, []byte("someone else's key\n"), 0o600))
	code, _, errOut := runCmd(t, nil, "event", "send", "http://127.0.0.1:1/", "--keys-dir", dir)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "it holds pub_key.pem but no test_wechatpay_key.pem")
	b, err := os.ReadFile(pub)
	require.NoError(t, err)
	assert.Equal(t, "someone else's key\n", string(b))
}
