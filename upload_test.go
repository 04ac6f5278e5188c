package busifavor_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

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
	report, err := c.UploadAllCouponCodes(ctx, busifavor.UploadAllCouponCodesRequest{StockID: id, Codes: codes, UploadRequestNoPrefix: "p",
		Progress: func(done, total int) { progress = append(progress, [2]int{done, total}) }})
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{201, 402}, {401, 402}, {402, 402}}, progress)
	assert.Equal(t, map[busifavor.CodeOutcome]int{busifavor.CodeUploaded: 399, busifavor.CodeExists: 2, busifavor.CodeDuplicate: 1}, report.Counts)
	assert.Equal(t, busifavor.CodeResult{Code: "K00003", Outcome: busifavor.CodeExists, Batch: 1}, report.Results[3])
	assert.Equal(t, busifavor.CodeResult{Code: "K00400", Outcome: busifavor.CodeUploaded, Batch: 3}, report.Results[400])
	assert.Equal(t, busifavor.CodeResult{Code: "K00010", Outcome: busifavor.CodeDuplicate}, report.Results[401])
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
	report, err := c.UploadAllCouponCodes(ctx, busifavor.UploadAllCouponCodesRequest{StockID: id, Codes: manyCodes(300), UploadRequestNoPrefix: "q"})
	require.NoError(t, err)
	assert.Equal(t, map[busifavor.CodeOutcome]int{busifavor.CodeUploaded: 300}, report.Counts)
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
	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.CodeSystemError, Status: 500})
	req := busifavor.UploadAllCouponCodesRequest{StockID: id, Codes: codes, UploadRequestNoPrefix: "r"}
	report, err := c.UploadAllCouponCodes(ctx, req)
	require.ErrorIs(t, err, busifavor.ErrSystemError)
	assert.Contains(t, err.Error(), "batch 1 of 3")
	assert.Equal(t, map[busifavor.CodeOutcome]int{busifavor.CodeNotSent: 450}, report.Counts)

	report, err = c.UploadAllCouponCodes(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, 450, report.Counts[busifavor.CodeUploaded])
	report, err = c.UploadAllCouponCodes(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, 450, report.Counts[busifavor.CodeUploaded], "a finished list run again is answered from the first upload")
	assert.Len(t, s.CouponCodes(id), 450)
}

// TestUploadAllChecksEveryCodeFirst sends nothing when one code is bad.
func TestUploadAllChecksEveryCodeFirst(t *testing.T) {
	s, c := newFake(t, nil)
	codes := manyCodes(500)
	codes[321] = "bad\ncode"
	_, err := c.UploadAllCouponCodes(ctx, busifavor.UploadAllCouponCodesRequest{StockID: "1", Codes: codes, UploadRequestNoPrefix: "x"})
	assert.Equal(t, []string{"codes[321]"}, fieldsOf(err))
	_, err = c.UploadAllCouponCodes(ctx, busifavor.UploadAllCouponCodesRequest{StockID: "1", Codes: nil, UploadRequestNoPrefix: strings.Repeat("p", 121)})
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
	_, err := c.UploadAllCouponCodes(ctx, busifavor.UploadAllCouponCodesRequest{StockID: id, Codes: []string{"A", "B"}, UploadRequestNoPrefix: "p"})
	require.NoError(t, err)

	report, err := c.UploadAllCouponCodes(ctx, busifavor.UploadAllCouponCodesRequest{StockID: id, Codes: []string{"C", "A", "B"}, UploadRequestNoPrefix: "p"})
	require.ErrorIs(t, err, busifavor.ErrRequestNoReused)
	assert.Contains(t, err.Error(), `prefix "p"`)
	assert.Contains(t, err.Error(), "new UploadRequestNoPrefix")
	require.NotNil(t, report)
	assert.Equal(t, map[busifavor.CodeOutcome]int{busifavor.CodeUnreported: 3}, report.Counts, "an answer about other codes says nothing of these")
	assert.Len(t, s.CouponCodes(id), 2, "C was not stored")

	report, err = c.UploadAllCouponCodes(ctx, busifavor.UploadAllCouponCodesRequest{StockID: id, Codes: []string{"C", "A", "B"}, UploadRequestNoPrefix: "p2"})
	require.NoError(t, err)
	assert.Equal(t, map[busifavor.CodeOutcome]int{busifavor.CodeUploaded: 1, busifavor.CodeExists: 2}, report.Counts)
	assert.Len(t, s.CouponCodes(id), 3)

	// A foreign code in the answer is the same mistake, also for one call.
	_, err = c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: id, CouponCodeList: []string{"D"}, UploadRequestNo: "p_1"})
	assert.ErrorIs(t, err, busifavor.ErrRequestNoReused)
}

// TestUploadAnswerNamingNoCodeSentIsAnError answers an upload with a
// well-formed body that names none of the codes sent: the codes are
// UNREPORTED and the call fails, with the answer or report.
func TestUploadAnswerNamingNoCodeSentIsAnError(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	const silent = `{"stock_id":"1","total_count":2,"success_count":2,"success_time":"2015-05-20T13:29:35+08:00"}`
	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: silent})
	resp, err := c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: "1", CouponCodeList: []string{"A", "B"}, UploadRequestNo: "u"})
	assert.ErrorIs(t, err, busifavor.ErrMalformedResponse)
	assert.NotErrorIs(t, err, busifavor.ErrRequestNoReused)
	require.NotNil(t, resp, "the answer comes back with the error")
	assert.EqualValues(t, 2, resp.SuccessCount)

	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: silent})
	report, err := c.UploadAllCouponCodes(ctx, busifavor.UploadAllCouponCodesRequest{StockID: "1", Codes: []string{"A", "B"}, UploadRequestNoPrefix: "v"})
	assert.ErrorIs(t, err, busifavor.ErrMalformedResponse)
	assert.Contains(t, err.Error(), "2 codes were sent but no answer named them")
	require.NotNil(t, report)
	assert.Equal(t, map[busifavor.CodeOutcome]int{busifavor.CodeUnreported: 2}, report.Counts)
}
