package busifavor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

func manyCodes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("K%05d", i)
	}
	return out
}

// TestUploadAllSplitsAndReportsEveryCode uploads 401 distinct codes, a
// repeat and two codes stored before, and checks the batches and outcomes.
func TestUploadAllSplitsAndReportsEveryCode(t *testing.T) {
	s, c := newFake(t, nil)
	id := createUploadStock(ctx, c, s.MchID())
	_, err := c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: id, CouponCodeList: []string{"K00003", "K00250"}, UploadRequestNo: "early"})
	require.NoError(t, err)

	codes := append(manyCodes(401), "K00010")
	var progress [][2]int
	report, err := c.BatchUploadCouponCodes(ctx, busifavor.BatchUploadCouponCodesRequest{StockID: id, Codes: codes, UploadRequestNoPrefix: "p",
		Progress: func(done, total int) { progress = append(progress, [2]int{done, total}) }})
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{201, 402}, {401, 402}, {402, 402}}, progress)
	assert.Equal(t, map[busifavor.UploadOutcome]int{busifavor.UploadOutcomeUploaded: 399, busifavor.UploadOutcomeExists: 2, busifavor.UploadOutcomeDuplicate: 1}, report.Counts)
	assert.Equal(t, busifavor.CodeResult{Code: "K00003", Outcome: busifavor.UploadOutcomeExists, Batch: 1}, report.Results[3])
	assert.Equal(t, busifavor.CodeResult{Code: "K00400", Outcome: busifavor.UploadOutcomeUploaded, Batch: 3}, report.Results[400])
	assert.Equal(t, busifavor.CodeResult{Code: "K00010", Outcome: busifavor.UploadOutcomeDuplicate}, report.Results[401])
	assert.Len(t, report.RequestIDs, 3)
	assert.Len(t, s.CouponCodes(id), 401)

	var sent []string
	for _, r := range s.Requests()[2:] {
		sent = append(sent, string(r.Body[len(r.Body)-len(`"upload_request_no":"p_1"}`)-1:]))
	}
	assert.Equal(t, []string{`"upload_request_no":"p_1"}` + "\n", `"upload_request_no":"p_2"}` + "\n", `"upload_request_no":"p_3"}` + "\n"}, sent)
}

// TestUploadAllRetriesALostAnswerOnce loses the answer to the first batch
// after the fake stored its codes: the client retries the batch with the
// same upload_request_no and every code is stored once.
func TestUploadAllRetriesALostAnswerOnce(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 3}))
	id := createUploadStock(ctx, c, s.MchID())
	s.FailOn("POST", busifavortest.StocksPath+"/"+id+"/couponcodes", 1, busifavortest.Fault{Kind: busifavortest.FaultLostAnswer})
	report, err := c.BatchUploadCouponCodes(ctx, busifavor.BatchUploadCouponCodesRequest{StockID: id, Codes: manyCodes(300), UploadRequestNoPrefix: "q"})
	require.NoError(t, err)
	assert.Equal(t, map[busifavor.UploadOutcome]int{busifavor.UploadOutcomeUploaded: 300}, report.Counts)
	assert.Len(t, s.CouponCodes(id), 300, "no code stored twice")
	var numbers []string
	for _, r := range s.Requests()[1:] {
		var body struct {
			No string `json:"upload_request_no"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &body))
		numbers = append(numbers, body.No)
	}
	assert.Equal(t, []string{"q_1", "q_1", "q_2"}, numbers, "the batch whose answer was lost is resent with its own number")
}

// TestUploadAllStopsAndResumes fails the second batch for good, then runs
// the same list again to finish.
func TestUploadAllStopsAndResumes(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	id := createUploadStock(ctx, c, s.MchID())
	codes := manyCodes(450)
	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 500})
	req := busifavor.BatchUploadCouponCodesRequest{StockID: id, Codes: codes, UploadRequestNoPrefix: "r"}
	report, err := c.BatchUploadCouponCodes(ctx, req)
	require.ErrorIs(t, err, busifavor.ErrSystemError)
	assert.Contains(t, err.Error(), "batch 1 of 3")
	assert.Contains(t, err.Error(), "run the same list with the same prefix again to finish")
	assert.Equal(t, map[busifavor.UploadOutcome]int{busifavor.UploadOutcomeUnknown: 200, busifavor.UploadOutcomeNotSent: 250}, report.Counts,
		"a 5xx leaves the batch in doubt")

	report, err = c.BatchUploadCouponCodes(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, 450, report.Counts[busifavor.UploadOutcomeUploaded])
	report, err = c.BatchUploadCouponCodes(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, 450, report.Counts[busifavor.UploadOutcomeUploaded], "a finished list run again is answered from the first upload")
	assert.Len(t, s.CouponCodes(id), 450)
}

// TestUploadAllLabelsALostBatchUnknown stops uploads midway in each way and
// checks that the report is true: a batch whose answer was lost (WeChat Pay
// stored it) is UNKNOWN, not NOT_SENT; a batch refused as a whole is FAILED
// with the refusal; the batches after are NOT_SENT; the error always says
// that running the same list again finishes the job, and running it again
// does.
func TestUploadAllLabelsALostBatchUnknown(t *testing.T) {
	const again = "run the same list with the same prefix again to finish"
	type run struct {
		s      *busifavortest.Server
		c      *busifavor.Client
		req    busifavor.BatchUploadCouponCodesRequest
		report *busifavor.BatchUploadCouponCodesResponse
		err    error
	}
	// upload runs 450 codes, calling during once the first batch is done.
	upload := func(t *testing.T, during func(s *busifavortest.Server, path string, cancel context.CancelFunc)) run {
		s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
		id := createUploadStock(ctx, c, s.MchID())
		path := busifavortest.StocksPath + "/" + id + "/couponcodes"
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		req := busifavor.BatchUploadCouponCodesRequest{StockID: id, Codes: manyCodes(450), UploadRequestNoPrefix: "stop"}
		req.Progress = func(done, _ int) {
			if done == 200 {
				during(s, path, cancel)
			}
		}
		report, err := c.BatchUploadCouponCodes(cctx, req)
		req.Progress = nil
		return run{s, c, req, report, err}
	}
	finishes := func(t *testing.T, r run) {
		report, err := r.c.BatchUploadCouponCodes(ctx, r.req)
		require.NoError(t, err)
		assert.Equal(t, map[busifavor.UploadOutcome]int{busifavor.UploadOutcomeUploaded: 450}, report.Counts)
		assert.Len(t, r.s.CouponCodes(r.req.StockID), 450)
	}

	t.Run("the answer to batch 2 is lost", func(t *testing.T) {
		r := upload(t, func(s *busifavortest.Server, path string, _ context.CancelFunc) {
			s.FailOn("POST", path, 1, busifavortest.Fault{Kind: busifavortest.FaultLostAnswer})
		})
		require.ErrorIs(t, r.err, busifavor.ErrTransport)
		assert.Contains(t, r.err.Error(), "batch 2 of 3")
		assert.Contains(t, r.err.Error(), "answer was lost")
		assert.Contains(t, r.err.Error(), again)
		assert.Equal(t, map[busifavor.UploadOutcome]int{busifavor.UploadOutcomeUploaded: 200, busifavor.UploadOutcomeUnknown: 200, busifavor.UploadOutcomeNotSent: 50}, r.report.Counts)
		assert.Equal(t, busifavor.CodeResult{Code: "K00200", Outcome: busifavor.UploadOutcomeUnknown, Batch: 2}, r.report.Results[200])
		assert.Equal(t, busifavor.CodeResult{Code: "K00400", Outcome: busifavor.UploadOutcomeNotSent}, r.report.Results[400])
		assert.Len(t, r.s.CouponCodes(r.req.StockID), 400, "WeChat Pay stored the batch in doubt")
		finishes(t, r)
	})
	t.Run("stopped between batches", func(t *testing.T) {
		r := upload(t, func(_ *busifavortest.Server, _ string, cancel context.CancelFunc) { cancel() })
		require.ErrorIs(t, r.err, context.Canceled)
		assert.Contains(t, r.err.Error(), "batch 2 of 3")
		assert.Contains(t, r.err.Error(), again)
		assert.Equal(t, map[busifavor.UploadOutcome]int{busifavor.UploadOutcomeUploaded: 200, busifavor.UploadOutcomeNotSent: 250}, r.report.Counts)
		finishes(t, r)
	})
	t.Run("stopped while batch 2 is under way", func(t *testing.T) {
		r := upload(t, func(s *busifavortest.Server, path string, cancel context.CancelFunc) {
			s.FailOn("POST", path, 1, busifavortest.Fault{Kind: busifavortest.FaultDelay, Delay: time.Hour})
			before := len(s.Requests())
			go func() { // cancel once batch 2 has reached the fake
				for len(s.Requests()) == before {
					time.Sleep(time.Millisecond)
				}
				cancel()
			}()
		})
		require.ErrorIs(t, r.err, context.Canceled)
		assert.Contains(t, r.err.Error(), again)
		assert.Equal(t, map[busifavor.UploadOutcome]int{busifavor.UploadOutcomeUploaded: 200, busifavor.UploadOutcomeUnknown: 200, busifavor.UploadOutcomeNotSent: 50}, r.report.Counts)
		finishes(t, r)
	})
	t.Run("batch 2 refused as a whole", func(t *testing.T) {
		r := upload(t, func(s *busifavortest.Server, path string, _ context.CancelFunc) {
			s.FailOn("POST", path, 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeInvalidRequest})
		})
		require.ErrorIs(t, r.err, busifavor.ErrInvalidRequest)
		assert.Contains(t, r.err.Error(), "fix what the refusal names, then "+again)
		assert.Equal(t, map[busifavor.UploadOutcome]int{busifavor.UploadOutcomeUploaded: 200, busifavor.UploadOutcomeFailed: 200, busifavor.UploadOutcomeNotSent: 50}, r.report.Counts)
		assert.Equal(t, string(busifavor.ErrorCodeInvalidRequest), r.report.Results[200].FailCode)
		assert.NotEmpty(t, r.report.Results[200].Reason)
		assert.Len(t, r.s.CouponCodes(r.req.StockID), 200)
		finishes(t, r)
	})
}

// TestUploadAllChecksEveryCodeFirst sends nothing when one code is bad.
func TestUploadAllChecksEveryCodeFirst(t *testing.T) {
	s, c := newFake(t, nil)
	codes := manyCodes(500)
	codes[321] = "bad\ncode"
	_, err := c.BatchUploadCouponCodes(ctx, busifavor.BatchUploadCouponCodesRequest{StockID: "1", Codes: codes, UploadRequestNoPrefix: "x"})
	assert.Equal(t, []string{"codes[321]"}, fieldsOf(err))
	_, err = c.BatchUploadCouponCodes(ctx, busifavor.BatchUploadCouponCodesRequest{StockID: "1", Codes: nil, UploadRequestNoPrefix: strings.Repeat("p", 121)})
	assert.ElementsMatch(t, []string{"codes", "upload_request_no_prefix"}, fieldsOf(err))
	assert.Empty(t, s.Requests())
}

// TestUploadAllRefusesAChangedListUnderAnOldPrefix uploads [A B], then
// [C A B] under the same prefix: the fake, as WeChat Pay, answers the
// repeated upload_request_no with its first answer, which does not name C.
// The call fails with ErrRequestNoReused instead of leaving C out without a
// word; a new prefix uploads it.
func TestUploadAllRefusesAChangedListUnderAnOldPrefix(t *testing.T) {
	s, c := newFake(t, nil)
	id := createUploadStock(ctx, c, s.MchID())
	_, err := c.BatchUploadCouponCodes(ctx, busifavor.BatchUploadCouponCodesRequest{StockID: id, Codes: []string{"A", "B"}, UploadRequestNoPrefix: "p"})
	require.NoError(t, err)

	report, err := c.BatchUploadCouponCodes(ctx, busifavor.BatchUploadCouponCodesRequest{StockID: id, Codes: []string{"C", "A", "B"}, UploadRequestNoPrefix: "p"})
	require.ErrorIs(t, err, busifavor.ErrRequestNoReused)
	assert.Contains(t, err.Error(), `prefix "p"`)
	assert.Contains(t, err.Error(), "new UploadRequestNoPrefix")
	require.NotNil(t, report)
	assert.Equal(t, map[busifavor.UploadOutcome]int{busifavor.UploadOutcomeUnreported: 3}, report.Counts, "an answer about other codes says nothing of these")
	assert.Len(t, s.CouponCodes(id), 2, "C was not stored")

	report, err = c.BatchUploadCouponCodes(ctx, busifavor.BatchUploadCouponCodesRequest{StockID: id, Codes: []string{"C", "A", "B"}, UploadRequestNoPrefix: "p2"})
	require.NoError(t, err)
	assert.Equal(t, map[busifavor.UploadOutcome]int{busifavor.UploadOutcomeUploaded: 1, busifavor.UploadOutcomeExists: 2}, report.Counts)
	assert.Len(t, s.CouponCodes(id), 3)

	// A foreign code in the answer is the same mistake, also for one call.
	_, err = c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: id, CouponCodeList: []string{"D"}, UploadRequestNo: "p_1"})
	assert.ErrorIs(t, err, busifavor.ErrRequestNoReused)
}

// TestUploadAnswerWithoutSuccessCodesFollowsThePage answers uploads with
// bodies that leave success_codes out, which the page allows (选填): when
// total_count is the codes sent and success_count plus the codes the other
// lists name equals it, the answer accounts for every code and the codes no
// list names were stored; an answer whose counts do not match, or that names
// a code not sent, is the first answer to an earlier, different upload
// (ErrRequestNoReused).
func TestUploadAnswerWithoutSuccessCodesFollowsThePage(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	answer := func(total, success int, lists string) string {
		return fmt.Sprintf(`{"stock_id":"1","total_count":%d,"success_count":%d,%s"success_time":"2015-05-20T13:29:35+08:00"}`, total, success, lists)
	}
	upload := func(body string, codes ...string) (*busifavor.UploadCouponCodesResponse, error) {
		s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: body})
		return c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: "1", CouponCodeList: codes, UploadRequestNo: "u"})
	}

	resp, err := upload(answer(2, 2, ""), "A", "B")
	require.NoError(t, err)
	assert.Equal(t, []string{"A", "B"}, resp.SuccessCodes, "the codes sent that no list names")

	resp, err = upload(answer(3, 1, `"exist_codes":["A"],"fail_count":1,"fail_codes":[{"coupon_code":"C","code":"CODE_INVALID","message":"bad"}],`), "A", "B", "C")
	require.NoError(t, err)
	assert.Equal(t, []string{"B"}, resp.SuccessCodes)

	for name, tt := range map[string]struct {
		body  string
		codes []string
	}{
		"total_count is not the codes sent":        {answer(3, 3, ""), []string{"A", "B"}},
		"success_count short":                      {answer(2, 1, ""), []string{"A", "B"}},
		"success_count and a list count one twice": {answer(2, 2, `"exist_codes":["A"],`), []string{"A", "B"}},
		"a code not sent":                          {answer(2, 1, `"exist_codes":["Z"],`), []string{"A", "B"}},
		"a code named twice":                       {answer(2, 0, `"exist_codes":["A"],"duplicate_codes":["A"],`), []string{"A", "B"}},
		"fail_count unlike fail_codes":             {answer(2, 1, `"fail_count":2,"fail_codes":[{"coupon_code":"A","code":"X","message":"m"}],`), []string{"A", "B"}},
		"success_codes given, but only some":       {answer(2, 1, `"success_codes":["A"],`), []string{"A", "B"}},
	} {
		resp, err := upload(tt.body, tt.codes...)
		assert.ErrorIs(t, err, busifavor.ErrRequestNoReused, name)
		assert.NotNil(t, resp, "%s: the answer comes back with the error", name)
	}

	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: answer(2, 2, "")})
	report, err := c.BatchUploadCouponCodes(ctx, busifavor.BatchUploadCouponCodesRequest{StockID: "1", Codes: []string{"A", "B"}, UploadRequestNoPrefix: "v"})
	require.NoError(t, err)
	assert.Equal(t, map[busifavor.UploadOutcome]int{busifavor.UploadOutcomeUploaded: 2}, report.Counts)

	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: answer(2, 1, "")})
	report, err = c.BatchUploadCouponCodes(ctx, busifavor.BatchUploadCouponCodesRequest{StockID: "1", Codes: []string{"A", "B"}, UploadRequestNoPrefix: "w"})
	assert.ErrorIs(t, err, busifavor.ErrRequestNoReused)
	require.NotNil(t, report)
	assert.Equal(t, map[busifavor.UploadOutcome]int{busifavor.UploadOutcomeUnreported: 2}, report.Counts)
}
