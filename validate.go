package busifavor

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Documented limits of the callbacks API, in bytes.
const (
	MchIDMinLen     = 8
	MchIDMaxLen     = 15
	NotifyURLMinLen = 10
	NotifyURLMaxLen = 256
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
	return "busifavor: invalid request: " + strings.Join(parts, "; ")
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
	v.mchid(r.Mchid)
	v.notifyURL(r.NotifyURL)
	return v.err()
}

// Validate checks the request against the documented rules and returns a
// *ValidationError, or nil.
func (r GetCallbacksRequest) Validate() error {
	var v validator
	v.mchid(r.Mchid)
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
	if n := len(s); n < MchIDMinLen || n > MchIDMaxLen {
		v.add(f, "must be %d to %d bytes long, got %d", MchIDMinLen, MchIDMaxLen, n)
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
	if n := len(s); n < NotifyURLMinLen || n > NotifyURLMaxLen {
		v.add(f, "must be %d to %d bytes long, got %d", NotifyURLMinLen, NotifyURLMaxLen, n)
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
	if !utf8.ValidString(s) {
		return true
	}
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0
}
