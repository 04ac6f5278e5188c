package busifavor

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// The fuzz targets run their seed corpora (testdata/fuzz) as ordinary tests;
// run one for real with, for example, go test -fuzz FuzzValidate.

// FuzzValidate checks that Validate never panics and that whatever it
// accepts really keeps the documented rules.
func FuzzValidate(f *testing.F) {
	f.Add("10000098", "https://pay.weixin.qq.com")
	f.Add("", "https://example.com/busifavor/notify")
	f.Fuzz(func(t *testing.T, mchid, notifyURL string) {
		err := SetCallbacksRequest{MchID: mchid, NotifyURL: notifyURL}.Validate()
		if err != nil {
			ve, ok := err.(*ValidationError)
			if !ok || len(ve.Fields) == 0 {
				t.Fatalf("not a *ValidationError with fields: %v", err)
			}
			for _, fe := range ve.Fields {
				if fe.Field != "mchid" && fe.Field != "notify_url" || fe.Reason == "" {
					t.Fatalf("bad field error %+v", fe)
				}
			}
			return
		}
		if mchid != "" && (len(mchid) < mchIDMinLen || len(mchid) > mchIDMaxLen || !utf8.ValidString(mchid)) {
			t.Fatalf("accepted mchid %q", mchid)
		}
		if len(notifyURL) < notifyURLMinLen || len(notifyURL) > notifyURLMaxLen {
			t.Fatalf("accepted notify_url of %d bytes", len(notifyURL))
		}
		u, perr := url.Parse(notifyURL)
		if perr != nil || !strings.EqualFold(u.Scheme, "https") || u.Host == "" || u.User != nil ||
			u.RawQuery != "" || u.Fragment != "" || strings.TrimSpace(notifyURL) != notifyURL {
			t.Fatalf("accepted notify_url %q", notifyURL)
		}
		if unreachableHost(u.Hostname()) != "" {
			t.Fatalf("accepted unreachable host in %q", notifyURL)
		}
	})
}

// FuzzErrorBody checks that any error answer yields a bounded, well-formed
// *APIError.
func FuzzErrorBody(f *testing.F) {
	f.Add(400, []byte(`{"code":"PARAM_ERROR","message":"参数错误","detail":{"field":"notify_url"}}`))
	f.Add(500, []byte(`<html>`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		h := http.Header{"Request-Id": {"08X"}, "Retry-After": {string(body)}}
		e := newAPIError(status, h, body)
		if e.StatusCode != status || e.RequestID != "08X" {
			t.Fatalf("lost status or request id: %+v", e)
		}
		if n := len(e.Error()); n > maxErrorMessage+len(e.Code)+200 {
			t.Fatalf("Error() is %d bytes", n)
		}
		_ = e.Retryable()
		_ = e.Description()
		_ = IsRetryable(e)
		if e.retryAfter < 0 {
			t.Fatalf("negative Retry-After %v", e.retryAfter)
		}
	})
}

// FuzzParseTime checks that ParseTime never panics and never returns a zero
// time without an error.
func FuzzParseTime(f *testing.F) {
	f.Add("2019-05-20T13:29:35:120+08:00")
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseTime(s)
		if err == nil && tm.IsZero() && !strings.HasPrefix(s, "0001-01-01") {
			t.Fatalf("zero time from %q", s)
		}
	})
}
