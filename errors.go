package busifavor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrorCode is an APIv3 error code, the "code" field of an error body.
type ErrorCode string

// Codes on the busifavor callbacks API page.
const (
	ErrorCodeParamError            ErrorCode = "PARAM_ERROR"
	ErrorCodeSystemError           ErrorCode = "SYSTEM_ERROR"
	ErrorCodeResourceAlreadyExists ErrorCode = "RESOURCE_ALREADY_EXISTS"
	ErrorCodeResourceNotExists     ErrorCode = "RESOURCE_NOT_EXISTS"
	ErrorCodeNoAuth                ErrorCode = "NOAUTH"
	ErrorCodeAppIDMchIDNotMatch    ErrorCode = "APPID_MCHID_NOT_MATCH"
	ErrorCodeMchNotExists          ErrorCode = "MCH_NOT_EXISTS"
	ErrorCodeUserNotExists         ErrorCode = "USER_NOT_EXISTS"
	ErrorCodeFrequencyLimited      ErrorCode = "FREQUENCY_LIMITED"
	ErrorCodeRuleLimit             ErrorCode = "RULELIMIT"
	ErrorCodeInvalidRequest        ErrorCode = "INVALID_REQUEST"
)

// Codes from the general APIv3 error table that any endpoint may answer.
const (
	ErrorCodeSignError          ErrorCode = "SIGN_ERROR"
	ErrorCodeNoAuthGeneral      ErrorCode = "NO_AUTH"
	ErrorCodeRateLimitExceeded  ErrorCode = "RATELIMIT_EXCEEDED"
	ErrorCodeServiceUnavailable ErrorCode = "SERVICE_UNAVAILABLE"
)

// Sentinels for a meaning WeChat Pay spells with two codes. A code with one
// meaning and one spelling has no sentinel: branch on it with ErrorCodeOf.
var (
	// ErrNoAuth is matched by an *APIError whose code is NOAUTH (the
	// busifavor error table) or NO_AUTH (the general APIv3 table): the
	// merchant may not do this (无权限). Not retried.
	ErrNoAuth = errors.New("busifavor: no permission (NOAUTH, NO_AUTH)")
	// ErrFrequencyLimited is matched by an *APIError whose code is
	// FREQUENCY_LIMITED (the busifavor error table) or RATELIMIT_EXCEEDED
	// (the general APIv3 table): calls came too fast. Retried with backoff
	// (see # Retries); when it reaches you, back off further.
	ErrFrequencyLimited = errors.New("busifavor: rate limited (FREQUENCY_LIMITED, RATELIMIT_EXCEEDED)")
)

var (
	// ErrValidation is matched by every *ValidationError: the request broke a
	// documented rule and the SDK refused it before sending anything. It is
	// not an answer of WeChat Pay's (INVALID_REQUEST and PARAM_ERROR are:
	// see ErrorCodeOf).
	ErrValidation = errors.New("busifavor: request refused before sending")

	// ErrResponseSignature is matched when a 2xx answer fails the signature
	// check of the core client's validator (a wrong, missing or stale
	// signature, or one of WeChat Pay's WECHATPAY/SIGNTEST/ probes). The
	// answer is not trusted and no response is returned. Never retried: a bad
	// signature is a security event, not a glitch.
	ErrResponseSignature = errors.New("busifavor: response signature verification failed")

	// ErrTransport is matched when no HTTP answer arrived: the connection was
	// refused, reset or timed out, or the answer was cut short. It is
	// retryable. A request stopped by its own context matches ctx.Err()
	// instead.
	ErrTransport = errors.New("busifavor: no answer from WeChat Pay")

	// ErrMalformedResponse is matched when a 2xx answer is verified but its
	// body is not what the API documents: not JSON, a required field missing,
	// an unparsable time, or larger than the client reads.
	ErrMalformedResponse = errors.New("busifavor: malformed response")

	// ErrPaging is matched when the pages of a list do not add up while
	// AllCouponCodes or AllUserCoupons walks it: an empty page before
	// total_count is reached, a page with nothing new (the server ignored
	// the offset, or repeats a page sent before), a short page in the middle of a list paged by page
	// number, or more pages than total_count and the page size allow. The
	// walk stops; what it yielded before is sound and was yielded once.
	// Never retried.
	ErrPaging = errors.New("busifavor: the pages of the list do not add up")

	// ErrRequestNoReused is matched when an upload's answer is for other
	// codes than the ones sent: it names a code that was not sent, or only
	// some of those that were, or its counts (total_count, success_count)
	// do not account for the codes sent. WeChat Pay answers a repeated
	// upload_request_no with its first answer, so a list changed under an
	// old number (BatchUploadCouponCodes with the prefix of an earlier, other
	// list) would otherwise skip its new codes without a word. Upload a
	// changed list under a new number or prefix. Never retried.
	ErrRequestNoReused = errors.New("busifavor: upload_request_no was first used for other codes")

	// ErrRedirect is matched when an answer was a redirect (3xx), whether the
	// HTTP client stopped at it (NewHTTPClient does) or followed it. WeChat
	// Pay's API never redirects, so the call fails: an answer to any request
	// but the one that was signed and sent is never taken for success. Never
	// retried.
	ErrRedirect = errors.New("busifavor: WeChat Pay's API does not redirect; the redirect was not trusted")
)

// Sentinels for the coupon states a till branches on. An *APIError matches
// one only when the operation that got it (APIError.Operation) gives its
// code that meaning (the busifavor error table's rows).
var (
	// ErrCouponUsed: UseCoupon answered RESOURCE_ALREADY_EXISTS, "券已被其他
	// 订单核销": the coupon was redeemed with another use_request_no.
	ErrCouponUsed = errors.New("busifavor: coupon already used")
	// ErrCouponNotUsable: UseCoupon answered RULELIMIT, "券不在有效期": the
	// coupon cannot be redeemed now (expired, not yet valid, or no longer
	// valid).
	ErrCouponNotUsable = errors.New("busifavor: coupon cannot be used now")
	// ErrCouponNotFound: a coupon endpoint (UseCoupon, GetUserCoupon,
	// ReturnCoupon, DeactivateCoupon, AssociateTradeInfo,
	// DisassociateTradeInfo) answered RESOURCE_NOT_EXISTS: no such coupon
	// for this merchant.
	ErrCouponNotFound = errors.New("busifavor: no such coupon")
)

// stateSentinels says which endpoints give a code a state's meaning.
var stateSentinels = []struct {
	err  error
	code ErrorCode
	ops  []string
}{
	{ErrCouponUsed, ErrorCodeResourceAlreadyExists, []string{"UseCoupon"}},
	{ErrCouponNotUsable, ErrorCodeRuleLimit, []string{"UseCoupon"}},
	{ErrCouponNotFound, ErrorCodeResourceNotExists, []string{"UseCoupon", "GetUserCoupon", "ReturnCoupon", "DeactivateCoupon", "AssociateTradeInfo", "DisassociateTradeInfo"}},
	{ErrReceiptExists, ErrorCodeResourceAlreadyExists, moneyOps},
	{ErrReceiptNotFound, ErrorCodeResourceNotExists, []string{"GetSubsidyPayReceipt", "GetSubsidyReturnReceipt"}},
}

// moneyOps are the calls that move money. do never repeats them: their
// method (createMoney) reads whether a lost attempt took effect before it
// sends the identical request again.
var moneyOps = []string{"CreateSubsidyPayReceipt", "CreateSubsidyReturnReceipt"}

// retryable reports whether do retries op's failed attempt: IsRetryable's
// verdict, and never for moneyOps.
func retryable(op string, err error) bool {
	return IsRetryable(err) && !slices.Contains(moneyOps, op)
}

// codeSentinels maps the codes of a two-spelling meaning to its sentinel.
var codeSentinels = map[ErrorCode]error{
	ErrorCodeNoAuth:            ErrNoAuth,
	ErrorCodeNoAuthGeneral:     ErrNoAuth,
	ErrorCodeFrequencyLimited:  ErrFrequencyLimited,
	ErrorCodeRateLimitExceeded: ErrFrequencyLimited,
}

// tableRow is one row of the API page's error table.
type tableRow struct {
	status      int
	code        ErrorCode
	description string
	solution    string
}

// errorTable is the API page's table (描述, 解决方案) followed by the general
// APIv3 codes. Codes the page lists twice for one status keep both texts.
var errorTable = []tableRow{
	{400, ErrorCodeParamError, "参数错误", "查看具体错误信息, 调整参数"},
	{400, ErrorCodeSystemError, "系统错误", "请使用相同参数稍后重新调用"},
	{400, ErrorCodeResourceAlreadyExists, "批次已存在；券已被其他订单核销", "查看 out_request_no 字段是否重复使用；请通过查询券 API 确认券是否已被其他订单核销"},
	{404, ErrorCodeResourceNotExists, "查询的资源不存在", "请检查查询资源的对应 id 是否填写正确"},
	{403, ErrorCodeNoAuth, "无权限", "查看具体错误信息, 确认是否有权限"},
	{400, ErrorCodeAppIDMchIDNotMatch, "appid 与请求方商户无关联关系", "appid 与请求方商户不匹配, 请确认 appid 与请求方商户是否有关联关系"},
	{400, ErrorCodeMchNotExists, "商户号不存在", "请确认传入的商户号是否正确"},
	{404, ErrorCodeUserNotExists, "openid 不正确", "请确认传入的 openid 是否正确"},
	{500, ErrorCodeSystemError, "系统失败", "多为网络超时引起, 重试"},
	{429, ErrorCodeFrequencyLimited, "频率限制", "调用太频繁, 请降低调用接口频率"},
	{403, ErrorCodeRuleLimit, "券不在有效期", "请确认券是否能在当前时间核销"},
	{400, ErrorCodeInvalidRequest, "发券模式不合法；上传的自定义 code 已达上限", "请更换支持预上传 code 的批次后重试；请更换一个新的批次后重试"},
	{401, ErrorCodeSignError, "签名错误", "请检查签名参数和方法是否都符合签名算法要求, 以及商户证书序列号、私钥和系统时钟"},
	{403, ErrorCodeNoAuthGeneral, "无权限", "查看具体错误信息, 确认是否有权限"},
	{429, ErrorCodeRateLimitExceeded, "达到调用速率限制", "调用太频繁, 请降低调用接口频率"},
	{503, ErrorCodeServiceUnavailable, "服务不可用", "请稍后使用相同参数重新调用"},
}

// HTTPStatus returns the HTTP status the error table documents for the code,
// or 0 when the table does not list it. Where the table lists a code under
// two statuses (SYSTEM_ERROR: 400 and 500), the first row wins.
func (code ErrorCode) HTTPStatus() int {
	if r := lookupRow(0, code); r != nil {
		return r.status
	}
	return 0
}

// ErrorCodes returns every code of the error table, in table order, each once.
func ErrorCodes() []ErrorCode {
	seen := make(map[ErrorCode]bool, len(errorTable))
	var out []ErrorCode
	for _, r := range errorTable {
		if !seen[r.code] {
			seen[r.code] = true
			out = append(out, r.code)
		}
	}
	return out
}

// lookupRow finds the row for code, preferring the one documented for status.
func lookupRow(status int, code ErrorCode) *tableRow {
	var found *tableRow
	for i := range errorTable {
		r := &errorTable[i]
		if r.code != code {
			continue
		}
		if r.status == status {
			return r
		}
		if found == nil {
			found = r
		}
	}
	return found
}

// ErrorCodeOf returns the code of the *APIError in err's chain: the "code"
// WeChat Pay answered, as it came. It returns "" when err holds no *APIError
// (nil, a *ValidationError, a transport, signature or malformed-answer
// error) or the answer's body was not a JSON error. A call that gave up
// after several attempts holds the last *APIError any attempt got, even
// when a later attempt got no answer.
//
// It is the one way to branch on a code; a sentinel exists only for a
// meaning beyond one code (ErrCouponUsed, ErrFrequencyLimited, …):
//
//	switch busifavor.ErrorCodeOf(err) {
//	case busifavor.ErrorCodeInvalidRequest:
//		// this stock takes no uploaded codes, or its quota is full
//	case busifavor.ErrorCodeResourceNotExists:
//		// no such stock
//	}
func ErrorCodeOf(err error) ErrorCode {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code
	}
	return ""
}

// APIError is an error answer from WeChat Pay: a non-2xx status with, usually,
// a JSON body {"code","message","detail"}. Branch on its code with
// ErrorCodeOf, on a meaning with errors.Is and the Err… sentinels, and read
// its fields with errors.As.
//
// A test double of yours can return one built by hand: errors.Is and
// ErrorCodeOf treat it as the client's own, given the fields the client sets
// (StatusCode, Code and Operation), as
//
//	&busifavor.APIError{StatusCode: 400, Code: busifavor.ErrorCodeResourceAlreadyExists, Operation: "UseCoupon"}
//
// matches ErrCouponUsed.
type APIError struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Code is the "code" of the body; empty when the body was not a JSON
	// error. Unknown codes are kept as they came.
	Code ErrorCode
	// Message is WeChat Pay's human-readable explanation, cut to
	// MaxErrorFieldBytes (the cut is marked).
	Message string
	// Detail is the "detail" object (field, value, issue, location), if
	// any; nil when it is larger than MaxErrorFieldBytes. Its value echoes
	// what was sent, which can be an openid or a coupon code, so every
	// string under a "value" key is masked (MaskCode) as the answer is read,
	// and the error prints the same through fmt, slog and json.Marshal;
	// numbers, booleans and the other keys are kept as they came. The
	// request that was refused holds the value in clear.
	Detail json.RawMessage
	// RequestID is the Request-ID header, which WeChat Pay support asks for,
	// cut to MaxHeaderValueBytes.
	RequestID string

	// Operation is the Client method that got the answer, as "UseCoupon";
	// a helper built on other methods (the batch upload, the Wait helpers)
	// leaves the name of the method it called. The state sentinels depend
	// on it: RESOURCE_ALREADY_EXISTS is ErrCouponUsed from UseCoupon and
	// 批次已存在 from CreateStock.
	Operation string

	retryAfter time.Duration // from a Retry-After header on a 429 or 503
}

// Bounds on what an error keeps of an answer, so that a hostile or broken
// server cannot make errors or log lines large.
const (
	// MaxErrorFieldBytes bounds APIError.Message and APIError.Detail. An
	// error body larger than MaxResponseBytes is not decoded at all. Real
	// WeChat Pay error bodies are a few hundred bytes.
	MaxErrorFieldBytes = 8 << 10
	// MaxHeaderValueBytes bounds every header value (Request-ID,
	// Wechatpay-Serial, Location, …) that goes into an error or a log line;
	// longer values are cut and marked.
	MaxHeaderValueBytes = 256
	// maxErrorMessage caps how much of a server's message goes into Error().
	maxErrorMessage = 512
)

// cutMark ends every value this package shortened.
const cutMark = "…(cut)"

// clip returns s cut to at most n bytes plus cutMark, on a UTF-8 boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + cutMark
}

// Error reports the operation, status, code, message and request id. It
// never includes headers or the request.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("busifavor: ")
	if e.Operation != "" {
		b.WriteString(e.Operation + ": ")
	}
	fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", clip(e.Message, maxErrorMessage))
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// Is reports whether target is the sentinel of e's code (ErrNoAuth,
// ErrFrequencyLimited), or the state sentinel e's Operation gives the code
// (ErrCouponUsed, …), so that errors.Is works on a wrapped *APIError.
func (e *APIError) Is(target error) bool {
	if s, ok := codeSentinels[e.Code]; ok && s == target {
		return true
	}
	for _, st := range stateSentinels {
		if st.err == target && st.code == e.Code && slices.Contains(st.ops, e.Operation) {
			return true
		}
	}
	return false
}

// Retryable reports whether the same request may succeed later: SYSTEM_ERROR,
// FREQUENCY_LIMITED, RATELIMIT_EXCEEDED, SERVICE_UNAVAILABLE, a 429 and any
// 5xx. Other 4xx answers will fail again until the request is changed.
func (e *APIError) Retryable() bool {
	switch e.Code {
	case ErrorCodeSystemError, ErrorCodeFrequencyLimited, ErrorCodeRateLimitExceeded, ErrorCodeServiceUnavailable:
		return true
	}
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
}

// Description returns the error table's 描述 for e's code and status, or ""
// for a code the table does not list.
func (e *APIError) Description() string {
	if r := lookupRow(e.StatusCode, e.Code); r != nil {
		return r.description
	}
	return ""
}

// Solution returns the error table's 解决方案 for e's code and status, or ""
// for a code the table does not list.
func (e *APIError) Solution() string {
	if r := lookupRow(e.StatusCode, e.Code); r != nil {
		return r.solution
	}
	return ""
}

// newAPIError decodes an error answer. A body that is not a JSON error still
// yields an *APIError with the status and an empty code.
func newAPIError(status int, header http.Header, body []byte) *APIError {
	e := &APIError{StatusCode: status, RequestID: requestID(header)}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		e.retryAfter = parseRetryAfter(header.Get("Retry-After"), time.Now())
	}
	if len(body) > MaxResponseBytes {
		e.Message = fmt.Sprintf("error body of %d bytes not decoded (limit %d)", len(body), MaxResponseBytes)
		return e
	}
	var wire struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &wire) == nil {
		e.Code, e.Message = ErrorCode(clip(wire.Code, MaxHeaderValueBytes)), clip(wire.Message, MaxErrorFieldBytes)
		if len(wire.Detail) > 0 && len(wire.Detail) <= MaxErrorFieldBytes && string(wire.Detail) != "null" {
			if d := maskDetail(wire.Detail); len(d) <= MaxErrorFieldBytes {
				e.Detail = d
			}
		}
	}
	return e
}

// requestID is the answer's Request-ID, clipped, read by its canonical key
// as h.Get would, without canonicalising "Request-Id" on every answer.
func requestID(h http.Header) string {
	if vs := h["Request-Id"]; len(vs) > 0 {
		return clip(vs[0], MaxHeaderValueBytes)
	}
	return ""
}

// maskDetail returns an error's detail with every string under a "value"
// key, at any depth, masked with MaskCode; detail as it came when it has
// none.
func maskDetail(detail json.RawMessage) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(detail))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return detail // json.Unmarshal accepted it: cannot happen
	}
	v, changed := maskValueKeys(v, false)
	if !changed {
		return detail
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return nil
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// maskValueKeys masks, in a decoded JSON value, the strings under a
// "value" key (every string in v when under is set), and says whether it
// masked any.
func maskValueKeys(v any, under bool) (any, bool) {
	changed := false
	switch x := v.(type) {
	case string:
		if under {
			return MaskCode(x), true
		}
	case []any:
		for i := range x {
			var c bool
			x[i], c = maskValueKeys(x[i], under)
			changed = changed || c
		}
	case map[string]any:
		for k := range x {
			var c bool
			x[k], c = maskValueKeys(x[k], under || k == "value")
			changed = changed || c
		}
	}
	return v, changed
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
// It returns 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(min(secs, 1<<20)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// transportError is a request that got no HTTP answer.
type transportError struct {
	host string
	err  error
}

// Error names the host and the failure. The HTTP client's text repeats the
// URL, whose path can hold an openid and a coupon code, and whose query a
// coupon code: they are masked.
func (e *transportError) Error() string {
	return maskPath(fmt.Sprintf("busifavor: no answer from %s: %v", e.host, e.err))
}

// maskPath masks what a path or URL, or a text holding one, carries of a
// user or a coupon: the openid of /users/{openid} (MaskID), the coupon code
// of /users/{openid}/coupons/{coupon_code} and /couponcodes/{coupon_code},
// and the value of a coupon_code query parameter (ListSubsidyPayReceipts
// sends one) (MaskCode), so that they never reach a log line or an error.
func maskPath(p string) string {
	p = maskAfter(p, "/users/", MaskID, "/coupons/")
	p = maskAfter(p, "/couponcodes/", MaskCode, "")
	return maskQueryValue(p, "coupon_code=")
}

// maskQueryValue masks, with MaskCode, the value after each name in p (a
// query parameter's "name="), up to the next & or #, quote or white space.
func maskQueryValue(p, name string) string {
	var b strings.Builder
	for {
		i := strings.Index(p, name)
		if i < 0 {
			b.WriteString(p)
			return b.String()
		}
		b.WriteString(p[:i+len(name)])
		p = p[i+len(name):]
		j := strings.IndexAny(p, "&#\" \t")
		if j < 0 {
			j = len(p)
		}
		b.WriteString(MaskCode(p[:j]))
		p = p[j:]
	}
}

// maskAfter masks, with mask, the path segment after each seg in p and, when
// then is set and follows that segment, the segment after then too (with
// MaskCode).
func maskAfter(p, seg string, mask func(string) string, then string) string {
	var b strings.Builder
	for {
		i := strings.Index(p, seg)
		if i < 0 {
			b.WriteString(p)
			return b.String()
		}
		b.WriteString(p[:i+len(seg)])
		p = p[i+len(seg):]
		j := segmentEnd(p)
		b.WriteString(mask(p[:j]))
		p = p[j:]
		if then != "" && strings.HasPrefix(p, then) {
			b.WriteString(then)
			p = p[len(then):]
			j = segmentEnd(p)
			b.WriteString(MaskCode(p[:j]))
			p = p[j:]
		}
	}
}

// segmentEnd is where the path segment at the start of p ends.
func segmentEnd(p string) int {
	if j := strings.IndexAny(p, "/?\" \t"); j >= 0 {
		return j
	}
	return len(p)
}

func (e *transportError) Unwrap() error        { return e.err }
func (e *transportError) Is(target error) bool { return target == ErrTransport }

// contextError is a call stopped because its context was done. It matches
// ctx.Err() and, when there was one, the last error seen before the stop.
type contextError struct {
	ctxErr error
	last   error
}

func (e *contextError) Error() string {
	if e.last == nil {
		return fmt.Sprintf("busifavor: call stopped: %v", e.ctxErr)
	}
	return fmt.Sprintf("busifavor: call stopped: %v; last error: %v", e.ctxErr, e.last)
}
func (e *contextError) Unwrap() []error {
	if e.last == nil {
		return []error{e.ctxErr}
	}
	return []error{e.ctxErr, e.last}
}

// attemptsError is a call that failed after more than one attempt. It
// matches the last error and, when there was one, the last *APIError.
type attemptsError struct {
	hosts   []string
	last    error
	lastAPI *APIError
}

func (e *attemptsError) Error() string {
	return fmt.Sprintf("busifavor: gave up after %d attempts (on %s): %v",
		len(e.hosts), strings.Join(e.hosts, ", "), e.last)
}

func (e *attemptsError) Unwrap() []error {
	if e.lastAPI == nil {
		return []error{e.last}
	}
	return []error{e.last, e.lastAPI}
}

// IsRetryable reports whether err is worth retrying with the same request: a
// retryable *APIError (see APIError.Retryable) or a transport failure. It is
// false for validation and signature errors, other 4xx answers and a call
// whose context is done.
func IsRetryable(err error) bool {
	var ce *contextError
	if err == nil || errors.As(err, &ce) || errors.Is(err, ErrResponseSignature) || errors.Is(err, ErrValidation) {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Retryable()
	}
	return errors.Is(err, ErrTransport)
}
