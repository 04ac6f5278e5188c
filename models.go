package busifavor

import (
	"encoding/json"
	"fmt"
	"time"
)

// SetCallbacksRequest is the body of POST /v3/marketing/busifavor/callbacks.
type SetCallbacksRequest struct {
	// Mchid is the merchant whose notify URL is set; empty means the calling
	// merchant. 8 to 15 bytes when set.
	Mchid string `json:"mchid,omitempty"`
	// NotifyURL receives the coupon events: https, 10 to 256 bytes, a public
	// host, no query string.
	NotifyURL string `json:"notify_url"`
}

// SetCallbacksResponse is WeChat Pay's answer to SetCallbacks.
type SetCallbacksResponse struct {
	// UpdateTime is when the URL was set; zero only if WeChat Pay omitted it
	// (the API marks it optional).
	UpdateTime time.Time `json:"update_time"`
	// NotifyURL is the URL now in effect.
	NotifyURL string `json:"notify_url"`
	// Mchid is the merchant it is set for.
	Mchid string `json:"mchid"`
	// RequestID is the answer's Request-ID header, for WeChat Pay support.
	RequestID string `json:"request_id,omitempty"`
}

// GetCallbacksRequest selects whose notify URL GetCallbacks reads.
type GetCallbacksRequest struct {
	// Mchid is the merchant to query; empty means the calling merchant.
	Mchid string
}

// GetCallbacksResponse is WeChat Pay's answer to GetCallbacks.
type GetCallbacksResponse struct {
	// NotifyURL is the URL in effect.
	NotifyURL string `json:"notify_url"`
	// Mchid is the merchant it is set for.
	Mchid string `json:"mchid"`
	// RequestID is the answer's Request-ID header, for WeChat Pay support.
	RequestID string `json:"request_id,omitempty"`
}

// callbacksWire is the JSON both endpoints answer with.
type callbacksWire struct {
	UpdateTime *string `json:"update_time"`
	NotifyURL  string  `json:"notify_url"`
	Mchid      string  `json:"mchid"`
}

// decodeCallbacks parses a verified 2xx body, refusing anything that would
// otherwise become a zero-valued success.
func decodeCallbacks(body []byte) (callbacksWire, time.Time, error) {
	var w callbacksWire
	if err := json.Unmarshal(body, &w); err != nil {
		return w, time.Time{}, fmt.Errorf("%w: body is not the documented JSON object: %v", ErrMalformedResponse, err)
	}
	var missing []string
	if w.NotifyURL == "" {
		missing = append(missing, "notify_url")
	}
	if w.Mchid == "" {
		missing = append(missing, "mchid")
	}
	if len(missing) > 0 {
		return w, time.Time{}, fmt.Errorf("%w: required field %v missing or empty", ErrMalformedResponse, missing)
	}
	var t time.Time
	if w.UpdateTime != nil {
		var err error
		if t, err = ParseTime(*w.UpdateTime); err != nil {
			return w, time.Time{}, fmt.Errorf("%w: update_time: %v", ErrMalformedResponse, err)
		}
	}
	return w, t, nil
}

// ParseTime parses a WeChat Pay time in every shape seen on the wire: RFC
// 3339 with or without fractional seconds (2019-05-20T13:29:35+08:00,
// 2019-05-20T13:29:35.120+08:00, …Z) and the API page's prose shape with a
// colon before the milliseconds (2019-05-20T13:29:35:120+08:00).
func ParseTime(s string) (time.Time, error) {
	v := s
	// "2006-01-02T15:04:05" is 19 bytes; a colon after it starts milliseconds.
	if len(v) > 20 && v[19] == ':' && v[20] >= '0' && v[20] <= '9' {
		v = v[:19] + "." + v[20:]
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", s)
	}
	return t, nil
}
