package busifavor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
)

// DefaultBaseURL is WeChat Pay's primary API domain.
const DefaultBaseURL = "https://api.mch.weixin.qq.com"

// maxResponseBody caps how much of a verified answer is decoded. Both
// endpoints answer a few hundred bytes; 1 MiB is go-github's cap too.
const maxResponseBody = 1 << 20

// Client calls the busifavor callbacks API through a wechatpay-go core.Client,
// which signs every request and verifies every answer. A Client is safe for
// concurrent use.
type Client struct {
	core *core.Client
	base string // no trailing slash
}

// Option configures a Client in NewClient.
type Option func(*Client) error

// WithBaseURL sets the URL every request is built from, in place of
// DefaultBaseURL: a proxy, a fake, or busifavortest. http is allowed here so
// that loopback fakes work; an empty, unparsable or relative URL makes
// NewClient fail.
func WithBaseURL(rawURL string) Option {
	return func(c *Client) error {
		base, err := parseBaseURL(rawURL)
		if err != nil {
			return fmt.Errorf("busifavor: WithBaseURL: %w", err)
		}
		c.base = base
		return nil
	}
}

// parseBaseURL checks a base URL and returns it without a trailing slash.
func parseBaseURL(rawURL string) (string, error) {
	if rawURL == "" {
		return "", errors.New("base URL is empty")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("base URL %q is not a URL: %v", rawURL, urlErrReason(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("base URL %q must be absolute, as in https://api.mch.weixin.qq.com", rawURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("base URL %q must not carry user info, a query or a fragment", rawURL)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// NewClient returns a Client that sends its requests through c. c must be
// built with a response validator (as option.WithWechatPayPublicKeyAuthCipher
// or option.WithWechatPayAutoAuthCipher do): answers are trusted only once
// their signature verifies.
func NewClient(c *core.Client, opts ...Option) (*Client, error) {
	if c == nil {
		return nil, errors.New("busifavor: NewClient: core client is nil; build one with core.NewClient")
	}
	cl := &Client{core: c, base: DefaultBaseURL}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("busifavor: NewClient: nil Option")
		}
		if err := opt(cl); err != nil {
			return nil, err
		}
	}
	return cl, nil
}

// answer is a verified 2xx answer.
type answer struct {
	body      []byte
	requestID string
}

// do sends one signed request to path and returns the verified answer, or a
// typed error: *APIError, ErrResponseSignature, ErrTransport or the context's
// error.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any) (*answer, error) {
	res, err := c.core.Request(ctx, method, c.base+path, nil, query, body, "application/json")
	if err != nil {
		return nil, c.classify(ctx, res, err)
	}
	defer res.Response.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Response.Body, maxResponseBody+1))
	if err != nil {
		return nil, &transportError{host: c.host(), err: err}
	}
	if len(b) > maxResponseBody {
		return nil, fmt.Errorf("%w: body is larger than %d bytes", ErrMalformedResponse, maxResponseBody)
	}
	return &answer{body: b, requestID: requestID(res.Response.Header)}, nil
}

// classify turns what core.Client returned into one of this package's errors.
func (c *Client) classify(ctx context.Context, res *core.APIResult, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &contextError{ctxErr: ctxErr}
	}
	var coreErr *core.APIError
	if errors.As(err, &coreErr) {
		return newAPIError(coreErr.StatusCode, coreErr.Header, []byte(coreErr.Body))
	}
	if res == nil {
		// Failed before sending: the request could not be built or signed.
		return fmt.Errorf("busifavor: preparing request: %w", err)
	}
	if res.Response == nil {
		return &transportError{host: c.host(), err: err}
	}
	// A 2xx answer the validator refused. If its body cannot be read again,
	// the validator never got the whole body: the answer was cut short.
	defer res.Response.Body.Close()
	if _, rerr := io.Copy(io.Discard, res.Response.Body); rerr != nil {
		return &transportError{host: c.host(), err: rerr}
	}
	return fmt.Errorf("%w (status %d, request id %s): %w", ErrResponseSignature,
		res.Response.StatusCode, requestID(res.Response.Header), err)
}

// host names the domain requests go to, for error messages.
func (c *Client) host() string {
	if u, err := url.Parse(c.base); err == nil {
		return u.Host
	}
	return c.base
}
