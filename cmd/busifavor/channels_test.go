package main

import (
	"bytes"
	"image"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCouponLinkSignsEachChannelInTheSandbox(t *testing.T) {
	code, out, _ := runCmd(t, nil, "coupon", "link", "--stock-id", "1212", "--out-request-no", "order1", "--openid", "oUser")
	require.Equal(t, exitOK, code)
	assert.True(t, strings.HasPrefix(out, "https://action.weixin.qq.com/busifavor/getcouponinfo?stock_id=1212&"), out)
	assert.True(t, strings.HasSuffix(strings.TrimSpace(out), "#wechat_pay&wechat_redirect"), out)

	code, out, _ = runCmd(t, nil, "coupon", "link", "--stock-id", "1212", "--out-request-no", "order1", "--channel", "miniprogram", "--sandbox")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, `"send_coupon_params"`)

	key := "Abcdefghij0123456789KLMNOPqrstuv"
	file := filepath.Join(t.TempDir(), "apiv2.key")
	require.NoError(t, os.WriteFile(file, []byte(key+"\n"), 0o600))
	code, out, errOut := runCmd(t, nil, "coupon", "link", "--stock-id", "1212", "--out-request-no", "order1", "--channel", "jsapi", "--apiv2-key-file", file, "--sandbox")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, `"cardId": "1212"`)
	assert.NotContains(t, out+errOut, key)

	code, _, errOut = runCmd(t, map[string]string{"WECHATPAY_APIV2_KEY": "too-short-key"}, "coupon", "link", "--stock-id", "1212", "--out-request-no", "o1", "--openid", "o", "--sandbox")
	assert.Equal(t, exitUsage, code)
	assert.NotContains(t, errOut, "too-short-key")

	code, _, errOut = runCmd(t, nil, "coupon", "link", "--stock-id", "1212", "--out-request-no", "bad no", "--sandbox")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "  --openid: is required")
	assert.Contains(t, errOut, "  --out-request-no: ")

	// The sending merchant is the signer's: a bad one is named as given, and
	// nothing is signed.
	code, out, errOut = runCmd(t, nil, "coupon", "link", "--stock-id", "1212", "--out-request-no", "o1",
		"--openid", "o", "--send-merchant", "1234567", "--sandbox")
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "  --send-merchant: must be 8 to 15 bytes long")
}

func TestImageUploadPrintsTheMediaURL(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, image.NewGray(image.Rect(0, 0, 10, 10))))
	file := filepath.Join(t.TempDir(), "logo.png")
	require.NoError(t, os.WriteFile(file, b.Bytes(), 0o600))
	code, out, errOut := runCmd(t, nil, "image", "upload", file, "--sandbox")
	require.Equal(t, exitOK, code, errOut)
	assert.True(t, strings.HasPrefix(out, "https://"), out)

	bad := filepath.Join(t.TempDir(), "notes.txt")
	require.NoError(t, os.WriteFile(bad, []byte("hello"), 0o600))
	code, _, errOut = runCmd(t, nil, "image", "upload", bad, "--sandbox")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "filename")
}

// TestSandboxMediaURLIsRecognisablyFake: what the sandbox invents cannot be
// taken for WeChat Pay's: its media URL is on a host under .invalid
// (RFC 6761), not on wxpaylogo.qpic.cn.
func TestSandboxMediaURLIsRecognisablyFake(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, image.NewGray(image.Rect(0, 0, 10, 10))))
	file := filepath.Join(t.TempDir(), "logo.png")
	require.NoError(t, os.WriteFile(file, b.Bytes(), 0o600))
	code, out, errOut := runCmd(t, nil, "image", "upload", file)
	require.Equal(t, exitOK, code, errOut)
	u, err := url.Parse(strings.TrimSpace(out))
	require.NoError(t, err)
	assert.Equal(t, "https", u.Scheme)
	assert.True(t, strings.HasSuffix(u.Hostname(), ".invalid"), "the sandbox's media URL %s is on a real host", u)
	assert.NotContains(t, u.Hostname(), "qpic.cn")
}

// TestCouponLinkOffersNoJSON: coupon link sends nothing and prints the URL
// or the channel's JSON, so it has no --json that would print something
// else: the flag is refused, exit status 2.
func TestCouponLinkOffersNoJSON(t *testing.T) {
	code, out, errOut := runCmd(t, nil, "coupon", "link", "--stock-id", "1212", "--out-request-no", "o1", "--openid", "oUser", "--json")
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "flag provided but not defined: -json")
	_, help, _ := runCmd(t, nil, "coupon", "link", "--help")
	assert.NotContains(t, help, "  -json")
	assert.NotContains(t, help, "  -timeout")
}
