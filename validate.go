package busifavor

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Documented limits of the callbacks API, in bytes.
const (
	mchIDMinLen     = 8
	mchIDMaxLen     = 15
	notifyURLMinLen = 10
	notifyURLMaxLen = 256
)

// FieldError is one broken rule: Field is the JSON name of the field
// ("mchid", "notify_url") and Reason says what to fix.
type FieldError struct {
	Field  string
	Reason string
}

// String returns "field: reason".
func (f FieldError) String() string { return f.Field + ": " + f.Reason }

// ValidationError lists every rule a request breaks. It is returned before
// anything is signed or sent, and matches ErrValidation with errors.Is.
type ValidationError struct {
	Fields []FieldError
}

// Error lists every field and what to fix.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.String()
	}
	return "busifavor: request refused before sending: " + strings.Join(parts, "; ")
}

// Is reports whether target is ErrValidation.
func (e *ValidationError) Is(target error) bool { return target == ErrValidation }

// validator collects field errors.
type validator struct{ fields []FieldError }

func (v *validator) add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (v *validator) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: v.fields}
}

// Validate checks the request against the documented rules (see the package
// documentation, # Validation) and returns a *ValidationError listing every
// broken one, or nil.
func (r SetCallbacksRequest) Validate() error {
	var v validator
	v.mchid(r.MchID)
	v.notifyURL(r.NotifyURL)
	return v.err()
}

// Validate checks the request against the documented rules and returns a
// *ValidationError, or nil.
func (r GetCallbacksRequest) Validate() error {
	var v validator
	v.mchid(r.MchID)
	return v.err()
}

// mchid checks an optional merchant id: string(15), minimum length 8. The
// docs state no alphabet, so none is imposed beyond printable, unspaced text.
func (v *validator) mchid(s string) {
	if s != "" {
		v.merchantID("mchid", s)
	}
}

// merchantID checks a merchant id in field f: 8 to 15 bytes, printable.
func (v *validator) merchantID(f, s string) {
	if n := len(s); n < mchIDMinLen || n > mchIDMaxLen {
		v.add(f, "must be %d to %d bytes long, got %d", mchIDMinLen, mchIDMaxLen, n)
	}
	if hasSpaceOrControl(s) {
		v.add(f, "must be printable text without white space or control characters")
	}
}

// notifyURL checks the required notify URL: string(256), minimum length 10,
// https, and the notification guide's rules (a public host, no parameters).
func (v *validator) notifyURL(s string) {
	const f = "notify_url"
	if s == "" {
		v.add(f, "is required: set it to the https URL that receives coupon events")
		return
	}
	if n := len(s); n < notifyURLMinLen || n > notifyURLMaxLen {
		v.add(f, "must be %d to %d bytes long, got %d", notifyURLMinLen, notifyURLMaxLen, n)
	}
	if strings.TrimSpace(s) != s {
		v.add(f, "must not start or end with white space")
		return
	}
	if hasSpaceOrControl(s) {
		v.add(f, "must be printable text without white space or control characters; percent-encode them")
		return
	}
	u, err := url.Parse(s)
	if err != nil {
		v.add(f, "is not a valid URL (%v)", urlErrReason(err))
		return
	}
	if !strings.EqualFold(u.Scheme, "https") {
		if u.Scheme == "" {
			v.add(f, "must be an absolute URL starting with https://")
		} else {
			v.add(f, "must use https, not %q", u.Scheme)
		}
	}
	if u.Host == "" {
		v.add(f, "must have a host, as in https://example.com/notify")
	} else if reason := unreachableHost(u.Hostname()); reason != "" {
		v.add(f, "host %q is %s, which WeChat Pay cannot reach; use a public host name", u.Hostname(), reason)
	}
	if u.User != nil {
		v.add(f, "must not contain user info (user@ or user:password@)")
	}
	if u.RawQuery != "" || u.ForceQuery {
		v.add(f, "must not carry query parameters (不能携带参数); move them into the path")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		v.add(f, "must not contain a fragment (#…)")
	}
}

// unreachableHost says why WeChat Pay cannot reach host, or "" when it may.
func unreachableHost(host string) string {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return "localhost"
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	addr = addr.Unmap()
	switch {
	case addr.IsLoopback():
		return "a loopback address"
	case addr.IsPrivate():
		return "a private address"
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		return "a link-local address"
	case addr.IsUnspecified():
		return "an unspecified address"
	}
	return ""
}

// urlErrReason keeps net/url's reason but not its copy of the input.
func urlErrReason(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return err.Error()
}

func hasSpaceOrControl(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf: // the rest, rune by rune
			s = s[i:]
			if !utf8.ValidString(s) {
				return true
			}
			return strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0
		case c <= ' ' || c == 0x7f: // ASCII's spaces and controls
			return true
		}
	}
	return false
}

// Limits shared by every endpoint, in bytes (pages).
const (
	stockIDMaxLen   = 20  // stock_id string[1,20] (page: query stock)
	requestNoMaxLen = 128 // out_request_no string(128), upload_request_no string[1,128], … (pages)
)

// required adds "is required" when s is empty and reports whether it is set.
func (v *validator) required(f, s string) bool {
	if s == "" {
		v.add(f, "is required")
		return false
	}
	return true
}

// text checks a text field: valid UTF-8 and, when maxRunes > 0, at most
// that many characters (字数).
func (v *validator) text(f, s string, required bool, maxRunes int) {
	if s == "" {
		if required {
			v.add(f, "is required")
		}
		return
	}
	if !utf8.ValidString(s) {
		v.add(f, "must be valid UTF-8")
		return
	}
	if n := utf8.RuneCountInString(s); maxRunes > 0 && n > maxRunes {
		v.add(f, "must be at most %d characters (字数; a Chinese character counts one), got %d", maxRunes, n)
	}
}

// bytesAtMost checks an optional field of at most n bytes.
func (v *validator) bytesAtMost(f, s string, n int) {
	if len(s) > n {
		v.add(f, "must be at most %d bytes, got %d", n, len(s))
	}
}

// between checks lo <= n <= hi.
func (v *validator) between(f string, n, lo, hi int64) {
	if n < lo || n > hi {
		v.add(f, "must be %d to %d, got %d", lo, hi, n)
	}
}

// stockID checks a stock_id: string[1,20], printable. It goes in the path
// of the stock and code endpoints, so it is a path id everywhere.
func (v *validator) stockID(s string) {
	v.pathID("stock_id", s, stockIDMaxLen)
}

// requestNo checks a merchant request number: string[1,128], printable.
func (v *validator) requestNo(f, s string) {
	v.identifier(f, s, requestNoMaxLen)
}

// identifier checks a required id of 1 to max bytes (any length when max is
// 0: the page gives none) without white space or control characters.
func (v *validator) identifier(f, s string, max int) {
	if !v.required(f, s) {
		return
	}
	if max > 0 && len(s) > max {
		v.add(f, "must be 1 to %d bytes long, got %d", max, len(s))
	}
	if hasSpaceOrControl(s) {
		v.add(f, "must be printable text without white space or control characters")
	}
}

// pathID checks an identifier (see identifier) that goes in a URL path: it
// must not be a dot segment either. url.PathEscape leaves "." and ".."
// alone, and a URL resolver removes them, so that GetStock{".."} would
// read /v3/marketing/busifavor and UpdateStockBudget{"."} the stock
// "budget". Every path parameter of every endpoint is checked here (or by
// couponCode, whose alphabet has no dot).
func (v *validator) pathID(f, s string, max int) {
	v.identifier(f, s, max)
	v.notDotSegment(f, s)
}

// notDotSegment refuses "." and "..", which a path cannot carry as an id.
func (v *validator) notDotSegment(f, s string) {
	if s == "." || s == ".." {
		v.add(f, "must not be %q: a path segment of dots names another endpoint", s)
	}
}

// couponCode checks a coupon code wherever one goes (upload, send, redeem,
// read, associate, return, deactivate, delete), with the upload page's
// rule, so that every code that can be uploaded can be used everywhere: 1
// to 32 bytes of 0-9 a-z A-Z, space, - _ \ / = | (page: upload codes, "code
// 允许包含的字符有 0-9 a-z A-Z 空格（仅含空格…） 中划线- 下划线_ 反斜线\ 斜线/
// 等号= 竖线|", and wechatpay-go's UploadCouponCodeRequest; the older wiki
// page did not allow the space). The alphabet has no dot, so a code is
// never a dot segment in a path.
func (v *validator) couponCode(f, s string) {
	v.couponCodeUpTo(f, s, CouponCodeMaxLen)
}

// couponCodeUpTo is couponCode with another upper bound, in bytes, for a
// page that documents one (the subsidy pages: coupon_code string[1,128]).
func (v *validator) couponCodeUpTo(f, s string, max int) {
	if !v.required(f, s) {
		return
	}
	if len(s) > max {
		v.add(f, "must be 1 to %d bytes long, got %d", max, len(s))
	}
	for i, r := range s {
		if !isCodeChar(r) {
			v.add(f, "has %q at byte %d; codes may hold only 0-9 a-z A-Z, space and - _ \\ / = |", r, i)
			break
		}
	}
}

func isCodeChar(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune(" -_\\/=|", r)
}

// oneOf checks that val is one of allowed, or empty when not required.
func oneOf[T ~string](v *validator, f string, val T, required bool, allowed []T) {
	if val == "" {
		if required {
			v.add(f, "is required: one of %s", joinValues(allowed))
		}
		return
	}
	if !slices.Contains(allowed, val) {
		v.add(f, "must be one of %s, got %q", joinValues(allowed), string(val))
	}
}

func joinValues[T ~string](vals []T) string {
	s := make([]string, len(vals))
	for i, x := range vals {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

// index formats an array index for a JSON path: [3].
func index(i int) string { return "[" + strconv.Itoa(i) + "]" }

// merchantNo checks a merchant number of 1 to RequestNoMaxLen bytes that
// the pages restrict to letters, digits and | _ * - (可包含英文字母,数字,|,_,
// *,-等内容: out_request_no of send and associate, out_subsidy_no,
// out_subsidy_return_no, all string[1,128]). wechatpay-go's models copy the
// same sentence with a full-width ｜, which is accepted too.
func (v *validator) merchantNo(f, s string) {
	if !v.required(f, s) {
		return
	}
	if len(s) > requestNoMaxLen {
		v.add(f, "must be 1 to %d bytes long, got %d", requestNoMaxLen, len(s))
	}
	for i, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune("|｜_*-", r)) {
			v.add(f, "has %q at byte %d; use only letters, digits and | _ * -", r, i)
			return
		}
	}
}

// sized checks a required id of lo to hi bytes without white space or
// control characters (string[lo,hi] on the pages).
func (v *validator) sized(f, s string, lo, hi int) {
	if !v.required(f, s) {
		return
	}
	if len(s) < lo || len(s) > hi {
		v.add(f, "must be %d to %d bytes long, got %d", lo, hi, len(s))
	}
	if hasSpaceOrControl(s) {
		v.add(f, "must be printable text without white space or control characters")
	}
}
