package busifavor

import (
	"fmt"
	"io"
	"net/http"
)

// MaxResponseBytes bounds what this package decodes of an answer, and what
// a client from NewHTTPClient reads of one. Both endpoints answer a few
// hundred bytes; 1 MiB is go-github's bound too.
const MaxResponseBytes = 1 << 20

// NewHTTPClient returns a copy of base (a zero http.Client when base is nil)
// made safe for WeChat Pay's API, to pass to core.NewClient with
// option.WithHTTPClient:
//
//   - it never follows a redirect: the 3xx itself comes back, and the call
//     fails with ErrRedirect. Neither the body nor the Authorization header is
//     sent anywhere else. (WeChat Pay's API never redirects; a redirect means a
//     proxy or an attacker is in the way.)
//   - it reads at most MaxResponseBytes of any answer. wechatpay-go's core
//     reads a whole error body into memory before this package sees it; with
//     this client a huge body fails with ErrMalformedResponse after 1 MiB
//     instead of filling memory.
//
// base's Transport, Timeout and Jar are kept. Without this client, a Client
// still refuses the answer of a followed redirect (ErrRedirect), but the HTTP
// client will already have re-sent the request to the redirect's target.
func NewHTTPClient(base *http.Client) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	c.CheckRedirect = RefuseRedirect
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = &limitTransport{next: next, max: MaxResponseBytes}
	return c
}

// RefuseRedirect is an http.Client CheckRedirect function that stops at the
// first redirect and hands its 3xx answer back, so the request is never
// re-sent. NewHTTPClient sets it; set it yourself on a client you build
// another way.
func RefuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// limitTransport cuts every answer's body at max bytes with an error.
type limitTransport struct {
	next http.RoundTripper
	max  int64
}

// RoundTrip implements http.RoundTripper.
func (t *limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.next.RoundTrip(r)
	if err != nil {
		return res, err
	}
	res.Body = &limitedBody{rc: res.Body, left: t.max, max: t.max}
	return res, nil
}

// CloseIdleConnections closes the wrapped transport's idle connections, so
// http.Client.CloseIdleConnections still works.
func (t *limitTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// limitedBody fails a read past its limit instead of returning more.
type limitedBody struct {
	rc        io.ReadCloser
	left, max int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		if n, err := b.rc.Read(one[:]); n == 0 {
			return 0, err
		}
		return 0, fmt.Errorf("%w: answer body is larger than %d bytes", ErrMalformedResponse, b.max)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
