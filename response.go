package busifavor

import (
	"net/http"
	"reflect"
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

// credentialHeaders are the headers a Response never keeps, in canonical
// form.
var credentialHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"Set-Cookie":          true,
}

// responseOf is the Response of an answer with status and header.
func responseOf(status int, header http.Header) Response {
	out := Response{RequestID: requestID(header), StatusCode: status}
	if len(header) == 0 {
		return out
	}
	// One backing array for every value, as net/textproto does; each key's
	// slice is capped at its own values, so an append to one never writes
	// into the next.
	n := 0
	for _, vs := range header {
		n += len(vs)
	}
	values := make([]string, 0, n)
	out.Header = make(http.Header, len(header))
	for k, vs := range header {
		if credentialHeaders[http.CanonicalHeaderKey(k)] {
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
