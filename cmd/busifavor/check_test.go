package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor/busifavortest"
)

// fullEnv is everything a merchant sets for s: public-key mode, the APIv3
// and APIv2 keys and s's URL.
func fullEnv(t *testing.T, s *busifavortest.Server) map[string]string {
	t.Helper()
	return withEnv(credentialsFor(t, s), "WECHATPAY_APIV3_KEY", s.APIv3Key(), "WECHATPAY_APIV2_KEY", s.APIv2Key(), "WECHATPAY_BASE_URL", s.URL)
}

// TestCheckPassesWithEverySettingRight: each setting is reported with what
// was found, the signed call reads the notify URL, exit status 0, and no
// secret is printed.
func TestCheckPassesWithEverySettingRight(t *testing.T) {
	s := busifavortest.NewServer(busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://shop.example.com/busifavor/notify"))
	defer s.Close()
	env := fullEnv(t, s)
	code, out, errOut := runCmd(t, env, "check")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	for _, w := range []string{
		"ok    merchant id         10000098 (WECHATPAY_MCHID)",
		"ok    private key         RSA 2048 bits, from " + env["WECHATPAY_PRIVATE_KEY_FILE"],
		"ok    mode                public-key mode",
		"ok    public key          RSA 2048 bits",
		"ok    APIv3 key           32 bytes, not shown (WECHATPAY_APIV3_KEY)\n",
		"ok    APIv2 key           32 bytes, not shown (WECHATPAY_APIV2_KEY)",
		"ok    base URL            " + s.URL,
		"ok    signed call         GET /v3/marketing/busifavor/callbacks: WeChat Pay accepted the signature and its answer verified; " +
			"notify URL https://shop.example.com/busifavor/notify",
	} {
		assert.Contains(t, out, w)
	}
	assert.NotContains(t, out, "FAIL")
	assertNoSecret(t, env, out+errOut)
	require.Len(t, s.Requests(), 1, "one call")
	assert.True(t, s.Requests()[0].Verified)
	assert.Equal(t, "GET", s.Requests()[0].Method)
}

// assertNoSecret fails when text holds the APIv3 or APIv2 key or a line
// of the private key.
func assertNoSecret(t *testing.T, env map[string]string, text string) {
	t.Helper()
	for _, k := range []string{"WECHATPAY_APIV3_KEY", "WECHATPAY_APIV2_KEY"} {
		if env[k] != "" {
			assert.NotContains(t, text, env[k], k)
		}
	}
	pemBytes, err := os.ReadFile(env["WECHATPAY_PRIVATE_KEY_FILE"])
	if env["WECHATPAY_PRIVATE_KEY_FILE"] == "" {
		return
	}
	require.NoError(t, err)
	for _, line := range strings.Split(string(pemBytes), "\n") {
		if len(line) > 16 && !strings.HasPrefix(line, "-----") {
			require.NotContains(t, text, line, "a private key line was printed")
		}
	}
}

// TestCheckFailsWithOneSettingMissingOrWrong: one variable missing, a key
// that is not RSA 2048, a key of the wrong length: exit status 2, the
// setting named, and no call made. A public key that is not WeChat Pay's:
// the call is made and its answer does not verify, exit status 1.
func TestCheckFailsWithOneSettingMissingOrWrong(t *testing.T) {
	s := busifavortest.NewServer(busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://shop.example.com/busifavor/notify"))
	defer s.Close()
	env := fullEnv(t, s)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(small)
	require.NoError(t, err)
	smallFile := filepath.Join(t.TempDir(), "small.pem")
	require.NoError(t, os.WriteFile(smallFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))

	for _, tc := range []struct {
		name string
		env  map[string]string
		says string
	}{
		{"merchant id missing", withEnv(env, "WECHATPAY_MCHID", ""), "FAIL  merchant id         --merchant-id / WECHATPAY_MCHID is not set"},
		{"private key missing", withEnv(env, "WECHATPAY_PRIVATE_KEY_FILE", ""), "FAIL  private key         --private-key-file / WECHATPAY_PRIVATE_KEY_FILE is not set"},
		{"public key id missing", withEnv(env, "WECHATPAY_PUBLIC_KEY_ID", ""), "FAIL  public key id       --public-key-id / WECHATPAY_PUBLIC_KEY_ID is not set"},
		{"APIv3 key missing", withEnv(env, "WECHATPAY_APIV3_KEY", ""), "FAIL  APIv3 key           --apiv3-key-file / WECHATPAY_APIV3_KEY is not set"},
		{"no mode", withEnv(env, "WECHATPAY_PUBLIC_KEY_ID", "", "WECHATPAY_PUBLIC_KEY_FILE", ""), "FAIL  mode                no verification mode"},
		{"RSA 1024", withEnv(env, "WECHATPAY_PRIVATE_KEY_FILE", smallFile), "FAIL  private key         is RSA 1024 bits"},
		{"short APIv2 key", withEnv(env, "WECHATPAY_APIV2_KEY", "short"), "FAIL  APIv2 key           the APIv2 key (WECHATPAY_APIV2_KEY) must be 32 bytes, got 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(s.Requests())
			code, out, errOut := runCmd(t, tc.env, "check")
			assert.Equal(t, exitUsage, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
			assert.Contains(t, out, tc.says)
			assert.Contains(t, errOut, "no call was made")
			assert.NotContains(t, out, "signed call")
			assert.Len(t, s.Requests(), before, "nothing was sent")
			assertNoSecret(t, tc.env, out+errOut)
		})
	}

	// Without the APIv2 key it passes: only coupon link needs it.
	code, out, errOut := runCmd(t, withEnv(env, "WECHATPAY_APIV2_KEY", ""), "check")
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "ok    APIv2 key           not set: only coupon link")

	// Another WeChat Pay's public key: WeChat Pay's answer does not verify.
	other := busifavortest.NewServer()
	defer other.Close()
	wrong := withEnv(env, "WECHATPAY_PUBLIC_KEY_FILE", credentialsFor(t, other)["WECHATPAY_PUBLIC_KEY_FILE"])
	code, out, errOut = runCmd(t, wrong, "check")
	assert.Equal(t, exitAPI, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "FAIL  signed call")
	assert.Contains(t, out, "answer did not verify")

	// No notify URL set: WeChat Pay refuses the read, and a refusal is not
	// verified, so the check is not done.
	bare := busifavortest.NewServer()
	defer bare.Close()
	code, out, errOut = runCmd(t, fullEnv(t, bare), "check")
	assert.Equal(t, exitAPI, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "accepted the signature and answered RESOURCE_NOT_EXISTS")
	assert.Contains(t, out, "FAIL  answer")
	assert.Contains(t, out, "busifavor set --notify-url URL")
}

// TestCheckRunsInTheSandbox: with nothing configured, check reads the
// sandbox's own credentials from files, as a merchant's are read, and
// passes.
func TestCheckRunsInTheSandbox(t *testing.T) {
	code, out, errOut := runCmd(t, nil, "check")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "checking the in-process sandbox's own credentials")
	assert.Contains(t, out, "ok    private key         RSA 2048 bits")
	assert.Contains(t, out, "ok    signed call")
	assert.Contains(t, errOut, "nothing leaves this machine")
}

// TestCheckInPlatformCertificateMode: asked for, the mode downloads the
// certificates, lists them and makes the call.
func TestCheckInPlatformCertificateMode(t *testing.T) {
	const apiV3Key = "0123456789abcdef0123456789abcdef"
	s := busifavortest.NewServer(busifavortest.WithPlatformCertificate(apiV3Key),
		busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://shop.example.com/busifavor/notify"))
	defer s.Close()
	env := withEnv(credentialsFor(t, s), "WECHATPAY_PUBLIC_KEY_ID", "", "WECHATPAY_PUBLIC_KEY_FILE", "",
		"WECHATPAY_APIV3_KEY", apiV3Key, "WECHATPAY_PLATFORM_CERTIFICATES", "1", "WECHATPAY_BASE_URL", s.URL)
	code, out, errOut := runCmd(t, env, "check")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "ok    mode                platform-certificate mode (平台证书, downloaded) (WECHATPAY_PLATFORM_CERTIFICATES)")
	assert.Regexp(t, `ok    platform cert       serial [0-9A-F]+, valid until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00`, out)
	assert.Contains(t, out, "ok    signed call")
	assert.NotContains(t, out+errOut, apiV3Key)
}

// TestCheckVerbosePrintsItsCall: check takes --verbose, as every command
// that calls WeChat Pay does, and then prints its signed call's attempt.
func TestCheckVerbosePrintsItsCall(t *testing.T) {
	code, out, errOut := runCmd(t, nil, "check", "--verbose")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Regexp(t, `(?m)^busifavor: GetCallbacks attempt 1: GET /v3/marketing/busifavor/callbacks \(127\.0\.0\.1:\d+\) → 200, `, errOut)

	code, out, errOut = runCmd(t, nil, "check")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.NotContains(t, errOut, "attempt")
}
