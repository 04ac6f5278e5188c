package busifavor

import (
	"net/http"
	"reflect"
	"strings"
)

// Response is what every response type carries about the HTTP answer it
// was read from, besides the body: the Request-ID that WeChat Pay support
// asks for, the status, and the headers. Every …Response type embeds it, as
// Response `json:"-"`, so resp.RequestID reads it and json.Marshal of a
// response holds only the body's fields. The client fills it, in one place,
// as it decodes an answer (decodeAnswer); a body never sets it.
//
// What carries which answer's Response:
//   - a call's response: the answer that settled it (after retries, the last
//     attempt's; for a subsidy create that settled by reading the receipt
//     back, the list that was read);
//   - WaitSubsidyPayReceipt and WaitSubsidyReturnReceipt: the last read, zero
//     when no read was needed;
//   - BatchUploadCouponCodesResponse: one Response per batch answered, in
//     Responses;
//   - the items an All… iterator yields carry none (they are not answers);
//     call List… for a page's Response. A failed read's Request-ID is in its
//     *APIError.
//
// Response has no methods, so that embedding it never gives a response type
// a String, Format, LogValue or MarshalJSON of its own.
type Response struct {
	// RequestID is the answer's Request-ID header, cut to
	// MaxHeaderValueBytes.
	RequestID string
	// StatusCode is the answer's HTTP status: 200, or 204 for an answer
	// without a body (UpdateStock).
	StatusCode int
	// Header holds the answer's headers, a copy, each value cut to
	// MaxHeaderValueBytes, without those that can carry a credential
	// (Authorization, Proxy-Authorization, Cookie, Set-Cookie): a gateway
	// between the client and WeChat Pay may add them. WeChat Pay's own are
	// Request-ID and the Wechatpay-Serial, -Signature, -Timestamp and
	// -Nonce of the answer's signature, which the client has verified.
	Header http.Header
}

// isCredentialHeader reports whether k names a header a Response never
// keeps (Authorization, Proxy-Authorization, Cookie, Set-Cookie), in any
// case: a length test and a case-insensitive compare, without building the
// canonical key (net/http's keys are canonical already; a hand-made header
// may not be).
func isCredentialHeader(k string) bool {
	switch len(k) {
	case len("Cookie"):
		return strings.EqualFold(k, "Cookie")
	case len("Set-Cookie"):
		return strings.EqualFold(k, "Set-Cookie")
	case len("Authorization"):
		return strings.EqualFold(k, "Authorization")
	case len("Proxy-Authorization"):
		return strings.EqualFold(k, "Proxy-Authorization")
	}
	return false
}

// responseOf is the Response of the answer a.
func responseOf(a *answer) Response {
	out := Response{RequestID: a.requestID, StatusCode: a.status}
	if len(a.header) == 0 {
		return out
	}
	// One pass, into one backing array of its own sized for one value a
	// header (the usual answer): writing into the Response's values never
	// reaches the transport's, which a test transport may hand out again.
	// Each key's slice is capped at its own values, so an append to one
	// never writes into the next, even where a header with more values
	// moved the rest to a larger array.
	values := make([]string, 0, len(a.header))
	out.Header = make(http.Header, len(a.header))
	for k, vs := range a.header {
		if isCredentialHeader(k) {
			continue
		}
		start := len(values)
		for _, v := range vs {
			values = append(values, clip(v, MaxHeaderValueBytes))
		}
		out.Header[k] = values[start:len(values):len(values)]
	}
	return out
}

// responseType is the type of Response, which decodeAnswer looks for.
var responseType = reflect.TypeFor[Response]()
