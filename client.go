package busifavor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
)

// WeChat Pay's API domains.
const (
	// DefaultBaseURL is the primary domain, served by the nearest access
	// point.
	DefaultBaseURL = "https://api.mch.weixin.qq.com"
	// DefaultBackupBaseURL is the backup domain, an access point in another
	// city.
	DefaultBackupBaseURL = "https://api2.mch.weixin.qq.com"
)

// Client calls WeChat Pay's merchant-coupon (商家券) API — the notify URL,
// stocks and their codes, users' coupons, subsidies and image upload —
// through a wechatpay-go core.Client, which signs every request and
// verifies every answer. A Client is safe for concurrent use; it keeps no
// state between calls. With derives a Client with other settings.
type Client struct {
	core   *core.Client
	cfg    clientConfig // the options as given, for With
	backup endpoint     // the backup in effect: zero when failover is off
}

// clientConfig is what the Options set.
type clientConfig struct {
	base      endpoint
	backup    endpoint // zero when failover is off
	backupSet bool     // WithBackupBaseURL was given
	retry     RetryPolicy
	logger    *slog.Logger
	timeout   time.Duration // 0: none
	observer  Observer      // nil: nothing observed
}

// Option configures a Client, in NewClient or With. An option given a value
// it cannot use makes NewClient or With fail, naming the option; nothing is
// ignored or clamped.
type Option func(*clientConfig) error

// WithBaseURL sets the URL every request is built from, in place of
// DefaultBaseURL: a proxy, a fake, or busifavortest. http is allowed here so
// that loopback fakes work; an empty, unparsable or relative URL is refused.
//
// A base URL other than DefaultBaseURL turns failover off: a request meant
// for a proxy or a fake is never sent to WeChat Pay's backup domain. Name a
// backup with WithBackupBaseURL to fail over anyway.
func WithBaseURL(rawURL string) Option {
	return func(c *clientConfig) error {
		base, err := parseBaseURL(rawURL)
		if err != nil {
			return fmt.Errorf("busifavor: WithBaseURL: %w", err)
		}
		c.base = base
		return nil
	}
}

// WithBackupBaseURL sets the domain tried after the primary fails with no
// answer or a 5xx (see the package documentation, # Retries). The default is
// DefaultBackupBaseURL when the base URL is DefaultBaseURL, and no failover
// when WithBaseURL set another; "" turns failover off.
func WithBackupBaseURL(rawURL string) Option {
	return func(c *clientConfig) error {
		c.backupSet = true
		if rawURL == "" {
			c.backup = endpoint{}
			return nil
		}
		backup, err := parseBaseURL(rawURL)
		if err != nil {
			return fmt.Errorf("busifavor: WithBackupBaseURL: %w", err)
		}
		c.backup = backup
		return nil
	}
}

// WithLogger sets where the Client logs one structured line per attempt:
// method, path, host, attempt, status, code, request id and duration, at
// DEBUG for an answer and WARN for a refusal or a lost answer (slog.Default shows
// WARN and above, so a healthy client is quiet there). Nothing secret is logged.
// Without this option the lines go to slog.Default(); WithLogger(nil) logs
// nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *clientConfig) error {
		c.logger = orDiscard(l)
		return nil
	}
}

// WithTimeout bounds each call of the Client, all its attempts, backoff
// waits and (for the subsidy creates) read-backs included, to d from the
// call's start, on top of the call's context: a call still running then
// ends with an error matching context.DeadlineExceeded. It is meant for
// With, as in client.With(busifavor.WithTimeout(2*time.Second)) for a till
// that cannot wait. d must be positive; without this option only the
// context bounds a call.
//
// A helper built on the Client's methods (BatchUploadCouponCodes,
// WaitSubsidyPayReceipt, WaitSubsidyReturnReceipt, the All… iterators)
// bounds each call it makes, not the whole walk or wait: bound that with
// the context.
func WithTimeout(d time.Duration) Option {
	return func(c *clientConfig) error {
		if d <= 0 {
			return fmt.Errorf("busifavor: WithTimeout: %s is not positive; leave the option out for no timeout", d)
		}
		c.timeout = d
		return nil
	}
}

// orDiscard is a logger option's value: nil logs nothing.
func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// applyOptions applies every option to cfg and returns all their errors
// joined; a nil option is one. fn names the constructor in that error.
func applyOptions[C any, O ~func(*C) error](fn string, cfg *C, opts []O) error {
	var errs []error
	for i, o := range opts {
		if o == nil {
			errs = append(errs, fmt.Errorf("busifavor: %s: option %d of %d is nil", fn, i+1, len(opts)))
			continue
		}
		if err := o(cfg); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// endpoint is a checked base URL and its host, which names it in errors and
// logs.
type endpoint struct {
	url  string // no trailing slash
	host string
}

// parseBaseURL checks a base URL.
func parseBaseURL(rawURL string) (endpoint, error) {
	if rawURL == "" {
		return endpoint{}, errors.New("base URL is empty")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return endpoint{}, fmt.Errorf("base URL %q is not a URL: %v", rawURL, urlErrReason(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return endpoint{}, fmt.Errorf("base URL %q must be absolute, as in https://api.mch.weixin.qq.com", rawURL)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		return endpoint{}, fmt.Errorf("base URL %q must not carry user info, a query or a fragment", rawURL)
	}
	return endpoint{url: strings.TrimSuffix(u.String(), "/"), host: u.Host}, nil
}

// NewClient returns a Client that sends its requests through c. c must be
// built with a response validator (as option.WithWechatPayPublicKeyAuthCipher
// or option.WithWechatPayAutoAuthCipher do): answers are trusted only once
// their signature verifies. It fails, naming every option given a value it
// cannot use, when any option does.
func NewClient(c *core.Client, opts ...Option) (*Client, error) {
	if c == nil {
		return nil, errors.New("busifavor: NewClient: core client is nil; build one with core.NewClient")
	}
	cfg := clientConfig{retry: DefaultRetryPolicy(), logger: slog.Default(),
		base:   endpoint{url: DefaultBaseURL, host: "api.mch.weixin.qq.com"},
		backup: endpoint{url: DefaultBackupBaseURL, host: "api2.mch.weixin.qq.com"}}
	return newClient(c, cfg, "NewClient", opts)
}

// With returns a Client that shares c's core client (so its signer,
// verifier and HTTP transport) with opts applied on top of c's settings:
// say, a till's quick UseCoupon and a patient start-up SetCallbacks from
// one Client.
//
//	quick, err := client.With(busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}),
//		busifavor.WithTimeout(2*time.Second))
//
// c is not changed. It fails, naming every option given a value it cannot
// use, when any option does. Derive a Client once and keep it: With
// checks its options each time.
//
// Per-call settings are a derived Client rather than a variadic option on
// each method: adding ...CallOption to the methods later would break every
// method value and every interface users write against them, while With
// changes no method's signature.
func (c *Client) With(opts ...Option) (*Client, error) {
	return newClient(c.core, c.cfg, "With", opts)
}

// newClient applies opts on top of cfg.
func newClient(core *core.Client, cfg clientConfig, fn string, opts []Option) (*Client, error) {
	if err := applyOptions(fn, &cfg, opts); err != nil {
		return nil, err
	}
	cl := &Client{core: core, cfg: cfg, backup: cfg.backup}
	if cfg.base.url != DefaultBaseURL && !cfg.backupSet {
		cl.backup = endpoint{}
	}
	return cl, nil
}

// errNotSent is matched by an attempt that failed before anything was sent:
// the request could not be built or signed.
var errNotSent = errors.New("busifavor: preparing request (nothing was sent)")

// answer is a verified 2xx answer.
type answer struct {
	status    int
	body      []byte
	requestID string
	header    http.Header // for the response's Response (response.go)
}

// send validates req, sends it as do does, and decodes the verified answer
// into out, a pointer to a response struct, which also gets the answer's
// Response (see decode.go).
func (c *Client) send(ctx context.Context, op string, req interface{ Validate() error }, method, path string, query url.Values, body any, out any) error {
	if err := req.Validate(); err != nil {
		return err
	}
	ctx, oc := c.observe(ctx, op, method)
	a, err := c.do(ctx, op, method, path, query, body)
	if err == nil {
		err = decodeAnswer(a, out)
	}
	oc.end(err)
	return err
}

// do sends a request to path, retrying and failing over as the RetryPolicy
// and the package documentation (# Retries) say, and returns the verified
// answer or a typed error. op names the method (UseCoupon), which an
// *APIError keeps so that sentinels can follow the page that answered.
func (c *Client) do(ctx context.Context, op, method, path string, query url.Values, body any) (*answer, error) {
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	var (
		hosts   []string     // host of each attempt, for the final error
		lastErr error        // error of the latest attempt
		lastAPI *APIError    // latest *APIError, kept reachable after a later transport error
		base    = c.cfg.base // each call starts on the primary: it is the nearest access point
		retry   = c.cfg.retry
		oc      *observedCall
	)
	if c.cfg.observer != nil {
		oc = observedIn(ctx)
	}
	for attempt := 1; ; attempt++ {
		start := time.Now()
		a, err := c.attempt(ctx, method, base, path, query, body)
		d := time.Since(start)
		c.log(ctx, method, path, base, attempt, a, err, d)
		if oc != nil {
			oc.attempt(base.host, a, err, d)
		}
		if err == nil {
			return a, nil
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			apiErr.Operation = op
			lastAPI = apiErr
		}
		if ctx.Err() != nil {
			return nil, &contextError{ctxErr: ctx.Err(), last: lastReachable(lastAPI, lastErr)}
		}
		hosts = append(hosts, base.host)
		lastErr = err
		if !retryable(op, err) || attempt >= retry.MaxAttempts {
			break
		}
		wait := retry.backoff(attempt)
		if apiErr != nil && apiErr.retryAfter > 0 {
			if apiErr.retryAfter > retry.MaxBackoff {
				break // the server asks for longer than we wait: give the error back now
			}
			wait = apiErr.retryAfter
		}
		if c.backup.url != "" && failsOver(err) {
			if base == c.cfg.base {
				base = c.backup
			} else {
				base = c.cfg.base
			}
		}
		if sleep(ctx, wait) != nil {
			return nil, &contextError{ctxErr: ctx.Err(), last: lastReachable(lastAPI, lastErr)}
		}
	}
	if len(hosts) == 1 {
		return nil, lastErr
	}
	return nil, &attemptsError{hosts: hosts, last: lastErr, lastAPI: lastAPI}
}

// callContext is ctx bounded by WithTimeout's timeout, if one is set.
func (c *Client) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.cfg.timeout > 0 {
		return context.WithTimeout(ctx, c.cfg.timeout)
	}
	return ctx, func() {}
}

// sleep waits d, or until ctx ends (a *contextError).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return &contextError{ctxErr: ctx.Err()}
	case <-t.C:
		return nil
	}
}

// lastReachable is what a stopped call keeps reachable: the latest *APIError
// if there was one, else the latest error.
func lastReachable(apiErr *APIError, err error) error {
	if apiErr != nil {
		return apiErr
	}
	return err
}

// failsOver reports whether err moves the next attempt to the other domain:
// no answer at all, or a 5xx. A 4xx is about the request, not the domain.
func failsOver(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode >= 500
	}
	return errors.Is(err, ErrTransport)
}

// attempt sends one request through the core client, which signs it afresh,
// and returns the verified answer or a typed error: *APIError,
// ErrResponseSignature, ErrRedirect, ErrTransport or ErrMalformedResponse.
func (c *Client) attempt(ctx context.Context, method string, base endpoint, path string, query url.Values, body any) (*answer, error) {
	var res *core.APIResult
	var err error
	var header http.Header
	if h, ok := body.(*headerBody); ok { // the partnerships' Idempotency-Key: the same on every attempt
		header, body = h.header, h.body
	}
	if m, ok := body.(*multipartBody); ok { // UploadImage: the signature covers the meta part only
		res, err = c.core.Upload(ctx, base.url+path, m.meta, m.body, m.contentType)
	} else {
		res, err = c.core.Request(ctx, method, base.url+path, header, query, body, "application/json")
	}
	if res != nil && res.Response != nil {
		// Whatever happens next: wechatpay-go leaves the body open when it
		// fails to read it.
		defer res.Response.Body.Close()
		if rerr := redirected(res.Response); rerr != nil {
			return nil, rerr
		}
	}
	if err != nil {
		return nil, classify(base.host, res, err)
	}
	b, err := readAnswer(io.LimitReader(res.Response.Body, MaxResponseBytes+1), res.Response.ContentLength)
	if err != nil {
		return nil, &transportError{host: base.host, err: err}
	}
	if len(b) > MaxResponseBytes {
		return nil, tooLarge(base.host)
	}
	return &answer{status: res.Response.StatusCode, body: b, requestID: requestID(res.Response.Header), header: res.Response.Header}, nil
}

// readAnswer reads r to its end, as io.ReadAll does, into a buffer sized
// once from the answer's Content-Length when it states one no larger than
// MaxResponseBytes (r is limited anyway), instead of growing it from 512
// bytes and copying it along the way.
func readAnswer(r io.Reader, contentLength int64) ([]byte, error) {
	size := 512
	if contentLength > 0 && contentLength <= MaxResponseBytes {
		size = int(contentLength) + 1 // + 1: the read that meets EOF needs room
	}
	b := make([]byte, 0, size)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// redirected reports an answer that is not to the request that was sent: a
// 3xx the HTTP client stopped at, or the end of a redirect it followed.
func redirected(res *http.Response) error {
	followed := res.Request != nil && res.Request.Response != nil
	if !followed && (res.StatusCode < 300 || res.StatusCode > 399) {
		return nil
	}
	first := res
	for first.Request != nil && first.Request.Response != nil {
		first = first.Request.Response
	}
	how := "stopped at"
	if followed {
		how = "followed"
	}
	// Location repeats the path, which can hold an openid and a coupon code.
	return fmt.Errorf("%w: %d to %q (%s by the HTTP client; use busifavor.NewHTTPClient)",
		ErrRedirect, first.StatusCode, clip(maskPath(first.Header.Get("Location")), MaxHeaderValueBytes), how)
}

// classify turns what core.Client returned into one of this package's errors.
func classify(host string, res *core.APIResult, err error) error {
	var coreErr *core.APIError
	if errors.As(err, &coreErr) {
		return newAPIError(coreErr.StatusCode, coreErr.Header, []byte(coreErr.Body))
	}
	if errors.Is(err, ErrMalformedResponse) { // NewHTTPClient's body limit, on an error answer
		return tooLarge(host)
	}
	if res == nil {
		// Failed before sending: the request could not be built or signed.
		return fmt.Errorf("%w: %w", errNotSent, err)
	}
	if res.Response == nil {
		return &transportError{host: host, err: err}
	}
	// A 2xx answer the validator refused. If its body cannot be read again,
	// the validator never got the whole body: the answer was cut short.
	if _, rerr := io.Copy(io.Discard, res.Response.Body); rerr != nil {
		if errors.Is(rerr, ErrMalformedResponse) { // NewHTTPClient's body limit, on a 2xx
			return tooLarge(host)
		}
		return &transportError{host: host, err: rerr}
	}
	// The validator's text echoes header values: clip it.
	return fmt.Errorf("%w (status %d, request id %s): %s", ErrResponseSignature,
		res.Response.StatusCode, requestID(res.Response.Header), clip(maskPath(err.Error()), maxErrorMessage))
}

// tooLarge is an answer larger than MaxResponseBytes, whether cut off by
// NewHTTPClient or read whole by another client.
func tooLarge(host string) error {
	return fmt.Errorf("%w: the answer from %s is larger than %d bytes", ErrMalformedResponse, host, MaxResponseBytes)
}

// log writes one line for an attempt.
func (c *Client) log(ctx context.Context, method, path string, base endpoint, attempt int, a *answer, err error, d time.Duration) {
	var (
		status int
		code   ErrorCode
		reqID  string
		level  = slog.LevelDebug // an answer; a refusal or no answer is WARN
	)
	var apiErr *APIError
	switch {
	case a != nil:
		status, reqID = a.status, a.requestID
	case errors.As(err, &apiErr):
		status, code, reqID, level = apiErr.StatusCode, apiErr.Code, apiErr.RequestID, slog.LevelWarn
	default:
		level = slog.LevelWarn
	}
	// A disabled level costs no attrs, no masked path and no error text.
	if !c.cfg.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", method), slog.String("path", maskPath(path)), slog.String("host", base.host),
		slog.Int("attempt", attempt), slog.Int("status", status), slog.String("code", string(code)),
		slog.String("request_id", reqID), slog.Duration("duration", d),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.cfg.logger.LogAttrs(ctx, level, "busifavor attempt", attrs...)
}

// RetryPolicy says how often and how patiently a call is retried. Only
// errors IsRetryable accepts are retried; each attempt is signed afresh. A
// zero field takes DefaultRetryPolicy's value, so RetryPolicy{MaxAttempts: 1}
// is "no retries" with the default backoffs, and RetryPolicy{} is
// DefaultRetryPolicy(). PollPolicy reads its backoffs the same way.
type RetryPolicy struct {
	// MaxAttempts counts the first try: 1 disables retrying. 0 takes the
	// default (3); a negative count is refused.
	MaxAttempts int
	// InitialBackoff bounds the wait before the second attempt; the bound
	// doubles each attempt up to MaxBackoff, and the wait is drawn uniformly
	// below it ("full jitter"). 0 takes the default (200 ms).
	InitialBackoff time.Duration
	// MaxBackoff caps every wait, including one a Retry-After header asks
	// for: a server asking for longer gets its error returned instead. 0
	// takes the default (5 s); it must not be below InitialBackoff.
	MaxBackoff time.Duration
}

// DefaultRetryPolicy follows WeChat Pay's advice for 5xx answers (retry the
// same request, usually two or three times): 3 attempts, waits drawn below
// 200ms then 400ms, never more than 5s. A merchant backend calling
// SetCallbacks at start-up is then delayed at most about a second by a brief
// outage, and a FREQUENCY_LIMITED answer with Retry-After is honoured up to
// 5s. It is a function, so that no importer can change what another gets.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 3, InitialBackoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second}
}

// WithRetry sets the retry policy (default DefaultRetryPolicy()). Zero
// fields take the defaults; a negative field, or an InitialBackoff above
// MaxBackoff once the defaults are in, is refused.
func WithRetry(p RetryPolicy) Option {
	return func(c *clientConfig) error {
		p, err := p.withDefaults()
		if err != nil {
			return fmt.Errorf("busifavor: WithRetry: %w", err)
		}
		c.retry = p
		return nil
	}
}

// withDefaults fills p's zero fields from DefaultRetryPolicy and checks it.
func (p RetryPolicy) withDefaults() (RetryPolicy, error) {
	d := DefaultRetryPolicy()
	if p.MaxAttempts < 0 {
		return p, fmt.Errorf("MaxAttempts is %d; use 1 to disable retrying", p.MaxAttempts)
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	var err error
	p.InitialBackoff, p.MaxBackoff, err = backoffs(p.InitialBackoff, p.MaxBackoff, d.InitialBackoff, d.MaxBackoff)
	return p, err
}

// backoffs fills a policy's zero backoffs from the defaults and checks them:
// neither negative, the initial no larger than the maximum.
func backoffs(initial, maxBackoff, defInitial, defMax time.Duration) (time.Duration, time.Duration, error) {
	if initial < 0 || maxBackoff < 0 {
		return initial, maxBackoff, fmt.Errorf("InitialBackoff %s and MaxBackoff %s must not be negative (0 takes the default)", initial, maxBackoff)
	}
	if initial == 0 {
		initial = defInitial
	}
	if maxBackoff == 0 {
		maxBackoff = defMax
	}
	if initial > maxBackoff {
		return initial, maxBackoff, fmt.Errorf("InitialBackoff %s exceeds MaxBackoff %s", initial, maxBackoff)
	}
	return initial, maxBackoff, nil
}

// backoff is the wait after the given attempt: uniform in [0, bound), where
// bound = InitialBackoff·2^(attempt-1), capped at MaxBackoff.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	bound := p.InitialBackoff
	for i := 1; i < attempt && bound < p.MaxBackoff; i++ {
		bound *= 2
	}
	bound = min(bound, p.MaxBackoff)
	if bound <= 0 {
		return 0
	}
	return rand.N(bound)
}
