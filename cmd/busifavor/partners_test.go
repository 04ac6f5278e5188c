package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// TestPartnerCommands runs a partnership's life through the command against
// a fake: build, the same build again (the first answer), list, terminate,
// list again; a key reused for another request is refused; and every
// usage error is named by its flag, with nothing sent.
func TestPartnerCommands(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)
	client, err := s.Client()
	require.NoError(t, err)
	begin := s.Now().Add(-time.Hour)
	stock, err := client.CreateStock(context.Background(), busifavor.CreateStockRequest{StockName: "券", BelongMerchant: s.MchID(), GoodsName: "全场",
		StockType: busifavor.StockTypeNormal, CouponUseRule: busifavor.CouponUseRule{
			CouponAvailableTime: busifavor.AvailableTime{AvailableBeginTime: begin, AvailableEndTime: begin.AddDate(0, 1, 0)},
			FixedNormalCoupon:   &busifavor.FixedNormalCoupon{DiscountAmount: 100, TransactionMinimum: 1000}, UseMethod: busifavor.CouponUseMethodOffline},
		StockSendRule: busifavor.StockSendRule{MaxCouponsPerUser: 1}, OutRequestNo: "cmd-p", CouponCodeMode: busifavor.CouponCodeModeWechatPay})
	require.NoError(t, err)
	run := func(args ...string) (int, string, string) {
		return runCmd(t, env, append(append([]string{"partner"}, args...), "--base-url", s.URL)...)
	}
	id := stock.StockID

	status, out, errOut := run("build", "--stock-id", id, "--partner-merchant", "1900000109", "--idempotency-key", "b-1")
	require.Equal(t, exitOK, status, errOut)
	assert.Contains(t, out, "partner:     MERCHANT 1900000109")
	assert.Contains(t, out, "state:       ESTABLISHED")
	status, _, errOut = run("build", "--stock-id", id, "--partner-merchant", "1900000109", "--idempotency-key", "b-1")
	assert.Equal(t, exitOK, status, "the same key again: the first answer; %s", errOut)
	status, _, errOut = run("build", "--stock-id", id, "--partner-appid", "wx4e1916a585d1f4e9", "--idempotency-key", "b-1")
	assert.Equal(t, exitAPI, status)
	assert.Contains(t, errOut, "INVALID_REQUEST")
	status, out, errOut = run("list", "--stock-id", id)
	require.Equal(t, exitOK, status, errOut)
	assert.Contains(t, out, "MERCHANT 1900000109")
	assert.NotContains(t, out, "terminated")
	assert.Contains(t, errOut, "1 partnerships")

	status, out, errOut = run("terminate", "--stock-id", id, "--partner-merchant", "1900000109", "--idempotency-key", "t-1", "--json")
	require.Equal(t, exitOK, status, errOut)
	var ended busifavor.TerminatePartnershipResponse
	require.NoError(t, json.Unmarshal([]byte(out), &ended))
	assert.False(t, ended.TerminateTime.IsZero())
	status, out, errOut = run("list", "--stock-id", id, "--json")
	require.Equal(t, exitOK, status, errOut)
	var listed busifavor.Partnership
	require.NoError(t, json.Unmarshal([]byte(out), &listed))
	assert.True(t, listed.TerminateTime.Equal(ended.TerminateTime))
	status, _, errOut = run("terminate", "--stock-id", id, "--partner-merchant", "1900000110", "--idempotency-key", "t-2")
	assert.Equal(t, exitAPI, status)
	assert.Contains(t, errOut, "RESOURCE_NOT_EXISTS")

	before := len(s.Requests())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"build", "--stock-id", id, "--partner-merchant", "1900000109"}, "  --idempotency-key: is required"},
		{[]string{"terminate", "--stock-id", id, "--partner-appid", "wx1", "--idempotency-key", "a b"}, "  --idempotency-key: "},
		{[]string{"build", "--stock-id", id, "--idempotency-key", "k"}, "  --partner-merchant or --partner-appid: is required"},
		{[]string{"build", "--stock-id", id, "--partner-merchant", "1", "--partner-appid", "wx1", "--idempotency-key", "k"}, "not both"},
		{[]string{"build", "--partner-merchant", "1900000109", "--idempotency-key", "k"}, "  --stock-id: is required"},
		{[]string{"build", "--stock-id", id, "--partner-merchant", "1900000109", "--idempotency-key", "k", "--business-type", "FAVOR_STOCK"}, "  --business-type: "},
		{[]string{"list", "--stock-id", id, "--limit", "51"}, "  --limit: "},
		{[]string{"list", "--stock-id", id, "--partner-type", "OPENID"}, "  --partner-merchant or --partner-appid: "},
	} {
		status, _, errOut := run(tc.args...)
		assert.Equal(t, exitUsage, status, "%v: %s", tc.args, errOut)
		assert.Contains(t, errOut, tc.want, tc.args)
		assert.True(t, strings.HasSuffix(errOut, "see busifavor partner "+tc.args[0]+" --help\n"), "%v: %q", tc.args, errOut)
	}
	assert.Len(t, s.Requests(), before, "nothing was sent")
}

// TestPartnerCommandsInTheSandbox: the group's help lists the three
// commands, and each runs in the sandbox with --json, its times in WeChat
// Pay's shape.
func TestPartnerCommandsInTheSandbox(t *testing.T) {
	code, out, errOut := runCmd(t, nil, "partner")
	assert.Equal(t, exitOK, code, errOut)
	for _, c := range []string{"build", "terminate", "list"} {
		assert.Contains(t, out, "busifavor partner "+c+" ")
	}
	for _, args := range [][]string{
		{"partner", "build", "--stock-id", "1200000001", "--partner-appid", "wx4e1916a585d1f4e9", "--idempotency-key", "b-1", "--json"},
		{"partner", "terminate", "--stock-id", "1200000001", "--partner-merchant", "1900000109", "--idempotency-key", "t-1", "--json"},
		{"partner", "list", "--stock-id", "1200000001", "--json"},
	} {
		code, out, errOut := runCmd(t, nil, args...)
		require.Equal(t, exitOK, code, "%v: %s", args, errOut)
		times := 0
		dec := json.NewDecoder(strings.NewReader(out))
		for dec.More() {
			var v any
			require.NoError(t, dec.Decode(&v), args)
			walkJSON(v, func(name string, value any) {
				if s, ok := value.(string); ok && strings.HasSuffix(name, "_time") {
					times++
					assert.Regexp(t, weChatPayTime, s, "%s in %v", name, args)
				}
			})
		}
		assert.NotZero(t, times, "%v printed no time:\n%s", args, out)
	}
}
