package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // TZ=America/New_York on a machine without zoneinfo

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// stockFile writes a MERCHANT_UPLOAD stock request to a file and returns its
// path; edit changes the JSON object before it is written.
func stockFile(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	begin := time.Now().Truncate(time.Second)
	req := busifavor.CreateStockRequest{
		StockName: "命令行券", BelongMerchant: busifavortest.DefaultMchID, GoodsName: "全场", StockType: busifavor.StockTypeNormal,
		CouponUseRule: busifavor.CouponUseRule{
			CouponAvailableTime: busifavor.AvailableTime{AvailableBeginTime: begin, AvailableEndTime: begin.AddDate(0, 1, 0)},
			FixedNormalCoupon:   &busifavor.FixedNormalCoupon{DiscountAmount: 100, TransactionMinimum: 1000},
			UseMethod:           busifavor.CouponUseMethodOffline,
		},
		StockSendRule: busifavor.StockSendRule{MaxCoupons: 10, MaxCouponsPerUser: 1},
		OutRequestNo:  "cli-1", CouponCodeMode: busifavor.CouponCodeModeMerchantUpload,
	}
	b, err := json.Marshal(req)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	if edit != nil {
		edit(m)
	}
	b, err = json.Marshal(m)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "stock.json")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

func TestStockAndCodesCommands(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)

	code, out, errOut := runCmd(t, env, "stock", "create", "--file", stockFile(t, nil), "--base-url", s.URL, "--json")
	require.Equal(t, exitOK, code, errOut)
	var created busifavor.CreateStockResponse
	require.NoError(t, json.Unmarshal([]byte(out), &created))
	require.NotEmpty(t, created.StockID)

	code, out, errOut = runCmd(t, env, "stock", "get", created.StockID, "--base-url", s.URL)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "name:        命令行券")
	assert.Contains(t, out, "state:       RUNNING")

	var lines []string
	for i := range 450 {
		lines = append(lines, fmt.Sprintf("CLI %04d", i))
	}
	codes := filepath.Join(t.TempDir(), "codes.txt")
	require.NoError(t, os.WriteFile(codes, []byte(strings.Join(lines, "\r\n")+"\n\nCLI 0001\n"), 0o600))
	upload := []string{"codes", "upload", created.StockID, "--file", codes, "--base-url", s.URL}
	code, out, errOut = runCmd(t, env, upload...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "uploaded:    450")
	assert.Contains(t, out, "repeats:     1")
	assert.Equal(t, "busifavor: 201 of 451 codes done\nbusifavor: 401 of 451 codes done\nbusifavor: 451 of 451 codes done\n", errOut)
	code, out, errOut = runCmd(t, env, upload...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "uploaded:    450", "the same file again reuses the batch numbers: answered from the first upload")
	assert.Len(t, s.CouponCodes(created.StockID), 450)

	code, out, errOut = runCmd(t, env, "codes", "list", "--base-url", s.URL, created.StockID, "--status", "AVAILABLE")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, 450, strings.Count(out, "AVAILABLE"))
	assert.Contains(t, errOut, "450 codes")
	code, out, errOut = runCmd(t, env, "codes", "list", created.StockID, "--base-url", s.URL, "--json")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, 450, strings.Count(out, "\n"), "one JSON line per code")
}

func TestStockCommandsRefuseBadInputAndSendNothing(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)
	bad := stockFile(t, func(m map[string]any) {
		m["stock_name"] = strings.Repeat("长", 22)
		m["stock_send_rule"] = map[string]any{"max_coupons_per_user": 101}
	})
	code, _, errOut := runCmd(t, env, "stock", "create", "--file", bad, "--base-url", s.URL)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "stock_name: must be at most 21 characters")
	assert.Contains(t, errOut, "stock_send_rule.max_coupons_per_user: must be 1 to 100, got 101")

	typo := stockFile(t, func(m map[string]any) { m["stock_nmae"] = "x" })
	code, _, errOut = runCmd(t, env, "stock", "create", "--file", typo, "--base-url", s.URL)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `unknown field "stock_nmae"`)

	codes := filepath.Join(t.TempDir(), "codes.txt")
	require.NoError(t, os.WriteFile(codes, []byte("GOOD1\n\nBAD\tCODE\n"), 0o600))
	code, _, errOut = runCmd(t, env, "codes", "upload", "1200000001", "--file", codes, "--base-url", s.URL)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, codes+": line 3:")

	for _, args := range [][]string{
		{"stock", "get"},
		{"stock", "get", "1", "2"},
		{"stock", "create"},
		{"codes", "list", "1", "--status", "USED"},
		{"stock"},
	} {
		code, _, errOut := runCmd(t, env, append(args, "--base-url", s.URL)...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
	}
	assert.Empty(t, s.Requests())

	code, _, errOut = runCmd(t, env, "stock", "get", "404", "--base-url", s.URL)
	assert.Equal(t, exitAPI, code)
	assert.Contains(t, errOut, "RESOURCE_NOT_EXISTS")
}

// TestShippedStockExampleCreatesInTheSandbox keeps examples/stock/stock.json
// valid: it creates a stock in the sandbox as shipped, which gives it a
// window from now (the sandbox starts afresh on every run), and says what to
// add for WeChat Pay.
func TestShippedStockExampleCreatesInTheSandbox(t *testing.T) {
	code, out, errOut := runCmd(t, nil, "stock", "create", "--file", "../../examples/stock/stock.json")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "stock id:")
	assert.Contains(t, errOut, "in the sandbox, available from now for 90 days")
	assert.Contains(t, errOut, `"available_begin_time": "`)
}

// TestStockGivenWindowIsKept: a file that gives the available time is sent
// with it, and nothing is said about a window.
func TestStockGivenWindowIsKept(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)
	begin := s.Now().Add(time.Hour).Truncate(time.Second)
	file := stockFile(t, func(m map[string]any) {
		m["out_request_no"] = "given-window"
		m["coupon_use_rule"].(map[string]any)["coupon_available_time"].(map[string]any)["available_begin_time"] = begin.Format(time.RFC3339)
		m["coupon_use_rule"].(map[string]any)["coupon_available_time"].(map[string]any)["available_end_time"] = begin.AddDate(0, 1, 0).Format(time.RFC3339)
	})
	code, out, errOut := runCmd(t, env, "stock", "create", "--file", file, "--base-url", s.URL, "--json")
	require.Equal(t, exitOK, code, errOut)
	assert.Empty(t, errOut)
	var created busifavor.CreateStockResponse
	require.NoError(t, json.Unmarshal([]byte(out), &created))
	st, _ := s.Stock(created.StockID)
	assert.True(t, begin.Equal(st.CouponUseRule.CouponAvailableTime.AvailableBeginTime))
}

// TestCodesUploadRefusesAChangedListUnderAnOldPrefix uploads [A B], then
// [C A B] with the same --request-no-prefix: exit status 1 with advice, and
// C is not claimed to be stored; a new prefix uploads it.
func TestCodesUploadRefusesAChangedListUnderAnOldPrefix(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)
	code, out, errOut := runCmd(t, env, "stock", "create", "--file", stockFile(t, nil), "--base-url", s.URL, "--json")
	require.Equal(t, exitOK, code, errOut)
	var created busifavor.CreateStockResponse
	require.NoError(t, json.Unmarshal([]byte(out), &created))
	file := func(codes ...string) string {
		path := filepath.Join(t.TempDir(), "codes.txt")
		require.NoError(t, os.WriteFile(path, []byte(strings.Join(codes, "\n")), 0o600))
		return path
	}
	upload := func(file, prefix string) (int, string, string) {
		return runCmd(t, env, "codes", "upload", created.StockID, "--file", file, "--request-no-prefix", prefix, "--base-url", s.URL)
	}
	code, _, errOut = upload(file("A", "B"), "list")
	require.Equal(t, exitOK, code, errOut)

	code, out, errOut = upload(file("C", "A", "B"), "list")
	assert.Equal(t, exitAPI, code)
	assert.Contains(t, errOut, "first used for other codes")
	assert.Contains(t, errOut, "run again with a new --request-no-prefix")
	assert.Contains(t, out, "UNREPORTED C")
	assert.Contains(t, out, "uploaded:    0")
	assert.Len(t, s.CouponCodes(created.StockID), 2)

	code, out, errOut = upload(file("C", "A", "B"), "list-2")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "uploaded:    1")
	assert.Len(t, s.CouponCodes(created.StockID), 3)

	// An answer that leaves success_codes out (the page makes it optional)
	// but counts every code sent: they were stored.
	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200,
		Body: `{"stock_id":"1","total_count":1,"success_count":1,"success_time":"2015-05-20T13:29:35+08:00"}`})
	code, out, errOut = upload(file("D"), "list-3")
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "uploaded:    1")
	assert.NotContains(t, out, "UNREPORTED")
	// One whose counts do not match the codes sent answers another upload:
	// exit status 1.
	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200,
		Body: `{"stock_id":"1","total_count":2,"success_count":2,"success_time":"2015-05-20T13:29:35+08:00"}`})
	code, out, errOut = upload(file("E"), "list-4")
	assert.Equal(t, exitAPI, code, errOut)
	assert.Contains(t, out, "UNREPORTED E")
	assert.Contains(t, errOut, "run again with a new --request-no-prefix")
}

// uploadStock creates a MERCHANT_UPLOAD stock on s through the command and
// returns its id.
func uploadStock(t *testing.T, s *busifavortest.Server, env map[string]string) string {
	t.Helper()
	code, out, errOut := runCmd(t, env, "stock", "create", "--file", stockFile(t, nil), "--base-url", s.URL, "--json")
	require.Equal(t, exitOK, code, errOut)
	var created busifavor.CreateStockResponse
	require.NoError(t, json.Unmarshal([]byte(out), &created))
	return created.StockID
}

// TestCodesUploadReadsLinesOfAnyLength uploads a file whose second line is
// 70000 bytes long, past bufio.Scanner's 64 KiB: the long line is refused
// by its line number and nothing is sent, never the codes after it dropped
// while the command exits 0.
func TestCodesUploadReadsLinesOfAnyLength(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)
	id := uploadStock(t, s, env)
	codes := filepath.Join(t.TempDir(), "codes.txt")
	require.NoError(t, os.WriteFile(codes, []byte("GOOD1\n"+strings.Repeat("X", 70000)+"\nGOOD3\n"), 0o600))
	before := len(s.Requests())
	code, out, errOut := runCmd(t, env, "codes", "upload", id, "--file", codes, "--base-url", s.URL)
	assert.Equal(t, exitUsage, code, out)
	assert.Contains(t, errOut, codes+": line 2: must be 1 to 32 bytes long, got 70000")
	assert.NotContains(t, errOut, "XXXX", "the code is not echoed")
	assert.Equal(t, before, len(s.Requests()), "nothing sent")

	// A long list of good lines after a long good one is read whole.
	lines := []string{strings.Repeat("Y", busifavor.CouponCodeMaxLen)}
	for i := range 300 {
		lines = append(lines, fmt.Sprintf("LINE%04d", i))
	}
	require.NoError(t, os.WriteFile(codes, []byte(strings.Join(lines, "\n")), 0o600))
	code, out, errOut = runCmd(t, env, "codes", "upload", id, "--file", codes, "--base-url", s.URL)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "uploaded:    301")
	assert.Len(t, s.CouponCodes(id), 301)
}

// TestCodesUploadReportsAnInterruptedUploadTruly stops uploads of 450 codes
// in the first batch: once with its answer lost for good after WeChat Pay
// stored it, once interrupted (Ctrl-C: context.Canceled) while it is under
// way, once before anything was sent. The report labels a batch whose
// answer was lost "unknown", not "not sent", and always says that running
// the same command again finishes the job; running it again does.
func TestCodesUploadReportsAnInterruptedUploadTruly(t *testing.T) {
	const again = "run the same command again to finish the upload"
	codes := filepath.Join(t.TempDir(), "codes.txt")
	var lines []string
	for i := range 450 {
		lines = append(lines, fmt.Sprintf("STOP%04d", i))
	}
	require.NoError(t, os.WriteFile(codes, []byte(strings.Join(lines, "\n")), 0o600))
	finish := func(t *testing.T, s *busifavortest.Server, env map[string]string, id string) {
		code, out, errOut := runCmd(t, env, "codes", "upload", id, "--file", codes, "--base-url", s.URL)
		require.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, "uploaded:    450")
		assert.Len(t, s.CouponCodes(id), 450)
	}

	t.Run("the answer is lost", func(t *testing.T) {
		s := busifavortest.NewServer()
		defer s.Close()
		env := credentialsFor(t, s)
		id := uploadStock(t, s, env)
		s.FailOn("UploadCouponCodes", 1, busifavortest.Fault{Kind: busifavortest.FaultLostAnswer})
		s.FailOn("UploadCouponCodes", busifavor.DefaultRetryPolicy().MaxAttempts-1, busifavortest.Fault{Kind: busifavortest.FaultGarbled})
		code, out, errOut := runCmd(t, env, "codes", "upload", id, "--file", codes, "--base-url", s.URL)
		assert.Equal(t, exitAPI, code)
		assert.Contains(t, out, "uploaded:    0\n")
		assert.Contains(t, out, "unknown:     200 (sent, answer lost")
		assert.Contains(t, out, "not sent:    250\n")
		assert.Contains(t, errOut, again)
		assert.Len(t, s.CouponCodes(id), 200, "WeChat Pay stored the batch in doubt")
		finish(t, s, env, id)
	})
	t.Run("interrupted while the batch is under way", func(t *testing.T) {
		s := busifavortest.NewServer()
		defer s.Close()
		env := credentialsFor(t, s)
		id := uploadStock(t, s, env)
		s.FailOn("UploadCouponCodes", 1, busifavortest.Fault{Kind: busifavortest.FaultDelay, Delay: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		before := len(s.Requests())
		go func() { // Ctrl-C once the batch has reached the fake
			for len(s.Requests()) == before {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		var out, errOut bytes.Buffer
		code := run(ctx, []string{"codes", "upload", id, "--file", codes, "--base-url", s.URL}, env, &out, &errOut)
		assert.Equal(t, exitAPI, code)
		assert.Contains(t, out.String(), "unknown:     200")
		assert.Contains(t, out.String(), "not sent:    250")
		assert.Contains(t, errOut.String(), "context canceled")
		assert.Contains(t, errOut.String(), again)
		finish(t, s, env, id)
	})
	t.Run("interrupted before anything was sent", func(t *testing.T) {
		s := busifavortest.NewServer()
		defer s.Close()
		env := credentialsFor(t, s)
		id := uploadStock(t, s, env)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var out, errOut bytes.Buffer
		code := run(ctx, []string{"codes", "upload", id, "--file", codes, "--base-url", s.URL}, env, &out, &errOut)
		assert.Equal(t, exitAPI, code)
		assert.Contains(t, out.String(), "not sent:    450")
		assert.NotContains(t, out.String(), "unknown:")
		assert.Contains(t, errOut.String(), again)
		finish(t, s, env, id)
	})
}

// TestStockCreateRerunAfterLostAnswersMakesOneStock: a run whose answers
// are all lost (three attempts) is run again later, as an operator would.
// A file without an available time is refused before anything is sent, both
// times, with the lines to add (a window taken from the clock made the rerun
// a different body under the same out_request_no, which WeChat Pay refuses;
// the operator then changed the number and paid for a second stock). With
// the printed lines added, the rerun sends the same body and gets the one
// stock the lost attempts created. A rerun of a changed file is told not to
// change the number.
func TestStockCreateRerunAfterLostAnswersMakesOneStock(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)
	noWindow := func(m map[string]any) {
		at := m["coupon_use_rule"].(map[string]any)["coupon_available_time"].(map[string]any)
		delete(at, "available_begin_time")
		delete(at, "available_end_time")
		m["out_request_no"] = "cli-rerun-1"
	}
	file := stockFile(t, noWindow)
	create := []string{"stock", "create", "--file", file, "--base-url", s.URL, "--json"}

	s.FailOn("CreateStock", 3, busifavortest.Fault{Kind: busifavortest.FaultLostAnswer})
	var lines string
	for range 2 { // the run, and the operator's rerun
		code, out, errOut := runCmd(t, env, create...)
		require.Equal(t, exitUsage, code, "a file without a window is refused: stdout %s stderr %s", out, errOut)
		assert.Contains(t, errOut, "nothing was sent")
		assert.Contains(t, errOut, file)
		lines = errOut
	}
	assert.Empty(t, s.Requests(), "nothing was sent")

	// The operator pastes the printed lines into coupon_available_time.
	got := regexp.MustCompile(`"(available_(?:begin|end)_time)": "([^"]+)"`).FindAllStringSubmatch(lines, -1)
	require.Len(t, got, 2, lines)
	file = stockFile(t, func(m map[string]any) {
		noWindow(m)
		at := m["coupon_use_rule"].(map[string]any)["coupon_available_time"].(map[string]any)
		for _, kv := range got {
			at[kv[1]] = kv[2]
		}
	})
	create[3] = file
	code, _, errOut := runCmd(t, env, create...)
	require.Equal(t, exitAPI, code, "three lost answers: %s", errOut)
	require.Len(t, s.Requests(), 3, errOut)
	code, out, errOut := runCmd(t, env, create...)
	require.Equal(t, exitOK, code, errOut)
	var created busifavor.CreateStockResponse
	require.NoError(t, json.Unmarshal([]byte(out), &created))
	assert.Equal(t, "1200000001", created.StockID, "the stock the lost attempts created")
	_, second := s.Stock("1200000002")
	assert.False(t, second, "exactly one stock")
	st, _ := s.Stock(created.StockID)
	begin, err := time.Parse(time.RFC3339, got[0][2])
	require.NoError(t, err)
	assert.True(t, begin.Equal(st.CouponUseRule.CouponAvailableTime.AvailableBeginTime))
	assert.True(t, begin.AddDate(0, 0, 90).Equal(st.CouponUseRule.CouponAvailableTime.AvailableEndTime), "90 days")
	assert.False(t, begin.Before(s.Now()), "the suggested window starts at the next full hour")

	// The file changed since the lost run: refused, and the advice keeps the
	// number.
	changed := stockFile(t, func(m map[string]any) {
		noWindow(m)
		at := m["coupon_use_rule"].(map[string]any)["coupon_available_time"].(map[string]any)
		at["available_begin_time"], at["available_end_time"] = got[0][2], begin.AddDate(0, 0, 30).Format(time.RFC3339)
	})
	code, _, errOut = runCmd(t, env, "stock", "create", "--file", changed, "--base-url", s.URL)
	assert.Equal(t, exitAPI, code, errOut)
	assert.Contains(t, errOut, "RESOURCE_ALREADY_EXISTS")
	assert.Contains(t, errOut, "do not change out_request_no")
	_, second = s.Stock("1200000002")
	assert.False(t, second)
}

// TestStockUpdateAndBudget changes a stock's details from a file and its
// total cap, each stating what it changes; a stale current cap is refused.
func TestStockUpdateAndBudget(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)
	id := uploadStock(t, s, env)
	code, out, errOut := runCmd(t, env, "stock", "update", id, "--file", "../../examples/stock/update.json", "--base-url", s.URL, "--json")
	require.Equal(t, exitOK, code, errOut)
	var updated map[string]string
	require.NoError(t, json.Unmarshal([]byte(out), &updated))
	assert.Equal(t, id, updated["stock_id"])
	assert.NotEmpty(t, updated["request_id"])
	st, _ := s.Stock(id)
	assert.Equal(t, "全场可用，特价除外", st.GoodsName)

	budget := func(target, current, number string) (int, string, string) {
		return runCmd(t, env, "stock", "budget", id, "--target-max-coupons", target, "--current-max-coupons", current,
			"--modify-budget-request-no", number, "--base-url", s.URL)
	}
	code, _, errOut = budget("20", "11", "b-1")
	assert.Equal(t, exitAPI, code, "the cap is 10, not 11: %s", errOut)
	code, out, errOut = budget("20", "10", "b-2")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "max coupons: 20")
	st, _ = s.Stock(id)
	assert.Equal(t, int64(20), st.StockSendRule.MaxCoupons)

	before := len(s.Requests())
	code, _, errOut = runCmd(t, env, "stock", "budget", id, "--target-max-coupons", "20", "--base-url", s.URL)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--modify-budget-request-no: ")
	code, _, errOut = runCmd(t, env, "stock", "update", id, "--file", stockFile(t, nil), "--base-url", s.URL)
	assert.Equal(t, exitUsage, code, "a create body is not a change")
	assert.Contains(t, errOut, "unknown field")
	assert.Len(t, s.Requests(), before, "nothing was sent")
}

// TestBrokenJSONIsNamedByLineAndColumn: a --file that is not JSON is named
// by the line and column of what is wrong, for stock create and update.
func TestBrokenJSONIsNamedByLineAndColumn(t *testing.T) {
	for _, tc := range []struct {
		body, want string
	}{
		{"{\n  \"stock_name\": \"x\",\n  \"goods_name\" \"y\"\n}\n", "line 3, column 16: invalid character '\"' after object key"},
		{"{\n  \"stock_name\": \"x\",\n", "line 3, column 1: unexpected end of JSON input"},
		{"{\n  \"comment\": 12\n}", "line 2, column 15: cannot unmarshal number into Go struct field"},
		{"{\"out_request_no\": \"a\"}\n{}\n", "line 2, column 1: more follows the JSON object"},
		{"{\n\t\"comment\": \"双十二\",,\n}", "line 2, column 19: invalid character ','"},
	} {
		file := filepath.Join(t.TempDir(), "bad.json")
		require.NoError(t, os.WriteFile(file, []byte(tc.body), 0o600))
		for _, args := range [][]string{{"stock", "create", "--file", file}, {"stock", "update", "1200000001", "--file", file}} {
			code, out, errOut := runCmd(t, nil, args...)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Empty(t, out)
			assert.Contains(t, errOut, file+" is not a stock ")
			assert.Contains(t, errOut, tc.want, "%v of %q", args, tc.body)
			assert.Contains(t, errOut, "nothing was sent")
		}
	}
}

// TestStockCreateWindowNoteOnlyForAValidFile: in the sandbox, a file
// without an available time that breaks another rule is refused with the
// broken rule and no note about the window it would get; against WeChat
// Pay the refusal lists the missing window among the other rules, without
// the lines to paste.
func TestStockCreateWindowNoteOnlyForAValidFile(t *testing.T) {
	file := stockFile(t, func(m map[string]any) {
		at := m["coupon_use_rule"].(map[string]any)["coupon_available_time"].(map[string]any)
		delete(at, "available_begin_time")
		delete(at, "available_end_time")
		m["stock_name"] = strings.Repeat("长", 22)
	})
	code, _, errOut := runCmd(t, nil, "stock", "create", "--file", file)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "stock_name: must be at most 21 characters")
	assert.NotContains(t, errOut, "available from now")
	assert.NotContains(t, errOut, "available_begin_time")

	s := busifavortest.NewServer()
	defer s.Close()
	code, _, errOut = runCmd(t, credentialsFor(t, s), "stock", "create", "--file", file, "--base-url", s.URL)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "stock_name: must be at most 21 characters")
	assert.Contains(t, errOut, "coupon_available_time.available_begin_time: is required")
	assert.NotContains(t, errOut, "Add these lines")
	assert.Empty(t, s.Requests())
}

// TestHumanTimesAreInWeChatPaysZone: what the command prints for people
// writes times in +08:00, as --json and the pages do, whatever this
// machine's zone.
//
// The machine's zone is set with TZ in a child run of this test: setting
// time.Local here would race with the goroutines of other tests.
func TestHumanTimesAreInWeChatPaysZone(t *testing.T) {
	if os.Getenv("BUSIFAVOR_TZ_CHILD") == "" {
		child := exec.Command(os.Args[0], "-test.run", "^TestHumanTimesAreInWeChatPaysZone$", "-test.count", "1")
		child.Env = append(os.Environ(), "BUSIFAVOR_TZ_CHILD=1", "TZ=America/New_York")
		out, err := child.CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Contains(t, string(out), "PASS")
		return
	}
	_, off := time.Date(2026, 12, 1, 0, 0, 0, 0, time.Local).Zone()
	require.Equal(t, -5*60*60, off, "TZ=America/New_York took")
	code, out, errOut := runCmd(t, nil, "stock", "get", "1200000001")
	require.Equal(t, exitOK, code, errOut)
	assert.Regexp(t, `available:   \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00 to \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00\n`, out)
	code, out, errOut = runCmd(t, nil, "coupon", "get", "SANDBOX0002", "--openid", sandboxOpenID, "--appid", sandboxAppID)
	require.Equal(t, exitOK, code, errOut)
	assert.Regexp(t, `redeemed:    \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00 \(sandbox-use-1\)`, out)
	assert.NotContains(t, out, "EST")
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	assert.Equal(t, "2026-12-01 10:00:00 +08:00", localTime(at))
}
