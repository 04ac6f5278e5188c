package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// TestListenNeedsOnlyVerifyingAndDecrypting: with WeChat Pay's public key,
// its id and the APIv3 key, and nothing else, listen receives and prints a
// verified event: it asks for no signing credentials it never uses.
func TestListenNeedsOnlyVerifyingAndDecrypting(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	all := credentialsFor(t, s)
	env := map[string]string{"WECHATPAY_PUBLIC_KEY_ID": all["WECHATPAY_PUBLIC_KEY_ID"],
		"WECHATPAY_PUBLIC_KEY_FILE": all["WECHATPAY_PUBLIC_KEY_FILE"], "WECHATPAY_APIV3_KEY": s.APIv3Key()}
	l := startListen(t, env)
	resp, err := s.SendCouponEvent(context.Background(), l.url, busifavor.CouponSend{CouponCode: "only-verify-0001", StockID: "1234567891"})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	waitFor(t, l.out, busifavor.MaskCode("only-verify-0001"))
	assert.Equal(t, exitOK, l.stop())
	assert.NotContains(t, l.errOut.String(), "sandbox")
}

// TestEveryCommandReadsWECHATPAY_BASE_URL: with the variable set and no
// --base-url, requests go to it, as the example backend's do.
func TestEveryCommandReadsWECHATPAY_BASE_URL(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := withEnv(credentialsFor(t, s), "WECHATPAY_BASE_URL", s.URL)
	for _, args := range [][]string{
		{"get"},
		{"set", "--notify-url", "https://shop.example.com/n"},
		{"stock", "get", "404"},
		{"check"},
	} {
		before := len(s.Requests())
		code, _, errOut := runCmd(t, withEnv(env, "WECHATPAY_APIV3_KEY", s.APIv3Key()), args...)
		assert.NotEqual(t, exitUsage, code, "%v: %s", args, errOut)
		assert.Greater(t, len(s.Requests()), before, "%v reached the server in WECHATPAY_BASE_URL: %s", args, errOut)
	}
	// --base-url wins over the variable.
	code, _, errOut := runCmd(t, withEnv(env, "WECHATPAY_BASE_URL", "http://127.0.0.1:1"), "get", "--base-url", s.URL)
	assert.Equal(t, exitOK, code, errOut)
	code, _, errOut = runCmd(t, withEnv(env, "WECHATPAY_BASE_URL", "proxy"), "get")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--base-url / WECHATPAY_BASE_URL")
}

// TestHalfConfiguredEnvironmentIsRefusedBeforeAnyRequest: an environment
// with the signing credentials and the APIv3 key but no public key (a
// merchant in public-key mode who forgot two variables) names what is
// missing, exit status 2, and sends nothing: it does not fall into the
// platform-certificate download. Every missing setting is named in one
// run.
func TestHalfConfiguredEnvironmentIsRefusedBeforeAnyRequest(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	half := withEnv(credentialsFor(t, s), "WECHATPAY_PUBLIC_KEY_ID", "", "WECHATPAY_PUBLIC_KEY_FILE", "",
		"WECHATPAY_APIV3_KEY", s.APIv3Key(), "WECHATPAY_BASE_URL", s.URL)
	code, out, errOut := runCmd(t, half, "get")
	assert.Equal(t, exitUsage, code, errOut)
	assert.Empty(t, out)
	for _, w := range []string{"WECHATPAY_PUBLIC_KEY_ID", "WECHATPAY_PUBLIC_KEY_FILE", "WECHATPAY_PLATFORM_CERTIFICATES", "nothing was sent"} {
		assert.Contains(t, errOut, w)
	}
	assert.Empty(t, s.Requests(), "no certificate download, no call")

	// One run names each missing setting.
	code, _, errOut = runCmd(t, map[string]string{"WECHATPAY_MCHID": "10000098", "WECHATPAY_PUBLIC_KEY_ID": "PUB_KEY_ID_0001"}, "get")
	assert.Equal(t, exitUsage, code)
	for _, w := range []string{"WECHATPAY_CERT_SERIAL", "WECHATPAY_PRIVATE_KEY_FILE", "WECHATPAY_PUBLIC_KEY_FILE"} {
		assert.Contains(t, errOut, w+" is not set")
	}
	// Inconsistent: both modes.
	code, _, errOut = runCmd(t, withEnv(credentialsFor(t, s), "WECHATPAY_PLATFORM_CERTIFICATES", "1", "WECHATPAY_BASE_URL", s.URL), "get")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "choose one mode")
	code, _, errOut = runCmd(t, withEnv(credentialsFor(t, s), "WECHATPAY_PLATFORM_CERTIFICATES", "maybe", "WECHATPAY_BASE_URL", s.URL), "get")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "WECHATPAY_PLATFORM_CERTIFICATES must be 1 or true")
	assert.Empty(t, s.Requests())
}

// TestCertificateDownloadFailurePrintsNoHeaders: in platform-certificate
// mode against a server without platform certificates the download fails
// (exit status 1) with the status and code, never wechatpay-go's dump of
// the answer's headers, and says what a public-key merchant sets instead.
func TestCertificateDownloadFailurePrintsNoHeaders(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := withEnv(credentialsFor(t, s), "WECHATPAY_PUBLIC_KEY_ID", "", "WECHATPAY_PUBLIC_KEY_FILE", "",
		"WECHATPAY_APIV3_KEY", s.APIv3Key(), "WECHATPAY_PLATFORM_CERTIFICATES", "1", "WECHATPAY_BASE_URL", s.URL)
	code, _, errOut := runCmd(t, env, "get")
	assert.Equal(t, exitAPI, code, errOut)
	assert.Contains(t, errOut, "cannot download the platform certificates: WeChat Pay answered 404")
	assert.Contains(t, errOut, "WECHATPAY_PUBLIC_KEY_ID")
	for _, h := range []string{"Header", "Request-Id", "Wechatpay-", "Content-Type"} {
		assert.NotContains(t, errOut, h)
	}
}

// TestSandboxNoticeOnlyWhenNothingLeaves: the notice that nothing leaves
// the machine comes with the in-process sandbox, never with event send,
// which posts to a backend whatever is configured.
func TestSandboxNoticeOnlyWhenNothingLeaves(t *testing.T) {
	const notice = "nothing leaves this machine"
	code, _, errOut := runCmd(t, nil, "stock", "get", "1200000001")
	require.Equal(t, exitOK, code)
	assert.Contains(t, errOut, notice)
	code, _, errOut = runCmd(t, nil, "event", "send", closedPort(t), "--keys-dir", t.TempDir())
	assert.Equal(t, exitAPI, code)
	assert.NotContains(t, errOut, notice)
	assert.NotContains(t, errOut, "in-process sandbox")
	code, out, errOut := runCmd(t, nil, "completion", "bash")
	require.Equal(t, exitOK, code)
	assert.NotContains(t, out+errOut, notice)
}

// TestCouponLinkNeedsOnlyTheAPIv2KeyAndTheMerchant: coupon link signs with
// the APIv2 key and the sending merchant alone.
func TestCouponLinkNeedsOnlyTheAPIv2KeyAndTheMerchant(t *testing.T) {
	const key = "Abcdefghij0123456789KLMNOPqrstuv"
	code, out, errOut := runCmd(t, map[string]string{"WECHATPAY_APIV2_KEY": key, "WECHATPAY_MCHID": "1900000001"},
		"coupon", "link", "--stock-id", "1212", "--out-request-no", "o1", "--openid", "oUser")
	require.Equal(t, exitOK, code, errOut)
	assert.True(t, strings.HasPrefix(out, "https://action.weixin.qq.com/busifavor/getcouponinfo?"), out)
	assert.Contains(t, out, "send_coupon_merchant=1900000001")
	assert.NotContains(t, out+errOut, key)
}
