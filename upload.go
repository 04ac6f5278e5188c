package busifavor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// UploadOutcome is what an upload did with one code.
type UploadOutcome string

// The outcomes BatchUploadCouponCodes reports.
const (
	UploadOutcomeUploaded   UploadOutcome = "UPLOADED"   // stored by this upload
	UploadOutcomeExists     UploadOutcome = "EXISTS"     // stored by an earlier upload; not stored again
	UploadOutcomeDuplicate  UploadOutcome = "DUPLICATE"  // repeats an earlier code of the same list; the first was uploaded
	UploadOutcomeFailed     UploadOutcome = "FAILED"     // refused by WeChat Pay, alone or with its whole batch; Reason says why
	UploadOutcomeNotSent    UploadOutcome = "NOT_SENT"   // its batch was not sent: an earlier batch failed, or the call stopped first
	UploadOutcomeUnknown    UploadOutcome = "UNKNOWN"    // its batch was sent but the answer was lost: it may be stored; run the list again to know
	UploadOutcomeUnreported UploadOutcome = "UNREPORTED" // sent, but answered for other codes (ErrRequestNoReused): upload under a new prefix
)

// BatchUploadCouponCodesRequest uploads any number of codes to a
// MERCHANT_UPLOAD stock, in batches of MaxCodesPerUpload.
type BatchUploadCouponCodesRequest struct {
	// StockID is the stock, 1 to 20 bytes.
	StockID string
	// Codes are the codes, each checked as UploadCouponCodesRequest checks
	// them. A code repeated in the list is uploaded once and reported
	// DUPLICATE after the first.
	Codes []string `log:"code"`
	// UploadRequestNoPrefix names the batches: batch i (from 1) is sent with
	// upload_request_no "<prefix>_<i>". Keep it for a list: running the same
	// list again with the same prefix, after a crash or an error, repeats
	// each batch with its own number, so nothing is stored twice. At most
	// RequestNoMaxLen minus 8 bytes.
	UploadRequestNoPrefix string
	// Progress, when set, is called after each batch with the number of
	// codes done (answered or skipped as repeats) and the total.
	Progress func(done, total int)
}

// CodeResult is what happened to one code of an BatchUploadCouponCodes list.
type CodeResult struct {
	// Code is the code.
	Code string `log:"code"`
	// Outcome is what happened to it.
	Outcome UploadOutcome
	// Batch is the batch it was sent in (from 1); 0 for a DUPLICATE and a
	// NOT_SENT code.
	Batch int
	// FailCode and Reason are WeChat Pay's code and message for a FAILED
	// code.
	FailCode, Reason string
}

// BatchUploadCouponCodesResponse reports every code of the list, in list
// order, and counts the outcomes.
type BatchUploadCouponCodesResponse struct {
	// Results has one entry per code of the list, in the same order.
	Results []CodeResult
	// Counts counts Results by outcome.
	Counts map[UploadOutcome]int
	// RequestIDs are the Request-ID headers of the batches sent, in order.
	RequestIDs []string
}

// BatchUploadCouponCodes uploads any number of codes in batches of
// MaxCodesPerUpload, each with its own upload_request_no, so that every
// batch is safe to retry (UploadCouponCodes retries it like a GET, with the
// same number). Every code is checked before anything is sent: a bad code
// fails the whole call with a *ValidationError naming it by its index
// (codes[12]).
//
// When a batch fails after its retries, or the context ends, the error is
// returned together with the report so far. The codes of a batch whose
// answer was lost (no answer, a 5xx, or the context ended while it was
// under way) are UNKNOWN: WeChat Pay may have stored them. A batch WeChat
// Pay refused as a whole has its codes FAILED with the refusal's code and
// message, and the codes of the batches not sent are NOT_SENT. Run the same
// list with the same prefix again to finish, after fixing what a refusal
// names: batches already done are answered again without storing anything
// twice, and that answer settles the UNKNOWN codes. The error says so.
//
// Every code ends with an outcome an answer gave it, or the call fails: a
// batch answered for other codes than it sent (a changed list run under the
// prefix of an earlier one: WeChat Pay answers a repeated upload_request_no
// with its first answer) stops the call with ErrRequestNoReused, its codes
// UNREPORTED. The report comes back with the error.
func (c *Client) BatchUploadCouponCodes(ctx context.Context, req BatchUploadCouponCodesRequest) (*BatchUploadCouponCodesResponse, error) {
	batches, results, err := req.plan()
	if err != nil {
		return nil, err
	}
	out := &BatchUploadCouponCodesResponse{Results: results, Counts: map[UploadOutcome]int{}}
	done := len(req.Codes) - countUnique(batches)
	for i, b := range batches {
		stop := func(fate UploadOutcome, err error) (*BatchUploadCouponCodesResponse, error) {
			b.fail(out.Results, i+1, fate, err)
			out.count()
			return out, fmt.Errorf("busifavor: batch %d of %d (%d codes from codes[%d]) %s; %s: %w",
				i+1, len(batches), len(b.codes), b.at[0], fateText[fate], advice(fate, err), err)
		}
		if err := ctx.Err(); err != nil {
			return stop(UploadOutcomeNotSent, &contextError{ctxErr: err}) // stopped before this batch went out
		}
		a, err := c.UploadCouponCodes(ctx, UploadCouponCodesRequest{
			StockID: req.StockID, CouponCodeList: b.codes, UploadRequestNo: batchRequestNo(req.UploadRequestNoPrefix, i+1),
		})
		if a == nil {
			return stop(batchFate(err), err)
		}
		out.RequestIDs = append(out.RequestIDs, a.RequestID)
		if errors.Is(err, ErrRequestNoReused) {
			b.record(out.Results, &UploadCouponCodesResponse{}, i+1) // the answer is about other codes: all UNREPORTED
			out.count()
			return out, fmt.Errorf("busifavor: batch %d of %d (%d codes from codes[%d]): %w. The list changed since prefix %q was first used: "+
				"upload it under a new UploadRequestNoPrefix (batches of codes stored before report them EXISTS)",
				i+1, len(batches), len(b.codes), b.at[0], err, req.UploadRequestNoPrefix)
		}
		b.record(out.Results, a, i+1)
		done += len(b.codes)
		if req.Progress != nil {
			req.Progress(done, len(req.Codes))
		}
	}
	out.count()
	return out, nil
}

// fateText says what a failed batch's outcome means, for the error.
var fateText = map[UploadOutcome]string{
	UploadOutcomeNotSent: "was not sent",
	UploadOutcomeFailed:  "was refused as a whole",
	UploadOutcomeUnknown: "was sent but its answer was lost: WeChat Pay may have stored its codes",
}

// advice is what every failed BatchUploadCouponCodes says: running the same
// list again finishes it, after fixing the cause of a refusal that would
// come again.
func advice(fate UploadOutcome, err error) string {
	const finish = "run the same list with the same prefix again to finish (batches already stored are answered again, nothing is stored twice)"
	if fate == UploadOutcomeFailed && !IsRetryable(err) {
		return "fix what the refusal names, then " + finish
	}
	return finish
}

// batchFate is the outcome a batch's failed call (err) leaves its codes.
// NOT_SENT when the request could not be built: nothing was sent. FAILED
// when WeChat Pay answered the call's one attempt with a refusal (a 4xx
// other than SYSTEM_ERROR, which the error table says to repeat): nothing
// was stored. UNKNOWN otherwise: no answer, a 5xx, an answer that could not
// be read, a call stopped while under way, or retries after an attempt
// whose answer was lost.
func batchFate(err error) UploadOutcome {
	var apiErr *APIError
	switch {
	case errors.Is(err, errNotSent) || errors.Is(err, ErrValidation):
		return UploadOutcomeNotSent
	case errors.As(err, &apiErr) && apiErr.StatusCode < 500 && apiErr.Code != ErrorCodeSystemError &&
		!errors.As(err, new(*contextError)) && !errors.As(err, new(*attemptsError)):
		return UploadOutcomeFailed
	}
	return UploadOutcomeUnknown
}

// batch is one call's codes and their indexes in the list.
type batch struct {
	codes []string
	at    []int
}

// plan checks the list and splits its distinct codes into batches; results
// start NOT_SENT, with repeats already DUPLICATE.
func (r BatchUploadCouponCodesRequest) plan() ([]batch, []CodeResult, error) {
	var v validator
	v.stockID(r.StockID)
	v.identifier("upload_request_no_prefix", r.UploadRequestNoPrefix, requestNoMaxLen-8)
	if len(r.Codes) == 0 {
		v.add("codes", "is required: at least one code")
	}
	results := make([]CodeResult, len(r.Codes))
	first := make(map[string]bool, len(r.Codes))
	var batches []batch
	for i, code := range r.Codes {
		v.couponCode("codes"+index(i), code)
		results[i] = CodeResult{Code: code, Outcome: UploadOutcomeNotSent}
		if first[code] {
			results[i].Outcome = UploadOutcomeDuplicate
			continue
		}
		first[code] = true
		if len(batches) == 0 || len(batches[len(batches)-1].codes) == MaxCodesPerUpload {
			batches = append(batches, batch{})
		}
		b := &batches[len(batches)-1]
		b.codes, b.at = append(b.codes, code), append(b.at, i)
	}
	return batches, results, v.err()
}

// record sets the outcome of each code of b from WeChat Pay's answer.
func (b batch) record(results []CodeResult, a *UploadCouponCodesResponse, n int) {
	outcome := make(map[string]CodeResult, len(b.codes))
	for _, c := range a.SuccessCodes {
		outcome[c] = CodeResult{Outcome: UploadOutcomeUploaded}
	}
	for _, c := range a.ExistCodes {
		outcome[c] = CodeResult{Outcome: UploadOutcomeExists}
	}
	for _, c := range a.DuplicateCodes {
		outcome[c] = CodeResult{Outcome: UploadOutcomeDuplicate}
	}
	for _, f := range a.FailCodes {
		outcome[f.CouponCode] = CodeResult{Outcome: UploadOutcomeFailed, FailCode: f.Code, Reason: f.Message}
	}
	for k, i := range b.at {
		r, ok := outcome[b.codes[k]]
		if !ok {
			r.Outcome = UploadOutcomeUnreported
		}
		r.Code, r.Batch = b.codes[k], n
		results[i] = r
	}
}

// fail sets the outcome of each code of b, whose call failed with err.
func (b batch) fail(results []CodeResult, n int, fate UploadOutcome, err error) {
	var apiErr *APIError
	if fate == UploadOutcomeFailed && errors.As(err, &apiErr) {
		for _, i := range b.at {
			results[i] = CodeResult{Code: results[i].Code, Outcome: fate, Batch: n, FailCode: string(apiErr.Code), Reason: apiErr.Message}
		}
		return
	}
	if fate == UploadOutcomeNotSent {
		return // as planned
	}
	for _, i := range b.at {
		results[i].Outcome, results[i].Batch = fate, n
	}
}

func (r *BatchUploadCouponCodesResponse) count() {
	for _, x := range r.Results {
		r.Counts[x.Outcome]++
	}
}

func countUnique(batches []batch) int {
	n := 0
	for _, b := range batches {
		n += len(b.codes)
	}
	return n
}

// batchRequestNo is the upload_request_no of batch n.
func batchRequestNo(prefix string, n int) string { return fmt.Sprintf("%s_%d", prefix, n) }

// fmt and slog print these types with personal data and coupon codes
// masked (see privacy.go); json.Marshal is unchanged.

// Format prints r as fmt does, openids and coupon codes masked.
func (r BatchUploadCouponCodesRequest) Format(f fmt.State, verb rune) {
	printMasked(f, verb, masked(r))
}

// LogValue makes slog log r as Format prints it.
func (r BatchUploadCouponCodesRequest) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r CodeResult) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r CodeResult) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r BatchUploadCouponCodesResponse) Format(f fmt.State, verb rune) {
	printMasked(f, verb, masked(r))
}

// LogValue makes slog log r as Format prints it.
func (r BatchUploadCouponCodesResponse) LogValue() slog.Value { return logValue(masked(r)) }
