package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// TestVerbosePrintsEachAttempt: --verbose prints one line per attempt on
// stderr, with the path template instead of the path, so neither the
// openid nor the coupon code shows; without it, none.
func TestVerbosePrintsEachAttempt(t *testing.T) {
	code, out, errOut := runCmd(t, nil, "coupon", "get", sandboxCoupon, "--openid", sandboxOpenID, "--appid", sandboxAppID, "--verbose")
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "SANDBOX0001", "stdout shows the coupon as before")
	assert.Regexp(t, regexp.MustCompile(`(?m)^busifavor: GetUserCoupon attempt 1: GET /v3/marketing/busifavor/users/\{openid\}/coupons/\{coupon_code\}/appids/\{appid\} `+
		`\(127\.0\.0\.1:\d+\) → 200, request id 08\w+, [0-9.]+[µm]?s$`), errOut)
	assert.Equal(t, 1, strings.Count(errOut, "attempt"), "the sandbox's seeding is not printed")
	assert.NotContains(t, errOut, sandboxOpenID)
	assert.NotContains(t, errOut, sandboxCoupon)

	code, _, errOut = runCmd(t, nil, "coupon", "get", "NOSUCHCODE", "--openid", sandboxOpenID, "--appid", sandboxAppID, "--verbose")
	assert.Equal(t, exitAPI, code)
	assert.Regexp(t, `(?m)^busifavor: GetUserCoupon attempt 1: GET \S+ \(127\.0\.0\.1:\d+\) → 404 RESOURCE_NOT_EXISTS, request id 08\w+, `, errOut)

	code, _, errOut = runCmd(t, nil, "coupon", "get", sandboxCoupon, "--openid", sandboxOpenID, "--appid", sandboxAppID)
	assert.Equal(t, exitOK, code, errOut)
	assert.NotContains(t, errOut, "attempt")
}

// TestVerboseListenPrintsEachEvent: listen --verbose prints each
// notification's outcome, its id and type, never its content.
func TestVerboseListenPrintsEachEvent(t *testing.T) {
	l := startListen(t, nil, "--verbose")
	waitFor(t, l.errOut, "busifavor: event ")
	assert.Regexp(t, `(?m)^busifavor: event [0-9a-f-]{36} COUPON\.SEND: handled, 204, [0-9.]+[µm]?s$`, l.errOut.String())

	forger := busifavortest.NewServer()
	defer forger.Close()
	resp, err := forger.SendCouponEvent(context.Background(), l.url, busifavor.CouponSend{CouponCode: "forged-coupon"})
	require.NoError(t, err)
	resp.Body.Close()
	waitFor(t, l.errOut, "busifavor: event: refused (signature), 401, ")
	assert.NotContains(t, l.errOut.String(), "sandbox-coupon-0001")
	assert.NotContains(t, l.errOut.String(), "forged-coupon")
	assert.Equal(t, exitOK, l.stop())
}
